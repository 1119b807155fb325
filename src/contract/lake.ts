/**
 * The lake as both sides see it: zones, the environment variables that name their buckets, and
 * one definition per table (DuckDB types for the runtime, Hive types for the Glue catalog the
 * data-lake stack writes). Imports nothing but its own files.
 */
import { TCA_TABLE } from './tca';

export const ZONES = ['raw', 'curated', 'vendor', 'results', 'models', 'athenaResults', 'audit'] as const;
export type Zone = (typeof ZONES)[number];

/** Environment variables through which deployed tasks and functions learn the bucket names. */
export const LAKE_BUCKET_ENV: Readonly<Record<Zone, string>> = {
  raw: 'LAKE_RAW_BUCKET',
  curated: 'LAKE_CURATED_BUCKET',
  vendor: 'LAKE_VENDOR_BUCKET',
  results: 'LAKE_RESULTS_BUCKET',
  models: 'LAKE_MODELS_BUCKET',
  athenaResults: 'LAKE_ATHENA_RESULTS_BUCKET',
  audit: 'LAKE_AUDIT_BUCKET',
};
export const ATHENA_WORKGROUP_ENV = 'ATHENA_WORKGROUP';
export const GLUE_DATABASE_ENV = 'GLUE_DATABASE';

/** DuckDB type names of the runtime. */
export type ColumnType = 'VARCHAR' | 'DOUBLE' | 'BIGINT' | 'INTEGER' | 'TIMESTAMP' | 'DATE' | 'BOOLEAN';

/** The Hive type Glue and Athena use for each DuckDB type. */
export const GLUE_TYPE = {
  VARCHAR: 'string',
  DOUBLE: 'double',
  BIGINT: 'bigint',
  INTEGER: 'int',
  TIMESTAMP: 'timestamp',
  DATE: 'date',
  BOOLEAN: 'boolean',
} as const satisfies Record<ColumnType, string>;
export type GlueType = (typeof GLUE_TYPE)[ColumnType];

export interface Column {
  readonly name: string;
  readonly type: ColumnType;
}

export interface TableDef {
  readonly name: string;
  readonly zone: Zone;
  /** Key prefix inside the zone's bucket, without a trailing slash. */
  readonly prefix: string;
  /** Hive partition keys, outermost first (not repeated among `columns`). */
  readonly partitionKeys: readonly Column[];
  readonly columns: readonly Column[];
  /** Columns that identify a row inside a partition (merge writes keep the newest row per key). */
  readonly key?: readonly string[];
}

const cols = (spec: Readonly<Record<string, ColumnType>>): Column[] =>
  Object.entries(spec).map(([name, type]) => ({ name, type }));

export const TICKS: TableDef = {
  name: 'ticks',
  zone: 'raw',
  prefix: 'ticks',
  partitionKeys: cols({ dt: 'DATE', symbol: 'VARCHAR' }),
  columns: cols({
    venue: 'VARCHAR',
    type: 'VARCHAR',
    exchange_ts: 'BIGINT',
    receive_ts: 'BIGINT',
    seq: 'BIGINT',
    price: 'DOUBLE',
    size: 'DOUBLE',
    bid: 'DOUBLE',
    bid_size: 'DOUBLE',
    ask: 'DOUBLE',
    ask_size: 'DOUBLE',
  }),
  key: ['venue', 'seq'],
};

export const BARS: TableDef = {
  name: 'bars',
  zone: 'curated',
  prefix: 'bars',
  partitionKeys: cols({ interval: 'VARCHAR', symbol: 'VARCHAR', year: 'INTEGER' }),
  columns: cols({
    ts: 'TIMESTAMP',
    open: 'DOUBLE',
    high: 'DOUBLE',
    low: 'DOUBLE',
    close: 'DOUBLE',
    volume: 'DOUBLE',
    vwap: 'DOUBLE',
    trades: 'BIGINT',
  }),
  key: ['ts'],
};

export const BACKTEST_RESULTS: TableDef = {
  name: 'backtest_results',
  zone: 'results',
  prefix: 'backtest_results',
  partitionKeys: cols({ strategy: 'VARCHAR', sweep_id: 'VARCHAR' }),
  columns: cols({
    param_set_id: 'VARCHAR',
    params: 'VARCHAR',
    bars_source: 'VARCHAR',
    bars: 'BIGINT',
    periods: 'BIGINT',
    total_return: 'DOUBLE',
    cagr: 'DOUBLE',
    sharpe: 'DOUBLE',
    sortino: 'DOUBLE',
    max_drawdown: 'DOUBLE',
    calmar: 'DOUBLE',
    volatility: 'DOUBLE',
    trades: 'BIGINT',
    turnover: 'DOUBLE',
    exposure: 'DOUBLE',
    completed_at: 'TIMESTAMP',
  }),
  key: ['param_set_id'],
};

/**
 * `news_sentiment` (src/news): one row per (article, symbol it names), partitioned by the UTC date of
 * its publication and the symbol. `published_at` is when the score becomes usable (point in time);
 * `article_id` is the vendor's id, the key a re-run de-duplicates on.
 */
export const NEWS_SENTIMENT: TableDef = {
  name: 'news_sentiment',
  zone: 'curated',
  prefix: 'news_sentiment',
  partitionKeys: cols({ dt: 'DATE', symbol: 'VARCHAR' }),
  columns: cols({
    article_id: 'VARCHAR',
    published_at: 'TIMESTAMP',
    source: 'VARCHAR',
    title: 'VARCHAR',
    score: 'DOUBLE',
    comparative: 'DOUBLE',
    ingested_at: 'TIMESTAMP',
  }),
  key: ['article_id'],
};

/** Every table of the Glue catalog and of the local DuckDB views, in catalog order. */
export const TABLES: readonly TableDef[] = [TICKS, BARS, BACKTEST_RESULTS, NEWS_SENTIMENT, TCA_TABLE];

export function tableDef(name: string): TableDef {
  const t = TABLES.find((x) => x.name === name);
  if (!t) throw new Error(`unknown table "${name}" (known: ${TABLES.map((x) => x.name).join(', ')})`);
  return t;
}

/** Every column of the table, partition keys last (the order Athena and DuckDB show them). */
export function allColumns(t: TableDef): readonly Column[] {
  return [...t.columns, ...t.partitionKeys];
}

/** A column as a Glue `Column` (Hive type). */
export const glueColumn = (c: Column): { name: string; type: GlueType } => ({
  name: c.name,
  type: GLUE_TYPE[c.type],
});

/** Key prefixes outside the tables (no trailing slash). */
export const LAKE_PREFIXES = {
  /** Raw zone: ticks the consumer refused, with their reason. */
  quarantine: 'quarantine/ticks',
  /** Curated zone: one returns window per account, `<prefix>/<account>.json` (VaR and correlation limits). */
  riskReturns: 'risk/returns',
  /** Curated zone: the 1-minute and daily bars the trading functions read. */
  minuteBars: 'bars/interval=1m',
  dailyBars: 'bars/interval=1d',
  /** Audit zone: the order audit trail (Firehose delivery and local batches). */
  auditEvents: 'audit_events',
  /** Audit zone: each daily stress run's result, `<prefix>/<account>/<YYYY-MM-DD>.json`. */
  riskStress: 'risk/stress',
  /** Results zone: ranked top-N of each sweep. */
  rankings: 'backtest_rankings',
  /** Results zone: the Distributed Map manifest of each sweep. */
  sweepManifests: 'sweeps',
  /**
   * Each zone: a multi-partition write's pending marker, `<prefix>/<table>/<id>.json`, until it
   * completes (src/lake/commit.ts); readers of a table read its markers.
   */
  pending: '_lake/pending',
} as const;
