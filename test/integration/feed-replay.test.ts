/**
 * TCP replay over real TCP against the local replay server: the client splits ranges into requests
 * of at most 2,000 packets and rebuilds the UDP packets byte-exact; the handler fills small gaps by
 * replay (books never stale, packets relayed in order), sends large gaps to the snapshot loop, and
 * falls back to the snapshot loop when the server refuses or closes. Then end to end on loopback
 * multicast: every gap of a lossy run is filled by replay.
 */
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { FeedHandler } from '../../src/feed/handler';
import { LengthPrefixedReader } from '../../src/feed/net';
import { FeedRunner, runSimulator } from '../../src/feed/simulator';
import { SyntheticChannel } from '../../src/feed/synthetic';
import {
  fixMessage,
  MAX_REPLAY_PACKETS,
  parseFix,
  ReplayClient,
  ReplayError,
  ReplayServer,
} from '../../src/feed/tcp-replay';
import { SbeCodec } from '../../src/sbe/codec';
import { loadSchema } from '../../src/sbe/schema';
import { SCHEMA_V13 } from '../unit/feed/helpers';

const codec = new SbeCodec(loadSchema(SCHEMA_V13));
const closers: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

async function server(history: Map<number, Buffer>, channel = 1): Promise<ReplayServer> {
  const s = await ReplayServer.start({ history, channel });
  closers.push(() => s.close());
  return s;
}

/** A channel's packets 1..n (definitions first) kept by sequence number. */
function history(
  seed: number,
  n: number,
): { ch: SyntheticChannel; packets: Buffer[]; map: Map<number, Buffer> } {
  const ch = new SyntheticChannel(codec, { seed });
  const real = [ch.definitions()];
  for (let i = 1; i < Math.min(n, 300); i++) real.push(ch.next());
  // Beyond 300, copies of real packets renumbered (encoding thousands is slow and adds nothing here).
  const packets = Array.from({ length: n }, (_, i) => {
    const p = Buffer.from(real[i % real.length]);
    p.writeUInt32LE(i + 1, 0);
    return p;
  });
  return { ch, packets, map: new Map(packets.map((p) => [p.readUInt32LE(0), p])) };
}

describe('TCP replay client and server', () => {
  it('splits 4,500 packets into requests of at most 2,000 and returns them byte-exact', async () => {
    const { packets, map } = history(1, 5000);
    const srv = await server(map);
    const client = new ReplayClient({ server: srv.endpoint, channel: 1 });
    const got = await client.request(301, 4800);
    expect(srv.stats).toMatchObject({ requests: 3, served: 3, refused: 0, packets: 4500 });
    expect(client.stats).toEqual({ requests: 3, packets: 4500, failures: 0 });
    expect(got).toHaveLength(4500);
    expect(got.every((p, i) => p.equals(packets[300 + i]))).toBe(true);
  });

  it('the server refuses ranges over 2,000 packets, unknown channels and unavailable sequences', async () => {
    const { map } = history(2, 100);
    const srv = await server(map, 3);
    const ask = (fields: Array<[number, string | number]>): Promise<string> =>
      new Promise((resolve, reject) => {
        const s = net.connect(srv.endpoint.port, '127.0.0.1', () => s.write(fixMessage(fields)));
        const parts: Buffer[] = [];
        s.on('data', (c) => parts.push(c));
        s.on('error', reject);
        s.on('close', () => {
          const fix = parseFix(Buffer.concat(parts));
          resolve(`${fix?.fields.get(35)}: ${fix?.fields.get(58)}`);
        });
      });
    const v = (ch: number, beg: number, end: number): Array<[number, number | string]> => [
      [35, 'V'],
      [1180, ch],
      [1182, beg],
      [1183, end],
    ];
    expect(await ask(v(3, 1, MAX_REPLAY_PACKETS + 1))).toBe('5: request for 2001 packets exceeds 2000');
    expect(await ask(v(4, 1, 10))).toBe('5: unknown ApplID 4');
    expect(await ask(v(3, 90, 110))).toBe('5: sequence 101 not available');
    expect(await ask(v(3, 10, 5))).toBe('5: bad range 10-5');
    expect(srv.stats.refused).toBe(4);
    // The client reports a refusal with the server's text.
    const client = new ReplayClient({ server: srv.endpoint, channel: 3 });
    await expect(client.request(95, 105)).rejects.toThrow(/refused: sequence 101 not available/);
    expect(() => new ReplayClient({ server: srv.endpoint, channel: 3, maxPerRequest: 2001 })).toThrow(
      /maxPerRequest: 2001/,
    );
  });

  it('a server that closes without answering, or is not there, is an error (not a hang)', async () => {
    const { map } = history(3, 50);
    const srv = await server(map);
    srv.behaviour = 'close';
    const client = new ReplayClient({ server: srv.endpoint, channel: 1, timeoutMs: 1000 });
    await expect(client.request(1, 10)).rejects.toMatchObject({ reason: 'incomplete' });
    const free = net.createServer();
    await new Promise<void>((r) => free.listen(0, '127.0.0.1', () => r()));
    const port = (free.address() as net.AddressInfo).port;
    await new Promise<void>((r) => free.close(() => r()));
    const none = new ReplayClient({ server: { host: '127.0.0.1', port }, channel: 1 });
    const err = await none.request(1, 10).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplayError);
    expect(err).toMatchObject({ reason: 'connect' });
  });
});

describe('the handler with TCP replay', () => {
  function rig(seed: number, srv: ReplayServer, maxGapPackets = 100) {
    const ch = new SyntheticChannel(codec, { seed });
    const relayed: Buffer[] = [];
    const client = new ReplayClient({ server: srv.endpoint, channel: 1, timeoutMs: 1000 });
    const h = new FeedHandler(
      codec,
      () => {},
      () => {},
      {
        arbiter: { gapPacketThreshold: 8, gapTimeoutMs: 1e9 },
        onArbitrated: (b) => relayed.push(b),
        replay: { request: (f, t) => client.request(f, t), maxGapPackets },
      },
    );
    const both = (p: Buffer): void => {
      h.onIncremental('A', p);
      h.onIncremental('B', p);
    };
    const expectTruth = (): void => {
      for (const id of ch.securityIds) {
        const t = ch.truth(id)!;
        const b = h.books.book(id)!;
        expect({ bids: b.bids, asks: b.asks, rptSeq: b.rptSeq, stale: b.stale }).toEqual({
          ...t,
          stale: false,
        });
      }
    };
    return { ch, h, relayed, both, expectTruth };
  }

  it('fills a small gap by replay: books never stale, every packet relayed once and in order', async () => {
    const hist = new Map<number, Buffer>();
    const srv = await server(hist);
    const { ch, h, relayed, both, expectTruth } = rig(11, srv);
    const sent: Buffer[] = [];
    const publish = (p: Buffer, deliver: boolean): void => {
      hist.set(p.readUInt32LE(0), p);
      sent.push(p);
      if (deliver) both(p);
    };
    publish(ch.definitions(), true);
    for (let i = 0; i < 100; i++) publish(ch.next(), true);
    for (let i = 0; i < 30; i++) publish(ch.next(), false); // lost on both feeds
    for (let i = 0; i < 100; i++) publish(ch.next(), true);
    expect(h.replaying).toBe(1);
    await h.idle();
    expect(h.recovery).toMatchObject({
      replayRequested: 1,
      replayRecovered: 1,
      replayPackets: 30,
      started: 0,
    });
    expect(h.isRecovering).toBe(false);
    expectTruth();
    expect(relayed).toHaveLength(sent.length);
    expect(relayed.every((p, i) => p.equals(sent[i]))).toBe(true);
    expect(srv.stats.requests).toBe(1);
  });

  it('a gap larger than maxGapPackets goes to the snapshot loop without asking the server', async () => {
    const hist = new Map<number, Buffer>();
    const srv = await server(hist);
    const { ch, h, both, expectTruth } = rig(12, srv, 20);
    both(ch.definitions());
    for (let i = 0; i < 50; i++) both(ch.next());
    for (let i = 0; i < 21; i++) ch.next();
    for (let i = 0; i < 20; i++) both(ch.next());
    await h.idle();
    expect(h.recovery).toMatchObject({ replayTooLarge: 1, replayRequested: 0, started: 1 });
    expect(h.isRecovering).toBe(true);
    for (const p of ch.snapshotLoop()) h.onSnapshot(p);
    expect(h.isRecovering).toBe(false);
    expectTruth();
    expect(srv.stats.requests).toBe(0);
  });

  for (const behaviour of ['refuse', 'close'] as const) {
    it(`a server that ${behaviour}s: the gap falls back to the snapshot loop, counted`, async () => {
      const hist = new Map<number, Buffer>();
      const srv = await server(hist);
      srv.behaviour = behaviour;
      const { ch, h, relayed, both, expectTruth } = rig(13, srv);
      const publish = (p: Buffer, deliver: boolean): void => {
        hist.set(p.readUInt32LE(0), p);
        if (deliver) both(p);
      };
      publish(ch.definitions(), true);
      for (let i = 0; i < 60; i++) publish(ch.next(), true);
      for (let i = 0; i < 5; i++) publish(ch.next(), false);
      for (let i = 0; i < 40; i++) publish(ch.next(), true);
      await h.idle();
      expect(h.recovery).toMatchObject({
        replayRequested: 1,
        replayRecovered: 0,
        replayFailed: 1,
        started: 1,
      });
      expect(h.lastReplayError).toMatch(
        behaviour === 'refuse' ? /refused: replay unavailable/ : /closed after 0/,
      );
      expect(h.isRecovering).toBe(true);
      // Held packets were released after the failure: everything but the lost 5 was relayed.
      expect(relayed).toHaveLength(1 + 60 + 40);
      for (const p of ch.snapshotLoop()) h.onSnapshot(p);
      expect(h.isRecovering).toBe(false);
      expectTruth();
    });
  }
});

describe('TCP replay end to end on loopback multicast', () => {
  it('every gap of a lossy run is filled by replay; the TCP relay stream is complete and byte-exact', async () => {
    const base = 20000 + Math.floor(Math.random() * 30000);
    const group = (n: number) => ({ host: `239.253.${(base >> 8) & 0xff}.${n}`, port: base + n });
    const hist = new Map<number, Buffer>();
    const srv = await server(hist, 5);
    const runner = await FeedRunner.start(codec, {
      feedA: group(1),
      feedB: group(2),
      snapshot: group(3),
      channel: '5',
      gapPacketThreshold: 32,
      gapTimeoutMs: 50,
      replay: { server: srv.endpoint },
      relay: { tcpListen: { host: '127.0.0.1', port: 0 } },
      metrics: {},
    });
    closers.push(() => runner.stop());
    const got: Buffer[] = [];
    const reader = new LengthPrefixedReader();
    const sub = net.connect(runner.relay!.tcpPort!, '127.0.0.1');
    sub.on('data', (c) => got.push(...reader.push(c)));
    await new Promise<void>((r) => sub.once('connect', () => r()));
    closers.push(() => void sub.destroy());
    const sim = await runSimulator(codec, {
      feedA: group(1),
      feedB: group(2),
      snapshot: group(3),
      packets: 3000,
      rate: 10_000,
      a: { loss: 0.02 },
      b: { loss: 0.02 },
      lossBoth: 0.003,
      snapshotEvery: 500,
      history: hist,
    });
    const h = runner.handler;
    const last = sim.channel.lastSeq;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (h.arbiter.nextSeq <= last || h.replaying > 0 || got.length < last))
      await new Promise((r) => setTimeout(r, 10));
    await h.idle();
    expect(sim.lostBoth).toBeGreaterThan(0);
    expect(h.arbiter.stats.gaps).toBeGreaterThan(0);
    // Every gap was replayed; only the startup recovery used the snapshot loop.
    expect(h.recovery).toMatchObject({ replayRecovered: h.arbiter.stats.gaps, replayFailed: 0, started: 1 });
    expect(h.isRecovering).toBe(false);
    expect(got.map((p) => p.readUInt32LE(0))).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    expect(got.every((p) => p.equals(hist.get(p.readUInt32LE(0))!))).toBe(true);
    const m = runner.snapshot();
    expect(m.replayRecoveries).toBe(h.arbiter.stats.gaps);
    // Replayed packets carry no receive time: latency samples are the packets that came off the network.
    expect(m.latency.count).toBe(last - h.recovery.replayPackets);
  });
});
