/**
 * Fused single-pass `sma-cross` kernels: the same numbers as the general engine (runBacktest) for
 * `--cost-bps` costs, without allocating per-bar outputs. Used by sweeps (smaCrossGrid) and the
 * K1/K2 benchmarks. Written for V8: everything read in the hot loop is a local, positions are
 * numbers (never booleans added to numbers), and typed arrays only.
 */
import { InputError } from '../errors';
import { finishMetrics, PERIODS_PER_YEAR } from './metrics';
import { smaCrossStatsWasm, wasmSeries, type KernelStats } from './kernel-wasm';
import type { Summary } from './types';

/**
 * Summary of one sma-cross backtest over `close`, identical (up to float rounding of the variance)
 * to `runBacktest(bars, { strategy: 'sma-cross', params: { fast, slow, short }, costBps })`.
 * Runs the WebAssembly build of the loop (kernel.wat: the same statistics, bit for bit, two to
 * five times as fast as V8 compiles the JS loop below, which is the fallback).
 */
export function smaCrossSummary(
  close: Float64Array,
  fast: number,
  slow: number,
  costBps = 0,
  short = false,
): Summary {
  checkPair(fast, slow, close.length);
  const neg = short ? -1 : 0;
  const cost = costBps / 10_000;
  const stats =
    smaCrossStatsWasm(close, fast, slow, cost, neg) ?? smaCrossStatsJs(close, fast, slow, cost, neg);
  return summarize(close.length, stats);
}

/** The same backtest with the JS loop (the reference the WebAssembly kernel is tested against). */
export function smaCrossSummaryJs(
  close: Float64Array,
  fast: number,
  slow: number,
  costBps = 0,
  short = false,
): Summary {
  checkPair(fast, slow, close.length);
  return summarize(close.length, smaCrossStatsJs(close, fast, slow, costBps / 10_000, short ? -1 : 0));
}

function smaCrossStatsJs(
  close: Float64Array,
  fast: number,
  slow: number,
  cost: number,
  neg: number,
): KernelStats {
  const n = close.length;
  const invF = 1 / fast;
  const invS = 1 / slow;
  let sf = 0;
  let ss = 0;
  // Bars before slow - 1 only fill the rolling sums: the position is 0 there.
  for (let t = 0; t < slow - 1; t++) {
    const c = close[t];
    sf += c;
    ss += c;
    if (t >= fast) sf -= close[t - fast];
  }
  // Everything the loop touches is a local so V8 keeps it in registers.
  let prev = 0;
  let sum = 0;
  let sumSq = 0;
  let down = 0;
  let equity = 1;
  let peak = 1;
  let trough = 1;
  let minRatio = 1;
  let trades = 0;
  let absDw = 0;
  let exposed = 0;
  let ep = 1;
  let entryT = 0;
  let wins = 0;
  let losses = 0;
  let winSum = 0;
  let lossSum = 0;
  for (let t = slow - 1; t < n - 1; t++) {
    const c = close[t];
    // Same operation order as smaCrossPositions: bit-identical SMAs.
    sf += c;
    sf -= close[t - fast];
    ss += c;
    if (t >= slow) ss -= close[t - slow];
    const mf = sf * invF;
    const ms = ss * invS;
    const p = mf > ms ? 1 : mf < ms ? neg : 0;
    if (p === prev) {
      if (p === 0) continue; // flat and unchanged: a zero return changes nothing below
      const x = p * (close[t + 1] / c - 1);
      ep *= 1 + x;
      sum += x;
      sumSq += x * x;
      const d = (x - Math.abs(x)) * 0.5;
      down += d * d;
      const e = equity * (1 + x);
      equity = e;
      if (e > peak) {
        // A new peak closes the previous drawdown: its depth is trough / peak.
        const ratio = trough / peak;
        if (ratio < minRatio) minRatio = ratio;
        peak = e;
        trough = e;
      } else if (e < trough) trough = e;
      continue;
    }
    const r = close[t + 1] / c - 1;
    const a = p > prev ? p - prev : prev - p;
    const k = a * cost;
    trades++;
    absDw += a;
    const x = p * r - k;
    if (prev !== 0) {
      // Closing (or flipping): the closing share of the cost ends the episode.
      const share = p === 0 ? k : k * 0.5;
      const g = ep * (1 - share) - 1;
      if (g > 0) {
        wins++;
        winSum += g;
      } else if (g < 0) {
        losses++;
        lossSum += g;
      }
      exposed += t - entryT;
      ep = p === 0 ? 1 : 1 + (p * r - share);
    } else {
      ep = 1 + (p * r - k);
    }
    if (p !== 0) entryT = t;
    prev = p;
    sum += x;
    sumSq += x * x;
    const d = (x - Math.abs(x)) * 0.5;
    down += d * d;
    const e = equity * (1 + x);
    equity = e;
    if (e > peak) {
      const ratio = trough / peak;
      if (ratio < minRatio) minRatio = ratio;
      peak = e;
      trough = e;
    } else if (e < trough) trough = e;
  }
  // Exposure is counted per episode: the one still open runs to the last period.
  if (prev !== 0) exposed += n - 1 - entryT;
  return {
    sum,
    sumSq,
    down,
    equity,
    peak,
    trough,
    minRatio,
    trades,
    absDw,
    exposed,
    wins,
    losses,
    winSum,
    lossSum,
  };
}

/** Periods never stepped (warm-up, flat) had return 0; they count as zeros in every statistic. */
function summarize(bars: number, k: KernelStats): Summary {
  const periods = bars - 1;
  const minRatio = Math.min(k.minRatio, k.trough / k.peak);
  const mean = periods > 0 ? k.sum / periods : 0;
  const ss = k.sumSq - (periods > 0 ? (k.sum * k.sum) / periods : 0);
  const stdev = periods > 1 ? Math.sqrt(Math.max(0, ss) / (periods - 1)) : 0;
  const downRms = periods > 0 ? Math.sqrt(k.down / periods) : 0;
  const m = finishMetrics(periods, k.equity, mean, stdev, downRms, 1 - minRatio);
  const closed = k.wins + k.losses;
  return {
    bars,
    periods,
    ...m,
    trades: k.trades,
    turnover: periods > 0 ? (k.absDw * PERIODS_PER_YEAR) / periods : 0,
    exposure: periods > 0 ? k.exposed / periods : 0,
    hitRate: closed > 0 ? k.wins / closed : 0,
    avgWin: k.wins > 0 ? k.winSum / k.wins : 0,
    avgLoss: k.losses > 0 ? k.lossSum / k.losses : 0,
  };
}

function checkPair(fast: number, slow: number, n: number): void {
  if (!(Number.isInteger(fast) && fast >= 1))
    throw new InputError(`param.fast: must be an integer >= 1, got ${fast}`, 'param.fast');
  if (!(Number.isInteger(slow) && slow >= 2))
    throw new InputError(`param.slow: must be an integer >= 2, got ${slow}`, 'param.slow');
  if (fast >= slow)
    throw new InputError(`param.fast: must be smaller than slow (${fast} >= ${slow})`, 'param.fast');
  if (n < 2) throw new InputError(`bars: need at least 2 bars, got ${n}`, 'bars');
}

export interface GridRow {
  readonly fast: number;
  readonly slow: number;
  readonly summary: Summary;
}

/**
 * The fast path for sweeps: summaries of every (fast, slow) pair over one close series. The
 * closes are copied once into a WebAssembly kernel instance of their own and each pair is one
 * pass of the fused kernel over them (the rolling sums cost the kernel next to nothing: it
 * overlaps them with the statistics), so every row is smaCrossSummary's result, bit for bit.
 */
export function smaCrossGrid(
  close: Float64Array,
  pairs: ReadonlyArray<readonly [number, number]>,
  costBps = 0,
  short = false,
): GridRow[] {
  const n = close.length;
  for (const [f, s] of pairs) checkPair(f, s, n);
  const cost = costBps / 10_000;
  const neg = short ? -1 : 0;
  const series = wasmSeries(close);
  return pairs.map(([fast, slow]) => ({
    fast,
    slow,
    summary: summarize(
      n,
      series?.stats(fast, slow, cost, neg) ?? smaCrossStatsJs(close, fast, slow, cost, neg),
    ),
  }));
}
