import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients, type AwsClients } from '../../../src/aws/clients';
import { LocalCloud } from '../../../src/local/cloud';
import { alpaca } from '../../../src/vendor-stream/alpaca';
import { polygon } from '../../../src/vendor-stream/polygon';
import { MemoryQuarantine } from '../../../src/vendor-stream/quarantine';
import { VendorStream } from '../../../src/vendor-stream/session';
import { VendorSimulator } from '../../../src/vendor-stream/simulator';
import type { VendorAdapter } from '../../../src/vendor-stream/types';
import { readStream } from '../helpers/kinesis';
import { freshStream, tickKey, until } from './helpers';

let cloud: LocalCloud;
let clients: AwsClients;

beforeAll(async () => {
  cloud = await LocalCloud.start({
    dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'vendor-stream-')),
    services: ['kinesis', 's3'],
  });
  clients = createClients(cloud.runtime);
});

afterAll(async () => {
  clients?.destroy();
  await cloud?.stop();
});

const FAST = { reconnectBaseMs: 20, reconnectMaxMs: 100, heartbeatMs: 100, idleTimeoutMs: 400 };
const KEYS: Record<string, string> = { polygon: 'test-key', alpaca: 'test-id:test-secret' };

async function session(adapter: VendorAdapter, sim: VendorSimulator, stream: string, symbols: string[]) {
  const quarantine = new MemoryQuarantine();
  const s = new VendorStream({
    adapter,
    key: adapter.parseKey(KEYS[adapter.vendor]),
    symbols,
    url: sim.url,
    restUrl: sim.restUrl,
    kinesis: clients.kinesis,
    streamName: stream,
    quarantine,
    rest: { baseBackoffMs: 10, maxBackoffMs: 50, timeoutMs: 2000 },
    ...FAST,
  });
  await s.start();
  return { s, quarantine };
}

describe.each([polygon, alpaca])('$vendor adapter against the local simulator', (adapter) => {
  it('a disconnect mid-stream, then backfill: the stream holds every tick of the record once, in order', async () => {
    const sim = await VendorSimulator.start({ vendor: adapter.vendor, pageSize: 7, frameSize: 5 });
    const stream = await freshStream(clients.kinesis, 'vs-gap');
    const symbols = ['AAA', 'BBB'];
    const { s, quarantine } = await session(adapter, sim, stream, symbols);
    let stats: Awaited<ReturnType<VendorStream['stop']>>;
    try {
      sim.emit(20);
      await until(() => s.snapshot().received >= 40, 'the first 40 events');
      // The connection drops; while the client is away (new connections refused) the market goes on.
      sim.refuseConnections(true);
      sim.dropConnections();
      await new Promise((r) => setTimeout(r, 30));
      sim.emit(30); // only in the record
      await new Promise((r) => setTimeout(r, 5));
      sim.emit(5);
      sim.refuseConnections(false);
      await until(() => s.snapshot().reconnects === 1, 'the reconnect');
      await until(() => s.snapshot().gapsBackfilled === 2, 'the backfill of both symbols');
      sim.emit(15);
      await until(() => s.snapshot().received >= 70, 'the events after the reconnect');
    } finally {
      stats = await s.stop();
      await sim.stop();
    }
    const landed = (await readStream(clients.kinesis, stream)).events;
    const record = symbols.flatMap((sym) => sim.history(sym));
    expect(record).toHaveLength(140);
    // Nothing lost, nothing duplicated: the landed ticks are exactly the record.
    expect(landed.map(tickKey).sort()).toEqual(record.map(tickKey).sort());
    expect(stats).toMatchObject({
      published: 140,
      reconnects: 1,
      backfilled: 70,
      quarantined: 0,
      gapsBackfilled: 2,
      gapsUnfilled: 0,
    });
    // The backfill pages overlap the ticks received before and after the gap: those are duplicates.
    expect(stats.duplicates).toBeGreaterThan(0);
    expect(quarantine.records).toEqual([]);
    // Per symbol: exchange time never goes back, seq strictly increases, venue is the vendor.
    for (const sym of symbols) {
      const mine = landed.filter((e) => e.symbol === sym);
      for (let i = 1; i < mine.length; i++) {
        expect(mine[i].seq).toBeGreaterThan(mine[i - 1].seq);
        expect(mine[i].exchangeTs >= mine[i - 1].exchangeTs).toBe(true);
      }
      expect(new Set(mine.map((e) => e.venue))).toEqual(new Set([adapter.venue]));
    }
  });
});
