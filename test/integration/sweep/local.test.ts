import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients, type AwsClients } from '../../../src/aws/clients';
import { loadBars, smaCrossSummary } from '../../../src/backtest';
import { InputError } from '../../../src/errors';
import { createQueryEngine, lakeBuckets, type QueryEngine } from '../../../src/lake';
import { LocalCloud } from '../../../src/local/cloud';
import { paramSetId, type ParamSet } from '../../../src/sweep/grid';
import { executeSweep, runLocalSweep } from '../../../src/sweep/local';

/** Seeded geometric Brownian motion, written as a bars CSV. */
function writeBarsCsv(file: string, n: number, seed: number): void {
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  const lines = ['date,open,high,low,close,volume'];
  let p = 100;
  const day = Date.UTC(2020, 0, 1);
  for (let i = 0; i < n; i++) {
    const z = Math.sqrt(-2 * Math.log(rand())) * Math.cos(2 * Math.PI * rand());
    p *= Math.exp(0.0003 + 0.012 * z);
    const d = new Date(day + i * 86_400_000).toISOString().slice(0, 10);
    lines.push(`${d},${p},${p * 1.01},${p * 0.99},${p},1000`);
  }
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
}

let cloud: LocalCloud;
let clients: AwsClients;
let engine: QueryEngine;
let dir: string;
let barsFile: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-local-'));
  cloud = await LocalCloud.start({ dataDir: path.join(dir, 'cloud') });
  clients = createClients(cloud.runtime);
  engine = await createQueryEngine(cloud.runtime);
  barsFile = path.join(dir, 'GBM.csv');
  writeBarsCsv(barsFile, 400, 7);
});

afterAll(async () => {
  await engine?.close();
  clients?.destroy();
  await cloud?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function objectKeys(prefix: string): Promise<string[]> {
  const r = await clients.s3.send(
    new ListObjectsV2Command({ Bucket: lakeBuckets(cloud.runtime).results, Prefix: prefix }),
  );
  return (r.Contents ?? []).map((o) => o.Key!).sort();
}

describe('runLocalSweep', () => {
  const request = () => ({
    strategy: 'sma-cross',
    bars: barsFile,
    grid: ['fast=2:12', 'slow=5:30:5'],
    where: 'fast<slow',
    costBps: 2,
  });

  it('runs every parameter set on worker threads, writes backtest_results and ranks by Sharpe', async () => {
    const progress: number[] = [];
    const r = await runLocalSweep({
      runtime: cloud.runtime,
      clients,
      request: request(),
      workers: 2,
      batchSize: 7,
      onProgress: (d) => progress.push(d),
    });
    // fast 2..12 x slow 5,10,...,30 with fast < slow
    const expected = [5, 10, 15, 20, 25, 30].reduce(
      (n, slow) => n + [...Array(11).keys()].filter((i) => i + 2 < slow).length,
      0,
    );
    expect(r.total).toBe(expected);
    expect(r.failedBatches).toEqual([]);
    expect(r.written).toBe(expected);
    expect(r.skipped).toBe(0);
    expect(r.failedBatches).toEqual([]);
    expect(r.batches).toBe(Math.ceil(expected / 7));
    expect(progress.at(-1)).toBe(r.batches);
    expect(r.keys).toHaveLength(r.batches);

    const rows = await engine.query(
      `SELECT param_set_id, params, sharpe, total_return, bars, periods FROM backtest_results WHERE sweep_id = '${r.sweepId}'`,
    );
    expect(rows).toHaveLength(expected);
    expect(new Set(rows.map((x) => x.param_set_id)).size).toBe(expected);

    // Numbers in the lake are the engine's numbers.
    const bars = await loadBars(barsFile);
    const one = rows.find((x) => x.params === '{"fast":3,"slow":20}')!;
    const s = smaCrossSummary(bars.close, 3, 20, 2);
    expect(one.param_set_id).toBe(paramSetId('sma-cross', { fast: 3, slow: 20 }));
    expect(one.sharpe).toBeCloseTo(s.sharpe, 12);
    expect(one.total_return).toBeCloseTo(s.totalReturn, 12);
    expect(Number(one.bars)).toBe(400);

    // Ranked: Sharpe descending, topN rows.
    expect(r.top).toHaveLength(10);
    const sharpes = r.top.map((x) => x.sharpe as number);
    expect([...sharpes].sort((a, b) => b - a)).toEqual(sharpes);
    expect(sharpes[0]).toBe(Math.max(...rows.map((x) => x.sharpe as number)));
  });

  it('resumes: a re-run skips every parameter set already in the lake and writes nothing', async () => {
    const before = await objectKeys('backtest_results/');
    const r = await runLocalSweep({
      runtime: cloud.runtime,
      clients,
      request: request(),
      workers: 2,
      batchSize: 7,
    });
    expect(r.skipped).toBe(r.total);
    expect(r.written).toBe(0);
    expect(r.batches).toBe(0);
    expect(await objectKeys('backtest_results/')).toEqual(before);
    expect(r.top).toHaveLength(10);
  });

  it('runs a small sweep on this thread (no workers given) with the same ranking as the worker run', async () => {
    const threads = await runLocalSweep({ runtime: cloud.runtime, clients, request: request(), workers: 2 });
    const inline = await runLocalSweep({
      runtime: cloud.runtime,
      clients,
      request: { ...request(), sweepId: 'sw-inline' },
    });
    expect(inline.written).toBe(inline.total);
    expect(inline.failedBatches).toEqual([]);
    expect(inline.top).toEqual(threads.top);
  });

  it('rejects bad requests before running anything, naming the field', async () => {
    const bad = async (req: object) => {
      const e = await runLocalSweep({ runtime: cloud.runtime, clients, request: req as never }).catch(
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(InputError);
      return e as InputError;
    };
    expect((await bad({ ...request(), strategy: 'nope' })).field).toBe('strategy');
    expect((await bad({ ...request(), where: undefined })).message).toMatch(
      /grid point .*fast must be smaller than slow/,
    );
    expect(
      (await bad({ ...request(), grid: ['fast=2:100', 'slow=2:100'], where: 'fast<slow', maxGridSize: 1 }))
        .field,
    ).toBe('request');
    expect((await bad({ ...request(), grid: ['fats=2:3', 'slow=5'] })).message).toMatch(
      /where: unknown parameter "fast"/,
    );
    const huge = await runLocalSweep({
      runtime: cloud.runtime,
      clients,
      request: { ...request(), grid: ['fast=2:1000', 'slow=2:1000'] },
      maxGridSize: 1000,
    }).catch((x: unknown) => x);
    expect((huge as InputError).message).toMatch(/exceed the maximum grid size 1000/);
    expect((await bad({ ...request(), bars: path.join(dir, 'missing.csv') })).field).toBe('bars');
  });
});

describe('executeSweep with a failing batch', () => {
  it('keeps the results of every other batch and the next run fills in only the failed one', async () => {
    const bars = await loadBars(barsFile);
    const target = { clients, buckets: lakeBuckets(cloud.runtime) };
    const good: ParamSet[] = [];
    for (let fast = 2; fast <= 9; fast++)
      good.push({ id: paramSetId('sma-cross', { fast, slow: 40 }), params: { fast, slow: 40 } });
    // A tampered manifest entry: valid id, invalid parameters (fast >= slow). Its batch must fail alone.
    const poisoned: ParamSet = {
      id: paramSetId('sma-cross', { fast: 50, slow: 40 }),
      params: { fast: 50, slow: 40 },
    };
    const plan = { sweepId: 'sw-failing-batch', strategy: 'sma-cross', barsSource: barsFile, costBps: 0 };

    const first = await executeSweep(
      { ...plan, items: [...good.slice(0, 6), poisoned, ...good.slice(6)] },
      { target, bars, workers: 2, batchSize: 3 },
    );
    expect(first.batches).toBe(3);
    expect(first.failedBatches).toHaveLength(1);
    expect(first.failedBatches[0].error).toMatch(/param\.fast/);
    expect(first.written).toBe(6);
    const ids = (
      await engine.query(`SELECT param_set_id FROM backtest_results WHERE sweep_id = 'sw-failing-batch'`)
    ).map((r) => r.param_set_id);
    expect(ids.sort()).toEqual(
      good
        .slice(0, 6)
        .map((g) => g.id)
        .sort(),
    );

    const second = await executeSweep({ ...plan, items: good }, { target, bars, workers: 2, batchSize: 3 });
    expect(second.skipped).toBe(6);
    expect(second.written).toBe(2);
    expect(second.failedBatches).toEqual([]);
    const all = await engine.query(
      `SELECT count(*) AS n, count(DISTINCT param_set_id) AS d FROM backtest_results WHERE sweep_id = 'sw-failing-batch'`,
    );
    expect(Number(all[0].n)).toBe(8);
    expect(Number(all[0].d)).toBe(8);
  });
});
