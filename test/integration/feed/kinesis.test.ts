/**
 * Normalized feed events into Kinesis (kinesalite of the local cloud) through the ingestion
 * producer: the demo's feed phase, and `quant feed run --kinesis` receiving the simulator on
 * loopback multicast. The stream is read back, de-aggregated and decoded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createClients, type AwsClients } from '../../../src/aws/clients';
import { main } from '../../../src/cli/main';
import { runFeedDemo } from '../../../src/feed/demo';
import { runSimulator } from '../../../src/feed/simulator';
import { LocalCloud } from '../../../src/local/cloud';
import { eventProblem } from '../../../src/market-data/validate';
import { SbeCodec } from '../../../src/sbe/codec';
import { loadSchema } from '../../../src/sbe/schema';
import { SCHEMA } from '../../unit/feed/helpers';
import { readStream } from '../helpers/kinesis';

let dataDir: string;
let clients: AwsClients;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'feed-kinesis-'));
  // Detached (`quant local up`), so the CLI run below attaches to the same servers.
  const cloud = await LocalCloud.up({ dataDir });
  clients = createClients(cloud.runtime);
}, 60_000);

afterAll(async () => {
  clients?.destroy();
  await LocalCloud.down({ dataDir });
  rmSync(dataDir, { recursive: true, force: true });
});

describe('feed events into local Kinesis', () => {
  it('the demo feed phase puts every event into the stream; a second run puts the same records', async () => {
    const run = () =>
      runFeedDemo({
        schemaPath: SCHEMA,
        packets: 3000,
        lossBoth: 0.002,
        snapshotEvery: 500,
        kinesis: { client: clients.kinesis, stream: 'feed-demo', create: true },
      });
    const first = await run();
    expect(first.kinesisEvents).toBe(first.trades + first.quotes);
    expect(first.line).toMatch(
      new RegExp(
        `; ${first.kinesisEvents} events in ${first.kinesisRecords} records put to Kinesis feed-demo$`,
      ),
    );
    const back = await readStream(clients.kinesis, 'feed-demo');
    expect(back.records).toBe(first.kinesisRecords);
    expect(back.events).toHaveLength(first.kinesisEvents!);
    expect(back.events.map(eventProblem).filter((p) => p !== null)).toEqual([]);
    expect(new Set(back.events.map((e) => e.symbol))).toEqual(new Set(['ESZ6', 'NQZ6', 'CLF7']));
    const second = await run();
    // npm start prints this line twice in its end-to-end test: it must not change between runs.
    expect(second.line).toBe(first.line);
    expect({ events: second.kinesisEvents, records: second.kinesisRecords }).toEqual({
      events: first.kinesisEvents,
      records: first.kinesisRecords,
    });
  }, 60_000);

  it('quant feed run --kinesis: events of a multicast run land in the stream, counted in the summary', async () => {
    const codec = new SbeCodec(loadSchema(SCHEMA));
    const base = 20000 + Math.floor(Math.random() * 30000);
    const ep = (n: number) => `239.251.${(base >> 8) & 0xff}.${n}:${base + n}`;
    const out: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const cli = main([
        'node',
        'quant',
        '--data-dir',
        dataDir,
        'feed',
        'run',
        '--schema',
        SCHEMA,
        '--feed-a',
        ep(1),
        '--feed-b',
        ep(2),
        '--snapshot',
        ep(3),
        '--kinesis',
        'feed-run',
        '--duration',
        '3',
        '--json',
      ]);
      // Give the handler time to join before publishing.
      await new Promise((r) => setTimeout(r, 500));
      const g = (n: number) => {
        const [h, p] = ep(n).split(':');
        return { host: h, port: Number(p) };
      };
      await runSimulator(codec, {
        feedA: g(1),
        feedB: g(2),
        snapshot: g(3),
        packets: 2000,
        rate: 5000,
        snapshotEvery: 500,
      });
      expect(await cli).toBe(0);
    } finally {
      write.mockRestore();
      stderr.mockRestore();
    }
    const summary = JSON.parse(out.join('')) as {
      trades: number;
      quotes: number;
      kinesis: { eventsSent: number; records: number; dropped: number };
    };
    expect(summary.kinesis.eventsSent).toBe(summary.trades + summary.quotes);
    expect(summary.kinesis.eventsSent).toBeGreaterThan(0);
    expect(summary.kinesis.dropped).toBe(0);
    const back = await readStream(clients.kinesis, 'feed-run');
    expect(back.events).toHaveLength(summary.kinesis.eventsSent);
    expect(back.records).toBe(summary.kinesis.records);
  }, 60_000);
});
