/**
 * Out-of-sample evaluation. Because positions at t depend only on data up to t (tested), a whole
 * backtest can be sliced: the metrics of periods [from, to) are those of a run that started at
 * `from` with the warm-up data before it, holding whatever position it held at `from`.
 *
 * - splitOutOfSample: one held-out split of a finished backtest (in-sample first, then out-of-sample).
 * - selectOutOfSample: pick the best candidate parameters on the in-sample part, report them out of sample.
 * - walkForward: rolling train/test windows; in each, the best candidate on the train window trades
 *   the following test window; the stitched test windows are run as one book, so switching
 *   parameters pays its costs.
 */
import { InputError } from '../errors';
import { runPortfolio } from './engine';
import { returnMetrics } from './metrics';
import { getStrategy, parseStrategyParams, type StrategyParams } from './strategies';
import { asPanel, type BacktestResult, type Bars, type Panel, type Summary } from './types';
import { runBacktest, strategyTargets, type BacktestSpec } from './run';

/** Summary of periods [from, to) of a finished backtest. */
export function summarizeSlice(result: BacktestResult, from: number, to: number): Summary {
  const periods = to - from;
  if (!(from >= 0 && to <= result.returns.length && periods >= 1)) {
    throw new InputError(`slice: periods [${from}, ${to}) outside 0..${result.returns.length}`, 'slice');
  }
  const m = returnMetrics(result.returns, from, to, result.periodsPerYear);
  let trades = 0;
  let exposed = 0;
  let absDw = 0;
  for (let t = from; t < to; t++) {
    let changed = false;
    let any = false;
    for (const p of result.positions) {
      const dw = p[t] - (t > 0 ? p[t - 1] : 0);
      if (dw !== 0) {
        changed = true;
        absDw += Math.abs(dw);
      }
      if (p[t] !== 0) any = true;
    }
    if (changed) trades++;
    if (any) exposed++;
  }
  // Round trips that both start and end inside the slice.
  const closed = result.roundTrips.filter((r) => !r.open && r.entryBar >= from && r.exitBar <= to);
  const wins = closed.filter((r) => r.return > 0);
  const losses = closed.filter((r) => r.return < 0);
  const avg = (xs: typeof closed): number =>
    xs.length > 0 ? xs.reduce((s, x) => s + x.return, 0) / xs.length : 0;
  return {
    bars: periods + 1,
    periods,
    ...m,
    trades,
    turnover: (absDw * result.periodsPerYear) / periods,
    exposure: exposed / periods,
    hitRate: closed.length > 0 ? wins.length / closed.length : 0,
    avgWin: avg(wins),
    avgLoss: avg(losses),
  };
}

export interface OutOfSampleSplit {
  /** First bar of the out-of-sample part (its first period starts here). */
  readonly splitBar: number;
  readonly splitDate: string;
  readonly inSample: Summary;
  readonly outOfSample: Summary;
}

/** Splits a backtest's periods: the last `fraction` of them is the held-out part. */
export function splitOutOfSample(result: BacktestResult, fraction: number): OutOfSampleSplit {
  if (!(fraction > 0 && fraction < 1))
    throw new InputError(`oos: fraction must be between 0 and 1, got ${fraction}`, 'oos');
  const periods = result.returns.length;
  const split = periods - Math.max(1, Math.round(periods * fraction));
  if (split < 1) throw new InputError(`oos: ${periods} periods are too few to split at ${fraction}`, 'oos');
  return {
    splitBar: split,
    splitDate: result.dates[split],
    inSample: summarizeSlice(result, 0, split),
    outOfSample: summarizeSlice(result, split, periods),
  };
}

export type Objective = 'sharpe' | 'sortino' | 'cagr' | 'calmar' | 'totalReturn';

export interface SelectionSpec extends Omit<BacktestSpec, 'params'> {
  /** Candidate parameter sets (validated). */
  readonly candidates: readonly Readonly<Record<string, number | boolean>>[];
  /** Metric to maximise in sample. @default 'sharpe' */
  readonly objective?: Objective;
}

function runCandidates(
  input: Bars | Panel,
  spec: SelectionSpec,
): { params: StrategyParams; result: BacktestResult }[] {
  if (spec.candidates.length === 0)
    throw new InputError('candidates: need at least one parameter set', 'candidates');
  return spec.candidates.map((c) => {
    const params = parseStrategyParams(spec.strategy, c);
    return { params, result: runBacktest(input, { ...spec, params }) };
  });
}

/** Best candidate on periods [from, to); ties keep the earlier candidate (deterministic). */
function best(
  runs: { params: StrategyParams; result: BacktestResult }[],
  from: number,
  to: number,
  objective: Objective,
) {
  let bestIdx = 0;
  let bestVal = -Infinity;
  runs.forEach((r, i) => {
    const v = summarizeSlice(r.result, from, to)[objective];
    if (v > bestVal) {
      bestVal = v;
      bestIdx = i;
    }
  });
  return runs[bestIdx];
}

/** Chooses parameters on the in-sample part and reports them on the held-out part. */
export function selectOutOfSample(
  input: Bars | Panel,
  spec: SelectionSpec & { readonly fraction: number },
): OutOfSampleSplit & { readonly params: StrategyParams } {
  const runs = runCandidates(input, spec);
  const probe = splitOutOfSample(runs[0].result, spec.fraction);
  const chosen = best(runs, 0, probe.splitBar, spec.objective ?? 'sharpe');
  return { ...splitOutOfSample(chosen.result, spec.fraction), params: chosen.params };
}

export interface WalkForwardWindow {
  /** Periods [trainFrom, trainTo) chose the parameters that traded periods [trainTo, testTo). */
  readonly trainFrom: number;
  readonly trainTo: number;
  readonly testTo: number;
  readonly testFrom: string;
  readonly params: StrategyParams;
  readonly train: Summary;
  readonly test: Summary;
}

export interface WalkForwardResult {
  readonly windows: readonly WalkForwardWindow[];
  /** The stitched test windows as one book (costs of switching parameters included). */
  readonly result: BacktestResult;
  /** Summary of the stitched test periods only. */
  readonly summary: Summary;
}

/**
 * Rolling walk-forward: windows of `trainPeriods` then `testPeriods`, stepping by `testPeriods`;
 * `anchored` keeps every train window starting at period 0 (expanding).
 */
export function walkForward(
  input: Bars | Panel,
  spec: SelectionSpec & {
    readonly trainPeriods: number;
    readonly testPeriods: number;
    readonly anchored?: boolean;
  },
): WalkForwardResult {
  const { trainPeriods, testPeriods } = spec;
  for (const [k, v] of Object.entries({ trainPeriods, testPeriods })) {
    if (!(Number.isInteger(v) && v >= 1)) throw new InputError(`${k}: must be an integer >= 1, got ${v}`, k);
  }
  const panel = asPanel(input);
  const runs = runCandidates(input, spec);
  const periods = runs[0].result.returns.length;
  if (trainPeriods + testPeriods > periods) {
    throw new InputError(
      `trainPeriods: ${trainPeriods} + ${testPeriods} test periods exceed the ${periods} periods of the data`,
      'trainPeriods',
    );
  }
  const objective = spec.objective ?? 'sharpe';
  const k = panel.symbols.length;
  const n = panel.dates.length;
  const targets = Array.from({ length: k }, () => new Float64Array(n));
  const windows: WalkForwardWindow[] = [];
  const strategy = getStrategy(spec.strategy);
  for (let start = 0; start + trainPeriods < periods; start += testPeriods) {
    const trainFrom = spec.anchored ? 0 : start;
    const trainTo = start + trainPeriods;
    const testTo = Math.min(periods, trainTo + testPeriods);
    const chosen = best(runs, trainFrom, trainTo, objective);
    // The chosen candidate's own targets (before limits) trade the test window.
    const own = strategyTargets(panel, strategy, chosen.params, spec);
    for (let a = 0; a < k; a++) targets[a].set(own[a].subarray(trainTo, testTo), trainTo);
    windows.push({
      trainFrom,
      trainTo,
      testTo,
      testFrom: panel.dates[trainTo],
      params: chosen.params,
      train: summarizeSlice(chosen.result, trainFrom, trainTo),
      test: summarizeSlice(chosen.result, trainTo, testTo),
    });
  }
  const result = runPortfolio(panel, targets, {
    ...spec,
    strategy: strategy.name,
    params: { walkForward: true },
  });
  return { windows, result, summary: summarizeSlice(result, trainPeriods, periods) };
}
