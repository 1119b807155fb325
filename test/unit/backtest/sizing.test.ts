import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors';
import {
  applySizing,
  parseSizing,
  riskParityWeights,
  sizeBook,
  solveMeanVariance,
} from '../../../src/backtest/sizing';
import { projectBoxL1, solveQp } from '../../../src/backtest/sizing/qp';
import type { Panel } from '../../../src/backtest';
import { mulberry32, normals } from '../../../src/synthetic/random';
import { days } from './fixtures';

const f64 = (xs: number[]): Float64Array => Float64Array.from(xs);

/** A panel whose daily returns are the given columns (close starts at 100). */
function panelFromReturns(returns: number[][]): Panel {
  const k = returns[0].length;
  const n = returns.length + 1;
  const close = Array.from({ length: k }, () => new Float64Array(n));
  for (let a = 0; a < k; a++) {
    close[a][0] = 100;
    for (let t = 1; t < n; t++) close[a][t] = close[a][t - 1] * (1 + returns[t - 1][a]);
  }
  return { symbols: Array.from({ length: k }, (_, a) => `S${a}`), dates: days(n), close };
}

describe('parseSizing', () => {
  it('reads the main value, key=value lists and applies defaults', () => {
    expect(parseSizing('vol-target:0.10')).toEqual({
      method: 'vol-target',
      target: 0.1,
      window: 63,
      maxLeverage: 2,
    });
    expect(parseSizing('kelly:fraction=0.25,cap=1.5')).toMatchObject({
      method: 'kelly',
      fraction: 0.25,
      cap: 1.5,
    });
    expect(parseSizing('mean-variance:longOnly=false,gross=2,net=0')).toMatchObject({
      longOnly: false,
      gross: 2,
      net: 0,
      riskAversion: 5,
    });
    expect(parseSizing('none')).toEqual({ method: 'none' });
  });

  it.each([
    ['lever:2', 'sizing'],
    ['vol-target', 'sizing.target'],
    ['vol-target:-1', 'sizing.target'],
    ['kelly:fraction=2', 'sizing.fraction'],
    ['risk-parity:windw=5', 'sizing.windw'],
    ['mean-variance:longOnly=maybe', 'sizing.longOnly'],
  ])('%s is an InputError naming %s', (text, field) => {
    const err = (() => {
      try {
        parseSizing(text);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).field).toBe(field);
  });
});

describe('sizing methods (hand-computed)', () => {
  // Two assets, 4 returns: asset 0 alternates ±1%, asset 1 alternates ±2% in phase.
  const r = [
    [0.01, 0.02],
    [-0.01, -0.02],
    [0.01, 0.02],
    [-0.01, -0.02],
  ];
  const panel = panelFromReturns(r);
  // Sample variances (ddof 1) over 4 returns: 4 × 0.01² / 3 and 4 × 0.02² / 3; correlation 1.

  it('inverse-vol splits the gross by 1/σ: 2/3 and 1/3 of it', () => {
    const w = sizeBook(panel, f64([1, 1]), 4, { method: 'inverse-vol', window: 4 }, 252);
    expect(w[0]).toBeCloseTo(4 / 3, 12);
    expect(w[1]).toBeCloseTo(2 / 3, 12);
    const short = sizeBook(panel, f64([0.5, -0.5]), 4, { method: 'inverse-vol', window: 4 }, 252);
    expect(short[0]).toBeCloseTo(2 / 3, 12);
    expect(short[1]).toBeCloseTo(-1 / 3, 12);
  });

  it('vol-target scales the book to the target: σ_book = 0.01 × √(4/3) × √252 for 1 unit of asset 0', () => {
    const w = sizeBook(
      panel,
      f64([1, 0]),
      4,
      { method: 'vol-target', target: 0.1, window: 4, maxLeverage: 10 },
      252,
    );
    const vol = 0.01 * Math.sqrt(4 / 3) * Math.sqrt(252);
    expect(w[0]).toBeCloseTo(0.1 / vol, 10);
    expect(w[1]).toBe(0);
    // The leverage cap binds when the target asks for more than maxLeverage / gross.
    const capped = sizeBook(
      panel,
      f64([1, 0]),
      4,
      { method: 'vol-target', target: 10, window: 4, maxLeverage: 2 },
      252,
    );
    expect(capped[0]).toBeCloseTo(2, 12);
  });

  it('kelly: fraction × mean / variance of the book, capped', () => {
    // Returns +2%, +2%, -1%, +1%: mean 0.01, sample variance (0.0001×3 + 0.0004)/3.
    const p = panelFromReturns([[0.02], [0.02], [-0.01], [0.01]]);
    const variance = (0.01 ** 2 * 2 + 0.02 ** 2 + 0) / 3;
    const w = sizeBook(p, f64([1]), 4, { method: 'kelly', fraction: 0.001, cap: 100, window: 4 }, 252);
    expect(w[0]).toBeCloseTo((0.001 * 0.01) / variance, 12);
    const capped = sizeBook(p, f64([1]), 4, { method: 'kelly', fraction: 0.5, cap: 1.5, window: 4 }, 252);
    expect(capped[0]).toBe(1.5);
    // A losing book gets no leverage (Kelly never goes against the strategy's direction).
    const lose = sizeBook(p, f64([-1]), 4, { method: 'kelly', fraction: 0.5, cap: 1.5, window: 4 }, 252);
    expect(lose[0]).toBe(-0);
  });

  it('risk-parity equals inverse-vol with two assets, and equalises risk contributions with three', () => {
    const cov2 = f64([0.04, 0.006, 0.006, 0.01]);
    const x2 = riskParityWeights(cov2, 2);
    expect(x2[0]).toBeCloseTo(1 / 0.2 / (1 / 0.2 + 1 / 0.1), 10);
    const cov3 = f64([0.04, 0.01, 0.0, 0.01, 0.09, 0.02, 0.0, 0.02, 0.01]);
    const x3 = riskParityWeights(cov3, 3);
    const rc = [0, 1, 2].map((i) => x3[i] * [0, 1, 2].reduce((s, j) => s + cov3[i * 3 + j] * x3[j], 0));
    expect(rc[1]).toBeCloseTo(rc[0], 12);
    expect(rc[2]).toBeCloseTo(rc[0], 12);
    expect(x3[0] + x3[1] + x3[2]).toBeCloseTo(1, 12);
  });

  it('applySizing re-sizes only when the targets change and is flat before the window', () => {
    const p = panelFromReturns([
      [0.01, 0.02],
      [-0.01, -0.02],
      [0.01, 0.02],
      [-0.01, -0.02],
      [0.01, 0.02],
      [0.03, -0.02],
    ]);
    const targets = [f64([1, 1, 1, 1, 1, 1, 1]), f64([1, 1, 1, 1, 1, 1, 0])];
    const out = applySizing(p, targets, { method: 'inverse-vol', window: 4 }, 252);
    expect(Array.from(out[0].slice(0, 4))).toEqual([0, 0, 0, 0]);
    expect(out[0][4]).toBeCloseTo(4 / 3, 12);
    expect(out[0][5]).toBe(out[0][4]); // no target change: held, not re-estimated
    expect(out[0][6]).toBe(1); // one asset left: all of the gross (1)
    expect(out[1][6]).toBe(0);
  });
});

describe('the QP solver', () => {
  it('long-only budget: min x1² + 2x2² − 2x1 − 4x2, x1 + x2 = 1, x ≥ 0 gives (1/3, 2/3)', () => {
    const r = solveQp({
      n: 2,
      P: f64([2, 0, 0, 4]),
      q: f64([-2, -4]),
      lo: f64([0, 0]),
      hi: f64([1, 1]),
      netLo: 1,
      netHi: 1,
    });
    expect(r.status).toBe('solved');
    expect(r.x[0]).toBeCloseTo(1 / 3, 6);
    expect(r.x[1]).toBeCloseTo(2 / 3, 6);
  });

  it('a binding cap: P = 2I, q = −(3, 1, 0), w ≤ 0.5, Σw = 1 gives (0.5, 0.5, 0)', () => {
    const r = solveMeanVariance(f64([2, 0, 0, 0, 2, 0, 0, 0, 2]), f64([-3, -1, 0]), {
      longOnly: true,
      maxWeight: 0.5,
    });
    expect(Array.from(r.x).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([0.5, 0.5, 0]);
  });

  it('a binding gross limit: P = I, q = −(3, −2, 0.5), Σ|x| ≤ 2 gives (1.5, −0.5, 0)', () => {
    const r = solveMeanVariance(f64([1, 0, 0, 0, 1, 0, 0, 0, 1]), f64([-3, 2, -0.5]), {
      longOnly: false,
      maxWeight: 10,
      gross: 2,
      net: 10,
    });
    expect(r.x[0]).toBeCloseTo(1.5, 6);
    expect(r.x[1]).toBeCloseTo(-0.5, 6);
    expect(r.x[2]).toBeCloseTo(0, 6);
  });

  it('projectBoxL1 soft-thresholds then clips', () => {
    const out = new Float64Array(3);
    projectBoxL1(f64([3, -2, 0.5]), f64([-1, -1, -1]), f64([1, 1, 1]), 1.5, out);
    // Clipped first: (1, -1, 0.5) has Σ|x| 2.5 > 1.5; τ with min(1, 3-τ) + min(1, 2-τ) + (0.5-τ)⁺ = 1.5
    // is τ = 1.5 (1 + 0.5 + 0): (1, -0.5, 0).
    expect(out[0]).toBeCloseTo(1, 12);
    expect(out[1]).toBeCloseTo(-0.5, 12);
    expect(out[2]).toBe(0);
  });

  it('agrees with scipy (SLSQP on split variables) on a random 25-asset long-short case', () => {
    const n = 25;
    const u = mulberry32(42);
    const z = normals(u);
    const F = Array.from({ length: 40 }, () => Array.from({ length: n }, () => z() * 0.1));
    const P = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (const row of F) s += row[i] * row[j];
        P[i * n + j] = s / 40 + (i === j ? 0.01 : 0);
      }
    const q = Float64Array.from({ length: n }, () => z() * 0.05);
    const cons = { longOnly: false, maxWeight: 0.3, gross: 1.5, net: 0.2 };
    const ours = solveMeanVariance(P, q, cons);
    expect(ours.status).toBe('solved');
    const py = `
import json, sys
import numpy as np
from scipy.optimize import minimize
d = json.load(sys.stdin)
n = d['n']; P = np.array(d['P']).reshape(n, n); q = np.array(d['q'])
G, N, M = d['gross'], d['net'], d['maxWeight']
def f(v):
    w = v[:n] - v[n:]
    return 0.5 * w @ P @ w + q @ w
def g(v):
    w = v[:n] - v[n:]
    gw = P @ w + q
    return np.concatenate([gw, -gw])
cons = [
    {'type': 'ineq', 'fun': lambda v: G - v.sum(), 'jac': lambda v: -np.ones(2 * n)},
    {'type': 'ineq', 'fun': lambda v: N - (v[:n] - v[n:]).sum(), 'jac': lambda v: np.concatenate([-np.ones(n), np.ones(n)])},
    {'type': 'ineq', 'fun': lambda v: N + (v[:n] - v[n:]).sum(), 'jac': lambda v: np.concatenate([np.ones(n), -np.ones(n)])},
]
r = minimize(f, np.zeros(2 * n), jac=g, bounds=[(0, M)] * (2 * n), constraints=cons, method='SLSQP',
             options={'ftol': 1e-15, 'maxiter': 2000})
w = r.x[:n] - r.x[n:]
print(json.dumps({'w': w.tolist(), 'f': float(f(r.x)), 'ok': bool(r.success)}))
`;
    const res = spawnSync('/usr/bin/python3', ['-c', py], {
      input: JSON.stringify({ n, P: Array.from(P), q: Array.from(q), ...cons }),
      encoding: 'utf8',
    });
    expect(res.stderr).toBe('');
    const sp = JSON.parse(res.stdout) as { w: number[]; f: number; ok: boolean };
    expect(sp.ok).toBe(true);
    let f = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += P[i * n + j] * ours.x[j];
      f += 0.5 * ours.x[i] * s + q[i] * ours.x[i];
    }
    expect(f).toBeCloseTo(sp.f, 8);
    for (let i = 0; i < n; i++) expect(ours.x[i]).toBeCloseTo(sp.w[i], 4);
    // The limits hold.
    expect(ours.x.reduce((s, v) => s + Math.abs(v), 0)).toBeLessThanOrEqual(1.5 + 1e-7);
    expect(Math.abs(ours.x.reduce((s, v) => s + v, 0))).toBeLessThanOrEqual(0.2 + 1e-7);
  });
});
