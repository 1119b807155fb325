/**
 * Faults: a consumer killed (SIGKILL, a real process) in the middle of its work loses
 * nothing, and after compaction nothing is duplicated. The consumer and the compaction run as the
 * CLI (`quant ingest run`, `quant ingest compact`) against a detached local cloud.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients, type AwsClients } from '../../../src/aws/clients';
import { TickProducer } from '../../../src/ingest/producer';
import { checkpointFile, ensureStream } from '../../../src/ingest/runner';
import { syntheticTicks } from '../../../src/ingest/synthetic';
import { DuckDbQueryEngine } from '../../../src/lake/query';
import { LocalCloud } from '../../../src/local/cloud';

const root = path.resolve(import.meta.dirname, '../../..');
const CLI = path.join(root, 'bin/quant.js');
const DAY = '2026-01-05';
const STREAM = 'ticks-kill';
let dataDir: string;
let cloud: LocalCloud;
let clients: AwsClients;

function quant(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, '--data-dir', dataDir, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 180_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Checkpoint {
  shards: Record<string, { last?: string; pending?: unknown }>;
}

function readCheckpoint(): Checkpoint | undefined {
  try {
    return JSON.parse(fs.readFileSync(checkpointFile(dataDir, STREAM), 'utf8')) as Checkpoint;
  } catch {
    return undefined; // not written yet
  }
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ingest-kill-'));
  // Detached, so that the CLI processes below attach to the same servers.
  cloud = await LocalCloud.up({ dataDir });
  clients = createClients(cloud.runtime);
});

afterAll(async () => {
  clients?.destroy();
  if (dataDir) await LocalCloud.down({ dataDir });
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('consumer killed with SIGKILL mid-run', () => {
  it('re-run loses nothing; after compaction every tick is in the lake exactly once', async () => {
    const events = [
      ...syntheticTicks({ symbols: ['KA', 'KB', 'KC'], eventsPerSymbol: 3000, seed: 5, date: DAY }),
    ];
    // Two thirds before the consumer starts, the rest after the kill: whenever the kill lands, the
    // re-run has records to read (a consumer that had drained the first part was killed while polling).
    const split = Math.floor((events.length * 2) / 3);
    await ensureStream(clients.kinesis, STREAM, 2);
    // Small aggregated records and small batches: hundreds of batches, so the kill lands mid-run.
    const produce = async (part: typeof events): Promise<void> => {
      const p = new TickProducer({ kinesis: clients.kinesis, streamName: STREAM, maxAggregatedBytes: 1024 });
      await p.putAll(part);
      await p.close();
    };
    await produce(events.slice(0, split));

    // --follow: a consumer that drains the stream keeps polling instead of exiting, so it is still
    // running when the kill comes however slowly this test is scheduled. It only exits on an error,
    // which its stderr then explains.
    const child = spawn(
      process.execPath,
      [CLI, '--data-dir', dataDir, 'ingest', 'run', '--stream', STREAM, '--batch-size', '3', '--follow'],
      { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let childStderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (childStderr += d));
    const exited = new Promise<string>((r) =>
      child.once('exit', (code, sig) => r(sig ?? `exit code ${code}: ${childStderr.trim()}`)),
    );
    // Kill once at least one batch is committed: the consumer is then inside a batch or between two.
    let committedAtKill = 0;
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline && child.exitCode === null) {
      const cp = readCheckpoint();
      committedAtKill = cp ? Object.values(cp.shards).filter((s) => s.last !== undefined).length : 0;
      if (committedAtKill > 0) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(committedAtKill).toBeGreaterThan(0);
    await produce(events.slice(split));

    const rerun = quant('ingest', 'run', '--stream', STREAM, '--json');
    expect(rerun.stderr).not.toMatch(/error/i);
    const report = JSON.parse(rerun.stdout) as { records: number; quarantined: Record<string, number> };
    // The re-run picked up the rest, and nothing looked like a duplicate.
    expect(report.records).toBeGreaterThan(0);
    expect(report.quarantined).toEqual({ undecodable: 0, invalid: 0, duplicate_seq: 0, out_of_order_ts: 0 });

    const engine = await DuckDbQueryEngine.create(cloud.runtime);
    try {
      const count = async (): Promise<{ rows: number; distinct: number }> => {
        const [r] = await engine.query(
          `SELECT count(*) AS n, count(DISTINCT (symbol, venue, seq)) AS d FROM ticks WHERE dt = DATE '${DAY}'`,
        );
        return { rows: Number(r.n), distinct: Number(r.d) };
      };
      const before = await count();
      // Nothing lost: every tick is there (perhaps more than once until compaction).
      expect(before.distinct).toBe(events.length);
      expect(before.rows).toBeGreaterThanOrEqual(events.length);

      const compact = quant('ingest', 'compact', '--dt', DAY, '--json');
      expect(compact.stderr).not.toMatch(/error/i);
      expect(JSON.parse(compact.stdout)).toMatchObject({ partitions: 3, rowsOut: events.length });
      expect(await count()).toEqual({ rows: events.length, distinct: events.length });
      // And the lake holds the produced values (spot check of one trade).
      const t = events.find((e) => e.type === 'trade')!;
      if (t.type !== 'trade') throw new Error('no trade in the synthetic ticks');
      const [row] = await engine.query(
        `SELECT price, size, exchange_ts FROM ticks WHERE symbol = '${t.symbol}' AND seq = ${t.seq} AND type = 'trade'`,
      );
      expect({
        price: Number(row.price),
        size: Number(row.size),
        ts: BigInt(row.exchange_ts as bigint),
      }).toEqual({
        price: t.price,
        size: t.size,
        ts: t.exchangeTs,
      });
    } finally {
      await engine.close();
    }
  });
});
