/**
 * Golden tests of `quant feed decode --jsonl` on the two real CME captures. Expected values come
 * from reading the bytes at offsets worked out by hand from the schema (not from the decoder):
 * pcap header 24 + record header 16 + Ethernet 14 + IPv4 20 + UDP 8 puts the MDP packet at 82.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerFeed } from '../../../src/cli/commands/feed';
import { SbeCodec } from '../../../src/sbe/codec';
import { loadSchema } from '../../../src/sbe/schema';
import { decodeCapture, newDecodeStats } from '../../../src/feed/decode';
import { readPcap, tcpFrame, udpFrame, writePcap } from '../../../src/feed/pcap';
import { CAPTURE_V12_TCP, CAPTURE_V9, SCHEMA_V13, SCHEMA_V9 } from '../cme-data';

async function runCli(args: string[]): Promise<{ stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const program = new Command('quant').exitOverride();
    registerFeed(program);
    await program.parseAsync(args, { from: 'user' });
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return { stdout, stderr };
}

const KEYS = [
  'packet',
  'seq',
  'sendingTime',
  'templateId',
  'schemaId',
  'version',
  'blockLength',
  'name',
  'body',
];
const ENTRY_TYPES: Record<string, string> = {
  '0': 'Bid',
  '1': 'Offer',
  '2': 'Trade',
  E: 'ImpliedBid',
  F: 'ImpliedOffer',
  x: 'MarketBestBid',
  w: 'MarketBestOffer',
};
const ACTIONS = ['New', 'Change', 'Delete', 'DeleteThru', 'DeleteFrom', 'Overlay'];

afterEach(() => vi.restoreAllMocks());

describe('quant feed decode --jsonl (v9 incremental book capture, UDP)', () => {
  const raw = readFileSync(CAPTURE_V9);
  const P = 82; // MDP packet start in the file

  it('prints both messages of the single packet with the exact contract', async () => {
    const { stdout, stderr } = await runCli([
      'feed',
      'decode',
      '--schema',
      SCHEMA_V9,
      '--pcap',
      CAPTURE_V9,
      '--jsonl',
    ]);
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    const [m1, m2] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(Object.keys(m1)).toEqual(KEYS);
    // Packet header: MsgSeqNum = ff af 0f 00, SendingTime = 80 bc 5d aa 90 ab 53 15 (LE).
    expect(m1).toMatchObject({
      packet: 0,
      seq: 0x000fafff,
      sendingTime: '1536760535685381248',
      templateId: 46,
      schemaId: 1,
      version: 9,
      blockLength: 11,
      name: 'MDIncrementalRefreshBook46',
    });
    const body = m1.body as Record<string, unknown>;
    expect(Object.keys(body)).toEqual([
      'TransactTime',
      'MatchEventIndicator',
      'NoMDEntries',
      'NoOrderIDEntries',
    ]);
    // TransactTime b4 d3 f2 a7 90 ab 53 15 exceeds 2^53: a decimal string. MatchEventIndicator 0x04 = bit 2.
    expect(body.TransactTime).toBe('1536760535644820404');
    expect(body.MatchEventIndicator).toEqual(['LastQuoteMsg']);
    const entries = body.NoMDEntries as Record<string, unknown>[];
    // groupSize at P+12+2+8+11: blockLength 0x0020, numInGroup 0x17.
    expect(raw.readUInt16LE(P + 33)).toBe(32);
    expect(entries).toHaveLength(raw[P + 35]);
    expect(entries).toHaveLength(23);
    expect(entries[0]).toEqual({
      MDEntryPx: 15230,
      MDEntrySize: 1,
      SecurityID: 157660,
      RptSeq: 411,
      NumberOfOrders: 1,
      MDPriceLevel: 1,
      MDUpdateAction: 'Delete',
      MDEntryType: 'Offer',
    });
    entries.forEach((e, i) => {
      const o = P + 36 + 32 * i;
      const mant = raw.readBigInt64LE(o);
      const size = raw.readInt32LE(o + 8);
      const orders = raw.readInt32LE(o + 20);
      expect(e).toEqual({
        MDEntryPx: Number(mant) / 1e9,
        MDEntrySize: size === 2147483647 ? null : size,
        SecurityID: raw.readInt32LE(o + 12),
        RptSeq: raw.readUInt32LE(o + 16),
        NumberOfOrders: orders === 2147483647 ? null : orders,
        MDPriceLevel: raw[o + 24],
        MDUpdateAction: ACTIONS[raw[o + 25]],
        MDEntryType: ENTRY_TYPES[String.fromCharCode(raw[o + 26])],
      });
      // Version 9: no TradeableSize even though the 32-byte block has room for it.
      expect(e).not.toHaveProperty('TradeableSize');
    });
    const orders = body.NoOrderIDEntries as Record<string, unknown>[];
    const og = P + 36 + 32 * 23; // groupSize8Byte: blockLength uint16, 5 padding bytes, numInGroup at +7
    expect(raw.readUInt16LE(og)).toBe(24);
    expect(orders).toHaveLength(raw[og + 7]);
    expect(orders).toHaveLength(16);
    expect(orders[0]).toEqual({
      OrderID: 563189401446,
      MDOrderPriority: 10623363030,
      MDDisplayQty: 1,
      ReferenceID: 2,
      OrderUpdateAction: 'Update',
    });
    orders.forEach((e, i) => {
      const o = og + 8 + 24 * i;
      expect(e).toEqual({
        OrderID: Number(raw.readBigUInt64LE(o)),
        MDOrderPriority: Number(raw.readBigUInt64LE(o + 8)),
        MDDisplayQty: raw.readInt32LE(o + 16),
        ReferenceID: raw[o + 20] === 255 ? null : raw[o + 20],
        OrderUpdateAction: ['New', 'Update', 'Delete'][raw[o + 21]],
      });
    });
    // Second message: 32 bytes, MatchEventIndicator 0x80 = EndOfEvent, two empty groups.
    expect(m2).toEqual({
      packet: 0,
      seq: 1028095,
      sendingTime: '1536760535685381248',
      templateId: 46,
      schemaId: 1,
      version: 9,
      blockLength: 11,
      name: 'MDIncrementalRefreshBook46',
      body: {
        TransactTime: '1536760535644820404',
        MatchEventIndicator: ['EndOfEvent'],
        NoMDEntries: [],
        NoOrderIDEntries: [],
      },
    });
    expect(stderr).toMatch(/2\/2 messages decoded, no errors/);
  });

  it('decodes the version 9 capture identically with the version 13 schema', async () => {
    const a = await runCli(['feed', 'decode', '--schema', SCHEMA_V9, '--pcap', CAPTURE_V9, '--jsonl']);
    const b = await runCli(['feed', 'decode', '--schema', SCHEMA_V13, '--pcap', CAPTURE_V9, '--jsonl']);
    expect(b.stdout).toBe(a.stdout);
  });
});

describe('quant feed decode --jsonl (v12 snapshot capture, TCP 0xCAFE framing)', () => {
  const raw = readFileSync(CAPTURE_V12_TCP);
  // Ethernet 14 + IPv4 20 + TCP 20 (data offset 5): TCP payload at 24 + 16 + 54 = 94.
  const T = 94;

  it('reads the 0xCAFE header and the SnapshotFullRefreshTCPLongQty68 message', async () => {
    expect(raw.readUInt16LE(T)).toBe(0xcafe);
    const { stdout } = await runCli([
      'feed',
      'decode',
      '--schema',
      SCHEMA_V13,
      '--pcap',
      CAPTURE_V12_TCP,
      '--jsonl',
    ]);
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    const m = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(Object.keys(m)).toEqual(KEYS);
    // encodingType fe ca, MsgSeqNum 08 00 00 00, SendingTime 77 ec c5 7e e7 c2 a2 16; size 0x0118; header 25 00 44 00 01 00 0c 00.
    expect(m).toMatchObject({
      packet: 0,
      seq: 8,
      sendingTime: '1631080314581675127',
      templateId: 68,
      schemaId: 1,
      version: 12,
      blockLength: 37,
      name: 'SnapshotFullRefreshTCPLongQty68',
    });
    const body = m.body as Record<string, unknown>;
    expect(body).toMatchObject({
      TransactTime: '1631080313799842417',
      MatchEventIndicator: ['EndOfEvent'],
      SecurityID: 11827320,
      HighLimitPrice: null, // ff ff ff ff ff ff ff 7f = PRICENULL9 null
      LowLimitPrice: 0.00005, // 50000e-9
      MaxPriceVariation: 0.003, // 3000000e-9
    });
    const entries = body.NoMDEntries as Record<string, unknown>[];
    const g = T + 14 + 2 + 8 + 37;
    expect(raw.readUInt16LE(g)).toBe(23);
    expect(entries).toHaveLength(raw[g + 2]);
    expect(entries.map((e) => e.MDEntryType)).toEqual([
      'MarketBestBid',
      'MarketBestOffer',
      'Bid',
      'Bid',
      'Offer',
      'Offer',
      'Offer',
      'Offer',
      'Offer',
      'Trade',
    ]);
    expect(entries[0]).toEqual({
      MDEntryPx: 1.18365,
      MDEntrySize: 1000000,
      NumberOfOrders: null,
      MDPriceLevel: 1,
      OpenCloseSettlFlag: null,
      MDEntryType: 'MarketBestBid',
    });
    expect(entries[9]).toEqual({
      MDEntryPx: 1.2073,
      MDEntrySize: 0,
      NumberOfOrders: null,
      MDPriceLevel: null,
      OpenCloseSettlFlag: null,
      MDEntryType: 'Trade',
    });
    entries.forEach((e, i) => {
      const o = g + 3 + 23 * i;
      const orders = raw.readInt32LE(o + 16);
      expect(e).toEqual({
        MDEntryPx: Number(raw.readBigInt64LE(o)) / 1e9,
        MDEntrySize: Number(raw.readBigUInt64LE(o + 8)),
        NumberOfOrders: orders === 2147483647 ? null : orders,
        MDPriceLevel: raw[o + 20] === 255 ? null : raw[o + 20],
        OpenCloseSettlFlag: raw[o + 21] === 255 ? null : raw[o + 21],
        MDEntryType: ENTRY_TYPES[String.fromCharCode(raw[o + 22])],
      });
    });
  });

  it('counts the template as unknown under the version 9 schema and keeps going', async () => {
    const { stdout, stderr } = await runCli([
      'feed',
      'decode',
      '--schema',
      SCHEMA_V9,
      '--pcap',
      CAPTURE_V12_TCP,
      '--jsonl',
    ]);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/0\/1 messages decoded, 1 skipped: unknownTemplate=1/);
  });

  it('reassembles a frame split across TCP segments and resynchronises after garbage and gaps', () => {
    const codec = new SbeCodec(loadSchema(SCHEMA_V13));
    const frame = raw.subarray(T);
    const frames = [
      tcpFrame(frame.subarray(0, 5), 1000),
      tcpFrame(frame.subarray(5, 100), 1005),
      tcpFrame(frame.subarray(5, 100), 1005), // retransmission: dropped
      tcpFrame(frame.subarray(100), 1100),
      tcpFrame(Buffer.from('garbage!'), 1000 + frame.length),
      tcpFrame(frame, 1008 + frame.length),
      tcpFrame(frame.subarray(0, 50), 5000), // gap before it; frame cut short by the next gap
      tcpFrame(frame, 9000),
    ];
    const stats = newDecodeStats();
    const rows = [...decodeCapture(codec, writePcap(frames), stats)];
    expect(rows.map((r) => r.packet)).toEqual([0, 5, 7]);
    expect(rows.every((r) => r.seq === 8 && r.message.templateId === 68)).toBe(true);
    expect(stats.errors).toEqual({ tcpGarbage: 1, tcpGap: 2, truncatedFrame: 1 });
  });
});

describe('bad input is counted and skipped', () => {
  const codec = new SbeCodec(loadSchema(SCHEMA_V9));
  const records = [...readPcap(readFileSync(CAPTURE_V9))];
  const packet = records[0].data.subarray(42);

  it('truncated packets at every length: earlier whole messages still decode, the rest is counted', () => {
    for (let cut = 0; cut < packet.length; cut++) {
      const stats = newDecodeStats();
      const rows = [...decodeCapture(codec, writePcap([udpFrame(packet.subarray(0, cut))]), stats)];
      const expected = cut >= 12 + 1152 ? 1 : 0;
      expect(rows).toHaveLength(expected);
      const errors = Object.values(stats.errors).reduce((a, b) => a + b, 0);
      expect(errors).toBe(cut === 12 || cut === 12 + 1152 ? 0 : 1);
      if (cut > 12 + 2 && cut < 12 + 1152) expect(stats.errors).toEqual({ messageBeyondPacket: 1 });
    }
  });

  it('a message size beyond the packet, a too-small size, unknown templates and garbage', () => {
    const beyond = Buffer.from(packet);
    beyond.writeUInt16LE(60000, 12);
    const tiny = Buffer.from(packet);
    tiny.writeUInt16LE(3, 12 + 1152);
    const unknown = Buffer.from(packet);
    unknown.writeUInt16LE(999, 12 + 2 + 2);
    const garbage = Buffer.from('this is not an MDP packet at all, just text');
    const stats = newDecodeStats();
    const pcap = writePcap([
      udpFrame(beyond),
      udpFrame(tiny),
      udpFrame(unknown),
      udpFrame(garbage),
      udpFrame(packet),
      Buffer.from([1, 2, 3]),
    ]);
    const rows = [...decodeCapture(codec, pcap, stats)];
    // tiny: first message ok; unknown: second message ok; garbage: size field 0x6968 beyond the packet; packet: both.
    expect(rows.map((r) => r.packet)).toEqual([1, 2, 4, 4]);
    expect(stats.errors).toEqual({
      messageBeyondPacket: 2,
      badMessageSize: 1,
      unknownTemplate: 1,
      truncatedLinkHeader: 1,
    });
  });

  it('a truncated pcap record and a file that is not pcap', () => {
    const full = writePcap([udpFrame(packet), udpFrame(packet)]);
    const stats = newDecodeStats();
    const rows = [...decodeCapture(codec, full.subarray(0, full.length - 10), stats)];
    expect(rows).toHaveLength(2);
    expect(stats.errors).toEqual({ truncatedRecord: 1 });
    expect(() => [...decodeCapture(codec, Buffer.from('hello world, this is not a capture'))]).toThrow(
      /not a pcap file/,
    );
  });
});
