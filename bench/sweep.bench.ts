/**
 * Sweep benchmarks, peers in the same run:
 *   the grid of K2 (4,851 pairs fast < slow in 2..100) over 2,520 seeded GBM bars, as
 *   S1 the engine's in-process smaCrossGrid (the WebAssembly kernel per pair over one copy of the closes, one thread, no I/O): the peer
 *   S2 evaluateBatch in one thread (what a worker or an ECS task computes; no I/O)
 *   S3 executeSweep on 1 and 2 worker threads, results written as Parquet to the local S3 server
 *   S4 the synthesized sweep state machine run locally (batch tasks as child processes), 200 sets
 * Run: npm run bench -- sweep
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { smaCrossGrid, type Bars } from '../src/backtest';
import { createClients } from '../src/aws/clients';
import { lakeBuckets } from '../src/lake';
import { LocalCloud } from '../src/local/cloud';
import { loadSynthesizedDefinition } from '../src/local/definitions';
import { evaluateBatch } from '../src/sweep/evaluate';
import { expandGrid, parseGrid } from '../src/sweep/grid';
import { executeSweep } from '../src/sweep/local';
import { runSweepStateMachineLocally } from '../src/sweep/state-machine';

function gbm(n: number, seed: number): Float64Array {
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float64Array(n);
  let p = 100;
  for (let i = 0; i < n; i++) {
    out[i] = p;
    p *= Math.exp(
      0.0002 - 0.00005 + 0.01 * Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd()),
    );
  }
  return out;
}

const N = 2520;
const close = gbm(N, 7);
const dates = Array.from({ length: N }, (_, i) =>
  new Date(Date.UTC(2010, 0, 1) + i * 86_400_000).toISOString().slice(0, 10),
);
const bars: Bars = { symbol: 'GBM', dates, close };
const items = expandGrid({
  strategy: 'sma-cross',
  axes: parseGrid(['fast=2:100', 'slow=2:100']),
  where: 'fast<slow',
});
const pairs = items.map((i) => [i.params.fast as number, i.params.slow as number] as const);
const row = (name: string, sets: number, secs: number, note = '') =>
  console.log(
    `| ${name} | ${sets} | ${secs.toFixed(3)} | ${Math.round(sets / secs).toLocaleString('en-US')} | ${((sets * N) / secs / 1e6).toFixed(1)}M | ${note} |`,
  );

console.log(
  `load average at start: ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
console.log('| case | parameter sets | seconds | sets/s | bar-combos/s | note |');
console.log('| --- | --- | --- | --- | --- | --- |');

// S1 / S2: compute only, best of 3 after a warm-up.
const best = (fn: () => void): number => {
  fn();
  let b = Infinity;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    fn();
    b = Math.min(b, (performance.now() - t) / 1000);
  }
  return b;
};
const bestAsync = async (fn: () => Promise<unknown>): Promise<number> => {
  await fn();
  let b = Infinity;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await fn();
    b = Math.min(b, (performance.now() - t) / 1000);
  }
  return b;
};
row(
  'S1 peer: smaCrossGrid in process (1 thread, no I/O)',
  pairs.length,
  best(() => smaCrossGrid(close, pairs, 1)),
);
row(
  'S2 evaluateBatch in process (1 thread, no I/O)',
  items.length,
  await bestAsync(() =>
    evaluateBatch(bars, { strategy: 'sma-cross', barsSource: 'bench', costBps: 1 }, items),
  ),
);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-sweep-'));
const cloud = await LocalCloud.start({ dataDir: path.join(dir, 'cloud') });
const clients = createClients(cloud.runtime);
try {
  const target = { clients, buckets: lakeBuckets(cloud.runtime) };
  let run = 0;
  for (const workers of [1, 2]) {
    const t = performance.now();
    const r = await executeSweep(
      { sweepId: `bench-${workers}-${run++}`, strategy: 'sma-cross', barsSource: 'bench', costBps: 1, items },
      { target, bars, workers, batchSize: 500 },
    );
    const secs = (performance.now() - t) / 1000;
    if (r.failedBatches.length > 0 || r.written !== items.length)
      throw new Error(`sweep incomplete: ${JSON.stringify(r.failedBatches)}`);
    row(
      `S3 executeSweep, ${workers} worker thread(s), Parquet to local S3`,
      items.length,
      secs,
      `${r.batches} batches of <= 500`,
    );
  }
  // Resume of a finished sweep: listing + reading param_set_id back, nothing to run.
  const t = performance.now();
  const again = await executeSweep(
    { sweepId: 'bench-2-1', strategy: 'sma-cross', barsSource: 'bench', costBps: 1, items },
    { target, bars, workers: 2 },
  );
  row(
    'S3 re-run of a finished sweep (resume check only)',
    again.skipped,
    (performance.now() - t) / 1000,
    'all skipped',
  );

  const csv = path.join(dir, 'GBM.csv');
  fs.writeFileSync(csv, ['date,close', ...dates.map((d, i) => `${d},${close[i]}`)].join('\n'));
  const definition = await loadSynthesizedDefinition({ env: 'dev', stack: 'Backtest' });
  const t2 = performance.now();
  const sm = await runSweepStateMachineLocally({
    runtime: cloud.runtime,
    clients,
    definition,
    request: { strategy: 'sma-cross', bars: csv, grid: ['fast=2:21', 'slow=30:100:7'], costBps: 1 },
    maxItemsPerBatch: 50,
    maxConcurrency: 2,
  });
  row(
    'S4 local state machine (child process per batch of 50, 2 at a time)',
    sm.manifest.items,
    (performance.now() - t2) / 1000,
    `${sm.batches.total} batches`,
  );
} finally {
  clients.destroy();
  await cloud.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
console.log(
  `load average at end: ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
