/**
 * A convex quadratic programme for portfolio weights, solved by ADMM in the form of OSQP (Stellato
 * et al., "OSQP: an operator splitting solver for quadratic programs", 2020):
 *
 *   minimise ½ xᵀPx + qᵀx  subject to  lo ≤ x ≤ hi,  Σ|x| ≤ gross,  netLo ≤ Σx ≤ netHi.
 *
 * The constraint rows are A = [I; 1ᵀ]; the box and the gross (L1) limit are one set whose projection
 * is exact (soft-threshold then clip, the threshold found by bisection), so a long-short book with a
 * gross limit needs no split variables and the linear system stays n × n. The system matrix
 * P + σI + ρAᵀA is factorised once (dense Cholesky) and refactorised only when ρ adapts.
 * Why not a library: the npm QP solvers measured on a 500-asset long-only case took seconds
 * (quadprog 1.6.1, a port of Goldfarb-Idnani: 7.8 s; HiGHS 1.15.3's QP through highs-js: 6.2 s),
 * and ml-matrix 6.15.1's Cholesky alone took 0.3-0.5 s at n = 500; see bench/RESULTS.md.
 */

export interface QpProblem {
  readonly n: number;
  /** Row-major n × n, symmetric positive semi-definite. */
  readonly P: Float64Array;
  readonly q: Float64Array;
  readonly lo: Float64Array;
  readonly hi: Float64Array;
  /** Largest Σ|x|. @default Infinity */
  readonly gross?: number;
  /** Bounds of Σx (equal for a budget). @default -Infinity, Infinity */
  readonly netLo?: number;
  readonly netHi?: number;
}

export interface QpOptions {
  /** @default 10000 */
  readonly maxIter?: number;
  /** Absolute and relative tolerances of the primal and dual residuals. @default 1e-8 */
  readonly epsAbs?: number;
  readonly epsRel?: number;
  /** Initial ADMM penalty. @default 2 × the mean of P's diagonal */
  readonly rho?: number;
  /** Iterations between penalty adaptations. @default 25 */
  readonly adaptEvery?: number;
  /** Starting point (warm start), e.g. the previous rebalance's weights. */
  readonly x0?: Float64Array;
}

export interface QpResult {
  readonly x: Float64Array;
  readonly iterations: number;
  readonly status: 'solved' | 'max-iterations';
  readonly primalResidual: number;
  readonly dualResidual: number;
  /** Cholesky factorisations of the system (the first and one per adaptation of ρ). */
  readonly factorisations: number;
}

/** In-place lower Cholesky factor of a row-major SPD matrix; returns false if not positive definite. */
export function choleskyInPlace(a: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let d = a[rj + j];
    for (let k = 0; k < j; k++) d -= a[rj + k] * a[rj + k];
    if (!(d > 0)) return false;
    const ljj = Math.sqrt(d);
    a[rj + j] = ljj;
    const inv = 1 / ljj;
    let i = j + 1;
    // Four rows at a time share each load of row j (the same sums in the same order per row).
    for (; i + 3 < n; i += 4) {
      const r0 = i * n;
      const r1 = r0 + n;
      const r2 = r1 + n;
      const r3 = r2 + n;
      let s0 = a[r0 + j];
      let s1 = a[r1 + j];
      let s2 = a[r2 + j];
      let s3 = a[r3 + j];
      for (let k = 0; k < j; k++) {
        const x = a[rj + k];
        s0 -= a[r0 + k] * x;
        s1 -= a[r1 + k] * x;
        s2 -= a[r2 + k] * x;
        s3 -= a[r3 + k] * x;
      }
      a[r0 + j] = s0 * inv;
      a[r1 + j] = s1 * inv;
      a[r2 + j] = s2 * inv;
      a[r3 + j] = s3 * inv;
    }
    for (; i < n; i++) {
      const ri = i * n;
      let s = a[ri + j];
      for (let k = 0; k < j; k++) s -= a[ri + k] * a[rj + k];
      a[ri + j] = s * inv;
    }
  }
  return true;
}

/** Solves L Lᵀ x = b with the lower factor from choleskyInPlace (b overwritten by x). */
export function choleskySolve(l: Float64Array, n: number, b: Float64Array): void {
  let i = 0;
  // Lx = b four rows at a time: their sums over the solved part are independent (four chains
  // instead of one), then the rows finish inside the block; each row's terms keep their order.
  for (; i + 3 < n; i += 4) {
    const r0 = i * n;
    const r1 = r0 + n;
    const r2 = r1 + n;
    const r3 = r2 + n;
    let s0 = b[i];
    let s1 = b[i + 1];
    let s2 = b[i + 2];
    let s3 = b[i + 3];
    for (let k = 0; k < i; k++) {
      const x = b[k];
      s0 -= l[r0 + k] * x;
      s1 -= l[r1 + k] * x;
      s2 -= l[r2 + k] * x;
      s3 -= l[r3 + k] * x;
    }
    const x0 = s0 / l[r0 + i];
    s1 -= l[r1 + i] * x0;
    s2 -= l[r2 + i] * x0;
    s3 -= l[r3 + i] * x0;
    const x1 = s1 / l[r1 + i + 1];
    s2 -= l[r2 + i + 1] * x1;
    s3 -= l[r3 + i + 1] * x1;
    const x2 = s2 / l[r2 + i + 2];
    s3 -= l[r3 + i + 2] * x2;
    b[i] = x0;
    b[i + 1] = x1;
    b[i + 2] = x2;
    b[i + 3] = s3 / l[r3 + i + 3];
  }
  for (; i < n; i++) {
    const ri = i * n;
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[ri + k] * b[k];
    b[i] = s / l[ri + i];
  }
  // Lᵀx = b column by column: x_i is final once the rows below have subtracted theirs, and row i
  // of L (contiguous) then updates every earlier b_k; walking Lᵀ's rows would stride down L.
  for (let i = n - 1; i >= 0; i--) {
    const ri = i * n;
    const xi = b[i] / l[ri + i];
    b[i] = xi;
    for (let k = 0; k < i; k++) b[k] -= l[ri + k] * xi;
  }
}

/** Euclidean projection of v onto {lo ≤ x ≤ hi, Σ|x| ≤ gross} (lo ≤ 0 ≤ hi), written to out. */
export function projectBoxL1(
  v: Float64Array,
  lo: Float64Array,
  hi: Float64Array,
  gross: number,
  out: Float64Array,
): void {
  const n = v.length;
  let sum = 0;
  let vmax = 0;
  for (let i = 0; i < n; i++) {
    const c = Math.min(hi[i], Math.max(lo[i], v[i]));
    out[i] = c;
    sum += Math.abs(c);
    vmax = Math.max(vmax, Math.abs(v[i]));
  }
  if (sum <= gross) return;
  // Per coordinate the minimiser of ½(x - v)² + τ|x| over [lo, hi] is clip(soft(v, τ)); Σ|x| falls
  // as τ grows, so bisect τ until the gross limit binds.
  let a = 0;
  let b = vmax;
  for (let it = 0; it < 100 && b - a > 1e-16 * (1 + vmax); it++) {
    const tau = 0.5 * (a + b);
    let s = 0;
    for (let i = 0; i < n; i++) {
      const m = Math.abs(v[i]) - tau;
      if (m > 0) s += Math.abs(Math.min(hi[i], Math.max(lo[i], Math.sign(v[i]) * m)));
    }
    if (s > gross) a = tau;
    else b = tau;
  }
  for (let i = 0; i < n; i++) {
    const m = Math.abs(v[i]) - b;
    out[i] = m > 0 ? Math.min(hi[i], Math.max(lo[i], Math.sign(v[i]) * m)) : 0;
  }
}

const normInf = (x: Float64Array): number => {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]));
  return m;
};

export function solveQp(p: QpProblem, opts: QpOptions = {}): QpResult {
  const { n, P, q, lo, hi } = p;
  const gross = p.gross ?? Infinity;
  const netLo = p.netLo ?? -Infinity;
  const netHi = p.netHi ?? Infinity;
  const maxIter = opts.maxIter ?? 10_000;
  const epsAbs = opts.epsAbs ?? 1e-8;
  const epsRel = opts.epsRel ?? 1e-8;
  const sigma = 1e-6;
  const alpha = 1.6;
  const hasNet = Number.isFinite(netLo) || Number.isFinite(netHi);
  // OSQP's choice: equality rows get a much stiffer penalty than inequality rows.
  const netScale = netLo === netHi ? 1e3 : 1;
  // ρ starts at the scale of P's diagonal (measured: far fewer iterations than a fixed 0.1).
  let trace = 0;
  for (let i = 0; i < n; i++) trace += P[i * n + i];
  let rho = opts.rho ?? (trace > 0 ? (2 * trace) / n : 0.1);
  const adaptEvery = opts.adaptEvery ?? 25;
  const K = new Float64Array(n * n);
  const factor = (): void => {
    const rn = hasNet ? rho * netScale : 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) K[i * n + j] = P[i * n + j] + rn;
      K[i * n + i] += sigma + rho;
    }
    if (!choleskyInPlace(K, n)) throw new Error('qp: the objective matrix is not positive semi-definite');
  };
  factor();

  const x = new Float64Array(n);
  if (opts.x0) x.set(opts.x0);
  const zw = new Float64Array(n);
  projectBoxL1(x, lo, hi, gross, zw);
  let zn = 0;
  for (let i = 0; i < n; i++) zn += zw[i];
  zn = Math.min(netHi, Math.max(netLo, zn));
  const yw = new Float64Array(n);
  let yn = 0;
  const xt = new Float64Array(n);
  const v = new Float64Array(n);
  const znew = new Float64Array(n);
  const px = new Float64Array(n);
  let rPrim = Infinity;
  let rDual = Infinity;
  let refactors = 0;
  let it = 0;
  for (; it < maxIter; it++) {
    const rn = rho * netScale;
    const netTerm = hasNet ? rn * zn - yn : 0;
    for (let i = 0; i < n; i++) xt[i] = sigma * x[i] - q[i] + rho * zw[i] - yw[i] + netTerm;
    choleskySolve(K, n, xt);
    let sumXt = 0;
    for (let i = 0; i < n; i++) sumXt += xt[i];
    for (let i = 0; i < n; i++) {
      x[i] = alpha * xt[i] + (1 - alpha) * x[i];
      v[i] = alpha * xt[i] + (1 - alpha) * zw[i] + yw[i] / rho;
    }
    projectBoxL1(v, lo, hi, gross, znew);
    for (let i = 0; i < n; i++) {
      yw[i] += rho * (alpha * xt[i] + (1 - alpha) * zw[i] - znew[i]);
      zw[i] = znew[i];
    }
    if (hasNet) {
      const relaxed = alpha * sumXt + (1 - alpha) * zn;
      const znNew = Math.min(netHi, Math.max(netLo, relaxed + yn / rn));
      yn += rn * (relaxed - znNew);
      zn = znNew;
    }
    if (it % 10 !== 9 && it !== maxIter - 1) continue;
    // Residuals (OSQP section 3.4): primal ‖Ax - z‖∞, dual ‖Px + q + Aᵀy‖∞.
    let sumX = 0;
    rPrim = 0;
    for (let i = 0; i < n; i++) {
      sumX += x[i];
      rPrim = Math.max(rPrim, Math.abs(x[i] - zw[i]));
    }
    if (hasNet) rPrim = Math.max(rPrim, Math.abs(sumX - zn));
    let pxMax = 0;
    let aty = 0;
    rDual = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      const ri = i * n;
      for (let j = 0; j < n; j++) s += P[ri + j] * x[j];
      px[i] = s;
      pxMax = Math.max(pxMax, Math.abs(s));
      const at = yw[i] + (hasNet ? yn : 0);
      aty = Math.max(aty, Math.abs(at));
      rDual = Math.max(rDual, Math.abs(s + q[i] + at));
    }
    const axMax = Math.max(normInf(x), Math.abs(sumX));
    const zMax = Math.max(normInf(zw), Math.abs(zn));
    const epsPrim = epsAbs + epsRel * Math.max(axMax, zMax);
    const epsDual = epsAbs + epsRel * Math.max(pxMax, normInf(q), aty);
    if (rPrim <= epsPrim && rDual <= epsDual) {
      it++;
      return {
        x: zw.slice(),
        iterations: it,
        status: 'solved',
        primalResidual: rPrim,
        dualResidual: rDual,
        factorisations: refactors + 1,
      };
    }
    // Adapt ρ to balance the scaled residuals; refactorise only on a large change.
    if (it % adaptEvery === adaptEvery - 1 && refactors < 30) {
      const ratio = Math.sqrt(
        rPrim / Math.max(axMax, zMax, 1e-30) / (rDual / Math.max(pxMax, normInf(q), aty, 1e-30) || 1e-30),
      );
      if (Number.isFinite(ratio) && (ratio > 5 || ratio < 0.2)) {
        const next = Math.min(1e6, Math.max(1e-6, rho * ratio));
        // y is kept: it is the multiplier estimate, independent of ρ.
        rho = next;
        factor();
        refactors++;
      }
    }
  }
  return {
    x: zw.slice(),
    iterations: it,
    status: 'max-iterations',
    primalResidual: rPrim,
    dualResidual: rDual,
    factorisations: refactors + 1,
  };
}
