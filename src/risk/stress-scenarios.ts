/**
 * Named stress scenarios (`quant risk stress --scenarios file.json`): hypothetical factor shocks,
 * "correlation goes to 1", and historical replays of the real S&P 500 (vega-datasets' daily closes,
 * 2000-01-03 to 2020-04-17) mapped to the multi-asset book: equities through each security's beta,
 * fixed income, FX and commodities through the episode's rates, dollar and commodity moves
 * (`REPLAYS`); and reverse stress,
 * the smallest uniform equity shock that breaches the drawdown limit or the VaR budget.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { InputError } from '../errors';
import { packageRoot } from '../package-root';
import {
  STRESS_FACTORS,
  type StressBook,
  type Shocks,
  type StressResult,
  type StressScenario,
} from './stress';
import type { ReturnsWindow } from './var';

/**
 * The historical windows replayed. The equity shock is the S&P 500's largest peak-to-trough fall
 * inside the window, from the real closes. The other asset classes move by what their markets did
 * between those same peak and trough dates: rounded figures set by hand, not checked against the
 * series (the repository holds only the S&P 500's history; docs/stress.md says what each stands for
 * and how approximate it is):
 * - `rates`: the change of the US 10-year Treasury yield, FRED DGS10 (Δy; fixed income moves
 *   −value × duration × Δy);
 * - `fx`: the ICE US Dollar Index's (DXY) move, times each FX security's `usd` sign (1 rises with the
 *   dollar, -1 a foreign currency; `fxIsDollar`);
 * - `commodity`: a broad commodity index's move, index unnamed and the roughest of the three (gold is
 *   in that class and moves with it).
 *
 * | episode | S&P 500 peak → trough     | 10y yield          | dollar index   | commodities |
 * |---------|---------------------------|--------------------|----------------|-------------|
 * | 2000-02 | 2000-03-24 → 2002-10-09   | ~6.2% → ~3.6%      | ~106 → ~108    | about flat  |
 * | 2008    | 2007-10-09 → 2009-03-09   | ~4.65% → ~2.9%     | ~78.5 → ~89    | about −35%  |
 * | 2020    | 2020-02-19 → 2020-03-23   | ~1.55% → ~0.75%    | ~99.7 → ~102.5 | about −25%  |
 */
export const REPLAYS = {
  '2000-02': {
    from: '2000-01-01',
    to: '2002-12-31',
    moves: { rates: -0.026, fx: 0.02, commodity: 0 },
  },
  '2008': { from: '2007-01-01', to: '2009-12-31', moves: { rates: -0.0175, fx: 0.13, commodity: -0.35 } },
  '2020': { from: '2020-01-01', to: '2020-12-31', moves: { rates: -0.008, fx: 0.03, commodity: -0.25 } },
} as const satisfies Record<
  string,
  { from: string; to: string; moves: { rates: number; fx: number; commodity: number } }
>;
export type ReplayName = keyof typeof REPLAYS;

/** The S&P 500 history vega-datasets ships, from the package root (src/ and dist/ alike). */
export const defaultSp500Csv = (): string =>
  path.join(packageRoot(), 'node_modules/vega-datasets/data/sp500-2000.csv');

const shock = z.number().refine(Number.isFinite, 'must be a finite number');
const shocksSchema = z.strictObject(
  Object.fromEntries(STRESS_FACTORS.map((f) => [f, shock.optional()])) as Record<
    (typeof STRESS_FACTORS)[number],
    z.ZodOptional<typeof shock>
  >,
);
const scenarioSchema = z
  .strictObject({
    name: z.string().min(1, 'must be a non-empty string'),
    shocks: shocksSchema.optional(),
    correlationOne: z.boolean().optional(),
    replay: z.enum(Object.keys(REPLAYS) as [ReplayName, ...ReplayName[]]).optional(),
  })
  .refine((s) => (s.shocks === undefined) !== (s.replay === undefined), {
    message: 'give exactly one of "shocks" and "replay"',
  });
export const scenariosFileSchema = z.strictObject({
  scenarios: z.array(scenarioSchema).min(1, 'must list at least one scenario'),
});
export type ScenariosFile = z.infer<typeof scenariosFileSchema>;

export interface ResolvedScenario extends StressScenario {
  /** For a replay: the S&P 500 peak and trough dates and closes the equity shock comes from. */
  readonly replay?: {
    name: ReplayName;
    peak: string;
    trough: string;
    peakClose: number;
    troughClose: number;
  };
}

/** Daily closes of a `date,...,close,...` CSV (vega-datasets' sp500-2000.csv shape). */
export function readCloses(text: string, source: string): { date: string; close: number }[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').split(',');
  const di = header.indexOf('date');
  const ci = header.indexOf('close');
  if (di < 0 || ci < 0) throw new InputError(`${source}: header needs "date" and "close" columns`, source);
  return lines.slice(1).map((l, i) => {
    const cells = l.split(',');
    const close = Number(cells[ci]);
    if (!Number.isFinite(close) || close <= 0) {
      throw new InputError(`${source}:${i + 2}: close: not a positive number`, `${source}:${i + 2}:close`);
    }
    return { date: cells[di], close };
  });
}

/**
 * The largest peak-to-trough fall of the closes dated within [from, to]: close(trough) /
 * close(peak) − 1, the peak at or before the trough.
 */
export function worstDrawdown(
  closes: readonly { date: string; close: number }[],
  from: string,
  to: string,
): { shock: number; peak: string; trough: string; peakClose: number; troughClose: number } {
  let peak: { date: string; close: number } | undefined;
  let best = { shock: 0, peak: '', trough: '', peakClose: 0, troughClose: 0 };
  for (const c of closes) {
    if (c.date < from || c.date > to) continue;
    if (!peak || c.close > peak.close) peak = c;
    const dd = c.close / peak.close - 1;
    if (dd < best.shock)
      best = { shock: dd, peak: peak.date, trough: c.date, peakClose: peak.close, troughClose: c.close };
  }
  return best;
}

/**
 * Turns the scenarios of a file into shocks; a replay becomes the S&P 500's fall as the equity
 * shock plus the episode's rates, fx and commodity moves (`REPLAYS`).
 */
export function resolveScenarios(
  file: ScenariosFile,
  closes: () => readonly { date: string; close: number }[],
): ResolvedScenario[] {
  return file.scenarios.map((s) => {
    if (s.replay === undefined) {
      return { name: s.name, shocks: s.shocks as Shocks, correlationOne: s.correlationOne };
    }
    const w = REPLAYS[s.replay];
    const d = worstDrawdown(closes(), w.from, w.to);
    return {
      name: s.name,
      shocks: { equity: d.shock, ...w.moves },
      correlationOne: s.correlationOne,
      // The episode's fx move is the dollar index's: each FX position by its `usd` sign.
      fxIsDollar: true,
      replay: {
        name: s.replay,
        peak: d.peak,
        trough: d.trough,
        peakClose: d.peakClose,
        troughClose: d.troughClose,
      },
    };
  });
}

/**
 * The platform's standard scenario set (the daily stress job's default and the demo's): the
 * hypothetical shocks equity −20%, rates +100 bp, fx +10% (the linear contract has one fx factor
 * that moves every FX position by the shock, so a USD move is this shock with the sign of the
 * book's currency exposure), oil −30% (the commodity factor) and correlation going to 1 under
 * the equity shock, and the three historical replays of the S&P 500.
 */
export const STANDARD_SCENARIOS: ScenariosFile = {
  scenarios: [
    { name: 'equity -20%', shocks: { equity: -0.2 } },
    { name: 'rates +100bp', shocks: { rates: 0.01 } },
    { name: 'fx +10%', shocks: { fx: 0.1 } },
    { name: 'oil -30%', shocks: { commodity: -0.3 } },
    { name: 'correlation 1', shocks: { equity: -0.2 }, correlationOne: true },
    { name: 'replay 2000-02', replay: '2000-02' },
    { name: 'replay 2008', replay: '2008' },
    { name: 'replay 2020', replay: '2020' },
  ],
};

/** A scenario with its replay already resolved to shocks (the daily job's schedule input). */
export const resolvedScenarioSchema = z.strictObject({
  name: z.string().min(1, 'must be a non-empty string'),
  shocks: shocksSchema,
  correlationOne: z.boolean().optional(),
  fxIsDollar: z.boolean().optional(),
  replay: z
    .strictObject({
      name: z.enum(Object.keys(REPLAYS) as [ReplayName, ...ReplayName[]]),
      peak: z.string(),
      trough: z.string(),
      peakClose: z.number(),
      troughClose: z.number(),
    })
    .optional(),
});

export interface ScenarioResult extends StressResult {
  readonly name: string;
  readonly shocks: Shocks;
  readonly correlationOne: boolean;
  /**
   * The `fx` shock is a move of the US dollar (replays): each FX position moved by it times its
   * security's `usd` sign. False: the linear contract, every FX position moved by the shock.
   */
  readonly fxIsDollar: boolean;
  readonly replay?: ResolvedScenario['replay'];
}

/** Runs every scenario on one prepared book. */
export function runScenarios(
  book: StressBook,
  scenarios: readonly ResolvedScenario[],
  window?: ReturnsWindow,
): ScenarioResult[] {
  return scenarios.map((s) => ({
    name: s.name,
    shocks: s.shocks,
    correlationOne: s.correlationOne === true,
    fxIsDollar: s.fxIsDollar === true,
    ...(s.replay ? { replay: s.replay } : {}),
    ...book.run(s, window),
  }));
}

export interface ReverseStress {
  /** The uniform equity shock found (negative: a fall), or null when none in [−1, 1] breaches. */
  readonly equity: number | null;
  /** The rules breached at that shock. */
  readonly rules: string[];
  readonly pnl: number | null;
}

const REVERSE_RULES = new Set(['maxDrawdown', 'varBudget']);

/**
 * The smallest uniform equity shock (in absolute size, falls and rises both tried) at which
 * maxDrawdown or varBudget is breached, by bisection to 1e-6. Assumes a breach, once reached,
 * persists for larger shocks in the same direction (true of the drawdown, whose loss is linear in
 * the shock; assumed for the VaR ratio).
 */
export function reverseStress(book: StressBook, window?: ReturnsWindow): ReverseStress {
  const at = (e: number): StressResult => book.run({ name: 'reverse', shocks: { equity: e } }, window);
  const breached = (e: number): boolean => at(e).breaches.some((b) => REVERSE_RULES.has(b.rule));
  const found = (e: number): ReverseStress => {
    const r = at(e);
    return {
      equity: e,
      rules: r.breaches.filter((b) => REVERSE_RULES.has(b.rule)).map((b) => b.rule),
      pnl: r.pnl,
    };
  };
  if (breached(0)) return found(0);
  let best: number | null = null;
  for (const end of [-1, 1]) {
    if (!breached(end)) continue;
    let lo = 0; // not breached
    let hi = end; // breached
    while (Math.abs(hi - lo) > 1e-6) {
      const mid = (lo + hi) / 2;
      if (breached(mid)) hi = mid;
      else lo = mid;
    }
    if (best === null || Math.abs(hi) < Math.abs(best)) best = hi;
  }
  return best === null ? { equity: null, rules: [], pnl: null } : found(best);
}

export interface StressReport {
  readonly scenarios: ScenarioResult[];
  readonly reverse?: ReverseStress;
}

/**
 * Every scenario on the book and, when asked, reverse stress: what `quant risk stress --scenarios`
 * prints, the daily stress job publishes and the demo tabulates.
 */
export function stressReport(
  book: StressBook,
  scenarios: readonly ResolvedScenario[],
  opts: { window?: ReturnsWindow; reverse?: boolean } = {},
): StressReport {
  const results = runScenarios(book, scenarios, opts.window);
  return opts.reverse
    ? { scenarios: results, reverse: reverseStress(book, opts.window) }
    : { scenarios: results };
}

/** Reads the default S&P 500 closes (vega-datasets). */
export function readSp500(file = defaultSp500Csv()): { date: string; close: number }[] {
  return readCloses(readFileSync(file, 'utf8'), path.basename(file));
}
