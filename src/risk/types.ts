/**
 * Pre-trade risk: the shapes of orders, portfolios, securities and limits, and the decision.
 * The CLI contract of `quant risk check` (docs/trading.md) is these shapes serialized as JSON.
 */
import type * as z from 'zod';
import type { limitsSchema, orderSchema, portfolioSchema, securitySchema } from './schemas';

export type Side = 'buy' | 'sell';
export type TradingState = 'ACTIVE' | 'REDUCING' | 'HALTED';

/** An order to check (fields documented in src/risk/schemas.ts). */
export type RiskOrder = Readonly<z.infer<typeof orderSchema>>;

/** A portfolio as the engine sees it (fields documented in src/risk/schemas.ts). */
export type RiskPortfolio = Readonly<z.infer<typeof portfolioSchema>>;

/** A security's fields (region, groups, ADV, reference price, stress inputs): src/risk/schemas.ts. */
export type Security = Readonly<z.infer<typeof securitySchema>>;

/** The limits, each optional (unset: not checked); their meaning is documented in src/risk/schemas.ts. */
export type Limits = Readonly<z.infer<typeof limitsSchema>>;

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
