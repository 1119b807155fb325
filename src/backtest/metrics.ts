/**
 * Performance metrics over a series of period returns (docs/architecture.md, "Backtest conventions"):
 * daily periods, 252 per year, risk-free rate 0; Sharpe with the sample standard deviation
 * (ddof 1); Sortino with the root mean square of min(r, 0) over all periods; max drawdown
 * counting the starting capital as a peak, as a positive fraction; CAGR = final^(252/periods) - 1.
 * A ratio whose denominator is 0 (no variance, no downside, no drawdown) is reported as 0 so
 * that every field stays a finite number in JSON and Parquet.
 */

/** Periods per year used to annualise. */
export const PERIODS_PER_YEAR = 252;

export interface ReturnMetrics {
  /** Final equity / starting equity - 1. */
  readonly totalReturn: number;
  /** final^(252 / periods) - 1; -1 when the equity reached 0 or below. */
  readonly cagr: number;
  /** mean / sample stdev * sqrt(252). */
  readonly sharpe: number;
  /** mean / sqrt(mean(min(r, 0)^2)) * sqrt(252). */
  readonly sortino: number;
  /** Largest fall from a running peak (the start counts as a peak), positive fraction. */
  readonly maxDrawdown: number;
  /** cagr / maxDrawdown. */
  readonly calmar: number;
  /** Sample stdev * sqrt(252). */
  readonly volatility: number;
}

/** Metrics of period returns `r[from..to)` with a periods-per-year factor. */
export function returnMetrics(
  r: Float64Array,
  from = 0,
  to = r.length,
  periodsPerYear = PERIODS_PER_YEAR,
): ReturnMetrics {
  const n = to - from;
  let equity = 1;
  let peak = 1;
  let mdd = 0;
  let sum = 0;
  let down = 0;
  for (let i = from; i < to; i++) {
    const x = r[i];
    sum += x;
    if (x < 0) down += x * x;
    equity *= 1 + x;
    if (equity > peak) peak = equity;
    const dd = 1 - equity / peak;
    if (dd > mdd) mdd = dd;
  }
  const mean = n > 0 ? sum / n : 0;
  // Second pass for the variance: the one-pass formula loses digits on small daily returns.
  let ss = 0;
  for (let i = from; i < to; i++) {
    const d = r[i] - mean;
    ss += d * d;
  }
  return finishMetrics(
    n,
    equity,
    mean,
    n > 1 ? Math.sqrt(ss / (n - 1)) : 0,
    n > 0 ? Math.sqrt(down / n) : 0,
    mdd,
    periodsPerYear,
  );
}

/** Assembles metrics from accumulated statistics (shared with the fused kernels). */
export function finishMetrics(
  periods: number,
  finalEquity: number,
  mean: number,
  stdev: number,
  downsideRms: number,
  maxDrawdown: number,
  periodsPerYear = PERIODS_PER_YEAR,
): ReturnMetrics {
  const ann = Math.sqrt(periodsPerYear);
  const cagr =
    periods === 0 ? 0 : finalEquity <= 0 ? -1 : Math.pow(finalEquity, periodsPerYear / periods) - 1;
  const mdd = Math.min(1, maxDrawdown);
  return {
    totalReturn: finalEquity - 1,
    cagr,
    sharpe: stdev > 0 ? (mean / stdev) * ann : 0,
    sortino: downsideRms > 0 ? (mean / downsideRms) * ann : 0,
    maxDrawdown: mdd,
    calmar: mdd > 0 ? cagr / mdd : 0,
    volatility: stdev * ann,
  };
}

/** Equity curve (length r.length + 1, starting at 1) and drawdown series (positive fractions). */
export function equityAndDrawdown(r: Float64Array): { equity: Float64Array; drawdown: Float64Array } {
  const equity = new Float64Array(r.length + 1);
  const drawdown = new Float64Array(r.length + 1);
  equity[0] = 1;
  let peak = 1;
  for (let i = 0; i < r.length; i++) {
    const e = equity[i] * (1 + r[i]);
    equity[i + 1] = e;
    if (e > peak) peak = e;
    drawdown[i + 1] = 1 - e / peak;
  }
  return { equity, drawdown };
}
