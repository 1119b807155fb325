/**
 * TCP replay over real TCP on loopback against the local replay server, which requires a FIX logon
 * like CME's: logon, request and replay byte-exact (requests of at most 2,000 packets), the wire
 * format of both sides, rejected logons and requests with the server's text, a server that drops
 * mid-stream or never answers the logon. Then the handler: small gaps filled by replay (books never
 * stale, packets relayed in order), large gaps to the snapshot loop, fallback when the server refuses
 * or closes; and end to end on loopback multicast: every gap of a lossy run is filled by replay.
 */
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeFix, decodeFix, type FixValue } from '../../../src/feed/fix';
import { FeedHandler } from '../../../src/feed/handler';
import { LengthPrefixedReader } from '../../../src/feed/net';
import { TcpFrameParser } from '../../../src/feed/packet';
import { FeedRunner, runSimulator } from '../../../src/feed/simulator';
import { SyntheticChannel } from '../../../src/feed/synthetic';
import {
  type AdminMessage,
  decodeAdmin,
  encodeAdminFrame,
  MAX_REPLAY_PACKETS,
  ReplayClient,
  ReplayError,
  ReplayServer,
  type ReplayServerBehaviour,
} from '../../../src/feed/tcp-replay';
import { SbeCodec } from '../../../src/sbe/codec';
import { loadSchema } from '../../../src/sbe/schema';
import { SCHEMA } from '../../unit/feed/helpers';

const codec = new SbeCodec(loadSchema(SCHEMA));
const credentials = { username: 'FIRM01', password: 'replay-secret-1' };
const closers: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

async function server(
  history: Map<number, Buffer>,
  channel = 1,
  behaviour: ReplayServerBehaviour = 'serve',
): Promise<ReplayServer> {
  const s = await ReplayServer.start({ history, channel, credentials, behaviour });
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

const logon = (user = credentials.username, password = credentials.password): Buffer =>
  encodeFix('A', [
    [49, user],
    [56, 'CME'],
    [34, 1],
    [52, '20260105-14:30:00.000'],
    [98, 0],
    [108, 30],
    [553, user],
    [554, password],
  ]);
const mdRequest = (ch: number, beg: number, end: number): Buffer =>
  encodeFix('V', [
    [49, credentials.username],
    [56, 'CME'],
    [34, 2],
    [52, '20260105-14:30:00.001'],
    [262, 'req-1'],
    [1180, ch],
    [1182, beg],
    [1183, end],
  ]);

/** A raw session: writes `messages`, reads until the server closes, splits admin messages from packets. */
function rawSession(
  port: number,
  messages: Buffer[],
): Promise<{ admin: Array<AdminMessage & { seq: number }>; packets: Map<number, Buffer> }> {
  return new Promise((resolve, reject) => {
    const admin: Array<AdminMessage & { seq: number }> = [];
    const parts = new Map<number, Buffer[]>();
    const times = new Map<number, bigint>();
    const parser = new TcpFrameParser((code) => reject(new Error(`framing: ${code}`)));
    const s = net.connect(port, '127.0.0.1', () => s.write(Buffer.concat(messages)));
    s.on('data', (chunk) => {
      for (const m of parser.push(chunk, 0)) {
        const a = decodeAdmin(m.buf, m.offset, m.length);
        if (a) admin.push({ ...a, seq: m.seq });
        else {
          if (!parts.has(m.seq)) parts.set(m.seq, []);
          times.set(m.seq, m.sendingTime);
          parts.get(m.seq)!.push(Buffer.from(m.buf.subarray(m.offset - 2, m.offset + m.length)));
        }
      }
    });
    s.on('error', reject);
    s.on('close', () => {
      const packets = new Map<number, Buffer>();
      for (const [seq, p] of parts) {
        const h = Buffer.alloc(12);
        h.writeUInt32LE(seq, 0);
        h.writeBigUInt64LE(times.get(seq)!, 4);
        packets.set(seq, Buffer.concat([h, ...p]));
      }
      resolve({ admin, packets });
    });
  });
}

describe('TCP replay client and server', () => {
  it('logs on, then returns 4,500 packets byte-exact in requests of at most 2,000 (one session each)', async () => {
    const { packets, map } = history(1, 5000);
    const srv = await server(map);
    const client = new ReplayClient({ server: srv.endpoint, channel: 1, credentials });
    const got = await client.request(301, 4800);
    expect(srv.stats).toMatchObject({ logons: 3, logonsRejected: 0, requests: 3, served: 3, refused: 0 });
    expect(srv.stats.packets).toBe(4500);
    expect(client.stats).toEqual({ requests: 3, packets: 4500, failures: 0 });
    expect(got).toHaveLength(4500);
    expect(got.every((p, i) => p.equals(packets[300 + i]))).toBe(true);
  });

  it('on the wire: Logon confirmed by SBE AdminLogin15, packets in 0xCAFE frames, then AdminLogout16', async () => {
    const { packets, map } = history(4, 40);
    const srv = await server(map, 7);
    const r = await rawSession(srv.endpoint.port, [logon(), mdRequest(7, 11, 20)]);
    expect(r.admin).toEqual([
      { type: 'logon', heartBtInt: 30, seq: 1 },
      { type: 'logout', text: 'Replay of 11-20 complete', seq: 2 },
    ]);
    expect([...r.packets.keys()]).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    for (const [seq, p] of r.packets) expect(p.equals(packets[seq - 1]!)).toBe(true);
  });

  it('the client sends a FIX 4.2 Logon with Username/Password, then one MarketDataRequest', async () => {
    // A hand-written server: records what the client sends, confirms the logon, then logs out early.
    const seen: Array<ReturnType<typeof decodeFix>> = [];
    const { map } = history(5, 10);
    const fake = net.createServer((s) => {
      let buf = Buffer.alloc(0);
      s.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        const end = buf.indexOf('\x0110=') + 8;
        if (end < 8 || buf.length < end) return;
        const m = decodeFix(buf.subarray(0, end));
        buf = buf.subarray(end);
        seen.push(m);
        if (m.msgType === 'A') s.write(encodeAdminFrame({ type: 'logon', heartBtInt: 30 }, 1));
        else {
          const f = Buffer.alloc(2);
          f.writeUInt16LE(0xcafe);
          s.end(Buffer.concat([f, map.get(3)!, encodeAdminFrame({ type: 'logout', text: 'Throttled' }, 2)]));
        }
      });
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise<void>((r) => fake.close(() => r())));
    const port = (fake.address() as net.AddressInfo).port;
    const client = new ReplayClient({ server: { host: '127.0.0.1', port }, channel: 310, credentials });
    const err = await client.request(3, 9).catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'incomplete', serverText: 'Throttled' });
    expect((err as Error).message).toBe('replay 3-9: logout after 1 of 7 packets: Throttled');
    const [a, v] = seen;
    expect(seen).toHaveLength(2);
    const fields = (m: typeof a) => Object.fromEntries(m!.fields.map(([t, x]) => [t, x]));
    expect(fields(a)).toMatchObject({
      8: 'FIX.4.2',
      35: 'A',
      49: 'FIRM01',
      56: 'CME',
      34: '1',
      52: expect.stringMatching(/^\d{8}-\d\d:\d\d:\d\d\.\d{3}$/),
      98: '0',
      108: '30',
      553: 'FIRM01',
      554: 'replay-secret-1',
    });
    expect(fields(v)).toMatchObject({ 35: 'V', 34: '2', 262: '310-1', 1180: '310', 1182: '3', 1183: '9' });
  });

  it("a wrong password is rejected with the server's text; nothing is requested", async () => {
    const { map } = history(6, 20);
    const srv = await server(map);
    const client = new ReplayClient({
      server: srv.endpoint,
      channel: 1,
      credentials: { ...credentials, password: 'wrong' },
    });
    const err = await client.request(1, 10).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplayError);
    expect(err).toMatchObject({
      reason: 'logon',
      serverText: 'Logon rejected: invalid Username/Password',
      message: `replay 1-10: logon rejected by 127.0.0.1:${srv.endpoint.port}: Logon rejected: invalid Username/Password`,
    });
    expect(srv.stats).toMatchObject({ logons: 0, logonsRejected: 1, requests: 0 });
    expect(client.stats).toEqual({ requests: 1, packets: 0, failures: 1 });
  });

  it('the server rejects bad requests with a Logout and Text, as CME does', async () => {
    const { map } = history(2, 100);
    const srv = await server(map, 3);
    const ask = async (messages: Buffer[]): Promise<string[]> =>
      (await rawSession(srv.endpoint.port, messages)).admin.map((a) =>
        a.type === 'logout' ? `logout: ${a.text}` : a.type,
      );
    expect(await ask([logon(), mdRequest(3, 1, MAX_REPLAY_PACKETS + 1)])).toEqual([
      'logon',
      'logout: request for 2001 packets exceeds 2000',
    ]);
    expect(await ask([logon(), mdRequest(3, 1, MAX_REPLAY_PACKETS)])).toEqual([
      'logon',
      'logout: sequence 101 not available',
    ]);
    expect(await ask([logon(), mdRequest(4, 1, 10)])).toEqual(['logon', 'logout: unknown ApplID 4']);
    expect(await ask([logon(), mdRequest(3, 10, 5)])).toEqual(['logon', 'logout: bad range 10-5']);
    expect(await ask([logon(), mdRequest(3, 0, 5)])).toEqual([
      'logon',
      'logout: Request rejected: ApplBegSeqNum (1182): "0" is not an integer 1..4294967295',
    ]);
    expect(
      await ask([
        logon(),
        encodeFix('V', [
          [1180, 3],
          [262, 'x'],
          [1183, 5],
        ]),
      ]),
    ).toEqual(['logon', 'logout: Request rejected: MsgType V: missing required ApplBegSeqNum (1182)']);
    // Before a logon, and malformed FIX, are refused too.
    expect(await ask([mdRequest(3, 1, 5)])).toEqual(['logout: Logon (35=A) required before MsgType V']);
    const bad = Buffer.from(logon());
    bad[bad.length - 2] = bad[bad.length - 2] === 0x30 ? 0x31 : 0x30;
    expect((await ask([bad]))[0]).toMatch(
      /^logout: Malformed message: CheckSum \(10\): \d{3}, computed \d{3}$/,
    );
    expect(await ask([encodeFix('A', [[553, credentials.username]])])).toEqual([
      'logout: Logon rejected: missing required Password (554)',
    ]);
    expect(srv.stats).toMatchObject({ refused: 6, logonsRejected: 3, served: 0 });
    // The client reports a refusal with the server's text.
    const client = new ReplayClient({ server: srv.endpoint, channel: 3, credentials });
    await expect(client.request(95, 105)).rejects.toMatchObject({
      reason: 'refused',
      serverText: 'sequence 101 not available',
      message: 'replay 95-105 refused: sequence 101 not available',
    });
    expect(
      () => new ReplayClient({ server: srv.endpoint, channel: 3, credentials, maxPerRequest: 2001 }),
    ).toThrow(/maxPerRequest: 2001/);
    expect(
      () =>
        new ReplayClient({ server: srv.endpoint, channel: 3, credentials: { username: 'u', password: '' } }),
    ).toThrow(/credentials.password: must be a non-empty string/);
  });

  it('a server that drops the connection mid-stream is detected (no partial result)', async () => {
    const { map } = history(7, 50);
    const srv = await server(map, 1, 'drop');
    const client = new ReplayClient({ server: srv.endpoint, channel: 1, credentials });
    await expect(client.request(1, 10)).rejects.toMatchObject({
      reason: 'incomplete',
      message: 'replay 1-10: connection closed after 5 of 10 packets, without a Logout',
    });
    expect(client.stats).toMatchObject({ packets: 0, failures: 1 });
  });

  it('no logon response within the logon timeout is a timeout error', async () => {
    const { map } = history(8, 20);
    const srv = await server(map, 1, 'silent');
    const client = new ReplayClient({ server: srv.endpoint, channel: 1, credentials, logonTimeoutMs: 200 });
    await expect(client.request(1, 10)).rejects.toMatchObject({
      reason: 'timeout',
      message: `replay 1-10: no logon response from 127.0.0.1:${srv.endpoint.port} within 200 ms`,
    });
    expect(srv.stats.requests).toBe(0);
  });

  it('tag=value answers are understood too: a FIX Logout rejecting the logon gives its Text', async () => {
    const fake = net.createServer((s) =>
      s.once('data', () => s.end(encodeFix('5', [[58, 'Invalid credentials']] as Array<[number, FixValue]>))),
    );
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise<void>((r) => fake.close(() => r())));
    const port = (fake.address() as net.AddressInfo).port;
    const client = new ReplayClient({ server: { host: '127.0.0.1', port }, channel: 1, credentials });
    await expect(client.request(1, 2)).rejects.toMatchObject({
      reason: 'logon',
      serverText: 'Invalid credentials',
    });
  });

  it('a server that closes without answering, or is not there, is an error (not a hang)', async () => {
    const { map } = history(3, 50);
    const srv = await server(map, 1, 'close');
    const client = new ReplayClient({ server: srv.endpoint, channel: 1, credentials, timeoutMs: 1000 });
    await expect(client.request(1, 10)).rejects.toMatchObject({ reason: 'incomplete' });
    const free = net.createServer();
    await new Promise<void>((r) => free.listen(0, '127.0.0.1', () => r()));
    const port = (free.address() as net.AddressInfo).port;
    await new Promise<void>((r) => free.close(() => r()));
    const none = new ReplayClient({ server: { host: '127.0.0.1', port }, channel: 1, credentials });
    const err = await none.request(1, 10).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplayError);
    expect(err).toMatchObject({ reason: 'connect' });
  });
});

describe('the handler with TCP replay', () => {
  function rig(seed: number, srv: ReplayServer, maxGapPackets = 100) {
    const ch = new SyntheticChannel(codec, { seed });
    const relayed: Buffer[] = [];
    const client = new ReplayClient({ server: srv.endpoint, channel: 1, credentials, timeoutMs: 1000 });
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
      replay: { server: srv.endpoint, credentials },
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
