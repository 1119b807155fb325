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
  qty: wholeQty,
  price: positive,
  strategy: idSchema.optional(),
});

export const portfolioSchema = z.object({
  nav: positive,
  state: tradingStateSchema,
  positions: z.array(z.object({ symbol, qty: signedQty, price: positive })),
  peakNav: positive.optional(),
  startOfDayNav: positive.optional(),
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
  maxPositionWeight: fraction.optional(),
  maxOrderAdvFraction: fraction.optional(),
  maxGrossLeverage: fraction.optional(),
  maxGrossExposure: fraction.optional(),
  maxNetExposure: fraction.optional(),
  maxOrderNotional: fraction.optional(),
  priceCollarPct: fraction.optional(),
  maxReferenceAgeMs: fraction.optional(),
  regionCaps: caps.optional(),
  assetClassCaps: caps.optional(),
  sectorCaps: caps.optional(),
  maxOrdersPerSecond: fraction.optional(),
  requireLocate: z.boolean().optional(),
  varBudget: fraction.optional(),
  varMethod: z.enum(['historical', 'parametric']).optional(),
  maxCorrelatedExposure: fraction.optional(),
  correlationThreshold: money.refine((v) => v >= -1 && v <= 1, 'must be between -1 and 1').optional(),
  maxDrawdown: fraction.optional(),
  maxDailyLoss: fraction.optional(),
});

export const securitySchema = z.object({
  region: z.string().min(1).optional(),
  assetClass: z.string().min(1).optional(),
  sector: z.string().min(1).optional(),
  adv: positive.optional(),
  referencePrice: positive.optional(),
  referenceTime: money.optional(),
  // Stress tests (src/risk/stress.ts): duration of fixed income in years, beta to the equity shock.
  duration: money.optional(),
  beta: money.optional(),
  // FX only: +1 rises with the US dollar (a dollar index fund), -1 falls with it (a foreign currency).
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
