/**
 * Value at risk from a window of daily returns: historical (empirical quantile) and parametric
 * (normal, zero mean), and correlations for the concentration check.
 * Exposures are signed money amounts (qty × price); returns are simple daily returns.
 */

/** One-sided 99% quantile of the standard normal distribution. */
export const Z99 = 2.3263478740408408;

/** Returns aligned by day: every series has the same length and day t means the same date. */
export class ReturnsWindow {
  readonly length: number;
  private readonly series = new Map<string, Float64Array>();
  private readonly means = new Map<string, number>();
  private readonly covCache = new Map<string, number>();

  /**
   * Adopts aligned series without copying or checking them (the caller guarantees equal lengths
   * and finite values): the backtest's risk gate builds one window per rebalance from views of
   * returns it computed and checked once.
   */
  static fromViews(
    series: ReadonlyMap<string, Float64Array>,
    means: ReadonlyMap<string, number>,
  ): ReturnsWindow {
    const w = new ReturnsWindow({});
    let n = -1;
    for (const [symbol, r] of series) {
      n = r.length;
      w.series.set(symbol, r);
      w.means.set(symbol, means.get(symbol)!);
    }
    (w as { length: number }).length = Math.max(n, 0);
    return w;
  }

  constructor(returns: Readonly<Record<string, ArrayLike<number>>>) {
    let n = -1;
    for (const [symbol, r] of Object.entries(returns)) {
      if (n >= 0 && r.length !== n) {
        throw new Error(`returns.${symbol}: ${r.length} days, expected ${n} (series must be aligned)`);
      }
      n = r.length;
      const a = Float64Array.from(r);
      let s = 0;
      for (let i = 0; i < a.length; i++) {
        if (!Number.isFinite(a[i])) throw new Error(`returns.${symbol}[${i}]: not a finite number`);
        s += a[i];
      }
      this.series.set(symbol, a);
      this.means.set(symbol, a.length > 0 ? s / a.length : 0);
    }
    this.length = Math.max(n, 0);
  }

  has(symbol: string): boolean {
    return this.series.has(symbol);
  }

  get(symbol: string): Float64Array | undefined {
    return this.series.get(symbol);
  }

  symbols(): string[] {
    return [...this.series.keys()];
  }

  /** Sample covariance (ddof 1); 0 when either symbol has no series. */
  cov(a: string, b: string): number {
    const key = a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`;
    const hit = this.covCache.get(key);
    if (hit !== undefined) return hit;
    const x = this.series.get(a);
    const y = this.series.get(b);
    let c = 0;
    if (x && y && this.length > 1) {
      const mx = this.means.get(a)!;
      const my = this.means.get(b)!;
      let s = 0;
      for (let i = 0; i < this.length; i++) s += (x[i] - mx) * (y[i] - my);
      c = s / (this.length - 1);
    }
    this.covCache.set(key, c);
    return c;
  }

  /** Pearson correlation; 0 when a series is missing or constant. */
  corr(a: string, b: string): number {
    const va = this.cov(a, a);
    const vb = this.cov(b, b);
    if (va <= 0 || vb <= 0) return 0;
    return this.cov(a, b) / Math.sqrt(va * vb);
  }
}

/**
 * Empirical quantile with linear interpolation between order statistics (numpy's default,
 * Hyndman-Fan type 7). Sorts `values` in place.
 */
export function quantileInPlace(values: Float64Array, q: number): number {
  const n = values.length;
  if (n === 0) return 0;
  values.sort();
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return values[lo] + (h - lo) * (values[hi] - values[lo]);
}

/**
 * The same quantile without sorting, for small q: keeps the few smallest values in a tiny sorted
 * buffer (O(n·k) with k = ⌊(n−1)q⌋ + 2), so a 250-day 1% quantile needs no allocation or sort.
 * `value(t)` gives the t-th observation. Falls back to a sort when k is large.
 */
export function lowQuantile(n: number, q: number, value: (t: number) => number, buf: Float64Array): number {
  if (n === 0) return 0;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  const k = hi + 1;
  if (k > buf.length) {
    const all = new Float64Array(n);
    for (let t = 0; t < n; t++) all[t] = value(t);
    return quantileInPlace(all, q);
  }
  for (let i = 0; i < k; i++) buf[i] = Infinity;
  for (let t = 0; t < n; t++) {
    const v = value(t);
    if (v >= buf[k - 1]) continue;
    let i = k - 1;
    while (i > 0 && buf[i - 1] > v) {
      buf[i] = buf[i - 1];
      i--;
    }
    buf[i] = v;
  }
  return buf[lo] + (h - lo) * (buf[hi] - buf[lo]);
}

/**
 * `lowQuantile` of base[t] + delta × r[t], written out without a callback: the pre-trade VaR
 * check runs it for every order and every step of a resize.
 */
export function lowQuantileShifted(
  base: Float64Array,
  r: Float64Array,
  delta: number,
  q: number,
  buf: Float64Array,
): number {
  const n = base.length;
  if (n === 0) return 0;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  const k = hi + 1;
  if (k > buf.length) return lowQuantile(n, q, (t) => base[t] + delta * r[t], buf);
  for (let i = 0; i < k; i++) buf[i] = Infinity;
  let worst = Infinity;
  for (let t = 0; t < n; t++) {
    const v = base[t] + delta * r[t];
    if (v >= worst) continue;
    let i = k - 1;
    while (i > 0 && buf[i - 1] > v) {
      buf[i] = buf[i - 1];
      i--;
    }
    buf[i] = v;
    worst = buf[k - 1];
  }
  return buf[lo] + (h - lo) * (buf[hi] - buf[lo]);
}

/** Daily P&L of the exposures under each historical day: pnl[t] = Σ exposure_s × r_s[t]. */
export function scenarioPnl(window: ReturnsWindow, exposures: ReadonlyMap<string, number>): Float64Array {
  const pnl = new Float64Array(window.length);
  for (const [symbol, e] of exposures) {
    const r = window.get(symbol);
    if (!r || e === 0) continue;
    for (let t = 0; t < pnl.length; t++) pnl[t] += e * r[t];
  }
  return pnl;
}

/** Historical VaR at `confidence` (a positive loss; 0 when the quantile is a gain). */
export function historicalVarFromPnl(pnl: Float64Array, confidence = 0.99): number {
  const q = quantileInPlace(Float64Array.from(pnl), 1 - confidence);
  return Math.max(0, -q);
}

export function historicalVar(
  window: ReturnsWindow,
  exposures: ReadonlyMap<string, number>,
  confidence = 0.99,
): number {
  return historicalVarFromPnl(scenarioPnl(window, exposures), confidence);
}

/** Portfolio variance wᵀΣw of the exposures in money². */
export function portfolioVariance(window: ReturnsWindow, exposures: ReadonlyMap<string, number>): number {
  const entries = [...exposures].filter(([s, e]) => e !== 0 && window.has(s));
  let v = 0;
  for (let i = 0; i < entries.length; i++) {
    for (let j = 0; j < entries.length; j++) {
      v += entries[i][1] * entries[j][1] * window.cov(entries[i][0], entries[j][0]);
    }
  }
  return Math.max(0, v);
}

/** Parametric (normal, zero mean) 99% VaR: z × σ of portfolio P&L. */
export function parametricVar(window: ReturnsWindow, exposures: ReadonlyMap<string, number>): number {
  return Z99 * Math.sqrt(portfolioVariance(window, exposures));
}
