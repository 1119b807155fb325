/**
 * The features step locally: the feature SQL on the lake's query engine (DuckDB over the local
 * Parquet files), written as the training channel's CSV (`ts,symbol,<features>,fwd_return`).
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { KEY_COLUMNS, LABEL_COLUMN } from '../../contract/ml';
import { InputError } from '../../errors';
import type { QueryEngine, Row } from '../../lake/query';
import { waitForNewsOnEngine } from '../../news/pending';
import { featureColumns, featureSql, type FeatureQuery } from './sql';

/** ISO 8601 UTC: `YYYY-MM-DD` at midnight, else the full datetime. */
export function isoTs(v: unknown): string {
  const d =
    v instanceof Date
      ? v
      : typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)
        ? new Date(`${v}T00:00:00Z`)
        : typeof v === 'string'
          ? new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v.replace(' ', 'T')}Z`)
          : new Date(Number(v));
  if (Number.isNaN(d.getTime())) throw new Error(`features: unreadable ts ${String(v)}`);
  const iso = d.toISOString();
  return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso;
}

/**
 * Runs the feature query (DuckDB dialect) on `engine`. With sentiment, a news pull still writing
 * the symbols' partitions is waited for (an abandoned one refused): no feature from part of a pull.
 */
export async function queryFeatures(
  engine: QueryEngine,
  q: Omit<FeatureQuery, 'dialect'>,
  opts: { readonly newsWaitMs?: number } = {},
): Promise<Row[]> {
  if (q.sentiment) await waitForNewsOnEngine(engine, { symbols: q.symbols, maxWaitMs: opts.newsWaitMs });
  return engine.query(featureSql({ ...q, dialect: 'duckdb' }));
}

const cell = (v: unknown): string =>
  v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v)) ? '' : String(v);

/**
 * Rows of the feature query as CSV text (numbers at full precision, NULL as empty); with
 * `sentiment`, the `news_sentiment_1d` column follows the feature set (before the label).
 */
export function featuresCsv(rows: readonly Row[], opts: { readonly sentiment?: boolean } = {}): string {
  const features = featureColumns(opts);
  const lines = [[...KEY_COLUMNS, ...features, LABEL_COLUMN].join(',')];
  for (const r of rows) {
    lines.push(
      [isoTs(r.ts), String(r.symbol), ...features.map((f) => cell(r[f])), cell(r[LABEL_COLUMN])].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

export interface FeatureFileResult {
  readonly file: string;
  readonly rows: number;
  /** Rows with a label (the ones training can use). */
  readonly labelled: number;
  readonly symbols: readonly string[];
}

/**
 * Computes the features of `q.symbols` from the lake and writes them to `file` (written to a
 * temporary name first: never half-written). No rows is an InputError naming the symbols.
 */
export async function writeFeatureFile(
  engine: QueryEngine,
  q: Omit<FeatureQuery, 'dialect'>,
  file: string,
): Promise<FeatureFileResult> {
  const rows = await queryFeatures(engine, q);
  if (rows.length === 0)
    throw new InputError(
      `symbols: no ${q.interval ?? '1d'} bars in the lake for ${q.symbols.join(', ')} (import them with quant lake import)`,
      'symbols',
    );
  const found = [...new Set(rows.map((r) => String(r.symbol)))];
  const missing = q.symbols.filter((s) => !found.includes(s));
  if (missing.length > 0)
    throw new InputError(`symbols: no bars in the lake for ${missing.join(', ')}`, 'symbols');
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, featuresCsv(rows, { sentiment: q.sentiment }));
  renameSync(tmp, file);
  return {
    file,
    rows: rows.length,
    labelled: rows.filter((r) => r[LABEL_COLUMN] !== null && r[LABEL_COLUMN] !== undefined).length,
    symbols: found,
  };
}
