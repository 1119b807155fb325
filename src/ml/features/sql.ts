/**
 * The feature set as one SQL text (window functions over the lake's `bars` table), for DuckDB
 * locally and Athena (Trino) in AWS. The only dialect difference is how `ts` is rendered: Athena's
 * UNLOAD writes it as ISO 8601 text, DuckDB returns a timestamp that the CSV writer formats.
 */
import {
  DEFAULT_HORIZON,
  FEATURE_NAMES,
  featureSetVersionOf,
  LABEL_COLUMN,
  SENTIMENT_FEATURE_SET_VERSION,
  type FeatureName,
} from '../../contract/ml';
import { InputError } from '../../errors';
import { SENTIMENT_FEATURE } from '../../contract/news';
import { dailySentimentSql } from '../../news/daily';

export type SqlDialect = 'duckdb' | 'athena';

export interface FeatureQuery {
  /** Symbols to include (cross-sectional ranks are taken among these). */
  readonly symbols: readonly string[];
  /** Bar interval partition. @default '1d' */
  readonly interval?: string;
  /** Bars between the decision and the label's close. @default DEFAULT_HORIZON */
  readonly horizon?: number;
  /** Keep rows with ts >= from (ISO date); earlier bars still feed the windows. */
  readonly from?: string;
  /** Keep rows with ts <= to (ISO date or datetime). */
  readonly to?: string;
  /** Relation to read bars from. @default 'bars' */
  readonly table?: string;
  /** @default 'duckdb' */
  readonly dialect?: SqlDialect;
  /** Adds `news_sentiment_1d` after the feature set (src/news/daily.ts, point in time). @default false */
  readonly sentiment?: boolean;
}

const SYMBOL_RE = /^[A-Za-z0-9._-]{1,32}$/;
const INTERVAL_RE = /^[0-9]{1,4}[smhdw]$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?Z?)?$/;
const TABLE_RE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

const lit = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** Window over the last `n` bars of the same symbol, ending at the current one. */
const last = (n: number): string =>
  `OVER (PARTITION BY symbol ORDER BY ts ROWS BETWEEN ${n - 1} PRECEDING AND CURRENT ROW)`;
const BY_SYMBOL = 'OVER (PARTITION BY symbol ORDER BY ts)';

/** `expr` when the symbol has at least `bars` bars up to t, else NULL. */
const after = (bars: number, expr: string): string => `CASE WHEN rn >= ${bars} THEN ${expr} END`;

/** Checked inputs: symbols, dates and names go into the SQL text. */
function checkQuery(
  q: FeatureQuery,
): Required<Omit<FeatureQuery, 'from' | 'to' | 'sentiment'>> &
  Pick<FeatureQuery, 'from' | 'to' | 'sentiment'> {
  if (q.symbols.length === 0) throw new InputError('symbols: at least one symbol is needed', 'symbols');
  for (const s of q.symbols)
    if (!SYMBOL_RE.test(s)) throw new InputError(`symbols: invalid symbol "${s}"`, 'symbols');
  const horizon = q.horizon ?? DEFAULT_HORIZON;
  if (!Number.isInteger(horizon) || horizon < 1 || horizon > 1000)
    throw new InputError(`horizon: must be an integer from 1 to 1000, got ${horizon}`, 'horizon');
  const interval = q.interval ?? '1d';
  if (!INTERVAL_RE.test(interval)) throw new InputError(`interval: invalid "${interval}"`, 'interval');
  for (const k of ['from', 'to'] as const) {
    const v = q[k];
    if (v !== undefined && !DATE_RE.test(v))
      throw new InputError(`${k}: not an ISO date or datetime "${v}"`, k);
  }
  const table = q.table ?? 'bars';
  if (!TABLE_RE.test(table)) throw new InputError(`table: invalid name "${table}"`, 'table');
  return { ...q, horizon, interval, table, dialect: q.dialect ?? 'duckdb' };
}

/** SQL of each feature over the `base` CTE (columns symbol, ts, close, volume, rn, r1). */
export const FEATURE_SQL: Readonly<Record<FeatureName, string>> = {
  ret_1: after(2, `close / LAG(close, 1) ${BY_SYMBOL} - 1`),
  ret_5: after(6, `close / LAG(close, 5) ${BY_SYMBOL} - 1`),
  ret_20: after(21, `close / LAG(close, 20) ${BY_SYMBOL} - 1`),
  vol_20: after(21, `STDDEV_SAMP(r1) ${last(20)}`),
  zscore_20: after(20, `(close - AVG(close) ${last(20)}) / NULLIF(STDDEV_SAMP(close) ${last(20)}, 0)`),
  sma_ratio_5_20: after(20, `AVG(close) ${last(5)} / AVG(close) ${last(20)} - 1`),
  sma_ratio_20_50: after(50, `AVG(close) ${last(20)} / AVG(close) ${last(50)} - 1`),
  volume_ratio_20: after(
    20,
    `CASE WHEN COUNT(volume) ${last(20)} = 20 THEN volume / NULLIF(AVG(volume) ${last(20)}, 0) END`,
  ),
  volume_z_20: after(
    20,
    `CASE WHEN COUNT(volume) ${last(20)} = 20 THEN (volume - AVG(volume) ${last(20)}) / NULLIF(STDDEV_SAMP(volume) ${last(20)}, 0) END`,
  ),
  // Filled in the outer query (they need ret_N of every symbol at the same ts).
  xs_rank_ret_5: 'NULL',
  xs_rank_ret_20: 'NULL',
};

/** Percentile rank of `col` among the rows with a value at the same ts (see src/contract/ml.ts). */
function xsRank(col: string): string {
  const n = `COUNT(${col}) OVER (PARTITION BY ts)`;
  const rank = `RANK() OVER (PARTITION BY ts, ${col} IS NULL ORDER BY ${col})`;
  return `CASE WHEN ${col} IS NULL THEN NULL WHEN ${n} = 1 THEN 0.5 ELSE CAST(${rank} - 1 AS DOUBLE) / (${n} - 1) END`;
}

/**
 * The feature query: one row per (symbol, ts) with `ts, symbol, <FEATURE_NAMES...>, fwd_return`,
 * sorted by symbol, ts. Every window sees only bars up to and including ts (point in time); the
 * label looks `horizon` bars ahead and is NULL for each symbol's last `horizon` bars.
 */
export function featureSql(q: FeatureQuery): string {
  const c = checkQuery(q);
  const symbols = c.symbols.map(lit).join(', ');
  const own = FEATURE_NAMES.filter((f) => !f.startsWith('xs_rank_'));
  const ts = c.dialect === 'athena' ? 'to_iso8601(ts)' : 'ts';
  const where = [
    c.from !== undefined ? `ts >= TIMESTAMP ${lit(tsLiteral(c.from))}` : undefined,
    c.to !== undefined ? `ts <= TIMESTAMP ${lit(tsLiteral(c.to))}` : undefined,
  ].filter((x) => x !== undefined);
  return [
    'WITH src AS (',
    `  SELECT symbol, ts, CAST(close AS DOUBLE) AS close, CAST(volume AS DOUBLE) AS volume`,
    `  FROM ${c.table}`,
    `  WHERE "interval" = ${lit(c.interval)} AND symbol IN (${symbols})`,
    '), base AS (',
    `  SELECT symbol, ts, close, volume,`,
    `    ROW_NUMBER() ${BY_SYMBOL} AS rn,`,
    `    close / LAG(close, 1) ${BY_SYMBOL} - 1 AS r1`,
    '  FROM src',
    '), feats AS (',
    '  SELECT symbol, ts,',
    ...own.map((f) => `    ${FEATURE_SQL[f]} AS ${f},`),
    `    LEAD(close, ${c.horizon}) ${BY_SYMBOL} / close - 1 AS ${LABEL_COLUMN}`,
    '  FROM base',
    '), ranked AS (',
    '  SELECT symbol, ts,',
    ...FEATURE_NAMES.map((f) =>
      f === 'xs_rank_ret_5'
        ? `    ${xsRank('ret_5')} AS ${f},`
        : f === 'xs_rank_ret_20'
          ? `    ${xsRank('ret_20')} AS ${f},`
          : `    ${f},`,
    ),
    `    ${LABEL_COLUMN}`,
    '  FROM feats',
    ')',
    ...(c.sentiment ? [`, sent AS (${dailySentimentSql({ bars: 'src', symbols: c.symbols })})`] : []),
    `SELECT ${ts} AS ts, symbol, ${featureColumns(c).join(', ')}, ${LABEL_COLUMN}`,
    c.sentiment ? 'FROM ranked JOIN sent USING (symbol, ts)' : 'FROM ranked',
    where.length > 0 ? `WHERE ${where.join(' AND ')}` : '',
    'ORDER BY symbol, ts',
  ]
    .filter((l) => l !== '')
    .join('\n');
}

/** `2020-01-02` → `2020-01-02 00:00:00`; datetimes lose the T and Z (both engines read UTC). */
function tsLiteral(v: string): string {
  const s = v.replace('T', ' ').replace(/Z$/, '');
  return s.length === 10 ? `${s} 00:00:00` : s;
}

/** The feature columns of the query's output, in order: the feature set, then the sentiment if asked. */
export const featureColumns = (q: Pick<FeatureQuery, 'sentiment'>): string[] => [
  ...FEATURE_NAMES,
  ...(q.sentiment ? [SENTIMENT_FEATURE] : []),
];

/** Whether a model's feature list needs the `sentiment` query (feature set version 2). */
export const usesSentiment = (features: readonly string[]): boolean =>
  featureSetVersionOf(features) === SENTIMENT_FEATURE_SET_VERSION;

/** S3 prefix for UNLOAD: `s3://bucket/prefix/` with no quote and a trailing slash. */
const S3_PREFIX_RE = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[A-Za-z0-9!_.*()=/-]*)?$/;

/**
 * The Athena statement of the features step in AWS: gzip JSON-lines parts under `destination`
 * (the training channel; it must be empty, as UNLOAD requires).
 */
export function featureUnloadSql(q: Omit<FeatureQuery, 'dialect'>, destination: string): string {
  if (!S3_PREFIX_RE.test(destination))
    throw new InputError(`destination: not an s3://bucket/prefix/ location "${destination}"`, 'destination');
  const dest = destination.endsWith('/') ? destination : `${destination}/`;
  return `UNLOAD (\n${featureSql({ ...q, dialect: 'athena' })}\n) TO ${lit(dest)} WITH (format = 'JSON', compression = 'GZIP')`;
}
