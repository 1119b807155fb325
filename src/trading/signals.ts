/**
 * Trading signals: a strategy's target positions (shares or weights of NAV) or explicit orders,
 * each with the reference price it was computed from and that price's time.
 */
import * as z from 'zod';
import { InputError, describeZodIssues } from '../errors';
import { idSchema } from '../risk/ids';
import { algoSpecSchema } from './algos';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const positive = finite.refine((v) => v > 0, 'must be greater than 0');
const epochMs = finite.refine((v) => v > 0 && v < 1e14, 'must be epoch milliseconds');
const id = idSchema;

const target = z
  .object({
    symbol: id,
    /** Target position in shares (signed). */
    targetQty: z.number().refine(Number.isSafeInteger, 'must be a whole number of shares').optional(),
    /** Target weight of NAV (signed). */
    targetWeight: finite.refine((v) => Math.abs(v) <= 10, 'must be between -10 and 10').optional(),
    price: positive,
    priceTime: epochMs,
  })
  .refine((t) => (t.targetQty === undefined) !== (t.targetWeight === undefined), {
    message: 'exactly one of targetQty and targetWeight is required',
  });

const order = z.object({
  symbol: id,
  side: z.enum(['buy', 'sell']),
  qty: z
    .number()
    .refine((v) => Number.isSafeInteger(v) && v > 0, 'must be a positive whole number of shares'),
  price: positive,
  priceTime: epochMs,
});

export const signalSchema = z
  .object({
    signalId: id,
    account: id,
    strategy: id,
    createdAt: epochMs,
    targets: z.array(target).min(1).max(500).optional(),
    orders: z.array(order).min(1).max(500).optional(),
    /** Every order of the signal is a parent worked by this algorithm (children on a schedule). */
    algo: algoSpecSchema.optional(),
    /**
     * What produced the signal (the strategy runner, src/strategy-runner/): environment, model
     * version and a hash of the inputs, kept on the audit trail with the signal.
     */
    provenance: z
      .object({
        env: id,
        model: id.optional(),
        modelVersion: z.number().refine(Number.isSafeInteger, 'must be a whole number').optional(),
        inputsHash: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be sha256:<64 hex digits>'),
      })
      .optional(),
  })
  .refine((s) => (s.targets === undefined) !== (s.orders === undefined), {
    message: 'exactly one of targets and orders is required',
  });

export type Signal = z.infer<typeof signalSchema>;

/** Parses a signal from text or a value; anything malformed is an InputError naming the field. */
export function parseSignal(input: unknown, source = 'signal'): Signal {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (err) {
      throw new InputError(`${source}: not valid JSON (${(err as Error).message})`, source);
    }
  }
  const r = signalSchema.safeParse(value);
  if (!r.success) throw new InputError(`${source}: ${describeZodIssues(r.error.issues)}`, source);
  // Duplicate symbols in one signal would become two orders with one order id.
  const symbols = (r.data.targets ?? r.data.orders ?? []).map((t) => t.symbol);
  const dup = symbols.find((s, i) => symbols.indexOf(s) !== i);
  if (dup) throw new InputError(`${source}: symbol ${dup} appears more than once`, source);
  return r.data;
}
