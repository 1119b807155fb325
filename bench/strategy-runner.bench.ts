/**
 * The strategy runner's time per bar (`npm run bench -- strategy-runner`): promotion read, model
 * version lookup, strategy (features + ONNX inference for ml-signal) over the lookback window, and
 * the signal, with the promotion and registry in memory and a no-op emit, so the number is the
 * runner's own work (in AWS add an S3 GET for the promotion and one for the registry index).
 * Bars: the S&P 500 daily series (vega-datasets), 500 consecutive bars, lookback 400.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Panel } from '../src/backtest/types';
import { FEATURE_NAMES, FEATURE_SET_VERSION } from '../src/contract/ml';
import { mlpModel, randomMlp } from '../src/ml/inference/onnx-builder';
import { modelStrategyFor } from '../src/ml/model-strategy';
import type { ModelRegistry } from '../src/ml/registry/types';
import type { Promotion, PromotionStore } from '../src/strategy-runner/promotions';
import { panelUpTo, runStrategyBar, type BarStrategy } from '../src/strategy-runner/runner';

const lines = readFileSync(
  new URL('../node_modules/vega-datasets/data/sp500-2000.csv', import.meta.url),
  'utf8',
)
  .trim()
  .split('\n')
  .slice(1);
const panel: Panel = {
  symbols: ['SPX'],
  dates: lines.map((l) => l.split(',')[0]),
  close: [Float64Array.from(lines, (l) => Number(l.split(',')[4]))],
  volume: [Float64Array.from(lines, (l) => Number(l.split(',')[6]))],
};

const F = FEATURE_NAMES.length;
const onnx = mlpModel(randomMlp([F, 32, 32, 1], 7));
const manifest = {
  schemaVersion: 1,
  modelName: 'ml-signal',
  architecture: 'mlp',
  target: 'return',
  horizon: 5,
  window: 1,
  features: FEATURE_NAMES,
  featureSetVersion: FEATURE_SET_VERSION,
  input: { name: 'features', shape: [null, F] },
  output: { name: 'score', kind: 'return' },
  normalisation: { mean: new Array(F).fill(0), std: new Array(F).fill(1) },
};
const registry = {
  current: async () => 1,
  artifact: async (_n: string, _v: number, file: string) =>
    file === 'model.onnx' ? onnx : new TextEncoder().encode(JSON.stringify(manifest)),
} as unknown as ModelRegistry;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'runner-bench-'));
const modelStrategy = modelStrategyFor({
  mode: 'local',
  region: 'us-east-1',
  endpoints: { s3: '', kinesis: '', dynamodb: '' },
  dataDir,
});

async function measure(promotion: Promotion, bars: number, lookback: number) {
  const promotions: PromotionStore = { get: async () => promotion };
  const models = new Map<string, Promise<BarStrategy>>();
  const deps = { promotions, registry, account: 'bench', modelStrategy, models, emit: async () => {} };
  const start = panel.dates.length - bars;
  await runStrategyBar(deps, { env: 'paper', panel: panelUpTo(panel, start - 1, lookback), always: true }); // load
  const ms: number[] = [];
  for (let t = start; t < panel.dates.length; t++) {
    const t0 = performance.now();
    await runStrategyBar(deps, { env: 'paper', panel: panelUpTo(panel, t, lookback), always: true });
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  const q = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))];
  return { bars, lookback, p50: q(0.5), p99: q(0.99), max: ms[ms.length - 1] };
}

const base = { env: 'paper' as const, promotedAt: '', promotedBy: 'bench', revision: 1 };
const rows = [
  {
    strategy: 'sma-cross 20/50',
    ...(await measure({ ...base, strategy: 'sma-cross', params: { fast: 20, slow: 50 } }, 500, 400)),
  },
  {
    strategy: 'ml-signal (MLP 11-32-32-1)',
    ...(await measure(
      { ...base, strategy: 'ml-signal', params: {}, model: { name: 'ml-signal', version: 1 } },
      500,
      400,
    )),
  },
];
console.log(
  `load average ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
console.log('| strategy | bars | lookback | p50 ms | p99 ms | max ms |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const r of rows)
  console.log(
    `| ${r.strategy} | ${r.bars} | ${r.lookback} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${r.max.toFixed(3)} |`,
  );
rmSync(dataDir, { recursive: true, force: true });
process.exit(0);
