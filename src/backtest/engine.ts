/**
 * The deterministic portfolio engine. Timing (docs/architecture.md): the position decided at the close of bar
 * t from data up to t is held from t to t+1; a change of position at t costs
 * cost(|w(t) - w(t-1)|) (see costs.ts), deducted from the return of period t -> t+1, with
 * w(-1) = 0. Period return: sum over symbols of w[a](t) * (close[a](t+1) / close[a](t) - 1) - cost(t).
 * Weights are re-established at every close (constant-weight holding); only changes of the target
 * weight trade and pay costs.
 */
import type { PositionLimiter, ProposedPosition, RebalanceGate } from '../risk-api';
import { impactInputs, resolveCosts, tradeCost, type CostModel } from './costs';
import { InputError } from '../errors';
import { equityAndDrawdown, returnMetrics } from './metrics';
import { detectBarSpacing } from './spacing';
import type { Attribution, BacktestResult, LedgerEntry, Panel, RoundTrip, Summary } from './types';

export interface EngineOptions {
  readonly strategy: string;
  readonly params: Readonly<Record<string, number | boolean>>;
  /** Linear cost in bps per unit of |position change| (the CLI's `--cost-bps`). @default 0 */
  readonly costBps?: number;
  /** Full cost model, added to costBps. @default no costs */
  readonly costs?: CostModel;
  /** Position limits applied to the targets before they are held. @default none */
  readonly limiter?: PositionLimiter;
  /**
   * Risk gate called at every close with the held weights and the targets (src/backtest/risk-gate.ts:
   * the live pre-trade risk engine on share orders); its report joins the result. @default none
   */
  readonly gate?: RebalanceGate;
  /**
   * Periods per year for annualised figures (12 for monthly bars).
   * @default detected from the bar dates (src/backtest/spacing.ts)
   */
  readonly periodsPerYear?: number;
}

/** Checks a panel: >= 2 bars, strictly increasing dates, finite positive closes and volumes. */
export function validatePanel(panel: Panel): void {
  const n = panel.dates.length;
  if (n < 2) throw new InputError(`bars: need at least 2 bars, got ${n}`, 'bars');
  for (let t = 1; t < n; t++) {
    if (!(panel.dates[t] > panel.dates[t - 1])) {
      throw new InputError(
        `bars[${t}].date: dates must be strictly increasing, ${panel.dates[t]} follows ${panel.dates[t - 1]}`,
        `bars[${t}].date`,
      );
    }
  }
  panel.close.forEach((c, a) => {
    const sym = panel.symbols[a];
    if (c.length !== n)
      throw new InputError(`bars.${sym}.close: ${c.length} values for ${n} dates`, `bars.${sym}.close`);
    for (let t = 0; t < n; t++) {
      const v = c[t];
      if (!(v > 0 && v < Infinity)) {
        throw new InputError(
          `bars.${sym}[${t}].close: must be a finite price > 0, got ${v} (${panel.dates[t]})`,
          `bars.${sym}[${t}].close`,
        );
      }
    }
  });
  panel.volume?.forEach((vol, a) => {
    const sym = panel.symbols[a];
    for (let t = 0; t < n; t++) {
      if (!(vol[t] >= 0 && vol[t] < Infinity)) {
        throw new InputError(
          `bars.${sym}[${t}].volume: must be a finite number >= 0, got ${vol[t]}`,
          `bars.${sym}[${t}].volume`,
        );
      }
    }
  });
}

/** Runs target weights `targets[a][t]` (length bars) through limits, costs and metrics. */
export function runPortfolio(
  panel: Panel,
  targets: readonly Float64Array[],
  opts: EngineOptions,
): BacktestResult {
  const k = panel.symbols.length;
  const n = panel.dates.length;
  const periods = n - 1;
  const costs = resolveCosts(opts.costs, opts.costBps);
  const spacing = detectBarSpacing(panel.dates);
  const perYear = opts.periodsPerYear ?? spacing.periodsPerYear;
  if (!(Number.isInteger(perYear) && perYear >= 1 && perYear <= 1_000_000)) {
    throw new InputError(
      `periodsPerYear: must be an integer between 1 and 1000000, got ${perYear}`,
      'periodsPerYear',
    );
  }
  if (costs.impactK > 0 && !panel.volume) {
    throw new InputError('costs.impactK: market impact needs volume for every symbol', 'costs.impactK');
  }
  const impact =
    costs.impactK > 0
      ? panel.volume!.map((v, a) => impactInputs(panel.close[a], v, costs.window))
      : undefined;

  const pos = targets.map(() => new Float64Array(periods));
  const returns = new Float64Array(periods);
  const ledger: LedgerEntry[] = [];
  const roundTrips: RoundTrip[] = [];
  const contribution = new Float64Array(k);
  const assetCosts = new Float64Array(k);
  const assetTrades = new Float64Array(k);
  const assetExposed = new Float64Array(k);
  // Open episode per symbol: entry bar and compounded growth per unit of position.
  const epEntry = new Int32Array(k).fill(-1);
  const epGrowth = new Float64Array(k);
  const epUnit = new Float64Array(k);
  const epSide = new Float64Array(k);

  let equity = 1;
  let trades = 0;
  let exposed = 0;
  let sumAbsDw = 0;
  let totalCosts = 0;
  const held = new Float64Array(k);
  const costNow = new Float64Array(k);
  const book: ProposedPosition[] = [];
  const want = new Float64Array(k);

  // Checked and compared symbol by symbol (each series in memory order), once, rather than bar by
  // bar across every symbol: on 500 × 2,520 the strided walk cost more than the rest of the loop.
  // With a limiter the book is re-decided only when some target changes (limits are static within
  // a run), so a capped position is not re-submitted every bar.
  const changedAt = new Uint8Array(periods);
  if (periods > 0) changedAt[0] = 1;
  let firstBad = { t: Infinity, a: -1 };
  for (let a = 0; a < k; a++) {
    const ta = targets[a];
    for (let t = 0; t < periods; t++) {
      const target = ta[t];
      if (!Number.isFinite(target)) {
        // The first bar with a non-finite target, and at that bar the first symbol.
        if (t < firstBad.t) firstBad = { t, a };
        break;
      }
      if (t > 0 && target !== ta[t - 1]) changedAt[t] = 1;
    }
  }
  if (firstBad.a >= 0) {
    throw new Error(
      `strategy ${opts.strategy} produced a non-finite position for ${panel.symbols[firstBad.a]} at bar ${firstBad.t}`,
    );
  }

  for (let t = 0; t < periods; t++) {
    const changed = changedAt[t] === 1;
    if (opts.gate) {
      for (let a = 0; a < k; a++) want[a] = targets[a][t];
      const allowed = opts.gate.rebalance(t, held, want, equity);
      for (let a = 0; a < k; a++) pos[a][t] = allowed[a];
    } else if (!opts.limiter) {
      for (let a = 0; a < k; a++) pos[a][t] = targets[a][t];
    } else if (changed) {
      book.length = 0;
      for (let a = 0; a < k; a++)
        book.push({ symbol: panel.symbols[a], current: held[a], target: targets[a][t] });
      const allowed = opts.limiter.limit(book);
      for (let a = 0; a < k; a++) pos[a][t] = allowed[a];
    } else {
      for (let a = 0; a < k; a++) pos[a][t] = held[a];
    }

    let periodCost = 0;
    let gross = 0;
    let anyChange = false;
    let anyExposed = false;
    for (let a = 0; a < k; a++) {
      const prev = held[a];
      const cur = pos[a][t];
      const c0 = panel.close[a][t];
      const r = panel.close[a][t + 1] / c0 - 1;
      let cost = 0;
      if (cur !== prev) {
        const dw = cur - prev;
        cost = impact
          ? tradeCost(dw, costs, c0, equity, impact[a].sigma[t], impact[a].adv[t])
          : Math.abs(dw) * costs.linear;
        anyChange = true;
        assetTrades[a]++;
        sumAbsDw += Math.abs(dw);
        ledger.push({
          bar: t,
          date: panel.dates[t],
          symbol: panel.symbols[a],
          from: prev,
          to: cur,
          price: c0,
          cost,
        });
      }
      costNow[a] = cost;
      periodCost += cost;
      gross += cur * r;
      contribution[a] += cur * r;
      assetCosts[a] += cost;
      if (cur !== 0) {
        anyExposed = true;
        assetExposed[a]++;
      }
      // Round trips: close on exit or side flip (with its share of this bar's cost), then open.
      const flip = prev !== 0 && cur !== 0 && Math.sign(prev) !== Math.sign(cur);
      if (prev !== 0 && (cur === 0 || flip)) {
        const closeCost = flip ? (cost * Math.abs(prev)) / (Math.abs(prev) + Math.abs(cur)) : cost;
        const g = epGrowth[a] * (1 - closeCost / epUnit[a]);
        roundTrips.push(trip(panel, a, epSide[a], epEntry[a], t, false, g - 1));
        epEntry[a] = -1;
      }
      if (cur !== 0) {
        if (epEntry[a] < 0) {
          const openCost = flip ? (cost * Math.abs(cur)) / (Math.abs(prev) + Math.abs(cur)) : cost;
          epEntry[a] = t;
          epSide[a] = Math.sign(cur);
          epUnit[a] = Math.abs(cur);
          epGrowth[a] = 1 + (cur * r - openCost) / epUnit[a];
        } else {
          epGrowth[a] *= 1 + (cur * r - cost) / epUnit[a];
        }
      }
      held[a] = cur;
    }
    if (anyChange) trades++;
    if (anyExposed) exposed++;
    totalCosts += periodCost;
    const ret = gross - periodCost;
    returns[t] = ret;
    equity *= 1 + ret;
  }
  for (let a = 0; a < k; a++) {
    if (epEntry[a] >= 0) roundTrips.push(trip(panel, a, epSide[a], epEntry[a], n - 1, true, epGrowth[a] - 1));
  }
  roundTrips.sort((x, y) => x.entryBar - y.entryBar || x.symbol.localeCompare(y.symbol));

  const m = returnMetrics(returns, 0, returns.length, perYear);
  const closed = roundTrips.filter((r) => !r.open);
  const wins = closed.filter((r) => r.return > 0);
  const losses = closed.filter((r) => r.return < 0);
  const mean = (xs: readonly RoundTrip[]): number =>
    xs.length > 0 ? xs.reduce((s, x) => s + x.return, 0) / xs.length : 0;
  const summary: Summary = {
    bars: n,
    periods,
    ...m,
    trades,
    turnover: periods > 0 ? (sumAbsDw * perYear) / periods : 0,
    exposure: periods > 0 ? exposed / periods : 0,
    hitRate: closed.length > 0 ? wins.length / closed.length : 0,
    avgWin: mean(wins),
    avgLoss: mean(losses),
  };
  const { equity: eq, drawdown } = equityAndDrawdown(returns);
  const attribution: Attribution[] = panel.symbols.map((symbol, a) => ({
    symbol,
    contribution: contribution[a],
    costs: assetCosts[a],
    trades: assetTrades[a],
    exposure: periods > 0 ? assetExposed[a] / periods : 0,
  }));
  return {
    strategy: opts.strategy,
    params: opts.params,
    symbols: panel.symbols,
    summary,
    dates: panel.dates,
    returns,
    equity: eq,
    drawdown,
    positions: pos,
    ledger,
    roundTrips,
    attribution,
    totalCosts,
    periodsPerYear: perYear,
    periodsPerYearSource: opts.periodsPerYear === undefined ? 'detected' : 'given',
    barSpacing: spacing,
    ...(opts.gate ? { riskGate: opts.gate.report() } : {}),
  };
}

function trip(
  panel: Panel,
  a: number,
  side: number,
  entry: number,
  exit: number,
  open: boolean,
  ret: number,
): RoundTrip {
  return {
    symbol: panel.symbols[a],
    side: side > 0 ? 'long' : 'short',
    entryBar: entry,
    entryDate: panel.dates[entry],
    exitBar: exit,
    exitDate: panel.dates[exit],
    open,
    return: ret,
  };
}
