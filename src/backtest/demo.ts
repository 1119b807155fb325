/**
 * The backtest step of `npm start`: every strategy that fits the data on one instrument, a summary
 * table, and the HTML report of the best by Sharpe. The demo (src/demo/) calls `runBacktestDemo`.
 */
import path from 'node:path';
import type { Runtime } from '../aws/clients';
import type { QueryEngine } from '../lake';
import { writeAtomic } from '../local/lease';
import { packageRoot } from '../package-root';
import { paramText } from '../report/html';
import { loadBars } from './load';
import { renderReport } from './report';
import { panelReportExtras } from './report-extras';
import { runBacktest } from './run';
import { asPanel, type BacktestResult, type Summary } from './types';

export interface BacktestDemoOptions {
  /** `file.csv`, `file.parquet` or `lake:SYMBOL`. @default vega-datasets' S&P 500 daily CSV */
  readonly bars?: string;
  readonly runtime?: Runtime;
  readonly query?: QueryEngine;
  /** Where to write the HTML report of the best run. @default no report */
  readonly reportFile?: string;
  /** Cost in bps of |position change|. @default 5 */
  readonly costBps?: number;
}

export interface BacktestDemoResult {
  /** One row per run: strategy, params and the headline metrics. */
  readonly rows: ReadonlyArray<
    { strategy: string; params: string } & Pick<
      Summary,
      'totalReturn' | 'cagr' | 'sharpe' | 'maxDrawdown' | 'trades' | 'exposure'
    >
  >;
  readonly best: BacktestResult;
  readonly reportFile?: string;
}

export function defaultDemoBars(): string {
  return path.join(packageRoot(), 'node_modules/vega-datasets/data/sp500-2000.csv');
}

const RUNS: ReadonlyArray<{ strategy: string; params: Record<string, number | boolean> }> = [
  { strategy: 'sma-cross', params: { fast: 20, slow: 50 } },
  { strategy: 'sma-cross', params: { fast: 50, slow: 200 } },
  { strategy: 'ts-momentum', params: { lookback: 126, volTarget: 0.15 } },
  { strategy: 'mean-reversion', params: { window: 20, entry: 2, exit: 0.5, short: false } },
];

export async function runBacktestDemo(opts: BacktestDemoOptions = {}): Promise<BacktestDemoResult> {
  const bars = await loadBars(opts.bars ?? defaultDemoBars(), { runtime: opts.runtime, query: opts.query });
  const results = RUNS.map((r) => runBacktest(bars, { ...r, costBps: opts.costBps ?? 5 }));
  const best = results.reduce((a, b) => (b.summary.sharpe > a.summary.sharpe ? b : a));
  if (opts.reportFile) {
    // Benchmark (buy-and-hold of the same bars), rolling risk, and exposure (or why there is none).
    writeAtomic(opts.reportFile, renderReport(best, panelReportExtras(best, asPanel(bars))));
  }
  const rows = results.map((r) => ({
    strategy: r.strategy,
    params: paramText(r.params),
    totalReturn: r.summary.totalReturn,
    cagr: r.summary.cagr,
    sharpe: r.summary.sharpe,
    maxDrawdown: r.summary.maxDrawdown,
    trades: r.summary.trades,
    exposure: r.summary.exposure,
  }));
  return { rows, best, reportFile: opts.reportFile };
}
