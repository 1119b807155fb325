/**
 * `quant feed replay --pcap`: a capture of synthetic packets (project schema) sent to loopback
 * multicast feeds A and B, repeated with rewritten sequence numbers; a receiver checks the numbers
 * and that every body is the capture's, byte for byte. CME's real capture is replayed in
 * test/conformance/feed/feed-pcap-replay.test.ts.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main';
import { decodePacketMessages, newDecodeStats } from '../../../src/feed/decode';
import { joinMulticast, type MulticastReceiver } from '../../../src/feed/net';
import { buildTcpFrame } from '../../../src/feed/packet';
import { tcpFrame, udpFrame, writePcap } from '../../../src/feed/pcap';
import { capturePackets, replayCapture } from '../../../src/feed/replay';
import { SyntheticChannel } from '../../../src/feed/synthetic';
import { SbeCodec } from '../../../src/sbe/codec';
import { loadSchema } from '../../../src/sbe/schema';
import { SCHEMA } from '../../unit/feed/helpers';

const codec = new SbeCodec(loadSchema(SCHEMA));
const dir = mkdtempSync(path.join(os.tmpdir(), 'feed-pcap-replay-'));
const CAPTURE = path.join(dir, 'synthetic.pcap');
const TCP_ONLY = path.join(dir, 'tcp-only.pcap');
{
  const ch = new SyntheticChannel(codec, { seed: 9 });
  const packets = [ch.definitions(), ...Array.from({ length: 40 }, () => ch.next())];
  writeFileSync(CAPTURE, writePcap(packets.map((p) => udpFrame(p))));
  const definitions = packets[0].subarray(14, 12 + packets[0].readUInt16LE(12));
  writeFileSync(TCP_ONLY, writePcap([tcpFrame(buildTcpFrame(1, 1n, [definitions]), 1000)]));
}

const base = 20000 + Math.floor(Math.random() * 30000);
const group = (n: number) => ({ host: `239.252.${(base >> 8) & 0xff}.${n}`, port: base + n });
const receivers: MulticastReceiver[] = [];
afterAll(async () => {
  for (const r of receivers) await r.close();
  rmSync(dir, { recursive: true, force: true });
});

async function listen(n: number): Promise<Buffer[]> {
  const got: Buffer[] = [];
  receivers.push(await joinMulticast(group(n), (b) => got.push(b)));
  return got;
}

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

describe('quant feed replay --pcap', () => {
  const original = capturePackets(readFileSync(CAPTURE));

  it('sends the capture to A and B with rewritten sequence numbers; bodies are byte-exact', async () => {
    expect(original.length).toBeGreaterThan(0);
    const [a, b] = [await listen(1), await listen(2)];
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const repeat = 10;
    const total = original.length * repeat;
    const code = await main([
      'node',
      'quant',
      'feed',
      'replay',
      '--pcap',
      CAPTURE,
      '--feed-a',
      `${group(1).host}:${group(1).port}`,
      '--feed-b',
      `${group(2).host}:${group(2).port}`,
      '--repeat',
      String(repeat),
      '--rate',
      '20000',
      '--start-seq',
      '5000',
    ]);
    expect(code).toBe(0);
    expect(log.mock.calls.map((c) => String(c[0]))).toEqual([
      `replayed ${total} packets, sequence 5000..${5000 + total - 1}`,
    ]);
    log.mockRestore();
    await waitFor(() => a.length >= total && b.length >= total, 5000);
    for (const got of [a, b]) {
      expect(got.map((p) => p.readUInt32LE(0))).toEqual(Array.from({ length: total }, (_, i) => 5000 + i));
      // Only the sequence number changes: SendingTime and every message are the capture's bytes.
      expect(got.every((p, i) => p.subarray(4).equals(original[i % original.length].subarray(4)))).toBe(true);
    }
    // And they decode as the capture does, with no errors.
    const stats = newDecodeStats();
    const names = decodePacketMessages(codec, a[0], stats).map((m) => m.name);
    expect(names).toEqual(decodePacketMessages(codec, original[0], newDecodeStats()).map((m) => m.name));
    expect(names.length).toBeGreaterThan(0);
    expect(stats.errors).toEqual({});
  });

  it('a capture without UDP MDP packets is refused, naming the problem', async () => {
    await expect(replayCapture(readFileSync(TCP_ONLY), { feedA: group(3) })).rejects.toThrow(
      /pcap: the capture holds no UDP MDP packets/,
    );
  });
});
