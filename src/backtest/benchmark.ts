/**
 * A backtest against a benchmark, and rolling statistics of its returns. Pure functions over period
 * returns (the conventions of metrics.ts: risk-free rate 0, sample standard deviation with ddof 1,
 * arithmetic annualisation by the periods per year):
 *
 * - excess return: the strategy's total return minus the benchmark's over the same periods;
 * - beta: cov(r, b) / var(b);
 * - alpha (annualised, Jensen's): (mean(r) - beta * mean(b)) * periodsPerYear;
 * - tracking error: stdev(r - b) * sqrt(periodsPerYear);
 * - information ratio: mean(r - b) * periodsPerYear / tracking error.
 *
 * A ratio whose denominator is 0 (a flat benchmark, no active risk) is 0, as in metrics.ts, so every
 * field stays a finite number in JSON.
 */
import { InputError } from '../errors';
import type { Bars, Panel } from './types';

export interface BenchmarkStats {
  /** What the benchmark is: a symbol, a file, or `buy-and-hold` of the universe. */
  readonly name: string;
  readonly totalReturn: number;
  readonly benchmarkTotalReturn: number;
  /** totalReturn - benchmarkTotalReturn. */
  readonly excessReturn: number;
  readonly beta: number;
  /** Annualised Jensen's alpha (risk-free rate 0). */
  readonly alpha: number;
  readonly correlation: number;
  readonly trackingError: number;
  readonly informationRatio: number;
}

const mean = (x: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return x.length > 0 ? s / x.length : 0;
};

const compound = (x: ArrayLike<number>): number => {
  let e = 1;
  for (let i = 0; i < x.length; i++) e *= 1 + x[i];
  return e - 1;
};

/** Statistics of strategy returns `r` against benchmark returns `b` (same periods). */
export function benchmarkStats(
  r: ArrayLike<number>,
  b: ArrayLike<number>,
  periodsPerYear: number,
  name = 'benchmark',
): BenchmarkStats {
  if (r.length !== b.length)
    throw new RangeError(`benchmarkStats: ${r.length} strategy returns, ${b.length} benchmark returns`);
  const n = r.length;
  const mr = mean(r);
  const mb = mean(b);
  let cov = 0;
  let vb = 0;
  let vr = 0;
  let ma = 0;
  for (let i = 0; i < n; i++) ma += r[i] - b[i];
  ma = n > 0 ? ma / n : 0;
  let va = 0;
  for (let i = 0; i < n; i++) {
    const dr = r[i] - mr;
    const db = b[i] - mb;
    const da = r[i] - b[i] - ma;
    cov += dr * db;
    vb += db * db;
    vr += dr * dr;
    va += da * da;
  }
  const beta = vb > 0 ? cov / vb : 0;
  const te = n > 1 ? Math.sqrt(va / (n - 1)) * Math.sqrt(periodsPerYear) : 0;
  const totalReturn = compound(r);
  const benchmarkTotalReturn = compound(b);
  return {
    name,
    totalReturn,
    benchmarkTotalReturn,
    excessReturn: totalReturn - benchmarkTotalReturn,
    beta,
    alpha: (mr - beta * mb) * periodsPerYear,
    correlation: vb > 0 && vr > 0 ? cov / Math.sqrt(vb * vr) : 0,
    trackingError: te,
    informationRatio: te > 0 ? (ma * periodsPerYear) / te : 0,
  };
}

/** Period returns of a price series (length close.length - 1). */
export function priceReturns(close: ArrayLike<number>): Float64Array {
  const out = new Float64Array(Math.max(0, close.length - 1));
  for (let t = 0; t < out.length; t++) out[t] = close[t + 1] / close[t] - 1;
  return out;
}

/**
 * Equal-weight buy-and-hold of a panel: one unit of capital split equally over the symbols at the
 * first bar and never rebalanced, so the benchmark's value at t is the mean of close[a][t] /
 * close[a][0]. Its period returns (length dates - 1). What a user holding the universe and doing
 * nothing would have earned; for one instrument, buy-and-hold of it.
 */
export function buyAndHoldReturns(panel: Pick<Panel, 'close' | 'dates' | 'symbols'>): Float64Array {
  const n = panel.dates.length;
  const value = new Float64Array(n);
  // A symbol without a price at the first bar is not bought; a missing later price keeps the
  // last one (a delisted symbol's holding stays at its last value).
  const held = panel.close.filter((c) => c[0] > 0);
  for (const c of held) {
    let last = c[0];
    for (let t = 0; t < n; t++) {
      if (c[t] > 0) last = c[t];
      value[t] += last / c[0] / held.length;
    }
  }
  if (held.length === 0) value.fill(1);
  return priceReturns(value);
}

/**
 * The benchmark's closes on the backtest's dates: each date takes the benchmark's last bar on or
 * before it (calendars of a future and an ETF differ by holidays). A benchmark that starts after
 * the backtest's first date has no value there: an InputError naming `field`.
 */
export function alignBenchmark(
  bench: Pick<Bars, 'dates' | 'close'>,
  dates: readonly string[],
  field: string,
): Float64Array {
  const out = new Float64Array(dates.length);
  let j = -1;
  for (let t = 0; t < dates.length; t++) {
    while (j + 1 < bench.dates.length && bench.dates[j + 1] <= dates[t]) j++;
    if (j < 0)
      throw new InputError(
        `${field}: the benchmark starts on ${bench.dates[0] ?? '(no bars)'}, after the backtest's first date ${dates[0]}`,
        field,
      );
    const v = bench.close[j];
    if (!(v > 0)) throw new InputError(`${field}: close on ${bench.dates[j]} is not a positive price`, field);
    out[t] = v;
  }
  return out;
}

export interface RollingStats {
  /** Window length in periods. */
  readonly window: number;
  /**
   * sharpe[t] and volatility[t] over returns (t - window, t]: NaN while fewer than `window`
   * returns are known. Indexed like the returns (period t ends at bar t + 1).
   */
  readonly sharpe: Float64Array;
  readonly volatility: Float64Array;
}

/** Rolling annualised Sharpe (mean / sample stdev * sqrt(P)) and volatility (stdev * sqrt(P)). */
export function rollingStats(r: ArrayLike<number>, window: number, periodsPerYear: number): RollingStats {
  if (!Number.isInteger(window) || window < 2) throw new RangeError(`rollingStats: window ${window} < 2`);
  const n = r.length;
  const sharpe = new Float64Array(n).fill(NaN);
  const volatility = new Float64Array(n).fill(NaN);
  const ann = Math.sqrt(periodsPerYear);
  for (let t = window - 1; t < n; t++) {
    // Two passes per window: the one-pass sum of squares loses digits on small daily returns.
    let s = 0;
    for (let i = t - window + 1; i <= t; i++) s += r[i];
    const m = s / window;
    let ss = 0;
    for (let i = t - window + 1; i <= t; i++) ss += (r[i] - m) ** 2;
    const sd = Math.sqrt(ss / (window - 1));
    volatility[t] = sd * ann;
    sharpe[t] = sd > 0 ? (m / sd) * ann : 0;
  }
  return { window, sharpe, volatility };
}
