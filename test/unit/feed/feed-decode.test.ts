/**
 * `quant feed decode --jsonl` on captures written here from the synthetic channel (UDP packets and a
 * TCP recovery stream), with the project's schema; bad input is counted and skipped. The goldens on
 * CME's two real captures are in test/conformance/feed/feed-decode.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { registerFeed } from '../../../src/cli/commands/feed';
import { decodeCapture, newDecodeStats } from '../../../src/feed/decode';
import { messageJsonLine } from '../../../src/feed/jsonl';
import { buildTcpFrame, forEachMessage } from '../../../src/feed/packet';
import { tcpFrame, udpFrame, writePcap } from '../../../src/feed/pcap';
import { SyntheticChannel } from '../../../src/feed/synthetic';
import { SbeCodec } from '../../../src/sbe/codec';
import { loadSchema } from '../../../src/sbe/schema';
import { SCHEMA } from './helpers';

const codec = new SbeCodec(loadSchema(SCHEMA));
const dir = mkdtempSync(path.join(os.tmpdir(), 'feed-decode-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

async function runCli(args: string[]): Promise<{ stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const program = new Command('quant').exitOverride();
    registerFeed(program);
    await program.parseAsync(args, { from: 'user' });
  } finally {
    vi.restoreAllMocks();
  }
  return { stdout, stderr };
}

/** The messages of an MDP packet (UDP) as [offset, length] pairs, size fields excluded. */
function messageSpans(p: Buffer, start = 0): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  expect(forEachMessage(p, start, p.length, (o, l) => out.push([o, l]))).toBeNull();
  return out;
}

const channel = new SyntheticChannel(codec, { seed: 3, mbo: true });
const packets = [channel.definitions()];
for (let i = 0; i < 200; i++) packets.push(channel.next());
const orderLoop = channel.orderSnapshotLoop(200);
packets.push(...channel.snapshotLoop(200), ...orderLoop);
// The longest SnapshotFullRefreshOrderBook53 in a TCP recovery frame, as the replay service sends it.
const snapshot = orderLoop.reduce((a, b) => (b.length > a.length ? b : a));
const [[so, sl]] = messageSpans(snapshot);
const tcp = buildTcpFrame(77, 5n, [snapshot.subarray(so, so + sl)]);

describe('quant feed decode --jsonl (synthetic capture, project schema)', () => {
  it('prints every message of the UDP packets and of a TCP frame split over two segments, in capture order', async () => {
    const file = path.join(dir, 'synthetic.pcap');
    writeFileSync(
      file,
      writePcap([
        ...packets.map((p) => udpFrame(p)),
        tcpFrame(tcp.subarray(0, 7), 1000),
        tcpFrame(tcp.subarray(7), 1007),
      ]),
    );
    const { stdout, stderr } = await runCli([
      'feed',
      'decode',
      '--schema',
      SCHEMA,
      '--pcap',
      file,
      '--jsonl',
    ]);
    const lines = stdout.trimEnd().split('\n');
    const expected: string[] = [];
    packets.forEach((p, i) => {
      for (const [o, l] of messageSpans(p)) {
        const m = codec.decode(p, o, l);
        // Header values straight from the bytes; the body re-encodes to the packet's own bytes.
        expect([m.templateId, m.version, m.blockLength]).toEqual([
          p.readUInt16LE(o + 2),
          p.readUInt16LE(o + 6),
          p.readUInt16LE(o),
        ]);
        expect(codec.encode(m.name, m.body).equals(p.subarray(o, o + l))).toBe(true);
        expected.push(messageJsonLine(i, p.readUInt32LE(0), p.readBigUInt64LE(4), m));
      }
    });
    const t = codec.decode(tcp, 2 + 12 + 2, sl);
    expected.push(messageJsonLine(packets.length, 77, 5n, t));
    expect(lines).toEqual(expected);
    const first = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(Object.keys(first)).toEqual([
      'packet',
      'seq',
      'sendingTime',
      'templateId',
      'schemaId',
      'version',
      'blockLength',
      'name',
      'body',
    ]);
    expect(first).toMatchObject({ packet: 0, templateId: 54, schemaId: 1, version: 13 });
    expect(new Set(lines.map((l) => (JSON.parse(l) as { name: string }).name))).toEqual(
      new Set([
        'MDInstrumentDefinitionFuture54',
        'MDIncrementalRefreshBook46',
        'MDIncrementalRefreshOrderBook47',
        'MDIncrementalRefreshTradeSummary48',
        'SnapshotFullRefresh52',
        'SnapshotFullRefreshOrderBook53',
      ]),
    );
    expect(stderr).toMatch(
      new RegExp(
        `${packets.length + 2} records, ${packets.length} UDP packets, 2 TCP segments, ${lines.length}/${lines.length} messages decoded, no errors`,
      ),
    );
  });

  it('reassembles a frame split across TCP segments and resynchronises after garbage and gaps', () => {
    expect(tcp.length).toBeGreaterThan(100);
    const frames = [
      tcpFrame(tcp.subarray(0, 5), 1000),
      tcpFrame(tcp.subarray(5, 100), 1005),
      tcpFrame(tcp.subarray(5, 100), 1005), // retransmission: dropped
      tcpFrame(tcp.subarray(100), 1100),
      tcpFrame(Buffer.from('garbage!'), 1000 + tcp.length),
      tcpFrame(tcp, 1008 + tcp.length),
      tcpFrame(tcp.subarray(0, 50), 5000), // gap before it; frame cut short by the next gap
      tcpFrame(tcp, 9000),
    ];
    const stats = newDecodeStats();
    const rows = [...decodeCapture(codec, writePcap(frames), stats)];
    expect(rows.map((r) => r.packet)).toEqual([0, 5, 7]);
    expect(rows.every((r) => r.seq === 77 && r.message.templateId === 53)).toBe(true);
    expect(stats.errors).toEqual({ tcpGarbage: 1, tcpGap: 2, truncatedFrame: 1 });
  });
});

describe('bad input is counted and skipped', () => {
  // A packet with two messages (a trade summary, then its book update).
  const packet = packets.find((p) => messageSpans(p).length === 2)!;
  const first = packet.readUInt16LE(12); // the first message's size, its size field included

  it('truncated packets at every length: earlier whole messages still decode, the rest is counted', () => {
    for (let cut = 0; cut < packet.length; cut++) {
      const stats = newDecodeStats();
      const rows = [...decodeCapture(codec, writePcap([udpFrame(packet.subarray(0, cut))]), stats)];
      expect(rows).toHaveLength(cut >= 12 + first ? 1 : 0);
      const errors = Object.values(stats.errors).reduce((a, b) => a + b, 0);
      expect(errors).toBe(cut === 12 || cut === 12 + first ? 0 : 1);
      if (cut > 12 + 2 && cut < 12 + first) expect(stats.errors).toEqual({ messageBeyondPacket: 1 });
    }
  });

  it('a message size beyond the packet, a too-small size, unknown templates and garbage', () => {
    const beyond = Buffer.from(packet);
    beyond.writeUInt16LE(60000, 12);
    const tiny = Buffer.from(packet);
    tiny.writeUInt16LE(3, 12 + first);
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
