/**
 * The scheduled job behind `quant risk returns` in AWS: publishes an account's returns window
 * (`risk/returns/<account>.json` in the curated zone) from the lake's daily bars, without DuckDB
 * (the Parquet objects are read with hyparquet), so it runs as a small Lambda. Same result as the
 * CLI: the symbols aligned on their common dates, the last `days` close-to-close returns, validated,
 * one PUT.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import type { Panel } from '../backtest/types';
import { InputError, describeZodIssues } from '../errors';
import { LakeBarReader } from '../lake/bars-reader';
import { returnsFromPanel, writeReturnsWindow } from './returns-source';

const SYMBOL = /^[A-Za-z0-9._-]{1,32}$/;

export const returnsJobSchema = z.strictObject({
  account: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'must be 1-128 of A-Z a-z 0-9 . _ -'),
  symbols: z
    .array(z.string().regex(SYMBOL, 'must be a symbol (1-32 of A-Z a-z 0-9 . _ -)'))
    .min(1, 'needs at least one symbol')
    .max(200, 'at most 200 symbols')
    .refine((s) => new Set(s).size === s.length, 'a symbol is given twice'),
  days: z
    .number()
    .refine((v) => Number.isInteger(v) && v >= 2 && v <= 5000, 'must be a whole number from 2 to 5000'),
});
export type ReturnsJob = z.infer<typeof returnsJobSchema>;

export interface ReturnsJobResult {
  readonly bucket: string;
  readonly key: string;
  readonly symbols: string[];
  /** Returns per symbol in the window. */
  readonly returns: number;
  /** The first close the window uses and the last, as the bars' dates. */
  readonly from: string;
  readonly to: string;
}

const LAST_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** A bar's date as `quant risk returns` shows it: YYYY-MM-DD at midnight UTC, else the ISO time. */
function dateOf(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso;
}

export async function publishReturnsFromLake(
  s3: S3Client,
  bucket: string,
  input: unknown,
): Promise<ReturnsJobResult> {
  const p = returnsJobSchema.safeParse(input);
  if (!p.success) throw new InputError(`returns job: ${describeZodIssues(p.error.issues)}`, 'returnsJob');
  const { account, symbols, days } = p.data;
  const reader = new LakeBarReader(s3, bucket);
  const series: Array<Map<string, number>> = [];
  for (const symbol of symbols) {
    const bars = await reader.read(symbol, '1d', 0, LAST_MS);
    if (bars.length === 0)
      throw new InputError(
        `symbols: no daily bars for ${symbol} in ${reader.location(symbol, '1d')}`,
        'symbols',
      );
    series.push(new Map(bars.map((b) => [dateOf(b.time), b.close])));
  }
  // Common dates, in order (the bars are sorted by time).
  const dates = [...series[0].keys()].filter((d) => series.every((s) => s.has(d)));
  const panel: Panel = {
    symbols,
    dates,
    close: series.map((s) => Float64Array.from(dates, (d) => s.get(d)!)),
  };
  const returns = returnsFromPanel(panel, days);
  const n = returns[symbols[0]].length;
  if (n < 2)
    throw new InputError(
      `symbols: only ${n} common daily return(s) of ${symbols.join(', ')} in the lake; need at least 2`,
      'symbols',
    );
  const key = await writeReturnsWindow(s3, bucket, account, returns);
  return { bucket, key, symbols, returns: n, from: dates[dates.length - n - 1], to: dates[dates.length - 1] };
}
