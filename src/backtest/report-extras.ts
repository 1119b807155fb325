/**
 * The report extras of a run whose benchmark is buy-and-hold of its own panel or one of its
 * symbols (no file or lake to read): the benchmark line and statistics, rolling volatility and
 * Sharpe, and exposure by region and asset class (src/backtest/exposure.ts `reportExposure`, the
 * macro universe's built-in reference as the fallback). The demos' reports use it.
 */
import { macroReference } from '../synthetic/point-in-time';
import { benchmarkStats, buyAndHoldReturns, priceReturns, rollingStats } from './benchmark';
import { reportExposure } from './exposure';
import { ReferenceIndex, type ReferenceFields } from './point-in-time';
import type { ReportExtras } from './report';
import type { BacktestResult, Panel } from './types';

export function panelReportExtras(
  result: BacktestResult,
  panel: Panel,
  opts: {
    /** A symbol of the panel. @default equal-weight buy-and-hold of the panel */
    readonly benchmark?: string;
    /** Periods in the rolling window. @default 63 */
    readonly rollingWindow?: number;
    readonly reference?: { at(symbol: string, date: string): ReferenceFields | undefined };
    readonly securities?: Readonly<Record<string, ReferenceFields>>;
  } = {},
): ReportExtras {
  const a = opts.benchmark === undefined ? -1 : panel.symbols.indexOf(opts.benchmark);
  if (opts.benchmark !== undefined && a < 0)
    throw new Error(`benchmark ${opts.benchmark} is not a symbol of the panel`);
  const returns = a < 0 ? buyAndHoldReturns(panel) : priceReturns(panel.close[a]);
  const name = opts.benchmark ?? 'buy-and-hold';
  return {
    benchmark: { stats: benchmarkStats(result.returns, returns, result.periodsPerYear, name), returns },
    rolling: rollingStats(result.returns, opts.rollingWindow ?? 63, result.periodsPerYear),
    exposure: reportExposure(result, {
      reference: opts.reference,
      securities: opts.securities,
      builtIn: new ReferenceIndex(macroReference(result.dates[0] ?? '')),
    }),
  };
}
