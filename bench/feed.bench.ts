/**
 * Feed benchmark: decode + A/B arbitration on a packet of the shape of CME's v9 book
 * capture (one 1,196-byte packet: an MDIncrementalRefreshBook46 with 23 book entries and 16 order
 * entries, then an EndOfEvent message; bench/feed-packet.ts), encoded with the project's schema,
 * repeated with rewritten sequence numbers and offered on both feeds A and B.
 * Goal: >= 1M packets/s per core. Single-threaded, so every figure is per core.
 *
 * Cases: arbitration alone; + packet framing and SBE header of every message; + full body decode
 * (objects, bigint, exact decimals) with the schema-compiled decoder; + book building. Peers in the
 * same run: the same full decode by a schema interpreter (walks the XML model per message) and by a
 * hand-written decoder for template 46 (the ceiling for generated code).
 *
 * Then the simulator's side: CPU per packet of the synthetic channel (`quant feed simulate`, the
 * project's schema), MBP and MBO, generation + encoding with a snapshot loop every 1,000 packets as the
 * simulator publishes by default; sending is not included. Goal: the simulator's default 10,000
 * packets/s on one core with headroom (under 30 µs per packet).
 */
import { Arbiter } from '../src/feed/arbiter';
import { SyntheticChannel } from '../src/feed/synthetic';
import { BookBuilder } from '../src/feed/book';
import { forEachMessage } from '../src/feed/packet';
import { PROJECT_SCHEMA_PATH } from '../src/feed/project-schema';
import { SbeCodec, type DecodedMessage } from '../src/sbe/codec';
import { Decimal } from '../src/sbe/decimal';
import {
  loadSchema,
  type EncodedType,
  type FieldDef,
  type GroupDef,
  type Schema,
  type TypeDef,
} from '../src/sbe/schema';
import { bookCapturePacket } from './feed-packet';

const schema = loadSchema(PROJECT_SCHEMA_PATH);
const codec = new SbeCodec(schema);
const original = bookCapturePacket(codec);
const POOL = 4096;
const pool = Array.from({ length: POOL }, () => Buffer.from(original));
const SECONDS = Number(process.env.FEED_BENCH_SECONDS ?? 2);

let sink = 0;

/** Runs `perPacket` over packets with increasing sequence numbers, each offered on A then B. */
function run(label: string, makeArbiter: () => { arb: Arbiter; messages: () => number }): void {
  const rounds: number[] = [];
  const msgs: number[] = [];
  for (let rep = 0; rep < 4; rep++) {
    const { arb, messages } = makeArbiter();
    let seq = 1;
    const t0 = process.hrtime.bigint();
    const deadline = t0 + BigInt(Math.round((SECONDS / 4) * 1e9));
    let now = t0;
    while (now < deadline) {
      for (let i = 0; i < POOL; i++) {
        const b = pool[i];
        b.writeUInt32LE(seq++, 0);
        arb.onPacket('A', b);
        arb.onPacket('B', b);
      }
      now = process.hrtime.bigint();
    }
    const secs = Number(now - t0) / 1e9;
    if (arb.stats.delivered !== seq - 1 || arb.stats.feeds.B.duplicates !== seq - 1)
      throw new Error(`${label}: arbitration lost packets`);
    if (rep > 0) {
      rounds.push((seq - 1) / secs);
      msgs.push(messages() / secs);
    }
  }
  const med = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const fmt = (x: number): string => (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : `${(x / 1e3).toFixed(0)}k`);
  console.log(`| ${label} | ${fmt(med(rounds))} | ${fmt(2 * med(rounds))} | ${fmt(med(msgs))} |`);
}

// --- peer 1: a schema interpreter (no code generation), same output objects ---------------------
function interpValue(t: TypeDef, buf: Buffer, dv: DataView, at: number): unknown {
  switch (t.kind) {
    case 'type':
      return interpEncoded(t, buf, dv, at);
    case 'enum': {
      const raw = interpEncoded({ ...t.encoding, presence: 'required' }, buf, dv, at);
      const key = typeof raw === 'string' ? raw.charCodeAt(0) : Number(raw);
      if (t.encoding.presence === 'optional' && String(key) === t.encoding.nullValue) return null;
      return t.values.get(key) ?? raw;
    }
    case 'set': {
      const raw = Number(interpEncoded(t.encoding, buf, dv, at));
      return t.choices.filter((c) => (raw >>> c.bit) & 1).map((c) => c.name);
    }
    case 'composite': {
      if (t.decimal) {
        const m = t.members.find((x) => x.name === 'mantissa')!;
        const e = t.members.find((x) => x.name === 'exponent')!.type as EncodedType;
        const v = interpEncoded(m.type as EncodedType, buf, dv, at + m.offset);
        return v === null ? null : new Decimal(BigInt(v as number | bigint), Number(e.constValue));
      }
      const o: Record<string, unknown> = {};
      for (const m of t.members)
        if (!(m.type.kind === 'type' && m.type.presence === 'constant'))
          o[m.name] = interpValue(m.type, buf, dv, at + m.offset);
      return o;
    }
  }
}

function interpEncoded(t: EncodedType, buf: Buffer, dv: DataView, at: number): unknown {
  let v: number | bigint;
  switch (t.primitive) {
    case 'char':
      if (t.length > 1) return buf.toString('latin1', at, at + t.length).replace(/\0+$/, '');
      v = buf[at];
      break;
    case 'uint8':
      v = buf[at];
      break;
    case 'int8':
      v = dv.getInt8(at);
      break;
    case 'uint16':
      v = dv.getUint16(at, true);
      break;
    case 'int16':
      v = dv.getInt16(at, true);
      break;
    case 'uint32':
      v = dv.getUint32(at, true);
      break;
    case 'int32':
      v = dv.getInt32(at, true);
      break;
    case 'uint64':
      v = dv.getBigUint64(at, true);
      break;
    case 'int64':
      v = dv.getBigInt64(at, true);
      break;
    default:
      v = dv.getFloat64(at, true);
  }
  if (t.presence === 'optional' && String(v) === t.nullValue) return null;
  return t.primitive === 'char' ? String.fromCharCode(Number(v)) : v;
}

function interpBlock(
  fields: readonly FieldDef[],
  groups: readonly GroupDef[],
  buf: Buffer,
  dv: DataView,
  p: number,
  bl: number,
  v: number,
): { o: Record<string, unknown>; p: number } {
  const o: Record<string, unknown> = {};
  for (const f of fields)
    if (!f.constant && f.sinceVersion <= v && f.offset + f.type.size <= bl)
      o[f.name] = interpValue(f.type, buf, dv, p + f.offset);
  p += bl;
  for (const g of groups) {
    const gbl = dv.getUint16(p, true);
    const n = buf[p + g.dimension.members.find((m) => m.name === 'numInGroup')!.offset];
    p += g.dimension.size;
    const arr: Record<string, unknown>[] = [];
    for (let i = 0; i < n; i++) {
      const r = interpBlock(g.fields, g.groups, buf, dv, p, gbl, v);
      arr.push(r.o);
      p = r.p;
    }
    o[g.name] = arr;
  }
  return { o, p };
}

function interpDecode(s: Schema, buf: Buffer, dv: DataView, off: number): Record<string, unknown> {
  const def = s.messages.get(dv.getUint16(off + 2, true))!;
  return interpBlock(
    def.fields,
    def.groups,
    buf,
    dv,
    off + 8,
    dv.getUint16(off, true),
    dv.getUint16(off + 6, true),
  ).o;
}

// --- peer 2: hand-written decoder for MDIncrementalRefreshBook46 v9 ------------------------------
const ACTIONS = ['New', 'Change', 'Delete', 'DeleteThru', 'DeleteFrom', 'Overlay'];
const TYPES: Record<number, string> = {
  48: 'Bid',
  49: 'Offer',
  69: 'ImpliedBid',
  70: 'ImpliedOffer',
  74: 'BookReset',
};
const MEI = [
  'LastTradeMsg',
  'LastVolumeMsg',
  'LastQuoteMsg',
  'LastStatsMsg',
  'LastImpliedMsg',
  'RecoveryMsg',
  'Reserved',
  'EndOfEvent',
];
function handDecode46(buf: Buffer, dv: DataView, off: number): Record<string, unknown> {
  let p = off + 8;
  const mei = buf[p + 8];
  const o: Record<string, unknown> = {
    TransactTime: dv.getBigUint64(p, true),
    MatchEventIndicator: MEI.filter((_, i) => (mei >> i) & 1),
  };
  p += dv.getUint16(off, true);
  let bl = dv.getUint16(p, true);
  let n = buf[p + 2];
  p += 3;
  const entries = new Array(n);
  for (let i = 0; i < n; i++, p += bl) {
    const m = dv.getBigInt64(p, true);
    const size = dv.getInt32(p + 8, true);
    const orders = dv.getInt32(p + 20, true);
    entries[i] = {
      MDEntryPx: m === 9223372036854775807n ? null : new Decimal(m, -9),
      MDEntrySize: size === 2147483647 ? null : size,
      SecurityID: dv.getInt32(p + 12, true),
      RptSeq: dv.getUint32(p + 16, true),
      NumberOfOrders: orders === 2147483647 ? null : orders,
      MDPriceLevel: buf[p + 24],
      MDUpdateAction: ACTIONS[buf[p + 25]],
      MDEntryType: TYPES[buf[p + 26]],
    };
  }
  o.NoMDEntries = entries;
  bl = dv.getUint16(p, true);
  n = buf[p + 7];
  p += 8;
  const orders = new Array(n);
  for (let i = 0; i < n; i++, p += bl) {
    const prio = dv.getBigUint64(p + 8, true);
    const ref = buf[p + 20];
    orders[i] = {
      OrderID: dv.getBigUint64(p, true),
      MDOrderPriority: prio === 18446744073709551615n ? null : prio,
      MDDisplayQty: dv.getInt32(p + 16, true),
      ReferenceID: ref === 255 ? null : ref,
      OrderUpdateAction: ['New', 'Update', 'Delete'][buf[p + 21]],
    };
  }
  o.NoOrderIDEntries = orders;
  return o;
}

// Sanity: both peers produce what the compiled decoder produces.
{
  const dv = new DataView(original.buffer, original.byteOffset, original.byteLength);
  const compiled = codec.decode(original, 14, 1150, dv).body;
  const j = (x: unknown): string =>
    JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  if (
    j(interpDecode(schema, original, dv, 14)) !== j(compiled) ||
    j(handDecode46(original, dv, 14)) !== j(compiled)
  )
    throw new Error('peers disagree with the compiled decoder');
}

console.log(
  `book packet (v9 capture's shape, project schema): ${original.length} bytes, 2 messages (39 group entries); ${SECONDS}s per case, median of 3 after a warm-up`,
);
console.log('\n| case | packets/s (arbitrated) | packets/s offered (A+B) | messages/s |');
console.log('| --- | --- | --- | --- |');

run('arbitration only (packet header)', () => {
  const arb = new Arbiter(() => sink++);
  return { arb, messages: () => 0 };
});

run('+ framing and SBE message headers', () => {
  let count = 0;
  const arb = new Arbiter((pk) => {
    forEachMessage(pk.buf, 0, pk.buf.length, (o) => {
      sink += codec.readHeader(pk.buf, o).templateId;
      count++;
    });
  });
  return { arb, messages: () => count };
});

const fullDecode = (onMessage?: (m: DecodedMessage) => void) => () => {
  let count = 0;
  const arb = new Arbiter((pk) => {
    const dv = new DataView(pk.buf.buffer, pk.buf.byteOffset, pk.buf.byteLength);
    forEachMessage(pk.buf, 0, pk.buf.length, (o, l) => {
      const m = codec.decode(pk.buf, o, l, dv);
      if (onMessage) onMessage(m);
      count++;
    });
  });
  return { arb, messages: () => count };
};

run('+ full decode, schema-compiled (this codec)', fullDecode());

const book = new BookBuilder(() => sink++);
run(
  '+ full decode + book builder',
  fullDecode((m) => book.onMessage(m)),
);

run('peer: full decode, schema interpreter', () => {
  let count = 0;
  const arb = new Arbiter((pk) => {
    const dv = new DataView(pk.buf.buffer, pk.buf.byteOffset, pk.buf.byteLength);
    forEachMessage(pk.buf, 0, pk.buf.length, (o) => {
      sink += Object.keys(interpDecode(schema, pk.buf, dv, o)).length;
      count++;
    });
  });
  return { arb, messages: () => count };
});

run('peer: full decode, hand-written for template 46', () => {
  let count = 0;
  const arb = new Arbiter((pk) => {
    const dv = new DataView(pk.buf.buffer, pk.buf.byteOffset, pk.buf.byteLength);
    forEachMessage(pk.buf, 0, pk.buf.length, (o) => {
      sink += Object.keys(handDecode46(pk.buf, dv, o)).length;
      count++;
    });
  });
  return { arb, messages: () => count };
});

// --- the simulator's generator ------------------------------------------------------------------
const GEN_PACKETS = Number(process.env.FEED_BENCH_GEN_PACKETS ?? 20_000);

/** CPU µs per packet (user + system, so GC threads count) of `GEN_PACKETS` packets: median of 3 rounds after a warm-up. */
function generate(label: string, mbo: boolean): void {
  // One channel throughout: the MBO book has reached its steady size (~80 orders per instrument) after the warm-up.
  const ch = new SyntheticChannel(codec, { seed: 11, mbo });
  sink += ch.definitions().length;
  let loopSeq = 1;
  const round = (n: number): number => {
    const c0 = process.cpuUsage();
    for (let i = 1; i <= n; i++) {
      sink += ch.next().length;
      if (i % 1000 === 0)
        for (const p of ch.snapshotLoop(loopSeq)) {
          sink += p.length;
          loopSeq++;
        }
    }
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / n;
  };
  round(5000);
  const us = [round(GEN_PACKETS), round(GEN_PACKETS), round(GEN_PACKETS)].sort((a, b) => a - b);
  console.log(
    `| ${label} | ${us[1].toFixed(1)} | ${us[0].toFixed(1)} / ${us[2].toFixed(1)} | ${(1e6 / us[1] / 1000).toFixed(0)}k |`,
  );
}

console.log(
  `\nSynthetic channel (the simulator's generator, project schema v13): ${GEN_PACKETS} packets per round, snapshot loop every 1,000; median of 3 after a warm-up`,
);
console.log('\n| generator | CPU µs per packet | min / max | packets/s per core |');
console.log('| --- | --- | --- | --- |');
generate('MBP (`quant feed simulate`)', false);
generate('MBO (`quant feed simulate --mbo`)', true);

if (sink === -1) console.log(sink);
