/**
 * Schemas of the risk inputs (order, portfolio, limits). Parsing failures become an InputError
 * naming the source (file) and the field, e.g. `order.json: qty: must be a positive whole number`.
 */
import * as z from 'zod';
import { parseWith } from '../errors';
import type { RiskConfig, RiskOrder, RiskPortfolio } from './types';
import { idSchema } from './ids';

const money = z.number().refine(Number.isFinite, 'must be a finite number');
const positive = money.refine((v) => v > 0, 'must be greater than 0');
const fraction = money.refine((v) => v >= 0, 'must be 0 or greater');
const wholeQty = z
  .number()
  .refine(
    (v) => Number.isSafeInteger(v) && v > 0,
    'must be a positive whole number of shares (at most 2^53-1)',
  );
const signedQty = z
  .number()
  .refine(Number.isSafeInteger, 'must be a whole number of shares (at most 2^53-1)');
const symbol = z.string().min(1, 'must be a non-empty string');
export const tradingStateSchema = z.enum(['ACTIVE', 'REDUCING', 'HALTED']);

export const orderSchema = z.object({
  symbol,
  side: z.enum(['buy', 'sell']),
  /** Shares, a positive whole number. */
  qty: wholeQty,
  /** Limit (or expected execution) price; the ordered symbol is valued at this price. */
  price: positive,
  /** Strategy that sends the order (for the per-strategy order rate). */
  strategy: idSchema.optional(),
});

export const portfolioSchema = z.object({
  nav: positive,
  state: tradingStateSchema,
  /** qty: signed shares (negative = short). */
  positions: z.array(z.object({ symbol, qty: signedQty, price: positive })),
  /** Highest NAV seen (drawdown = (peakNav - nav) / peakNav). */
  peakNav: positive.optional(),
  /** NAV at the start of the trading day (daily loss = (startOfDayNav - nav) / startOfDayNav). */
  startOfDayNav: positive.optional(),
  /** Borrow located for short sales, shares per symbol. */
  locates: z
    .record(
      z.string(),
      money.refine((v) => v >= 0, 'must be 0 or greater'),
    )
    .optional(),
});

const caps = z.record(z.string(), fraction);

// Strict: a misspelt limit must be an error, never a silently unchecked rule.
export const limitsSchema = z.strictObject({
  /** |position| / nav per security. */
  maxPositionWeight: fraction.optional(),
  /** order qty / ADV. */
  maxOrderAdvFraction: fraction.optional(),
  /** Σ|position| / nav. */
  maxGrossLeverage: fraction.optional(),
  /** Σ|position| in money. */
  maxGrossExposure: fraction.optional(),
  /** |Σ signed position| in money. */
  maxNetExposure: fraction.optional(),
  /** qty × price in money. */
  maxOrderNotional: fraction.optional(),
  /** |price - referencePrice| / referencePrice. */
  priceCollarPct: fraction.optional(),
  /** Reference prices older than this are stale (the order is rejected). */
  maxReferenceAgeMs: fraction.optional(),
  regionCaps: caps.optional(),
  assetClassCaps: caps.optional(),
  sectorCaps: caps.optional(),
  /** Orders per second per strategy. */
  maxOrdersPerSecond: fraction.optional(),
  /** Short sales need located borrow (portfolio.locates). */
  requireLocate: z.boolean().optional(),
  /** 1-day 99% VaR budget as a fraction of nav (needs a returns window). */
  varBudget: fraction.optional(),
  /** @default 'historical' */
  varMethod: z.enum(['historical', 'parametric']).optional(),
  /** Σ|position| of securities correlated with the ordered one (incl. itself) / nav. */
  maxCorrelatedExposure: fraction.optional(),
  /** Correlation at or above which two securities count as concentrated. @default 0.7 */
  correlationThreshold: money.refine((v) => v >= -1 && v <= 1, 'must be between -1 and 1').optional(),
  /** Drawdown from peak NAV (fraction) at which trading halts automatically. */
  maxDrawdown: fraction.optional(),
  /** Loss since the start of the day (fraction of start NAV) at which trading goes REDUCING. */
  maxDailyLoss: fraction.optional(),
});

export const securitySchema = z.object({
  region: z.string().min(1).optional(),
  assetClass: z.string().min(1).optional(),
  sector: z.string().min(1).optional(),
  /** Average daily volume, shares. */
  adv: positive.optional(),
  referencePrice: positive.optional(),
  /** When the reference price was observed, epoch milliseconds. */
  referenceTime: money.optional(),
  /** Modified duration in years (fixed income), for the rates shock of a stress test. */
  duration: money.optional(),
  /** Beta to the equity shock of a stress test. @default 1 */
  beta: money.optional(),
  /**
   * FX only: how the security moves with the US dollar, +1 (a dollar index fund) or -1 (a foreign
   * currency against the dollar). Used by a stress scenario's dollar move (the historical replays);
   * the linear `--shock fx` moves every FX position by the shock whatever this says. @default 1
   */
  usd: z.union([z.literal(1), z.literal(-1)], { error: 'must be 1 or -1' }).optional(),
});

export const riskConfigSchema = z
  .object({
    securities: z.record(z.string().min(1), securitySchema),
    limits: limitsSchema,
    strategies: z
      .array(idSchema)
      .refine((a) => new Set(a).size === a.length, 'must not list a strategy twice')
      .optional(),
  })
  .superRefine((cfg, ctx) => {
    // A rule that needs a security field it cannot find would otherwise pass silently.
    for (const [sym, sec] of Object.entries(cfg.securities)) {
      if (cfg.limits.maxOrderAdvFraction !== undefined && sec.adv === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['securities', sym, 'adv'],
          message: 'required when limits.maxOrderAdvFraction is set',
        });
      }
      if (cfg.limits.priceCollarPct !== undefined && sec.referencePrice === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['securities', sym, 'referencePrice'],
          message: 'required when limits.priceCollarPct is set',
        });
      }
    }
  });

/** Reads and validates a JSON file; a missing file, bad JSON or a bad field is an InputError. */
export const parseOrder = (v: unknown, source = 'order'): RiskOrder => parseWith(orderSchema, v, source);
export const parsePortfolio = (v: unknown, source = 'portfolio'): RiskPortfolio =>
  parseWith(portfolioSchema, v, source);
export const parseRiskConfig = (v: unknown, source = 'limits'): RiskConfig =>
  parseWith(riskConfigSchema, v, source);
