/**
 * Runs one batch of parameter sets over one bar series and turns each summary into a row of the
 * `backtest_results` table. Shared by the local worker threads and the ECS backtest task.
 */
import {
  asPanel,
  parseStrategyParams,
  runBacktest,
  smaCrossSummary,
  validatePanel,
  type Bars,
  type Summary,
} from '../backtest';
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
export function evaluateBatch(
  bars: Bars,
  spec: BatchSpec,
  items: readonly ParamSet[],
  now = Date.now(),
): ResultRow[] {
  validatePanel(asPanel(bars));
  const costBps = spec.costBps ?? 0;
  return items.map((item) => {
    const params = parseStrategyParams(spec.strategy, item.params as Record<string, number | boolean>);
    const summary =
      spec.strategy === 'sma-cross'
        ? // The fused kernel gives the engine's numbers without per-bar allocations (docs/backtesting.md).
          smaCrossSummary(
            bars.close,
            params.fast as number,
            params.slow as number,
            costBps,
            params.short === true,
          )
        : runBacktest(bars, {
            strategy: spec.strategy,
            params: params as Record<string, number | boolean>,
            costBps,
          }).summary;
    return toRow(item, spec, summary, now);
  });
}
