/**
 * The project's schema (schemas/mdp3/quant-mdp3.xml) against CME's published templates_FixBinary.xml
 * version 13: every template it defines has v13's layout, and what it writes decodes identically
 * under v13 (same field values) and is byte-for-byte what v13 writes for the same values.
 */
import { describe, expect, it } from 'vitest';
import { forEachMessage, TcpFrameParser } from '../../../src/feed/packet';
import { PROJECT_SCHEMA_PATH } from '../../../src/feed/project-schema';
import { SyntheticChannel } from '../../../src/feed/synthetic';
import { encodeAdminFrame } from '../../../src/feed/tcp-replay';
import { jsonValue } from '../../../src/feed/jsonl';
import { SbeCodec } from '../../../src/sbe/codec';
import { loadSchema } from '../../../src/sbe/schema';
import { randomBody, rng } from '../../unit/feed/helpers';
import { SCHEMA_V13 } from '../cme-data';

const ours = new SbeCodec(loadSchema(PROJECT_SCHEMA_PATH));
const cme = new SbeCodec(loadSchema(SCHEMA_V13));

/** The resolved model as plain data (Maps as entry lists), for a structural comparison. */
function plain(x: unknown): unknown {
  return JSON.parse(JSON.stringify(x, (_k, v: unknown) => (v instanceof Map ? [...v.entries()] : v)));
}

/** Decodes every message of `packet` with both codecs and checks they agree; returns the template ids. */
function sameUnderBoth(packet: Buffer, label: string): number[] {
  const ids: number[] = [];
  const err = forEachMessage(packet, 0, packet.length, (o, l) => {
    const a = ours.decode(packet, o, l);
    const b = cme.decode(packet, o, l);
    expect(b.name, label).toBe(a.name);
    expect([b.templateId, b.version, b.blockLength, b.size]).toEqual([
      a.templateId,
      a.version,
      a.blockLength,
      a.size,
    ]);
    expect(jsonValue(b.body), `${label} ${a.name}`).toBe(jsonValue(a.body));
    // Byte-exact both ways: CME's schema writes these values as the project's did.
    expect(cme.encode(a.templateId, b.body).equals(packet.subarray(o, o + l)), `${label} ${a.name}`).toBe(
      true,
    );
    ids.push(a.templateId);
  });
  expect(err, label).toBeNull();
  return ids;
}

describe("the project's MDP 3.0 schema against CME's v13", () => {
  it('has the schema id, version and message header of v13', () => {
    expect([ours.schema.id, ours.schema.version, ours.schema.byteOrder]).toEqual([
      cme.schema.id,
      cme.schema.version,
      cme.schema.byteOrder,
    ]);
    expect(plain(ours.schema.headerType)).toEqual(plain(cme.schema.headerType));
  });

  it('defines each of its templates exactly as v13 does (ids, block lengths, offsets, sizes, types, groups, versions)', () => {
    expect(ours.schema.messages.size).toBeGreaterThanOrEqual(12);
    for (const [id, def] of ours.schema.messages) {
      const theirs = cme.schema.messages.get(id);
      expect(theirs, `template ${id} (${def.name}) is not in CME's v13`).toBeDefined();
      expect(plain(def), def.name).toEqual(plain(theirs));
    }
  });

  it('the synthetic channel (MBP and MBO, definitions, incrementals, snapshot loops) decodes identically under v13', () => {
    const seen = new Set<number>();
    for (const mbo of [false, true]) {
      const ch = new SyntheticChannel(ours, { seed: 5, mbo });
      const packets = [ch.definitions()];
      for (let i = 0; i < 3000; i++) {
        packets.push(ch.next());
        if (i % 1000 === 999) {
          packets.push(...ch.snapshotLoop(i));
          if (mbo) packets.push(...ch.orderSnapshotLoop(i));
        }
      }
      packets.forEach((p, i) =>
        sameUnderBoth(p, `${mbo ? 'MBO' : 'MBP'} packet ${i}`).forEach((t) => seen.add(t)),
      );
    }
    // Every template the simulator emits was checked.
    expect([...seen].sort((a, b) => a - b)).toEqual([46, 47, 48, 52, 53, 54]);
  });

  it('random bodies of every template decode identically under v13 and re-encode byte for byte', () => {
    const r = rng(1313);
    for (const def of ours.schema.messages.values()) {
      for (let i = 0; i < 50; i++) {
        const bytes = ours.encode(def.id, randomBody(def, ours.schema.version, r));
        const a = ours.decode(bytes, 0, bytes.length);
        const b = cme.decode(bytes, 0, bytes.length);
        expect(b.name).toBe(def.name);
        expect(jsonValue(b.body), def.name).toBe(jsonValue(a.body));
        expect(cme.encode(def.id, b.body).equals(bytes), def.name).toBe(true);
      }
    }
  });

  it("the TCP replay's admin messages (logon, logout, heartbeat) decode identically under v13", () => {
    const parser = new TcpFrameParser((code) => {
      throw new Error(`framing error ${code}`);
    });
    const frames = [
      encodeAdminFrame({ type: 'logon', heartBtInt: 30 }, 1, { sendingTime: 1n }),
      encodeAdminFrame({ type: 'logout', text: 'bye' }, 2, { sendingTime: 2n }),
      encodeAdminFrame({ type: 'heartbeat' }, 3, { sendingTime: 3n }),
    ];
    const names: string[] = [];
    for (const m of parser.push(Buffer.concat(frames), 0)) {
      const a = ours.decode(m.buf, m.offset, m.length);
      const b = cme.decode(m.buf, m.offset, m.length);
      expect(jsonValue(b.body)).toBe(jsonValue(a.body));
      names.push(b.name);
    }
    expect(names).toEqual(['AdminLogin15', 'AdminLogout16', 'AdminHeartbeat12']);
  });
});
