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
  // Demeaned returns asset by asset (each series contiguous), then each covariance as one dot
  // product summed over the window in order: the accumulator stays in a register instead of a
  // pass over the whole k × k matrix per day (the same sums, in the same order, as that pass).
  const r = new Float64Array(window * k);
  for (let j = 0; j < k; j++) {
    const c = close[idx[j]];
    const rj = j * window;
    let mean = 0;
    for (let s = 0; s < window; s++) {
      const u = t - window + 1 + s;
      const x = c[u] / c[u - 1] - 1;
      r[rj + s] = x;
      mean += x;
    }
    mean /= window;
    for (let s = 0; s < window; s++) r[rj + s] -= mean;
  }
  const cov = new Float64Array(k * k);
  const inv = 1 / (window - 1);
  for (let i = 0; i < k; i++) {
    const ri = i * window;
    let j = 0;
    // Four columns at a time share each load of r_i.
    for (; j + 3 <= i; j += 4) {
      const r0 = j * window;
      const r1 = r0 + window;
      const r2 = r1 + window;
      const r3 = r2 + window;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let s = 0; s < window; s++) {
        const x = r[ri + s];
        s0 += x * r[r0 + s];
        s1 += x * r[r1 + s];
        s2 += x * r[r2 + s];
        s3 += x * r[r3 + s];
      }
      cov[i * k + j] = s0 * inv;
      cov[i * k + j + 1] = s1 * inv;
      cov[i * k + j + 2] = s2 * inv;
      cov[i * k + j + 3] = s3 * inv;
    }
    for (; j <= i; j++) {
      const rj = j * window;
      let s0 = 0;
      for (let s = 0; s < window; s++) s0 += r[ri + s] * r[rj + s];
      cov[i * k + j] = s0 * inv;
    }
    for (let jj = 0; jj < i; jj++) cov[jj * k + i] = cov[i * k + jj];
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
