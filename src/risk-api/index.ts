/**
 * The position-limit contract shared by the backtest engine and live trading. Positions are
 * signed fractions of equity (weights): 0.5 = long half the equity, -1 = short all of it. The
 * live risk engine acts in a backtest through the `RebalanceGate` below (src/backtest/risk-gate.ts).
 *
 * A limiter only ever reduces risk: the allowed position lies between 0 and the target (it may
 * shrink the strategy's target, never enlarge or reverse it), except that a halted book keeps
 * its current positions.
 */

/** Trading state of an account (the kill switch): REDUCING allows only trades toward flat. */
export type TradingState = 'ACTIVE' | 'REDUCING' | 'HALTED';

export interface ProposedPosition {
  readonly symbol: string;
  /** Position held now (weight). */
  readonly current: number;
  /** Position the strategy wants (weight). */
  readonly target: number;
}

export interface PositionLimiter {
  /** Short name for reports and logs. */
  readonly name: string;
  /**
   * Allowed positions for a whole book, in the order of `book`: each between 0 and its
   * `target`, or its `current` position when trading is halted.
   */
  limit(book: readonly ProposedPosition[]): number[];
}

export interface SimpleCaps {
  /** Largest |weight| of any one symbol. @default Infinity */
  readonly maxPosition?: number;
  /** Largest sum of |weight| over the book; larger books are scaled down. @default Infinity */
  readonly maxGross?: number;
  /** Largest |sum of weights| over the book; larger books are scaled down. @default Infinity */
  readonly maxNet?: number;
  /** ACTIVE trades freely, REDUCING only toward flat, HALTED not at all. @default 'ACTIVE' */
  readonly state?: TradingState;
}

/** Clamps v into the closed interval between a and b. */
function between(v: number, a: number, b: number): number {
  const lo = a < b ? a : b;
  const hi = a < b ? b : a;
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * Simple caps until the full risk engine exists: per-symbol cap, then gross and net caps by
 * scaling the capped targets, then the trading state (REDUCING keeps each position between 0 and
 * its current value; HALTED keeps the current book).
 */
export function simpleCaps(caps: SimpleCaps = {}): PositionLimiter {
  const maxPosition = caps.maxPosition ?? Infinity;
  const maxGross = caps.maxGross ?? Infinity;
  const maxNet = caps.maxNet ?? Infinity;
  const state = caps.state ?? 'ACTIVE';
  for (const [k, v] of Object.entries({ maxPosition, maxGross, maxNet })) {
    if (!(v >= 0)) throw new RangeError(`${k} must be a number >= 0, got ${v}`);
  }
  return {
    name: 'simple-caps',
    limit(book) {
      const w = book.map((p) => Math.max(-maxPosition, Math.min(maxPosition, p.target)));
      let gross = 0;
      let net = 0;
      for (const x of w) {
        gross += Math.abs(x);
        net += x;
      }
      let scale = 1;
      if (gross > maxGross) scale = Math.min(scale, maxGross / gross);
      if (Math.abs(net) > maxNet) scale = Math.min(scale, maxNet / Math.abs(net));
      return book.map((p, i) => {
        const want = w[i] * scale;
        if (state === 'HALTED') return p.current;
        // Only toward flat: never beyond the current size, never across zero.
        if (state === 'REDUCING') return between(want, 0, p.current);
        return want;
      });
    },
  };
}

/** Orders of one backtest counted by the risk engine's decision and by the rule that bound them. */
export interface GateReport {
  /** Orders the rebalances asked for (one per symbol whose share count changes). */
  readonly orders: number;
  readonly approved: number;
  readonly resized: number;
  readonly rejected: number;
  /** Breaches per rule over resized and rejected orders (an order may breach several rules). */
  readonly byRule: Readonly<Record<string, number>>;
  /**
   * The same breaches split by the order's decision: `resized` counts the orders the rule cut to
   * a smaller quantity, `rejected` those it was among the reasons to refuse (byRule = the sum).
   */
  readonly byRuleDecision: Readonly<Record<string, RuleDecisionCounts>>;
}

/** Orders one rule took part in, by the decision the order got. */
export interface RuleDecisionCounts {
  readonly resized: number;
  readonly rejected: number;
}

/**
 * A gate between a strategy's target weights and the book, with the market at hand: the engine
 * calls it at the close of every bar `t` (not only when a target changes) with the weights held
 * and the strategy's targets, and holds what it returns from t to t+1. `equity` is the growth of
 * one unit of capital up to the close of t. The risk-engine gate (src/backtest/risk-gate.ts)
 * turns the changes into share orders and checks them as pre-trade risk does.
 */
export interface RebalanceGate {
  readonly name: string;
  rebalance(
    t: number,
    current: ArrayLike<number>,
    target: ArrayLike<number>,
    equity: number,
  ): ArrayLike<number>;
  report(): GateReport;
}
