/** Data shapes shared by the backtest engine, strategies, loaders and reports. */
import type { GateReport } from '../risk-api';
import type { BarSpacing } from './spacing';
import type { ReturnMetrics } from './metrics';

/** One instrument's bars; `dates[i]` labels bar i (its close, UTC), strictly increasing. */
export interface Bars {
  readonly symbol: string;
  /** ISO date (YYYY-MM-DD) or ISO timestamp per bar, strictly increasing. */
  readonly dates: readonly string[];
  readonly open?: Float64Array;
  readonly high?: Float64Array;
  readonly low?: Float64Array;
  readonly close: Float64Array;
  readonly volume?: Float64Array;
}

/** Several instruments on one shared, strictly increasing calendar (a universe). */
export interface Panel {
  readonly symbols: readonly string[];
  readonly dates: readonly string[];
  /** close[a][t]: close of symbol a at bar t. */
  readonly close: readonly Float64Array[];
  /** volume[a][t] when every symbol has volume. */
  readonly volume?: readonly Float64Array[];
  /** Point-in-time side data (carry inputs, fundamentals, sectors) for the strategies that need it. */
  readonly aux?: PanelAux;
}

/**
 * Side data aligned to a panel's calendar and symbols. `fields[name][a][t]` is the value of field
 * `name` for symbol a as known at the close of bar t (NaN: not known yet); loaders forward-fill a
 * value from its own date on, so nothing is visible before it was published. `labels[name][a]` is a
 * static label per symbol (sector). `curve` is a term structure per bar (yields by tenor).
 */
export interface PanelAux {
  readonly fields?: Readonly<Record<string, readonly Float64Array[]>>;
  readonly labels?: Readonly<Record<string, readonly string[]>>;
  /** Short rates per currency (annual, decimal), rates[ccy][t], NaN: not known yet. */
  readonly rates?: Readonly<Record<string, Float64Array>>;
  readonly curve?: {
    /** Tenors in years, increasing. */
    readonly tenors: readonly number[];
    /** yields[j][t]: yield (annual, decimal) of tenor j at bar t (NaN: not known yet). */
    readonly yields: readonly Float64Array[];
  };
}

export function isPanel(x: Bars | Panel): x is Panel {
  return Array.isArray((x as Panel).symbols);
}

/** A single-asset input seen as a one-symbol panel (same arrays, no copy). */
export function asPanel(x: Bars | Panel): Panel {
  if (isPanel(x)) return x;
  return {
    symbols: [x.symbol],
    dates: x.dates,
    close: [x.close],
    volume: x.volume ? [x.volume] : undefined,
  };
}

/** The headline numbers of one backtest (the `--json` output of `quant backtest`). */
export interface Summary extends ReturnMetrics {
  /** Number of bars in the input. */
  readonly bars: number;
  /** bars - 1: the holding periods t -> t+1. */
  readonly periods: number;
  /** Bars at which some position changes (an entry and an exit count as two). */
  readonly trades: number;
  /** Sum of |position change| (fraction of equity) per year: 252 * sum|dw| / periods. */
  readonly turnover: number;
  /** Share of periods with a non-zero position. */
  readonly exposure: number;
  /** Share of closed round trips with a positive return (0 when none closed). */
  readonly hitRate: number;
  /** Mean return of winning round trips (0 when none). */
  readonly avgWin: number;
  /** Mean return of losing round trips, a negative number (0 when none). */
  readonly avgLoss: number;
}

/** A position change at the close of bar `bar` (a row of the trade ledger). */
export interface LedgerEntry {
  readonly bar: number;
  readonly date: string;
  readonly symbol: string;
  /** Position (signed fraction of equity) before and after. */
  readonly from: number;
  readonly to: number;
  readonly price: number;
  /** Cost of this change as a fraction of equity (commission, spread, slippage, impact). */
  readonly cost: number;
}

/** A holding episode: from entering a position (or flipping side) to leaving it. */
export interface RoundTrip {
  readonly symbol: string;
  readonly side: 'long' | 'short';
  readonly entryBar: number;
  readonly entryDate: string;
  /** Bar at which the position was closed or flipped; the last bar when still open. */
  readonly exitBar: number;
  readonly exitDate: string;
  /** Still open at the end of the data (not counted in hit rate or average win/loss). */
  readonly open: boolean;
  /** Compounded return of the position over the episode, net of its entry and exit costs. */
  readonly return: number;
}

/** Per-asset contribution: sum over periods of w * r (arithmetic) and the costs paid. */
export interface Attribution {
  readonly symbol: string;
  readonly contribution: number;
  readonly costs: number;
  readonly trades: number;
  readonly exposure: number;
}

export interface BacktestResult {
  readonly strategy: string;
  readonly params: Readonly<Record<string, number | boolean>>;
  readonly symbols: readonly string[];
  readonly summary: Summary;
  readonly dates: readonly string[];
  /** Net strategy return of each period t -> t+1 (length periods). */
  readonly returns: Float64Array;
  /** Equity at each bar's close, starting at 1 (length bars). */
  readonly equity: Float64Array;
  /** Drawdown from the running peak at each bar (positive fraction, length bars). */
  readonly drawdown: Float64Array;
  /**
   * positions[a][t]: position held from bar t to t+1 after risk limits (length periods): the
   * last bar's decision is never held, so it is neither traded nor charged.
   */
  readonly positions: readonly Float64Array[];
  readonly ledger: readonly LedgerEntry[];
  readonly roundTrips: readonly RoundTrip[];
  readonly attribution: readonly Attribution[];
  /** Total costs as a sum of per-period fractions of equity. */
  readonly totalCosts: number;
  /** Periods per year the annualised figures used. */
  readonly periodsPerYear: number;
  /** Whether periodsPerYear came from the bar spacing or from the caller. */
  readonly periodsPerYearSource: 'detected' | 'given';
  /** The spacing of the bars, as detected. */
  readonly barSpacing: BarSpacing;
  /** Orders counted by the risk gate's decisions and rules, when the run had one. */
  readonly riskGate?: GateReport;
}
