/**
 * Runs one batch of parameter sets over one bar series and turns each summary into a row of the
 * `backtest_results` table. Shared by the local worker threads and the ECS backtest task.
 */
// Engine modules imported one by one, not through src/backtest/index.ts: that barrel also loads
// the bar loaders (DuckDB, the AWS SDK), which made every worker thread start ~1 s slower.
import { validatePanel } from '../backtest/engine';
import { smaCrossGrid } from '../backtest/kernel';
import { parseStrategyParams, prepareStrategy } from '../backtest/strategies';
import { asPanel, type Bars, type Panel, type Summary } from '../backtest/types';
import { canonicalParams, type ParamSet } from './grid';

export interface BatchSpec {
  readonly strategy: string;
  /** The bars source as the user gave it (recorded in every row). */
  readonly barsSource: string;
  /** @default 0 */
  readonly costBps?: number;
}

/** One row of `backtest_results` without the partition columns (strategy, sweep_id). */
export interface ResultRow {
  readonly param_set_id: string;
  readonly params: string;
  readonly bars_source: string;
  readonly bars: number;
  readonly periods: number;
  readonly total_return: number | null;
  readonly cagr: number | null;
  readonly sharpe: number | null;
  readonly sortino: number | null;
  readonly max_drawdown: number | null;
  readonly calmar: number | null;
  readonly volatility: number | null;
  readonly trades: number;
  readonly turnover: number | null;
  readonly exposure: number | null;
  /** Epoch milliseconds. */
  readonly completed_at: number;
}

/** NaN/Infinity (e.g. Sharpe of a flat equity curve) are stored as NULL: Athena and DuckDB then rank alike. */
const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

export function toRow(item: ParamSet, spec: BatchSpec, s: Summary, completedAt: number): ResultRow {
  return {
    param_set_id: item.id,
    params: canonicalParams(item.params),
    bars_source: spec.barsSource,
    bars: s.bars,
    periods: s.periods,
    total_return: finite(s.totalReturn),
    cagr: finite(s.cagr),
    sharpe: finite(s.sharpe),
    sortino: finite(s.sortino),
    max_drawdown: finite(s.maxDrawdown),
    calmar: finite(s.calmar),
    volatility: finite(s.volatility),
    trades: s.trades,
    turnover: finite(s.turnover),
    exposure: finite(s.exposure),
    completed_at: completedAt,
  };
}

/**
 * Evaluates every parameter set of a batch. Any invalid parameter set fails the whole batch
 * (InputError naming the parameter): a batch is the unit that is written, or not, atomically.
 */
export async function evaluateBatch(
  bars: Bars | Panel,
  spec: BatchSpec,
  items: readonly ParamSet[],
  now = Date.now(),
): Promise<ResultRow[]> {
  validatePanel(asPanel(bars));
  const costBps = spec.costBps ?? 0;
  const parsed = items.map((item) => ({
    item,
    params: parseStrategyParams(spec.strategy, item.params as Record<string, number | boolean>),
  }));
  if (spec.strategy === 'sma-cross') {
    // The engine's grid fast path: each distinct SMA window computed once per batch, then one
    // fused pass per pair; the same numbers as runBacktest (docs/backtesting.md).
    const summaries = new Array<Summary>(parsed.length);
    for (const short of [false, true]) {
      const idx = parsed.flatMap((p, i) => ((p.params.short === true) === short ? [i] : []));
      if (idx.length === 0) continue;
      const grid = smaCrossGrid(
        asPanel(bars).close[0],
        idx.map((i) => [parsed[i].params.fast as number, parsed[i].params.slow as number] as const),
        costBps,
        short,
      );
      idx.forEach((i, k) => (summaries[i] = grid[k].summary));
    }
    return parsed.map((p, i) => toRow(p.item, spec, summaries[i], now));
  }
  // The general engine only when needed (see the imports above).
  const { runBacktest } = await import('../backtest');
  for (const p of parsed) await prepareStrategy(spec.strategy, p.params);
  return parsed.map(({ item, params }) =>
    toRow(
      item,
      spec,
      runBacktest(bars, {
        strategy: spec.strategy,
        params: params as Record<string, number | boolean>,
        costBps,
      }).summary,
      now,
    ),
  );
}
