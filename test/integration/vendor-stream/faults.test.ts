import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients, type AwsClients } from '../../../src/aws/clients';
import { LocalCloud } from '../../../src/local/cloud';
import { alpaca } from '../../../src/vendor-stream/alpaca';
import { VendorAuthError } from '../../../src/vendor-stream/errors';
import { polygon } from '../../../src/vendor-stream/polygon';
import { MemoryQuarantine } from '../../../src/vendor-stream/quarantine';
import { VendorStream, type VendorStreamOptions } from '../../../src/vendor-stream/session';
import { VendorSimulator, type SimulatorOptions } from '../../../src/vendor-stream/simulator';
import type { VendorAdapter } from '../../../src/vendor-stream/types';
import { readStream } from '../helpers/kinesis';
import { freshStream, tickKey, until } from './helpers';

let cloud: LocalCloud;
let clients: AwsClients;

beforeAll(async () => {
  cloud = await LocalCloud.start({
    dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'vendor-faults-')),
    services: ['kinesis', 's3'],
  });
  clients = createClients(cloud.runtime);
});

afterAll(async () => {
  clients?.destroy();
  await cloud?.stop();
});

const KEYS: Record<string, string> = { polygon: 'test-key', alpaca: 'test-id:test-secret' };

interface Setup {
  sim: VendorSimulator;
  s: VendorStream;
  quarantine: MemoryQuarantine;
  stream: string;
  logs: string[];
}

async function setup(
  adapter: VendorAdapter,
  simOpts: Partial<SimulatorOptions> = {},
  opts: Partial<VendorStreamOptions> & { keyText?: string } = {},
): Promise<Setup> {
  const sim = await VendorSimulator.start({ vendor: adapter.vendor, ...simOpts });
  const stream = await freshStream(clients.kinesis, 'vs-fault');
  const quarantine = new MemoryQuarantine();
  const logs: string[] = [];
  const s = new VendorStream({
    adapter,
    key: adapter.parseKey(opts.keyText ?? KEYS[adapter.vendor]),
    symbols: ['AAA'],
    url: sim.url,
    restUrl: sim.restUrl,
    kinesis: clients.kinesis,
    streamName: stream,
    quarantine,
    reconnectBaseMs: 20,
    reconnectMaxMs: 100,
    heartbeatMs: 50,
    idleTimeoutMs: 300,
    rest: { baseBackoffMs: 10, maxBackoffMs: 200, timeoutMs: 2000 },
    log: (_l, m) => logs.push(m),
    ...opts,
  });
  return { sim, s, quarantine, stream, logs };
}

/** Drops the connection and emits `n` events while the client is away (they only reach the record). */
async function gap(sim: VendorSimulator, n: number): Promise<void> {
  sim.refuseConnections(true);
  sim.dropConnections();
  await new Promise((r) => setTimeout(r, 30));
  sim.emit(n);
  sim.refuseConnections(false);
}

describe.each([polygon, alpaca])('$vendor faults', (adapter) => {
  it('a refused key: a clear error naming the variable, counted as an auth failure', async () => {
    const { sim, s } = await setup(
      adapter,
      {},
      { keyText: adapter.vendor === 'alpaca' ? 'bad:key' : 'bad-key' },
    );
    try {
      const err = await s.start().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(VendorAuthError);
      expect((err as VendorAuthError).field).toBe('QUANT_VENDOR_KEY');
      expect((err as Error).message).toMatch(new RegExp(`^${adapter.vendor} refused the key: .*auth`));
      expect(s.snapshot().authFailures).toBe(1);
      expect(sim.counts.authFailures).toBe(1);
    } finally {
      await s.stop();
      await sim.stop();
    }
  });

  it('a malformed message is quarantined with its reason and the stream goes on', async () => {
    const { sim, s, quarantine, stream } = await setup(adapter);
    await s.start();
    sim.emit(3);
    sim.sendRaw('{not json');
    sim.sendRaw(
      adapter.vendor === 'polygon'
        ? '[{"ev":"T","sym":"AAA","x":4,"i":"x1","p":-5,"s":100,"t":1767225600000}]'
        : '[{"T":"t","S":"AAA","i":7,"x":"V","p":-5,"s":100,"t":"2026-01-01T00:00:00Z"}]',
    );
    sim.emit(3);
    await until(() => s.snapshot().received >= 8, 'all messages');
    const stats = await s.stop();
    await sim.stop();
    expect(stats).toMatchObject({ received: 8, published: 6, quarantined: 2 });
    expect(quarantine.records.map((r) => [r.reason, r.source])).toEqual([
      ['malformed', 'live'],
      ['malformed', 'live'],
    ]);
    expect(quarantine.records[0].detail).toMatch(/^not JSON/);
    expect(quarantine.records[0].raw).toBe('{not json');
    expect(quarantine.records[1].detail).toBe(
      `${adapter.vendor === 'polygon' ? 'T' : 't'}.p: must be a positive number, got -5`,
    );
    const landed = (await readStream(clients.kinesis, stream)).events;
    expect(landed.map(tickKey).sort()).toEqual(sim.history('AAA').map(tickKey).sort());
  });

  it('HTTP 429 and 5xx from the history endpoint: backoff (Retry-After honoured), then nothing is lost', async () => {
    const { sim, s, stream, logs } = await setup(adapter, { pageSize: 4 });
    await s.start();
    sim.emit(4);
    await until(() => s.snapshot().received >= 4, 'the first events');
    sim.failRest({ status: 429, retryAfterS: 0.2 }, { status: 503 }, { status: 500 }, { status: 429 });
    const t0 = performance.now();
    await gap(sim, 12);
    await until(() => s.snapshot().gapsBackfilled === 1, 'the backfill');
    const took = performance.now() - t0;
    sim.emit(2);
    await until(() => s.snapshot().received >= 6, 'the live events after the gap');
    const stats = await s.stop();
    await sim.stop();
    expect(sim.counts.restFaults).toBe(4);
    expect(stats).toMatchObject({ restRetries: 4, gapsUnfilled: 0, backfilled: 12, published: 18 });
    expect(took).toBeGreaterThanOrEqual(200); // the 429's Retry-After: 0.2 s
    expect(logs.filter((l) => /backfill .*: (429|503|500), retry in/.test(l))).toHaveLength(4);
    const landed = (await readStream(clients.kinesis, stream)).events;
    expect(landed.map(tickKey).sort()).toEqual(sim.history('AAA').map(tickKey).sort());
  });

  it('history endpoint failing past every retry: the gap is reported unfilled and the live ticks still flow', async () => {
    const { sim, s, logs } = await setup(
      adapter,
      {},
      { rest: { maxAttempts: 2, baseBackoffMs: 5, timeoutMs: 2000 } },
    );
    await s.start();
    sim.emit(2);
    await until(() => s.snapshot().received >= 2, 'the first events');
    sim.failRest({ status: 503 }, { status: 503 }, { status: 503 }, { status: 503 });
    await gap(sim, 5);
    await until(() => s.snapshot().gapsUnfilled === 1, 'the failed backfill');
    sim.emit(3);
    await until(() => s.snapshot().received >= 5, 'live events');
    const stats = await s.stop();
    await sim.stop();
    expect(stats).toMatchObject({ gapsBackfilled: 0, gapsUnfilled: 1, backfilled: 0, published: 5 });
    expect(
      logs.some((l) =>
        /backfill of AAA (trades|quotes) failed, the gap stays open: .*after 2 attempts: HTTP 503/.test(l),
      ),
    ).toBe(true);
  });

  it('a key that expires: the reconnect is refused, the stream stops with a clear error and counts the auth failure', async () => {
    const { sim, s } = await setup(adapter);
    await s.start();
    sim.emit(3);
    await until(() => s.snapshot().received >= 3, 'the first events');
    sim.expireKey(KEYS[adapter.vendor]);
    sim.dropConnections();
    const err = await s.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    const stats = await s.stop();
    await sim.stop();
    expect(err).toBeInstanceOf(VendorAuthError);
    expect((err as Error).message).toMatch(/refused the key it had accepted before \(expired or revoked\?\)/);
    expect(stats.authFailures).toBe(1);
    // What was received before is still delivered.
    expect(stats.published).toBe(3);
  });

  it('clock skew: a vendor clock 5 s ahead is measured (negative skew) and events still land', async () => {
    const { sim, s, stream } = await setup(adapter, { clockOffsetMs: 5000 });
    await s.start();
    sim.emit(10);
    await until(() => s.snapshot().received >= 10, 'events');
    const interval = s.takeInterval();
    const stats = await s.stop();
    await sim.stop();
    // receive − exchange ≈ −5000 ms plus the loopback delay (and Polygon's millisecond truncation).
    expect(interval.skewMs).toBeGreaterThan(-5005);
    expect(interval.skewMs).toBeLessThan(-4900);
    expect(stats.clockSkewMs).toBeLessThan(-4900);
    expect((await readStream(clients.kinesis, stream)).events).toHaveLength(10);
  });

  it('without skew the measured offset is the delivery delay: small, and not negative beyond the clock resolution', async () => {
    const { sim, s } = await setup(adapter);
    await s.start();
    sim.emit(10);
    await until(() => s.snapshot().received >= 10, 'events');
    const stats = await s.stop();
    await sim.stop();
    // Our ns clock and the simulator's Date.now() agree to about a millisecond.
    expect(stats.clockSkewMs).toBeGreaterThan(-2);
    expect(stats.clockSkewMs).toBeLessThan(1000);
  });

  it('a stalled connection (no data, no pongs) is detected by the idle timeout and replaced', async () => {
    const { sim, s, stream } = await setup(adapter);
    await s.start();
    sim.emit(2);
    await until(() => s.snapshot().received >= 2, 'events');
    sim.stall();
    await until(() => s.snapshot().reconnects === 1, 'the reconnect after the idle timeout');
    await until(() => s.snapshot().gapsBackfilled === 1, 'the backfill');
    sim.emit(2);
    await until(() => s.snapshot().received >= 4, 'events after the reconnect');
    const stats = await s.stop();
    await sim.stop();
    expect(stats.heartbeatTimeouts).toBe(1);
    expect((await readStream(clients.kinesis, stream)).events.map(tickKey).sort()).toEqual(
      sim.history('AAA').map(tickKey).sort(),
    );
  });

  it('out-of-order and duplicated messages: put back in order, duplicates dropped by trade id', async () => {
    const { sim, s, stream } = await setup(adapter, { outOfOrder: true, duplicateEvery: 3, frameSize: 6 });
    await s.start();
    for (let i = 0; i < 5; i++) {
      sim.emit(6);
      await new Promise((r) => setTimeout(r, 3));
    }
    await until(() => s.snapshot().received >= 40, 'events');
    const stats = await s.stop();
    await sim.stop();
    expect(stats.duplicates).toBe(10);
    expect(stats.published).toBe(30);
    const landed = (await readStream(clients.kinesis, stream)).events;
    expect(landed.map(tickKey).sort()).toEqual(sim.history('AAA').map(tickKey).sort());
    for (let i = 1; i < landed.length; i++)
      expect(landed[i].exchangeTs >= landed[i - 1].exchangeTs).toBe(true);
  });
});

describe('bounded queues', () => {
  it('ticks that arrive while a backfill runs wait in a bounded hold: the excess is counted as drops', async () => {
    const { sim, s, stream } = await setup(polygon, {}, { maxHeld: 3 });
    await s.start();
    sim.emit(2);
    await until(() => s.snapshot().received >= 2, 'the first events');
    // The history endpoint answers only after 1 s: live ticks pile up meanwhile.
    sim.failRest({ status: 429, retryAfterS: 1 });
    await gap(sim, 4);
    await until(() => s.snapshot().reconnects === 1, 'the reconnect');
    sim.emit(10);
    await until(() => s.snapshot().received >= 12, 'the live ticks during the backfill');
    await until(() => s.snapshot().gapsBackfilled === 1, 'the backfill');
    const stats = await s.stop();
    await sim.stop();
    // 10 live ticks arrived during the backfill, 3 fitted in the hold.
    expect(stats.drops).toBe(7);
    // The backfill asked for the history up to after they were generated, so it had them anyway.
    expect((await readStream(clients.kinesis, stream)).events.map(tickKey).sort()).toEqual(
      sim.history('AAA').map(tickKey).sort(),
    );
  });

  it('the queue to the producer is bounded: a burst larger than it is dropped and counted, the rest published', async () => {
    const { sim, s } = await setup(polygon, { frameSize: 500 }, { maxQueue: 100 });
    await s.start();
    sim.emit(500);
    await until(() => s.snapshot().received >= 500, 'the burst');
    const stats = await s.stop();
    await sim.stop();
    expect(stats.drops).toBeGreaterThan(0);
    expect(stats.published + stats.drops).toBe(500);
  });
});
