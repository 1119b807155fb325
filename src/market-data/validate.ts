/** Validation of market events: a zod schema for loose input (JSON, CSV) and a fast check for decoded events. */
import * as z from 'zod';
import { InputError, describeZodIssues } from '../errors';
import type { MarketEvent } from './events';

/** Timestamps before 2000-01-01 or after 2100-01-01 are treated as unit mistakes (ms or µs for ns). */
export const MIN_TS_NS = 946_684_800_000_000_000n;
export const MAX_TS_NS = 4_102_444_800_000_000_000n;

const nsTimestamp = z
  .union([
    z.bigint(),
    // A double cannot hold current ns timestamps exactly; only small (and then out-of-range) ones pass.
    z
      .number()
      .refine(Number.isSafeInteger, 'a number cannot hold nanoseconds exactly: pass a string or bigint'),
    z.string().regex(/^-?\d+$/, 'expected an integer of nanoseconds'),
  ])
  .transform((v) => BigInt(v))
  .refine((v) => v >= MIN_TS_NS && v < MAX_TS_NS, 'must be nanoseconds since epoch between 2000 and 2100');

const finite = z.coerce.number().refine(Number.isFinite, 'must be a finite number');
const positive = finite.refine((v) => v > 0, 'must be > 0');
const nonNegative = finite.refine((v) => v >= 0, 'must be >= 0');
const name = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  // The symbol becomes a lake partition path segment: no separators.
  .regex(/^[A-Za-z0-9._-]+$/, 'may contain only letters, digits and . _ -');

const base = {
  symbol: name,
  venue: name,
  seq: z.coerce.number().int('must be an integer').min(0, 'must be >= 0').max(Number.MAX_SAFE_INTEGER),
  exchangeTs: nsTimestamp,
  receiveTs: nsTimestamp,
};

export const marketEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('trade'), ...base, price: positive, size: positive }),
  z
    .object({
      type: z.literal('quote'),
      ...base,
      bid: positive,
      bidSize: nonNegative,
      ask: positive,
      askSize: nonNegative,
    })
    .refine((q) => q.bid <= q.ask, { message: 'bid must not exceed ask (crossed quote)', path: ['bid'] }),
  z.object({
    type: z.literal('book'),
    ...base,
    side: z.enum(['bid', 'ask']),
    action: z.enum(['new', 'change', 'delete']),
    level: z.coerce.number().int().min(1).max(65535),
    price: positive,
    size: nonNegative,
  }),
]);

/** Parses loose input into a MarketEvent; throws InputError naming every bad field. */
export function parseMarketEvent(input: unknown, where = ''): MarketEvent {
  const r = marketEventSchema.safeParse(input);
  if (!r.success)
    throw new InputError(`invalid market event: ${describeZodIssues(r.error.issues, where)}`, where);
  return r.data as MarketEvent;
}

const NAME_RE = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Semantic check of an event that decoded (types are right, values may not be). Returns the
 * problem as `field: reason`, or null. Hand-written because it runs once per tick in the consumer.
 */
// Symbols and venues repeat: remember the ones that passed (the decoder returns the same strings).
const goodNames = new Set<string>();
function goodName(s: string): boolean {
  if (goodNames.has(s)) return true;
  if (!NAME_RE.test(s)) return false;
  if (goodNames.size < 100_000) goodNames.add(s);
  return true;
}

export function eventProblem(e: MarketEvent): string | null {
  if (!goodName(e.symbol)) return 'symbol: missing or invalid';
  if (!goodName(e.venue)) return 'venue: missing or invalid';
  if (!(e.exchangeTs >= MIN_TS_NS && e.exchangeTs < MAX_TS_NS)) return 'exchangeTs: outside 2000..2100 in ns';
  if (!(e.receiveTs >= MIN_TS_NS && e.receiveTs < MAX_TS_NS)) return 'receiveTs: outside 2000..2100 in ns';
  switch (e.type) {
    case 'trade':
      if (!(e.price > 0 && e.price < Infinity)) return 'price: must be a finite number > 0';
      if (!(e.size > 0 && e.size < Infinity)) return 'size: must be a finite number > 0';
      return null;
    case 'quote':
      if (!(e.bid > 0 && e.bid < Infinity)) return 'bid: must be a finite number > 0';
      if (!(e.ask > 0 && e.ask < Infinity)) return 'ask: must be a finite number > 0';
      if (!(e.bidSize >= 0 && e.bidSize < Infinity)) return 'bidSize: must be a finite number >= 0';
      if (!(e.askSize >= 0 && e.askSize < Infinity)) return 'askSize: must be a finite number >= 0';
      if (e.bid > e.ask) return 'bid: exceeds ask (crossed quote)';
      return null;
    case 'book':
      if (!(e.level >= 1)) return 'level: must be >= 1';
      if (!(e.price > 0 && e.price < Infinity)) return 'price: must be a finite number > 0';
      if (!(e.size >= 0 && e.size < Infinity)) return 'size: must be a finite number >= 0';
      return null;
  }
}

/** Throws InputError when the event is not valid (for producers: reject before sending). */
export function assertValidEvent(e: MarketEvent): void {
  const p = eventProblem(e);
  if (p !== null) throw new InputError(`invalid ${e.type} event ${e.symbol}#${e.seq}: ${p}`, p.split(':')[0]);
}
