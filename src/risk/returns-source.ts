/**
 * The returns window of the VaR and correlation rules for the execution path: one JSON object per
 * account in the curated zone, `risk/returns/<account>.json`, in the format of `quant risk check
 * --returns` (`{"AAPL": [0.012, -0.004, ...]}`, aligned daily returns), written by a job. Read with
 * the client factory's S3 client and cached like the limits (default 5 s), so a new window applies
 * without a redeploy. A missing or malformed object is reported as a problem, never an exception:
 * the execution path then rejects orders those limits govern (rule `returnsWindow`).
 */
import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import type { AwsClients } from '../aws/clients';
import { describeZodIssues } from '../errors';
import { lakeBuckets } from '../lake/buckets';
import type { Panel } from '../backtest/types';
import { InputError } from '../errors';
import { ReturnsWindow } from './var';
import { LAKE_BUCKET_ENV, LAKE_PREFIXES } from '../contract/lake';

export const RETURNS_PREFIX = `${LAKE_PREFIXES.riskReturns}/`;

export const returnsWindowSchema = z.record(
  z.string().min(1),
  z.array(z.number().refine(Number.isFinite, 'must be a finite number')).min(2, 'needs at least 2 returns'),
);

export interface ReturnsLookup {
  readonly window?: ReturnsWindow;
  /** Why there is no window (missing object, malformed content). */
  readonly problem?: string;
}

export interface ReturnsSource {
  get(account: string): Promise<ReturnsLookup>;
}

export interface S3ReturnsSourceOptions {
  /** @default 'risk/returns/' */
  readonly prefix?: string;
  /** How long a read (or a miss) is reused. @default 5000 (the limits' TTL) */
  readonly ttlMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/** Parses a returns window; the problem names the field. */
export function parseReturnsWindow(text: string, source: string): ReturnsLookup {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { problem: `${source}: not valid JSON (${(err as Error).message})` };
  }
  const r = returnsWindowSchema.safeParse(value);
  if (!r.success) return { problem: `${source}: ${describeZodIssues(r.error.issues)}` };
  try {
    return { window: new ReturnsWindow(r.data) };
  } catch (err) {
    return { problem: `${source}: ${(err as Error).message}` };
  }
}

export class S3ReturnsSource implements ReturnsSource {
  private readonly cache = new Map<string, { at: number; value: ReturnsLookup }>();
  private readonly prefix: string;
  private readonly ttl: number;
  private readonly now: () => number;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    opts: S3ReturnsSourceOptions = {},
  ) {
    this.prefix = opts.prefix ?? RETURNS_PREFIX;
    this.ttl = opts.ttlMs ?? 5000;
    this.now = opts.now ?? Date.now;
  }

  keyOf(account: string): string {
    return `${this.prefix}${account}.json`;
  }

  async get(account: string): Promise<ReturnsLookup> {
    const hit = this.cache.get(account);
    if (hit && this.now() - hit.at < this.ttl) return hit.value;
    const key = this.keyOf(account);
    const source = `s3://${this.bucket}/${key}`;
    let value: ReturnsLookup;
    try {
      const r = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      value = parseReturnsWindow(await r.Body!.transformToString(), source);
    } catch (err) {
      // Anything but a missing object (throttling, access) is transient: let the caller retry.
      if (!(err instanceof NoSuchKey) && (err as Error).name !== 'NoSuchKey') throw err;
      value = { problem: `${source}: no returns window (object not found)` };
    }
    this.cache.set(account, { at: this.now(), value });
    return value;
  }
}

/**
 * The curated zone's returns windows: locally the local curated bucket, in AWS the bucket in
 * LAKE_CURATED_BUCKET; undefined (VaR and correlation limits then reject) when it is not set.
 */
export function returnsSourceFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  clients: AwsClients,
  opts: S3ReturnsSourceOptions = {},
): ReturnsSource | undefined {
  const rt = clients.runtime;
  if (rt.mode === 'aws' && !env[LAKE_BUCKET_ENV.curated]) return undefined;
  return new S3ReturnsSource(clients.s3, lakeBuckets(rt, env).curated, opts);
}

/**
 * Daily close-to-close returns of every symbol of an aligned panel over the `days` bars before bar
 * `end` (exclusive; default: after the last bar), oldest first: the window's content.
 */
export function returnsFromPanel(
  panel: Panel,
  days: number,
  end: number = panel.dates.length,
): Record<string, number[]> {
  const from = Math.max(1, end - days);
  const out: Record<string, number[]> = {};
  panel.symbols.forEach((s, a) => {
    const c = panel.close[a];
    const r: number[] = [];
    for (let t = from; t < end; t++) r.push(c[t] / c[t - 1] - 1);
    out[s] = r;
  });
  return out;
}

const ACCOUNT = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * Publishes an account's returns window where S3ReturnsSource reads it (one PUT: readers see the old
 * or the new window). The content is validated first, so a bad window is never published.
 */
export async function writeReturnsWindow(
  s3: S3Client,
  bucket: string,
  account: string,
  returns: Record<string, number[]>,
  prefix: string = RETURNS_PREFIX,
): Promise<string> {
  if (!ACCOUNT.test(account))
    throw new InputError(`account: ${JSON.stringify(account)} must be 1-128 of A-Z a-z 0-9 . _ -`, 'account');
  const body = JSON.stringify(returns);
  const parsed = parseReturnsWindow(body, 'returns window');
  if (parsed.problem !== undefined) throw new InputError(parsed.problem, 'returns');
  const key = `${prefix}${account}.json`;
  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json' }),
  );
  return key;
}
