/**
 * The risk engine behind the backtest's `PositionLimiter` contract (src/risk-api): the same
 * weight-based rules (position weight, gross leverage, region / asset-class / sector caps,
 * trading state) decide how far each target may be reached, so a backtest and live trading
 * are limited by one implementation.
 */
import type { PositionLimiter, ProposedPosition } from '../risk-api';
import { RiskEngine } from './engine';
import type { Limits, RiskConfig, RiskOrder, TradingState } from './types';

/** Weights are turned into whole units of a synthetic book: 1e8 units = NAV (1e-8 resolution). */
const UNITS = 1e8;

export interface EngineLimiterOptions {
  /** Trading state of the book. @default 'ACTIVE' */
  readonly state?: TradingState;
}

export function riskEngineLimiter(config: RiskConfig, options: EngineLimiterOptions = {}): PositionLimiter {
  // Only rules expressed in weights apply to a book of weights; order-level rules (notional,
  // ADV, collar, rate, locate) need prices and volumes the limiter is not given.
  const L = config.limits;
  const limits: Limits = {
    maxPositionWeight: L.maxPositionWeight,
    maxGrossLeverage: L.maxGrossLeverage,
    regionCaps: L.regionCaps,
    assetClassCaps: L.assetClassCaps,
    sectorCaps: L.sectorCaps,
  };
  const engine = new RiskEngine({ securities: config.securities, limits });
  const state = options.state ?? 'ACTIVE';
  return {
    name: 'risk-engine',
    limit(book: readonly ProposedPosition[]): number[] {
      if (state === 'HALTED') return book.map((p) => p.current);
      const snap = engine.snapshot({
        nav: UNITS,
        state,
        positions: book.map((p) => ({ symbol: p.symbol, qty: Math.round(p.current * UNITS), price: 1 })),
      });
      // Reductions first, so the room they free is available to the increases.
      const order = book
        .map((p, i) => i)
        .sort(
          (a, b) =>
            Math.abs(book[a].target) -
            Math.abs(book[a].current) -
            (Math.abs(book[b].target) - Math.abs(book[b].current)),
        );
      const out = book.map((p) => p.current);
      for (const i of order) {
        const p = book[i];
        const delta = Math.round(p.target * UNITS) - Math.round(p.current * UNITS);
        if (delta === 0) {
          out[i] = p.target;
          continue;
        }
        const o: RiskOrder = {
          symbol: p.symbol,
          side: delta > 0 ? 'buy' : 'sell',
          qty: Math.abs(delta),
          price: 1,
        };
        const d = engine.check(snap, o, { resize: true });
        if (d.approvedQty > 0) engine.apply(snap, o, d.approvedQty);
        const reached = p.current + (Math.sign(delta) * d.approvedQty) / UNITS;
        out[i] = d.decision === 'approve' ? p.target : clampToward(reached, p.target);
        // The contract's REDUCING never crosses zero (the engine allows a flip to an equal size).
        if (state === 'REDUCING') out[i] = clampToward(out[i], p.current);
      }
      return out;
    },
  };
}

/** Keeps a partial move inside the contract's range: between 0 and the target. */
function clampToward(v: number, target: number): number {
  const lo = Math.min(0, target);
  const hi = Math.max(0, target);
  return v < lo ? lo : v > hi ? hi : v;
}
