/**
 * End to end on loopback multicast: the simulator publishes a synthetic channel on feeds A and B
 * (loss, duplication, reordering per feed, rare loss on both) and a snapshot loop; the runner joins
 * all three, arbitrates, decodes, builds books, recovers gaps, and relays arbitrated packets to a
 * unicast UDP subscriber and a TCP subscriber. Real sockets throughout.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { FeedRunner, runSimulator } from '../../../src/feed/simulator';
import { LengthPrefixedReader, Relay } from '../../../src/feed/net';
import { SbeCodec } from '../../../src/sbe/codec';
import { loadSchema } from '../../../src/sbe/schema';
import { SCHEMA } from '../../unit/feed/helpers';

const codec = new SbeCodec(loadSchema(SCHEMA));
const base = 20000 + Math.floor(Math.random() * 30000);
const group = (n: number) => ({ host: `239.255.${(base >> 8) & 0xff}.${n}`, port: base + n });

const closers: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

describe('feed on loopback multicast', () => {
  it('simulate -> run -> relay: books match the truth, relayed packets are byte-exact and in order', async () => {
    const udpSub = dgram.createSocket('udp4');
    await new Promise<void>((r) => udpSub.bind(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise<void>((r) => udpSub.close(() => r())));
    const udpGot: Buffer[] = [];
    udpSub.on('message', (b) => udpGot.push(b));

    const runner = await FeedRunner.start(codec, {
      feedA: group(1),
      feedB: group(2),
      snapshot: group(3),
      gapPacketThreshold: 32,
      gapTimeoutMs: 50,
      relay: {
        udp: [{ host: '127.0.0.1', port: (udpSub.address() as { port: number }).port }],
        tcpListen: { host: '127.0.0.1', port: 0 },
      },
    });
    closers.push(() => runner.stop());

    const tcpGot: Buffer[] = [];
    const reader = new LengthPrefixedReader();
    const tcp = net.connect(runner.relay!.tcpPort!, '127.0.0.1');
    tcp.on('data', (c) => tcpGot.push(...reader.push(c)));
    await new Promise<void>((r) => tcp.once('connect', () => r()));
    closers.push(() => void tcp.destroy());
    await waitFor(() => runner.relay!.stats.tcpConnected === 1, 2000);

    const sim = await runSimulator(codec, {
      feedA: group(1),
      feedB: group(2),
      snapshot: group(3),
      packets: 3000,
      rate: 20_000,
      a: { loss: 0.03, dup: 0.01, reorder: 0.02 },
      b: { loss: 0.03, dup: 0.01, reorder: 0.02 },
      lossBoth: 0.002,
      snapshotEvery: 500,
    });
    const last = sim.channel.lastSeq;
    const h = runner.handler;
    await waitFor(
      () => h.arbiter.nextSeq > last && !h.isRecovering && tcpGot.length >= h.arbiter.stats.delivered,
      10_000,
    );

    expect(h.arbiter.nextSeq).toBe(last + 1);
    expect(h.isRecovering).toBe(false);
    expect(h.decodeStats.errors).toEqual({});
    expect(h.arbiter.stats.feeds.A.duplicates + h.arbiter.stats.feeds.B.duplicates).toBeGreaterThan(2000);
    for (const id of sim.channel.securityIds) {
      const truth = sim.channel.truth(id)!;
      const book = h.books.book(id)!;
      expect({ bids: book.bids, asks: book.asks, rptSeq: book.rptSeq, stale: book.stale }).toEqual({
        ...truth,
        stale: false,
      });
    }
    if (sim.lostBoth > 0) expect(h.recovery.completed).toBeGreaterThan(0);

    // Relay: every arbitrated packet once, in sequence order, byte-exact, on TCP and UDP.
    const delivered = h.arbiter.stats.delivered;
    expect(tcpGot).toHaveLength(delivered);
    let prev = 0;
    for (const p of tcpGot) {
      const seq = p.readUInt32LE(0);
      expect(seq).toBeGreaterThan(prev);
      prev = seq;
      expect(p.equals(sim.published.get(seq)!)).toBe(true);
    }
    await waitFor(() => udpGot.length >= delivered, 2000);
    expect(udpGot).toHaveLength(delivered);
    expect(udpGot.every((p) => p.equals(sim.published.get(p.readUInt32LE(0))!))).toBe(true);
  });

  it('a TCP subscriber that stops reading is disconnected at the backlog limit; the others get everything', async () => {
    const relay = await Relay.start({
      tcpListen: { host: '127.0.0.1', port: 0 },
      maxTcpBacklogBytes: 256 << 10,
    });
    closers.push(() => relay.close());
    const slow = net.connect(relay.tcpPort!, '127.0.0.1');
    slow.pause(); // never reads
    slow.on('error', () => {});
    const fast = net.connect(relay.tcpPort!, '127.0.0.1');
    const reader = new LengthPrefixedReader();
    const got: Buffer[] = [];
    fast.on('data', (c) => got.push(...reader.push(c)));
    closers.push(
      () => void slow.destroy(),
      () => void fast.destroy(),
    );
    await waitFor(() => relay.stats.tcpConnected === 2, 2000);
    const packet = (i: number): Buffer => {
      const b = Buffer.alloc(1000, i & 0xff);
      b.writeUInt32LE(i, 0);
      return b;
    };
    // 40 MB offered without waiting for the slow reader: the relay must not block on it. The sender
    // stays within 100 packets (~100 KB, under the 256 KiB limit) of the fast reader, so only a
    // reader that stops can reach the limit, however loaded the machine (unpaced, a busy CI box let
    // the fast reader fall 500 KB behind and be cut off too).
    const n = 40_000;
    for (let i = 1; i <= n; i++) {
      relay.send(packet(i));
      if (i % 100 === 0) {
        await new Promise((r) => setImmediate(r));
        await waitFor(() => got.length >= i - 100, 5_000);
      }
    }
    await waitFor(() => got.length >= n, 20_000);
    expect(relay.stats.tcpSlowDisconnects).toBe(1);
    expect(got).toHaveLength(n);
    expect(got.every((p, i) => p.equals(packet(i + 1)))).toBe(true);
  });
});
