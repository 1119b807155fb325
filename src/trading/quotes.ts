/**
 * Fresh reference prices for algorithm children. A parent's reference price is as old as the
 * signal; a child released an hour later must be priced at the market then, or (with
 * `maxReferenceAgeMs` shorter than the schedule) it would reject as stale. The execution path asks
 * an injectable QuoteSource at the child's release time; a missing or too-old quote rejects the child
 * with its reason, never prices it at a stale price.
 *
 * LakeQuoteSource reads the latest 1-minute bar of the symbol from the curated zone (pure JS, so it
 * runs in the algo-child Lambda), cached per symbol for a short TTL.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { AwsClients } from '../aws/clients';
import { lakeBuckets } from '../lake/buckets';
import { LakeBarReader } from '../lake/bars-reader';
import type { Breach } from '../risk/types';
import { EnvError } from '../contract/env';
import { LAKE_BUCKET_ENV } from '../contract/lake';
import { TRADING_ENV } from '../contract/trading';

export interface Quote {
  readonly price: number;
  /** Epoch ms the price is from (a bar's close time). */
  readonly priceTime: number;
  /** Where it came from (for the audit trail and reasons). */
  readonly source: string;
}

export interface QuoteLookup {
  readonly quote?: Quote;
  /** Why there is no quote. */
  readonly problem?: string;
}

export interface QuoteSource {
  /** Oldest quote (ms) this source lets a child be priced at, whatever the limits say. */
  readonly maxAgeMs: number;
  /** The latest quote of `symbol` at or before `at` (epoch ms). */
  get(symbol: string, at: number): Promise<QuoteLookup>;
}

export type QuoteDecision = { readonly quote: Quote } | { readonly breach: Breach; readonly reason: string };

/**
 * Pure: may a child released at `now` be priced at this lookup? Too old is older than the tighter
 * of the source's bound and the limits' `maxReferenceAgeMs`. Rejections use the engine's
 * `staleReferencePrice` rule (value: the age in ms, −1 when there is no quote).
 */
export function decideQuote(
  symbol: string,
  lookup: QuoteLookup,
  now: number,
  sourceMaxAgeMs: number,
  limitMaxAgeMs?: number,
): QuoteDecision {
  const limit = Math.min(sourceMaxAgeMs, limitMaxAgeMs ?? Infinity);
  const q = lookup.quote;
  if (!q) {
    return {
      breach: { rule: 'staleReferencePrice', limit, value: -1 },
      reason: `no quote for ${symbol}: ${lookup.problem ?? 'none found'}`,
    };
  }
  const age = now - q.priceTime;
  if (age > limit) {
    return {
      breach: { rule: 'staleReferencePrice', limit, value: age },
      reason: `quote for ${symbol} is ${age} ms old (${q.source} at ${new Date(q.priceTime).toISOString()}), more than ${limit} ms`,
    };
  }
  return { quote: q };
}

export interface LakeQuoteSourceOptions {
  /** Bar interval read. @default '1m' */
  readonly interval?: string;
  /** @default 300000 (5 minutes) */
  readonly maxAgeMs?: number;
  /** How long a read (or a miss) is reused per symbol. @default 5000 */
  readonly ttlMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/** The latest bar close of a symbol from the curated zone's `bars` table. */
export class LakeQuoteSource implements QuoteSource {
  readonly maxAgeMs: number;
  private readonly reader: LakeBarReader;
  private readonly interval: string;
  private readonly ttl: number;
  private readonly clock: () => number;
  private readonly cache = new Map<string, { read: number; at: number; value: QuoteLookup }>();

  constructor(s3: S3Client, bucket: string, opts: LakeQuoteSourceOptions = {}) {
    this.reader = new LakeBarReader(s3, bucket);
    this.interval = opts.interval ?? '1m';
    this.maxAgeMs = opts.maxAgeMs ?? 300_000;
    this.ttl = opts.ttlMs ?? 5000;
    this.clock = opts.now ?? Date.now;
  }

  async get(symbol: string, at: number): Promise<QuoteLookup> {
    const hit = this.cache.get(symbol);
    // A cached read answers only for the same release time or later within the TTL: an earlier
    // `at` (a simulated clock) must not see a bar from its future.
    if (hit && this.clock() - hit.read < this.ttl && at >= hit.at) return hit.value;
    const where = this.reader.location(symbol, this.interval);
    let value: QuoteLookup;
    try {
      const bar = await this.reader.latest(symbol, this.interval, at);
      value = bar
        ? { quote: { price: bar.close, priceTime: bar.time, source: `${this.interval} bar ${where}` } }
        : { problem: `no ${this.interval} bar at or before ${new Date(at).toISOString()} in ${where}` };
    } catch (err) {
      if ((err as Error).name !== 'InputError') throw err; // S3 trouble is transient: retried
      value = { problem: (err as Error).message };
    }
    this.cache.set(symbol, { read: this.clock(), at, value });
    return value;
  }
}

/**
 * The lake quote source of a runtime (the curated bucket: LAKE_CURATED_BUCKET in AWS, the local
 * one locally); QUOTE_MAX_AGE_MS overrides the age bound. Undefined in AWS without the bucket.
 */
export function quoteSourceFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  clients: AwsClients,
): LakeQuoteSource | undefined {
  const rt = clients.runtime;
  if (rt.mode === 'aws' && !env[LAKE_BUCKET_ENV.curated]) return undefined;
  const raw = env[TRADING_ENV.quoteMaxAgeMs];
  const maxAgeMs = raw === undefined ? undefined : Number(raw);
  if (maxAgeMs !== undefined && !(Number.isInteger(maxAgeMs) && maxAgeMs > 0))
    throw new EnvError(TRADING_ENV.quoteMaxAgeMs, `must be a positive whole number, got ${raw}`);
  return new LakeQuoteSource(clients.s3, lakeBuckets(rt, env).curated, { maxAgeMs });
}

/** Past 1-minute bars of a symbol from the curated zone (VWAP volume curves). */
export class LakeMinuteBars {
  private readonly reader: LakeBarReader;
  constructor(s3: S3Client, bucket: string) {
    this.reader = new LakeBarReader(s3, bucket);
  }
  read(symbol: string, from: number, to: number) {
    return this.reader.read(symbol, '1m', from, to);
  }
  describe(symbol: string): string {
    return this.reader.location(symbol, '1m');
  }
}

/** The lake's 1-minute bars of a runtime (undefined in AWS without LAKE_CURATED_BUCKET). */
export function minuteBarsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  clients: AwsClients,
): LakeMinuteBars | undefined {
  const rt = clients.runtime;
  if (rt.mode === 'aws' && !env[LAKE_BUCKET_ENV.curated]) return undefined;
  return new LakeMinuteBars(clients.s3, lakeBuckets(rt, env).curated);
}
