/**
 * The cost model as a file (`quant backtest --costs costs.json`, written by `quant tca calibrate`):
 * the fields of `CostModel` (src/backtest/costs.ts); a misspelt field is an error, never a
 * silently free trade.
 */
import * as z from 'zod';
import type { CostModel } from './costs';

const bps = z
  .number()
  .refine((v) => Number.isFinite(v) && v >= 0 && v <= 10_000, 'must be a number from 0 to 10000');

export const costModelSchema: z.ZodType<CostModel> = z.strictObject({
  commissionBps: bps.optional(),
  halfSpreadBps: bps.optional(),
  slippageBps: bps.optional(),
  impactK: bps.optional(),
  capital: z
    .number()
    .refine((v) => Number.isFinite(v) && v > 0, 'must be a number > 0')
    .optional(),
  window: z
    .number()
    .refine((v) => Number.isInteger(v) && v >= 2, 'must be a whole number >= 2')
    .optional(),
});
