/**
 * Pre-trade risk: the shapes of orders, portfolios, securities and limits, and the decision.
 * The CLI contract of `quant risk check` (docs/trading.md) is these shapes serialized as JSON.
 */

export type Side = 'buy' | 'sell';
export type TradingState = 'ACTIVE' | 'REDUCING' | 'HALTED';

export interface RiskOrder {
  readonly symbol: string;
  readonly side: Side;
  /** Shares, a positive whole number. */
  readonly qty: number;
  /** Limit (or expected execution) price; the ordered symbol is valued at this price. */
  readonly price: number;
  /** Strategy that sends the order (for the per-strategy order rate). */
  readonly strategy?: string;
}

export interface RiskPosition {
  readonly symbol: string;
  /** Signed shares (negative = short). */
  readonly qty: number;
  readonly price: number;
}

export interface RiskPortfolio {
  readonly nav: number;
  readonly state: TradingState;
  readonly positions: readonly RiskPosition[];
  /** Highest NAV seen (drawdown = (peakNav - nav) / peakNav). */
  readonly peakNav?: number;
  /** NAV at the start of the trading day (daily loss = (startOfDayNav - nav) / startOfDayNav). */
  readonly startOfDayNav?: number;
  /** Borrow located for short sales, shares per symbol. */
  readonly locates?: Readonly<Record<string, number>>;
}

export interface Security {
  readonly region?: string;
  readonly assetClass?: string;
  readonly sector?: string;
  /** Average daily volume, shares. */
  readonly adv?: number;
  readonly referencePrice?: number;
  /** When the reference price was observed, epoch milliseconds. */
  readonly referenceTime?: number;
  /** Modified duration in years (fixed income), for the rates shock of a stress test. */
  readonly duration?: number;
  /** Beta to the equity shock of a stress test. @default 1 */
  readonly beta?: number;
  /**
   * FX only: how the security moves with the US dollar, +1 (a dollar index fund) or -1 (a foreign
   * currency against the dollar). Used by a stress scenario's dollar move (the historical replays);
   * the linear `--shock fx` moves every FX position by the shock whatever this says. @default 1
   */
  readonly usd?: 1 | -1;
}

export interface Limits {
  /** |position| / nav per security. */
  readonly maxPositionWeight?: number;
  /** order qty / ADV. */
  readonly maxOrderAdvFraction?: number;
  /** Σ|position| / nav. */
  readonly maxGrossLeverage?: number;
  /** Σ|position| in money. */
  readonly maxGrossExposure?: number;
  /** |Σ signed position| in money. */
  readonly maxNetExposure?: number;
  /** qty × price in money. */
  readonly maxOrderNotional?: number;
  /** |price - referencePrice| / referencePrice. */
  readonly priceCollarPct?: number;
  /** Reference prices older than this are stale (the order is rejected). */
  readonly maxReferenceAgeMs?: number;
  readonly regionCaps?: Readonly<Record<string, number>>;
  readonly assetClassCaps?: Readonly<Record<string, number>>;
  readonly sectorCaps?: Readonly<Record<string, number>>;
  /** Orders per second per strategy. */
  readonly maxOrdersPerSecond?: number;
  /** Short sales need located borrow (portfolio.locates). */
  readonly requireLocate?: boolean;
  /** 1-day 99% VaR budget as a fraction of nav (needs a returns window). */
  readonly varBudget?: number;
  /** @default 'historical' */
  readonly varMethod?: 'historical' | 'parametric';
  /** Σ|position| of securities correlated with the ordered one (incl. itself) / nav. */
  readonly maxCorrelatedExposure?: number;
  /** Correlation at or above which two securities count as concentrated. @default 0.7 */
  readonly correlationThreshold?: number;
  /** Drawdown from peak NAV (fraction) at which trading halts automatically. */
  readonly maxDrawdown?: number;
  /** Loss since the start of the day (fraction of start NAV) at which trading goes REDUCING. */
  readonly maxDailyLoss?: number;
}

export interface RiskConfig {
  readonly securities: Readonly<Record<string, Security>>;
  readonly limits: Limits;
  /**
   * The strategies the account runs. Listed: an order or an operator command naming any other
   * strategy is refused. Not listed: the account does not restrict strategy names.
   */
  readonly strategies?: readonly string[];
}

export type RuleId =
  | 'tradingState'
  | 'unknownSymbol'
  | 'staleReferencePrice'
  /** The order names a strategy that the account's `strategies` does not list. */
  | 'unknownStrategy'
  /** Execution path only: a VaR or correlation limit is set and no returns window covers the symbol. */
  | 'returnsWindow'
  /** Execution path only: an algorithm child of a cancelled parent. */
  | 'parentCancelled'
  | 'priceCollarPct'
  | 'maxOrdersPerSecond'
  | 'maxOrderNotional'
  | 'maxOrderAdvFraction'
  | 'shortLocate'
  | 'maxPositionWeight'
  | 'maxGrossLeverage'
  | 'maxGrossExposure'
  | 'maxNetExposure'
  | 'regionCap'
  | 'assetClassCap'
  | 'sectorCap'
  | 'varBudget'
  | 'correlationConcentration';

export interface Breach {
  readonly rule: RuleId;
  readonly limit: number;
  readonly value: number;
}

export type Decision = 'approve' | 'reject' | 'resize';

export interface RiskDecision {
  readonly decision: Decision;
  /** Every rule the requested quantity breaches. */
  readonly breaches: Breach[];
  /** The order quantity on approve, the resized quantity on resize, 0 on reject. */
  readonly approvedQty: number;
}

/** Rules whose value depends on the order quantity (a smaller order may pass them). */
export const QUANTITY_RULES: ReadonlySet<RuleId> = new Set<RuleId>([
  'maxOrderNotional',
  'maxOrderAdvFraction',
  'shortLocate',
  'maxPositionWeight',
  'maxGrossLeverage',
  'maxGrossExposure',
  'maxNetExposure',
  'regionCap',
  'assetClassCap',
  'sectorCap',
  'varBudget',
  'correlationConcentration',
]);
