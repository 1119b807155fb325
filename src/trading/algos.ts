/**
 * Execution algorithms: slice a parent order into child orders on a schedule. TWAP spreads it
 * evenly in time, VWAP in proportion to a volume curve (from lake bars), POV follows a share of the
 * market volume as it trades, IS (implementation shortfall) front-loads by an urgency that trades
 * impact against price risk (Almgren-Chriss). Quantities are whole shares and always add up to the parent (POV:
 * at most the parent; what the market did not allow stays unfilled). Locally a simulated clock
 * runs a schedule instantly. A signal carries an `algo` spec (validated here); the execution path
 * turns each parent into children (see execution.ts `scheduleParent` and `submitChildOrder`).
 */
import * as z from 'zod';
import { InputError } from '../errors';

export interface ChildOrder {
  /** Epoch ms when the child is released. */
  readonly time: number;
  readonly qty: number;
}

function checkParent(qty: number): void {
  if (!Number.isSafeInteger(qty) || qty <= 0)
    throw new InputError(`qty: must be a positive whole number, got ${qty}`, 'qty');
}

/**
 * Splits `qty` into whole parts proportional to `weights` (largest remainder: the parts add up
 * to `qty` exactly and each is within one share of its exact share).
 */
export function apportion(qty: number, weights: readonly number[]): number[] {
  const total = weights.reduce((a, w) => a + (w > 0 ? w : 0), 0);
  if (!(total > 0)) throw new InputError('weights: need at least one positive weight', 'weights');
  const exact = weights.map((w) => ((w > 0 ? w : 0) / total) * qty);
  const parts = exact.map(Math.floor);
  let left = qty - parts.reduce((a, b) => a + b, 0);
  const order = exact
    .map((e, i) => [e - Math.floor(e), i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) parts[order[k][1]]++;
  return parts;
}

/** TWAP: `slices` equal children at start, start + step, ... (step = (end − start) / slices). */
export function twapSchedule(qty: number, start: number, end: number, slices: number): ChildOrder[] {
  checkParent(qty);
  if (!Number.isInteger(slices) || slices < 1)
    throw new InputError(`slices: must be a whole number >= 1, got ${slices}`, 'slices');
  if (!(end > start)) throw new InputError('end: must be after start', 'end');
  const step = (end - start) / slices;
  return apportion(qty, new Array<number>(slices).fill(1))
    .map((q, i) => ({ time: Math.round(start + i * step), qty: q }))
    .filter((c) => c.qty > 0);
}

export interface VolumeBucket {
  /** Epoch ms of the bucket start. */
  readonly time: number;
  readonly volume: number;
}

/** VWAP: children proportional to the expected volume of each bucket. */
export function vwapSchedule(qty: number, curve: readonly VolumeBucket[]): ChildOrder[] {
  checkParent(qty);
  if (curve.length === 0) throw new InputError('curve: empty volume curve', 'curve');
  return apportion(
    qty,
    curve.map((b) => b.volume),
  )
    .map((q, i) => ({ time: curve[i].time, qty: q }))
    .filter((c) => c.qty > 0);
}

/**
 * POV: in each bucket trade at most `rate` of the volume the market traded (whole shares), until
 * the parent is done. Returns the children and what is left unfilled.
 */
export function povSchedule(
  qty: number,
  rate: number,
  volumes: readonly VolumeBucket[],
): { children: ChildOrder[]; remaining: number } {
  checkParent(qty);
  if (!(rate > 0 && rate <= 1)) throw new InputError(`rate: must be in (0, 1], got ${rate}`, 'rate');
  const children: ChildOrder[] = [];
  let remaining = qty;
  for (const b of volumes) {
    if (remaining === 0) break;
    const q = Math.min(remaining, Math.floor(rate * b.volume));
    if (q > 0) {
      children.push({ time: b.time, qty: q });
      remaining -= q;
    }
  }
  return { children, remaining };
}

/**
/**
 * Almgren-Chriss urgency κ (per unit of time) of the discrete problem with step τ: the holdings
 * minimising E + λ·V, with expected impact cost E = η̃·Σ n_j²/τ and variance V = σ²·Σ τ·x_j², solve
 * (2/τ²)(cosh κτ − 1) = κ̃² = λσ²/η̃, η̃ = η − γτ/2 (Almgren and Chriss, "Optimal execution of
 * portfolio transactions", 2000). λ: risk aversion; σ: volatility; η, γ: temporary and permanent
 * impact, all in one system of units (λσ²/η̃ has the units of 1/time²).
 */
export function almgrenChrissKappa(p: {
  readonly riskAversion: number;
  readonly sigma: number;
  readonly eta: number;
  readonly gamma?: number;
  readonly tau: number;
}): number {
  const etaTilde = p.eta - ((p.gamma ?? 0) * p.tau) / 2;
  if (!(etaTilde > 0)) throw new InputError('algo.impact: η − γτ/2 must be > 0', 'algo.impact');
  const k2 = (p.riskAversion * p.sigma * p.sigma) / etaTilde;
  return Math.acosh(1 + (k2 * p.tau * p.tau) / 2) / p.tau;
}

/**
 * The Almgren-Chriss trajectory: shares still to trade at t_j = jT/N, j = 0..N, for urgency κT
 * (dimensionless): x_j = X·sinh(κT·(1 − j/N)) / sinh(κT). κT = 0 is the straight line (TWAP); a
 * larger κT trades more at the start (less exposure to the price for more impact).
 */
export function almgrenChrissTrajectory(qty: number, slices: number, kappaT: number): number[] {
  const out: number[] = [];
  for (let j = 0; j <= slices; j++) {
    const f = 1 - j / slices;
    out.push(kappaT < 1e-9 ? qty * f : (qty * Math.sinh(kappaT * f)) / Math.sinh(kappaT));
  }
  return out;
}

/**
 * Implementation shortfall (Almgren-Chriss): `slices` children at start, start + τ, ... (τ = (end −
 * start) / slices); child j trades x_j − x_{j+1} of the trajectory for urgency κT, in whole shares
 * (largest remainder: they add up to `qty`, each within one share of the exact trade).
 */
export function isSchedule(
  qty: number,
  start: number,
  end: number,
  slices: number,
  kappaT: number,
): ChildOrder[] {
  checkParent(qty);
  if (!Number.isInteger(slices) || slices < 1)
    throw new InputError(`slices: must be a whole number >= 1, got ${slices}`, 'slices');
  if (!(end > start)) throw new InputError('end: must be after start', 'end');
  if (!(kappaT >= 0 && kappaT <= 50))
    throw new InputError(`algo.urgency: must be between 0 and 50, got ${kappaT}`, 'algo.urgency');
  const x = almgrenChrissTrajectory(qty, slices, kappaT);
  const trades = x.slice(0, slices).map((v, j) => v - x[j + 1]);
  const step = (end - start) / slices;
  return apportion(qty, trades)
    .map((q, i) => ({ time: Math.round(start + i * step), qty: q }))
    .filter((c) => c.qty > 0);
}

/** Seconds of one trading day, the time unit of an IS spec's volatility (a US session). */
export const SESSION_SECONDS = 23_400;

/**
 * κT of an IS spec: its `urgency`, or from risk aversion, daily volatility and temporary impact
 * with τ = durationSec / slices in trading days (SESSION_SECONDS).
 */
export function urgencyOf(spec: Extract<AlgoSpec, { algo: 'is' }>): number {
  const hasRisk =
    spec.riskAversion !== undefined || spec.volatility !== undefined || spec.impact !== undefined;
  if (spec.urgency !== undefined) {
    if (hasRisk)
      throw new InputError(
        'algo.urgency: give urgency or riskAversion, volatility and impact, not both',
        'algo.urgency',
      );
    return spec.urgency;
  }
  if (spec.riskAversion === undefined || spec.volatility === undefined || spec.impact === undefined)
    throw new InputError(
      'algo.urgency: needs urgency, or all of riskAversion, volatility and impact',
      'algo.urgency',
    );
  const T = spec.durationSec / SESSION_SECONDS;
  const kappa = almgrenChrissKappa({
    riskAversion: spec.riskAversion,
    sigma: spec.volatility,
    eta: spec.impact,
    tau: T / spec.slices,
  });
  return Math.min(50, kappa * T);
}

/**
 * Intraday volume curve from 1-minute bars of past days: mean volume per minute of the day,
 * placed on the given trading day (epoch ms of its midnight UTC).
 */
export function volumeCurveFromBars(
  bars: readonly { time: number; volume: number }[],
  day: number,
): VolumeBucket[] {
  const sum = new Map<number, { v: number; n: number }>();
  for (const b of bars) {
    const minute = Math.floor((b.time % 86_400_000) / 60_000);
    const s = sum.get(minute) ?? { v: 0, n: 0 };
    s.v += b.volume;
    s.n++;
    sum.set(minute, s);
  }
  return [...sum.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([m, s]) => ({ time: day + m * 60_000, volume: s.v / s.n }));
}

const DAY_MS = 86_400_000;
/** Default days of past 1-minute bars a VWAP curve is built from when the signal gives none. */
export const DEFAULT_CURVE_LOOKBACK_DAYS = 20;

/** The lookback of a VWAP curve: whole UTC days before the schedule's day (never the day itself). */
export function curveLookback(start: number, days: number): { from: number; to: number } {
  const day = Math.floor(start / DAY_MS) * DAY_MS;
  return { from: day - days * DAY_MS, to: day - 1 };
}

/**
 * The volume curve of a schedule [start, end) from past 1-minute bars (labelled by their close
 * time): the mean volume of each minute of the day, laid on the schedule's days, the minutes inside
 * the window kept; merged into at most `maxBuckets` consecutive buckets. Empty when the bars have
 * no volume in the window's minutes.
 */
export function vwapCurveForWindow(
  bars: readonly { time: number; volume: number }[],
  start: number,
  end: number,
  maxBuckets: number = MAX_SLICES,
): VolumeBucket[] {
  const usable = bars
    .filter((b) => Number.isFinite(b.volume) && b.volume >= 0)
    .map((b) => ({ time: b.time - 60_000, volume: b.volume })); // bucket = the minute the bar covers
  const profile = volumeCurveFromBars(usable, 0);
  const out: VolumeBucket[] = [];
  for (let day = Math.floor(start / DAY_MS) * DAY_MS; day < end; day += DAY_MS) {
    for (const p of profile) {
      const t = day + p.time;
      if (t >= start && t < end) out.push({ time: t, volume: p.volume });
    }
  }
  if (!out.some((b) => b.volume > 0)) return [];
  const k = Math.ceil(out.length / maxBuckets);
  if (k <= 1) return out;
  const merged: VolumeBucket[] = [];
  for (let i = 0; i < out.length; i += k) {
    let v = 0;
    for (let j = i; j < Math.min(i + k, out.length); j++) v += out[j].volume;
    merged.push({ time: out[i].time, volume: v });
  }
  return merged;
}

/** A clock that only moves when told to: schedules run instantly and deterministically. */
export class SimulatedClock {
  constructor(private t: number) {}

  now = (): number => this.t;

  advanceTo(t: number): void {
    if (t < this.t) throw new Error(`simulated clock cannot go back from ${this.t} to ${t}`);
    this.t = t;
  }
}

/** Releases each child at its time on the clock (in order) and collects the results. */
export async function runSchedule<R>(
  children: readonly ChildOrder[],
  clock: SimulatedClock,
  release: (child: ChildOrder, index: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = [];
  const sorted = [...children].sort((a, b) => a.time - b.time);
  for (let i = 0; i < sorted.length; i++) {
    clock.advanceTo(sorted[i].time);
    out.push(await release(sorted[i], i));
  }
  return out;
}

/** Most slices of one parent: keeps a Step Functions execution's input well under 256 KB. */
export const MAX_SLICES = 500;

const durationSec = z
  .number()
  .refine(
    (v) => Number.isInteger(v) && v >= 1 && v <= 7 * 86_400,
    'must be a whole number of seconds, 1 to 604800',
  );
const volumes = z
  .array(z.number().refine((v) => Number.isFinite(v) && v >= 0, 'must be a finite number >= 0'))
  .min(1, 'needs at least one bucket')
  .max(MAX_SLICES, `at most ${MAX_SLICES} buckets`);

const slices = z
  .number()
  .refine(
    (v) => Number.isInteger(v) && v >= 1 && v <= MAX_SLICES,
    `must be a whole number from 1 to ${MAX_SLICES}`,
  );

const positiveNumber = z.number().refine((v) => Number.isFinite(v) && v > 0, 'must be a number > 0');

/**
 * The algorithm of a parent order. TWAP: `slices` equal children over `durationSec`. VWAP: children
 * proportional to `volumeCurve` (expected volume per bucket, e.g. from `volumeCurveFromBars`), the
 * buckets spread evenly over `durationSec`. POV: at most `participationRate` of the expected
 * `volumes` per bucket (planned up front: in AWS there is no live volume feed), the rest unfilled.
 */
export const algoSpecSchema = z.discriminatedUnion('algo', [
  z.strictObject({
    algo: z.literal('twap'),
    durationSec,
    slices,
  }),
  z.strictObject({
    algo: z.literal('vwap'),
    durationSec,
    /** Absent: built from the symbol's 1-minute lake bars over `lookbackDays` past days. */
    volumeCurve: volumes.refine((v) => v.some((x) => x > 0), 'needs at least one positive volume').optional(),
    lookbackDays: z
      .number()
      .refine((v) => Number.isInteger(v) && v >= 1 && v <= 250, 'must be a whole number of days, 1 to 250')
      .optional(),
  }),
  z.strictObject({
    algo: z.literal('is'),
    durationSec,
    slices,
    /** κT: 0 is TWAP, larger front-loads the schedule. */
    urgency: z
      .number()
      .refine((v) => Number.isFinite(v) && v >= 0 && v <= 50, 'must be between 0 and 50')
      .optional(),
    /** λ of Almgren-Chriss (with volatility and impact instead of urgency). */
    riskAversion: positiveNumber.optional(),
    /** Daily volatility σ of the price. */
    volatility: positiveNumber.optional(),
    /** Temporary impact η, in the units of λσ² per trading day². */
    impact: positiveNumber.optional(),
  }),
  z.strictObject({
    algo: z.literal('pov'),
    durationSec,
    participationRate: z.number().refine((v) => Number.isFinite(v) && v > 0 && v <= 1, 'must be in (0, 1]'),
    volumes,
  }),
]);

export type AlgoSpec = z.infer<typeof algoSpecSchema>;

/**
 * The children of a parent of `qty` shares starting at `start` (epoch ms): times and whole-share
 * quantities, and what the algorithm leaves unfilled (POV only). A VWAP spec without
 * `volumeCurve` needs `curve` (timed buckets, e.g. from `vwapCurveForWindow`).
 */
export function planChildren(
  qty: number,
  spec: AlgoSpec,
  start: number,
  curve?: readonly VolumeBucket[],
): { children: ChildOrder[]; remaining: number } {
  const end = start + spec.durationSec * 1000;
  const buckets = (values: readonly number[]): VolumeBucket[] =>
    values.map((volume, i) => ({ time: Math.round(start + (i * (end - start)) / values.length), volume }));
  switch (spec.algo) {
    case 'twap':
      return { children: twapSchedule(qty, start, end, spec.slices), remaining: 0 };
    case 'vwap':
      if (spec.volumeCurve) return { children: vwapSchedule(qty, buckets(spec.volumeCurve)), remaining: 0 };
      if (!curve)
        throw new InputError('algo.volumeCurve: none given and no curve built from bars', 'algo.volumeCurve');
      return { children: vwapSchedule(qty, curve), remaining: 0 };
    case 'is':
      return { children: isSchedule(qty, start, end, spec.slices, urgencyOf(spec)), remaining: 0 };
    case 'pov':
      return povSchedule(qty, spec.participationRate, buckets(spec.volumes));
  }
}
