/**
 * Fused single-pass `sma-cross` kernels: the same numbers as the general engine (runBacktest) for
 * `--cost-bps` costs, without allocating per-bar outputs. Used by sweeps (smaCrossGrid) and the
 * K1/K2 benchmarks. Written for V8: everything read in the hot loop is a local, positions are
 * numbers (never booleans added to numbers), and typed arrays only.
 */
import { InputError } from '../errors';
import { finishMetrics, PERIODS_PER_YEAR } from './metrics';
import type { Summary } from './types';

/**
 * Summary of one sma-cross backtest over `close`, identical (up to float rounding of the variance)
 * to `runBacktest(bars, { strategy: 'sma-cross', params: { fast, slow, short }, costBps })`.
 */
export function smaCrossSummary(
  close: Float64Array,
  fast: number,
  slow: number,
  costBps = 0,
  short = false,
): Summary {
  checkPair(fast, slow, close.length);
  const n = close.length;
  const neg = short ? -1 : 0;
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
  const acc = new Acc(costBps / 10_000);
  for (let t = slow - 1; t < n - 1; t++) {
    const c = close[t];
    sf += c;
    ss += c;
    if (t >= fast) sf -= close[t - fast];
    if (t >= slow) ss -= close[t - slow];
    const mf = sf * invF;
    const ms = ss * invS;
    const p = mf > ms ? 1 : mf < ms ? neg : 0;
    acc.step(p, close[t + 1] / c - 1);
  }
  return acc.finish(n);
}

/**
 * Accumulates the metrics of positions in {-1, 0, 1} one period at a time. Kept as a class with
 * numeric fields so V8 gives it one stable shape.
 */
class Acc {
  prev = 0;
  sum = 0;
  sumSq = 0;
  down = 0;
  equity = 1;
  peak = 1;
  minRatio = 1;
  trades = 0;
  absDw = 0;
  exposed = 0;
  epGrowth = 1;
  wins = 0;
  losses = 0;
  winSum = 0;
  lossSum = 0;
  constructor(readonly cost: number) {}

  step(p: number, r: number): void {
    const dw = p - this.prev;
    let x = p * r;
    if (dw !== 0) {
      const a = dw < 0 ? -dw : dw;
      this.trades++;
      this.absDw += a;
      const c = a * this.cost;
      x -= c;
      if (this.prev !== 0) {
        // Closing (or flipping): the closing share of the cost ends the episode.
        const share = p === 0 ? c : c * 0.5;
        this.closeEpisode(this.epGrowth * (1 - share));
        this.epGrowth = p === 0 ? 1 : 1 + (p * r - share);
      } else {
        this.epGrowth = 1 + (p * r - c);
      }
    } else if (p !== 0) {
      this.epGrowth *= 1 + p * r;
    }
    if (p !== 0) this.exposed++;
    this.prev = p;
    this.sum += x;
    this.sumSq += x * x;
    if (x < 0) this.down += x * x;
    if (x !== 0) {
      const e = this.equity * (1 + x);
      this.equity = e;
      if (e > this.peak) this.peak = e;
      else {
        const ratio = e / this.peak;
        if (ratio < this.minRatio) this.minRatio = ratio;
      }
    }
  }

  closeEpisode(g: number): void {
    const ret = g - 1;
    if (ret > 0) {
      this.wins++;
      this.winSum += ret;
    } else if (ret < 0) {
      this.losses++;
      this.lossSum += ret;
    }
  }

  /** Periods never stepped (the warm-up) had position 0 and return 0; they count as zeros. */
  finish(bars: number): Summary {
    const periods = bars - 1;
    const mean = periods > 0 ? this.sum / periods : 0;
    // Warm-up periods are zeros: they count in the mean and variance like any other period.
    const ss = this.sumSq - (periods > 0 ? (this.sum * this.sum) / periods : 0);
    const stdev = periods > 1 ? Math.sqrt(Math.max(0, ss) / (periods - 1)) : 0;
    const downRms = periods > 0 ? Math.sqrt(this.down / periods) : 0;
    const m = finishMetrics(periods, this.equity, mean, stdev, downRms, 1 - this.minRatio);
    const closed = this.wins + this.losses;
    return {
      bars,
      periods,
      ...m,
      trades: this.trades,
      turnover: periods > 0 ? (this.absDw * PERIODS_PER_YEAR) / periods : 0,
      exposure: periods > 0 ? this.exposed / periods : 0,
      hitRate: closed > 0 ? this.wins / closed : 0,
      avgWin: this.wins > 0 ? this.winSum / this.wins : 0,
      avgLoss: this.losses > 0 ? this.lossSum / this.losses : 0,
    };
  }
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

/** Largest SMA cache the grid keeps (bytes); beyond it each pair recomputes its own SMAs. */
const GRID_CACHE_BYTES = 256 * 2 ** 20;

/**
 * The fast path for sweeps: summaries of every (fast, slow) pair over one close series. Each
 * distinct window's SMA is computed once (with the same rolling arithmetic as the single kernel,
 * so the numbers are bit-identical) and each pair is then one pass over two cached arrays.
 */
export function smaCrossGrid(
  close: Float64Array,
  pairs: ReadonlyArray<readonly [number, number]>,
  costBps = 0,
  short = false,
): GridRow[] {
  const n = close.length;
  for (const [f, s] of pairs) checkPair(f, s, n);
  const windows = [...new Set(pairs.flat())].sort((a, b) => a - b);
  if (windows.length * n * 8 > GRID_CACHE_BYTES) {
    return pairs.map(([fast, slow]) => ({
      fast,
      slow,
      summary: smaCrossSummary(close, fast, slow, costBps, short),
    }));
  }
  const sma = new Map<number, Float64Array>();
  for (const w of windows) sma.set(w, rollingMean(close, w));
  const ret = new Float64Array(n - 1);
  for (let t = 0; t < n - 1; t++) ret[t] = close[t + 1] / close[t] - 1;
  return pairs.map(([fast, slow]) => ({
    fast,
    slow,
    summary: gridPair(sma.get(fast)!, sma.get(slow)!, ret, slow, costBps / 10_000, short ? -1 : 0),
  }));
}

/** Rolling mean with the kernel's exact arithmetic (sum, then times 1/w); NaN before w-1. */
function rollingMean(close: Float64Array, w: number): Float64Array {
  const n = close.length;
  const out = new Float64Array(n);
  const inv = 1 / w;
  let s = 0;
  for (let t = 0; t < n; t++) {
    s += close[t];
    if (t >= w) s -= close[t - w];
    out[t] = s * inv;
  }
  return out;
}

function gridPair(
  f: Float64Array,
  s: Float64Array,
  ret: Float64Array,
  slow: number,
  cost: number,
  neg: number,
): Summary {
  const acc = new Acc(cost);
  const periods = ret.length;
  for (let t = slow - 1; t < periods; t++) {
    const mf = f[t];
    const ms = s[t];
    acc.step(mf > ms ? 1 : mf < ms ? neg : 0, ret[t]);
  }
  return acc.finish(periods + 1);
}
