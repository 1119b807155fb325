/**
 * Position sizing for every strategy: the strategy's target weights say what to hold and in which
 * direction; a sizing method turns them into the book held, at every bar where the targets change
 * (a rebalance), from data up to that bar only. Between rebalances the sized book is held as it is.
 *
 * `--sizing` text: `method` or `method:value` (the method's main parameter) or
 * `method:key=value,key=value`, e.g. `vol-target:0.10`, `kelly:fraction=0.5,cap=1.5`,
 * `risk-parity:window=126`, `mean-variance:riskAversion=5,longOnly=false,gross=2,net=0`.
 */
import * as z from 'zod';
import { describeZodIssues, InputError } from '../../errors';
import type { Panel } from '../types';
import { trailingCovariance, trailingVol } from './estimate';
import { solveQp, type QpResult } from './qp';

const window = z.number().int().min(2).max(100_000);

const schemas = {
  none: z.object({}).strict(),
  'vol-target': z
    .object({
      target: z.number().gt(0).max(10),
      window: window.default(63),
      maxLeverage: z.number().gt(0).max(100).default(2),
    })
    .strict(),
  kelly: z
    .object({
      fraction: z.number().gt(0).max(1).default(0.5),
      cap: z.number().gt(0).max(100).default(1),
      window: window.default(252),
    })
    .strict(),
  'inverse-vol': z.object({ window: window.default(63) }).strict(),
  'risk-parity': z.object({ window: window.default(126) }).strict(),
  'mean-variance': z
    .object({
      riskAversion: z.number().gt(0).max(1e6).default(5),
      longOnly: z.boolean().default(true),
      gross: z.number().gt(0).max(100).optional(),
      net: z.number().min(-100).max(100).optional(),
      maxWeight: z.number().gt(0).max(100).default(1),
      turnover: z.number().min(0).max(1e6).default(0),
      ic: z.number().gt(0).max(1).default(0.05),
      shrink: z.number().min(0).max(1).default(0.1),
      window: window.default(252),
    })
    .strict(),
} as const;

/** The main parameter of each method (`vol-target:0.10` sets target). */
const MAIN: Readonly<Record<string, string>> = {
  'vol-target': 'target',
  kelly: 'fraction',
  'inverse-vol': 'window',
  'risk-parity': 'window',
  'mean-variance': 'riskAversion',
};

export type SizingMethod = keyof typeof schemas;
export const sizingMethods = Object.keys(schemas) as readonly SizingMethod[];

/** A parsed `--sizing`: the method and its parameters, defaults applied. */
export type Sizing = {
  [M in SizingMethod]: { method: M } & z.infer<(typeof schemas)[M]>;
}[SizingMethod];
export type MeanVarianceSizing = Extract<Sizing, { method: 'mean-variance' }>;

function scalar(s: string): unknown {
  const t = s.trim();
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (t !== '' && Number.isFinite(Number(t))) return Number(t);
  return t;
}

/** Parses `--sizing` text; InputError naming `sizing` or `sizing.<param>`. */
export function parseSizing(text: string): Sizing {
  const colon = text.indexOf(':');
  const method = (colon < 0 ? text : text.slice(0, colon)).trim();
  if (!Object.hasOwn(schemas, method)) {
    throw new InputError(`sizing: unknown method "${method}" (known: ${sizingMethods.join(', ')})`, 'sizing');
  }
  const raw: Record<string, unknown> = {};
  const rest = colon < 0 ? '' : text.slice(colon + 1).trim();
  if (rest !== '') {
    for (const part of rest.split(',')) {
      const eq = part.indexOf('=');
      if (eq < 0) {
        const main = MAIN[method];
        if (!main || Object.hasOwn(raw, main))
          throw new InputError(`sizing: expected key=value in "${part}"`, 'sizing');
        raw[main] = scalar(part);
      } else raw[part.slice(0, eq).trim()] = scalar(part.slice(eq + 1));
    }
  }
  const parsed = schemas[method as SizingMethod].safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const key =
      first.code === 'unrecognized_keys'
        ? (first as { keys: string[] }).keys[0]
        : first.path.map(String).join('.');
    throw new InputError(describeZodIssues(parsed.error.issues, 'sizing'), key ? `sizing.${key}` : 'sizing');
  }
  return { method, ...parsed.data } as Sizing;
}

/** Trailing history (returns) a sizing needs before it can size a book. */
export function sizingWindow(s: Sizing): number {
  return s.method === 'none' ? 0 : s.window;
}

/**
 * Applies a sizing to target weights `targets[a][t]`: re-sized at every bar whose targets differ
 * from the bar before (and at the first bar with enough history, if the targets were already
 * set); the book is flat until `window` returns exist.
 */
export function applySizing(
  panel: Panel,
  targets: readonly Float64Array[],
  sizing: Sizing,
  periodsPerYear: number,
): Float64Array[] {
  if (sizing.method === 'none') return targets.map((t) => t);
  const k = targets.length;
  const n = panel.dates.length;
  const out = targets.map(() => new Float64Array(n));
  const raw = new Float64Array(k);
  let prevSized: Float64Array = new Float64Array(k);
  let sizedOnce = false;
  for (let t = 0; t < n; t++) {
    let changed = t === 0;
    for (let a = 0; a < k; a++) if (t > 0 && targets[a][t] !== targets[a][t - 1]) changed = true;
    const ready = t >= sizing.window;
    if (ready && (changed || !sizedOnce)) {
      for (let a = 0; a < k; a++) raw[a] = targets[a][t];
      prevSized = sizeBook(panel, raw, t, sizing, periodsPerYear, prevSized);
      sizedOnce = true;
    }
    if (ready) for (let a = 0; a < k; a++) out[a][t] = prevSized[a];
  }
  return out;
}

/** The sized book for raw targets `raw` at bar t (needs t >= window). */
export function sizeBook(
  panel: Panel,
  raw: Float64Array,
  t: number,
  sizing: Exclude<Sizing, { method: 'none' }>,
  periodsPerYear: number,
  previous: Float64Array = new Float64Array(raw.length),
): Float64Array {
  const k = raw.length;
  const active: number[] = [];
  let gross = 0;
  for (let a = 0; a < k; a++) {
    if (raw[a] !== 0) {
      active.push(a);
      gross += Math.abs(raw[a]);
    }
  }
  const out = new Float64Array(k);
  if (sizing.method !== 'mean-variance' && active.length === 0) return out;
  switch (sizing.method) {
    case 'vol-target': {
      const cov = trailingCovariance(panel.close, active, t, sizing.window);
      const w = active.map((a) => raw[a]);
      const vol = Math.sqrt(Math.max(0, quad(cov, w)) * periodsPerYear);
      const scale = Math.min(sizing.maxLeverage / gross, vol > 0 ? sizing.target / vol : Infinity);
      for (const a of active) out[a] = raw[a] * scale;
      return out;
    }
    case 'kelly': {
      // Kelly leverage of the book normalised to gross 1: mean / variance of its per-period
      // returns over the window (scale-free: the same for daily or annual units).
      let s = 0;
      let ss = 0;
      const m = sizing.window;
      for (let u = t - m + 1; u <= t; u++) {
        let r = 0;
        for (const a of active) r += (raw[a] / gross) * (panel.close[a][u] / panel.close[a][u - 1] - 1);
        s += r;
        ss += r * r;
      }
      const mean = s / m;
      const variance = (ss - (s * s) / m) / (m - 1);
      const lev = variance > 0 ? Math.min(sizing.cap, Math.max(0, (sizing.fraction * mean) / variance)) : 0;
      for (const a of active) out[a] = (raw[a] / gross) * lev;
      return out;
    }
    case 'inverse-vol': {
      let sumInv = 0;
      const inv = active.map((a) => {
        const v = trailingVol(panel.close[a], t, sizing.window);
        const x = v > 0 ? 1 / v : 0;
        sumInv += x;
        return x;
      });
      if (sumInv === 0) return out;
      active.forEach((a, i) => (out[a] = (Math.sign(raw[a]) * inv[i] * gross) / sumInv));
      return out;
    }
    case 'risk-parity': {
      const cov = trailingCovariance(panel.close, active, t, sizing.window);
      const sign = active.map((a) => Math.sign(raw[a]));
      const m = active.length;
      for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) cov[i * m + j] *= sign[i] * sign[j];
      const x = riskParityWeights(cov, m);
      active.forEach((a, i) => (out[a] = sign[i] * x[i] * gross));
      return out;
    }
    case 'mean-variance': {
      const all = Array.from({ length: k }, (_, a) => a);
      const cov = trailingCovariance(panel.close, all, t, sizing.window);
      return meanVarianceBook(cov, raw, previous, sizing, periodsPerYear).x;
    }
  }
}

function quad(cov: Float64Array, w: readonly number[]): number {
  const m = w.length;
  let s = 0;
  for (let i = 0; i < m; i++) {
    let r = 0;
    for (let j = 0; j < m; j++) r += cov[i * m + j] * w[j];
    s += w[i] * r;
  }
  return s;
}

/**
 * Equal risk contribution weights (sum 1, all > 0) for a covariance, by cyclical coordinate
 * descent on ½xᵀΣx − (1/m)Σ ln x (Griveau-Billion, Richard and Roncalli, 2013), then normalised.
 */
export function riskParityWeights(cov: Float64Array, m: number): Float64Array {
  const x = new Float64Array(m);
  for (let i = 0; i < m; i++) x[i] = 1 / Math.sqrt(Math.max(cov[i * m + i], 1e-300)) / m;
  const b = 1 / m;
  for (let sweep = 0; sweep < 10_000; sweep++) {
    let change = 0;
    for (let i = 0; i < m; i++) {
      const cii = cov[i * m + i];
      if (!(cii > 0)) continue;
      let bi = 0;
      for (let j = 0; j < m; j++) if (j !== i) bi += cov[i * m + j] * x[j];
      const xi = (-bi + Math.sqrt(bi * bi + 4 * cii * b)) / (2 * cii);
      change = Math.max(change, Math.abs(xi - x[i]) / Math.max(xi, 1e-300));
      x[i] = xi;
    }
    if (change < 1e-12) break;
  }
  let s = 0;
  for (let i = 0; i < m; i++) s += x[i];
  for (let i = 0; i < m; i++) x[i] /= s;
  return x;
}

/**
 * Mean-variance with constraints: maximise αᵀw − (λ/2) wᵀΣw − κ‖w − w_prev‖², with
 * α_a = ic × σ_a × z_a (Grinold's alpha from the strategy's targets: z the targets divided by
 * their cross-sectional standard deviation, σ_a annualised), Σ annualised and shrunk towards its
 * diagonal, and the constraints of `s` (long-only: 0 ≤ w ≤ maxWeight, Σw = net (default 1);
 * long-short: |w| ≤ maxWeight, Σ|w| ≤ gross (default 2), |Σw| ≤ net (default 0)).
 */
export function meanVarianceBook(
  covPerPeriod: Float64Array,
  raw: Float64Array,
  previous: Float64Array,
  s: MeanVarianceSizing,
  periodsPerYear: number,
): QpResult {
  const k = raw.length;
  let m2 = 0;
  for (let a = 0; a < k; a++) m2 += raw[a] * raw[a];
  const sd = Math.sqrt(m2 / k);
  const P = new Float64Array(k * k);
  const q = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const c = covPerPeriod[i * k + j] * periodsPerYear * (i === j ? 1 : 1 - s.shrink);
      P[i * k + j] = s.riskAversion * c;
    }
    P[i * k + i] += 2 * s.turnover;
    const vol = Math.sqrt(covPerPeriod[i * k + i] * periodsPerYear);
    const alpha = sd > 0 ? (s.ic * vol * raw[i]) / sd : 0;
    q[i] = -(alpha + 2 * s.turnover * previous[i]);
  }
  return solveMeanVariance(P, q, s);
}

/** The QP of meanVarianceBook from its objective (P, q): shared by the bench and the scipy test. */
export function solveMeanVariance(
  P: Float64Array,
  q: Float64Array,
  s: Pick<MeanVarianceSizing, 'longOnly' | 'gross' | 'net' | 'maxWeight'>,
): QpResult {
  const k = q.length;
  const lo = new Float64Array(k).fill(s.longOnly ? 0 : -s.maxWeight);
  const hi = new Float64Array(k).fill(s.maxWeight);
  if (s.longOnly) {
    const budget = s.net ?? 1;
    if (budget < 0 || budget > k * s.maxWeight) {
      throw new InputError(
        `sizing.net: a long-only book of ${k} assets capped at ${s.maxWeight} cannot sum to ${budget}`,
        'sizing.net',
      );
    }
    return solveQp({ n: k, P, q, lo, hi, gross: s.gross, netLo: budget, netHi: budget });
  }
  const net = Math.abs(s.net ?? 0);
  return solveQp({ n: k, P, q, lo, hi, gross: s.gross ?? 2, netLo: -net, netHi: net });
}
