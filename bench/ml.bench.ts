/**
 * ONNX inference: single-row latency (p50/p99 over 5,000 calls after 500 warm-up) and batch
 * throughput (rows/s, 65,536-row batches) for an MLP (11-32-16-1, the training default) and a small
 * temporal convolution over 20 bars x 11 features, on onnxruntime-node (the runtime in use) and,
 * when installed (`npm i --no-save onnxruntime-web@1.31.1`), onnxruntime-web's WASM backend as the
 * peer. Then the ml-signal path end to end: features in TypeScript + batch inference + positions.
 * Goals: single-row p99 < 2 ms, batch >= 1M rows/s.
 */
import os from 'node:os';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { FEATURE_NAMES, FEATURE_SET_VERSION } from '../src/contract/ml';
import { mlpModel, randomMlp, tcnModel } from '../src/ml/inference/onnx-builder';
import { mlSignalPositions } from '../src/ml/signal';
import type { Panel } from '../src/backtest/types';

const F = FEATURE_NAMES.length;
const models = {
  'mlp 11-32-16-1': { bytes: mlpModel(randomMlp([F, 32, 16, 1])), width: F, batchRows: 2_000_000 },
  'tcn 20x11, 2 conv x 16 ch': { bytes: tcnModel(20, F, 16), width: 20 * F, batchRows: 200_000 },
};

interface OrtLike {
  InferenceSession: { create(b: Uint8Array, o?: object): Promise<SessionLike> };
  Tensor: new (t: 'float32', d: Float32Array, dims: number[]) => unknown;
  env?: { wasm?: { numThreads?: number } };
}
interface SessionLike {
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown }>>;
}

const q = (xs: number[], p: number): number => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))];

async function measure(lib: string, ort: OrtLike): Promise<void> {
  for (const [name, m] of Object.entries(models)) {
    const s = await ort.InferenceSession.create(
      m.bytes,
      lib === 'onnxruntime-node'
        ? { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' }
        : {},
    );
    const row = Float32Array.from({ length: m.width }, (_, i) => 0.001 * (i % 17));
    const lat: number[] = [];
    // CPU time of the process per call beside the wall time: on a loaded machine the wall p99 is
    // mostly time spent waiting for a core, the CPU p99 is what the call itself costs.
    const cpuLat: number[] = [];
    for (let i = 0; i < 5500; i++) {
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      await s.run({ features: new ort.Tensor('float32', row, [1, m.width]) });
      const wall = Number(process.hrtime.bigint() - t0) / 1e3;
      const c = process.cpuUsage(c0);
      if (i >= 500) {
        lat.push(wall);
        cpuLat.push(c.user + c.system);
      }
    }
    lat.sort((a, b) => a - b);
    cpuLat.sort((a, b) => a - b);
    const B = 65_536;
    const x = Float32Array.from({ length: B * m.width }, (_, i) => ((i * 7919) % 1000) / 1e5);
    await s.run({ features: new ort.Tensor('float32', x, [B, m.width]) });
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    let done = 0;
    while (done < m.batchRows) {
      await s.run({ features: new ort.Tensor('float32', x, [B, m.width]) });
      done += B;
    }
    const secs = (performance.now() - t0) / 1e3;
    const c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1e6;
    console.log(
      `${lib.padEnd(17)} ${name.padEnd(26)} single row p50 ${q(lat, 0.5).toFixed(1)} µs, p99 ${q(lat, 0.99).toFixed(1)} µs, p99.9 ${q(lat, 0.999).toFixed(0)} µs, max ${lat[lat.length - 1].toFixed(0)} µs (CPU per call p50 ${q(cpuLat, 0.5).toFixed(0)} µs, p99 ${q(cpuLat, 0.99).toFixed(0)} µs) | batch ${(done / secs / 1e6).toFixed(2)}M rows/s (${done} rows in ${secs.toFixed(2)} s wall, ${cpu.toFixed(2)} s CPU = ${(done / cpu / 1e6).toFixed(2)}M rows per CPU-second)`,
    );
  }
}

function randomPanel(symbols: number, bars: number): Panel {
  let s = 12345;
  const rnd = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const dates = Array.from({ length: bars }, (_, t) =>
    new Date(Date.UTC(2000, 0, 3) + t * 86_400_000).toISOString().slice(0, 10),
  );
  const close = Array.from({ length: symbols }, () => {
    let p = 100;
    return Float64Array.from({ length: bars }, () => (p *= 1 + (rnd() - 0.5) * 0.03));
  });
  const volume = Array.from({ length: symbols }, () =>
    Float64Array.from({ length: bars }, () => 1e5 + rnd() * 1e6),
  );
  return { symbols: Array.from({ length: symbols }, (_, a) => `S${a}`), dates, close, volume };
}

console.log(
  `load average at start: ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
await measure('onnxruntime-node', (await import('onnxruntime-node')) as unknown as OrtLike);
let web: OrtLike | undefined;
try {
  const name = 'onnxruntime-web';
  web = (await import(name)) as OrtLike;
} catch {
  console.log(
    'onnxruntime-web      not installed (npm i --no-save onnxruntime-web@1.31.1 to measure the peer)',
  );
}
if (web) {
  if (web.env?.wasm) web.env.wasm.numThreads = 1;
  await measure('onnxruntime-web', web);
}

// ml-signal end to end (the synchronous path every backtest uses): features + inference + positions.
const dir = mkdtempSync(path.join(os.tmpdir(), 'ml-bench-'));
const modelDir = path.join(dir, 'm');
mkdirSync(modelDir);
writeFileSync(path.join(modelDir, 'model.onnx'), models['mlp 11-32-16-1'].bytes);
writeFileSync(
  path.join(modelDir, 'manifest.json'),
  JSON.stringify({
    schemaVersion: 1,
    modelName: 'bench',
    architecture: 'mlp',
    target: 'return',
    horizon: 5,
    window: 1,
    features: FEATURE_NAMES,
    featureSetVersion: FEATURE_SET_VERSION,
    input: { name: 'features', shape: [null, F] },
    output: { name: 'score', kind: 'return' },
  }),
);
for (const [symbols, bars] of [
  [1, 5105],
  [500, 2520],
]) {
  const panel = randomPanel(symbols, bars);
  const p = { model: modelDir, threshold: 0, short: false, scale: 0 };
  mlSignalPositions(panel, p); // loads the model in the worker
  const fresh = randomPanel(symbols, bars); // new arrays: no cached scores
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  mlSignalPositions(fresh, p);
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  console.log(
    `ml-signal positions, ${symbols} symbol(s) x ${bars} bars (features + inference + rule): ${ms.toFixed(0)} ms = ${((symbols * bars) / ms / 1e3).toFixed(2)}M bar-symbols/s (CPU ${((c.user + c.system) / 1e3).toFixed(0)} ms)`,
  );
}
rmSync(dir, { recursive: true, force: true });
console.log(
  `load average at end: ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
