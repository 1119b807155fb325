/** Trailing risk estimates from a panel's closes, using bars up to and including t only. */

/**
 * Sample covariance (ddof 1) of the simple daily returns of the symbols `idx` over the `window`
 * returns ending at bar t (returns t-window+1 .. t), row-major k × k, per period (not annualised).
 * Needs t >= window.
 */
export function trailingCovariance(
  close: readonly Float64Array[],
  idx: readonly number[],
  t: number,
  window: number,
): Float64Array {
  const k = idx.length;
  const r = new Float64Array(window * k);
  for (let j = 0; j < k; j++) {
    const c = close[idx[j]];
    let mean = 0;
    for (let s = 0; s < window; s++) {
      const u = t - window + 1 + s;
      const x = c[u] / c[u - 1] - 1;
      r[s * k + j] = x;
      mean += x;
    }
    mean /= window;
    for (let s = 0; s < window; s++) r[s * k + j] -= mean;
  }
  const cov = new Float64Array(k * k);
  const inv = 1 / (window - 1);
  for (let s = 0; s < window; s++) {
    const row = s * k;
    for (let i = 0; i < k; i++) {
      const ri = r[row + i];
      if (ri === 0) continue;
      const ci = i * k;
      for (let j = 0; j <= i; j++) cov[ci + j] += ri * r[row + j];
    }
  }
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      const v = cov[i * k + j] * inv;
      cov[i * k + j] = v;
      cov[j * k + i] = v;
    }
  }
  return cov;
}

/** Sample standard deviation (ddof 1) of the `window` simple returns of one series ending at bar t. */
export function trailingVol(close: Float64Array, t: number, window: number): number {
  let s = 0;
  let ss = 0;
  for (let u = t - window + 1; u <= t; u++) {
    const x = close[u] / close[u - 1] - 1;
    s += x;
    ss += x * x;
  }
  return Math.sqrt(Math.max(0, (ss - (s * s) / window) / (window - 1)));
}
