/**
 * The machine-learning phase of `npm start`: features of the lake's S&P 500 bars → the training
 * script on CPU → held-out evaluation (ml-signal against the champion and sma-cross) → the local
 * registry → the winner promoted to `paper` → paper trading through the strategy runner, risk and
 * the paper broker. Without Python and PyTorch it says exactly what is missing and how to get it,
 * and the demo goes on. Every line is the same on a re-run (same data, seed, model file).
 */
import path from 'node:path';
import type { PlatformContext } from '../platform';
import { formatTable } from '../format';
import { loadPanel } from '../backtest/load';
import { DEFAULT_MODEL_NAME } from '../contract/models';
import { paperThroughRunner } from '../strategy-runner/paper';
import { EngineNewsReader } from '../news/reader';
import { promoteStrategy, S3PromotionStore } from '../strategy-runner/promotions';
import { tradingServices } from '../trading/context';
import { modelStrategyFor } from './model-strategy';
import { approveAudited } from './registry';
import { S3ModelRegistry } from './registry/s3-registry';
import { runLocalTraining } from './workflow/local';
import { checkPython } from './workflow/python';

export interface MlDemoOptions {
  /** @default lake:SPX */
  readonly symbols?: readonly string[];
  /** @default $QUANT_PYTHON or /usr/bin/python3 */
  readonly python?: string;
  /** @default 250 */
  readonly paperBars?: number;
  /** Hyperparameters for the demo's training run. */
  readonly hyperparameters?: Readonly<Record<string, string | number>>;
}

export interface MlDemoResult {
  readonly ran: boolean;
  readonly winner?: string;
  readonly version?: number;
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

export async function runMlDemo(
  ctx: PlatformContext,
  log: (line: string) => void,
  opts: MlDemoOptions = {},
): Promise<MlDemoResult> {
  if (ctx.runtime.mode !== 'local') return { ran: false };
  const python = await checkPython(opts.python);
  if (!python.ok) {
    log(`skipped (the rest of the demo goes on without ML): ${python.message}`);
    return { ran: false };
  }
  const symbols = opts.symbols ?? ['SPX'];
  const audit = (await tradingServices(ctx.clients)).audit;
  const registry = new S3ModelRegistry(ctx.clients.s3, ctx.buckets.models);
  const modelStrategy = modelStrategyFor(ctx.runtime);
  const query = await ctx.query();
  const r = await runLocalTraining(
    { runtime: ctx.runtime, query, registry, modelStrategy },
    {
      dataDir: ctx.runtime.dataDir,
      bars: { kind: 'lake', symbols },
      model: 'mlp',
      jobName: 'demo',
      hyperparameters: opts.hyperparameters,
      python: python.python,
      // The demo plays a development account: a candidate that passes the gate is approved for paper.
      autoApprove: true,
      actor: 'demo',
    },
  );
  const m = r.training.metrics;
  log(
    `features (DuckDB SQL over the lake): ${r.features.labelled} labelled rows of ${r.features.symbols.join(' ')} -> ${path.relative(ctx.runtime.dataDir, r.features.file)}`,
  );
  log(
    `trained mlp on CPU (training/train.py, job ${r.job}): held-out IC ${(m.test_ic ?? NaN).toFixed(4)}, hit rate ${pct(m.test_hit_rate ?? NaN)}`,
  );
  const e = r.evaluation;
  log(`held-out backtest ${e.window.from}..${e.window.to} (${e.window.bars} bars, 1 bp costs):`);
  log(
    formatTable(
      [e.candidate, ...(e.champion ? [e.champion] : []), e.baseline].map((s) => ({
        run: s.label === 'candidate' ? `${DEFAULT_MODEL_NAME} (candidate)` : s.label,
        sharpe: Number(s.sharpe.toFixed(3)),
        totalReturn: pct(s.totalReturn),
        maxDrawdown: pct(s.maxDrawdown),
        trades: s.trades,
      })),
    ),
  );
  log(
    `gate (IC > ${e.gate.minIc}, Sharpe >= champion's): ${e.gate.passed ? 'passed' : `failed: ${e.gate.reasons.join('; ')}`}`,
  );
  const reg = r.registered!;
  log(`registered ${reg.modelName}@${reg.version} in s3://${ctx.buckets.models}/models/ (${reg.status})`);

  const mlWins = e.gate.passed && e.candidate.sharpe > e.baseline.sharpe;
  const store = new S3PromotionStore(ctx.clients.s3, ctx.buckets.models);
  if (mlWins) await approveAudited(registry, audit, reg.modelName, reg.version, 'paper', 'demo');
  await promoteStrategy(
    { store, registry, audit },
    mlWins
      ? {
          env: 'paper',
          strategy: DEFAULT_MODEL_NAME,
          model: { modelName: reg.modelName, version: reg.version },
          actor: 'demo',
        }
      : { env: 'paper', strategy: 'sma-cross', params: { fast: 20, slow: 50 }, actor: 'demo' },
  );
  const winner = mlWins ? `${DEFAULT_MODEL_NAME} (${reg.modelName}@${reg.version})` : 'sma-cross 20/50';
  log(`winner on the held-out window: ${winner}; promoted to paper`);
  const panel = await loadPanel(
    symbols.map((s) => `lake:${s}`),
    { runtime: ctx.runtime, query, align: 'intersect' },
  );
  const p = await paperThroughRunner(
    {
      clients: ctx.clients,
      svc: await tradingServices(ctx.clients),
      promotions: store,
      registry,
      modelStrategy,
      news: new EngineNewsReader(query),
    },
    { env: 'paper', panel, lastBars: opts.paperBars ?? 250 },
  );
  const filled = p.blotter.filter((o) => o.status === 'FILLED').length;
  log(
    `paper trading through the strategy runner (last ${p.bars} bars): ${p.signals} signals, ${p.blotter.length} orders (${filled} filled), NAV ${p.startNav.toFixed(0)} -> ${p.finalNav.toFixed(0)}`,
  );
  return { ran: true, winner, version: reg.version };
}
