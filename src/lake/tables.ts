/**
 * The lake's tables as runtime code sees them: zone, prefix, partition keys and columns.
 * The Glue tables in the data-lake stack describe the same layout for Athena (a test checks both agree).
 */
import { NEWS_SENTIMENT_TABLE } from '../contract/news';

export type Zone = 'raw' | 'curated' | 'vendor' | 'results' | 'models' | 'athenaResults' | 'audit';

/** DuckDB type names; the Glue tables use the Hive equivalents. */
export type ColumnType = 'VARCHAR' | 'DOUBLE' | 'BIGINT' | 'INTEGER' | 'TIMESTAMP' | 'DATE' | 'BOOLEAN';

export interface Column {
  readonly name: string;
  readonly type: ColumnType;
}

export interface TableDef {
  readonly name: string;
  readonly zone: Zone;
  /** Key prefix inside the zone's bucket, without a trailing slash. */
  readonly prefix: string;
  /** Hive partition keys, outermost first. */
  readonly partitionKeys: readonly Column[];
  readonly columns: readonly Column[];
  /** Columns that identify a row inside a partition (merge writes keep the newest row per key). */
  readonly key?: readonly string[];
}

export const TICKS: TableDef = {
  name: 'ticks',
  zone: 'raw',
  prefix: 'ticks',
  partitionKeys: [
    { name: 'dt', type: 'DATE' },
    { name: 'symbol', type: 'VARCHAR' },
  ],
  columns: [
    { name: 'venue', type: 'VARCHAR' },
    { name: 'type', type: 'VARCHAR' },
    { name: 'exchange_ts', type: 'BIGINT' },
    { name: 'receive_ts', type: 'BIGINT' },
    { name: 'seq', type: 'BIGINT' },
    { name: 'price', type: 'DOUBLE' },
    { name: 'size', type: 'DOUBLE' },
    { name: 'bid', type: 'DOUBLE' },
    { name: 'bid_size', type: 'DOUBLE' },
    { name: 'ask', type: 'DOUBLE' },
    { name: 'ask_size', type: 'DOUBLE' },
  ],
  key: ['venue', 'seq'],
};

export const BARS: TableDef = {
  name: 'bars',
  zone: 'curated',
  prefix: 'bars',
  partitionKeys: [
    { name: 'interval', type: 'VARCHAR' },
    { name: 'symbol', type: 'VARCHAR' },
    { name: 'year', type: 'INTEGER' },
  ],
  columns: [
    { name: 'ts', type: 'TIMESTAMP' },
    { name: 'open', type: 'DOUBLE' },
    { name: 'high', type: 'DOUBLE' },
    { name: 'low', type: 'DOUBLE' },
    { name: 'close', type: 'DOUBLE' },
    { name: 'volume', type: 'DOUBLE' },
    { name: 'vwap', type: 'DOUBLE' },
    { name: 'trades', type: 'BIGINT' },
  ],
  key: ['ts'],
};

export const BACKTEST_RESULTS: TableDef = {
  name: 'backtest_results',
  zone: 'results',
  prefix: 'backtest_results',
  partitionKeys: [
    { name: 'strategy', type: 'VARCHAR' },
    { name: 'sweep_id', type: 'VARCHAR' },
  ],
  columns: [
    { name: 'param_set_id', type: 'VARCHAR' },
    { name: 'params', type: 'VARCHAR' },
    { name: 'bars_source', type: 'VARCHAR' },
    { name: 'bars', type: 'BIGINT' },
    { name: 'periods', type: 'BIGINT' },
    { name: 'total_return', type: 'DOUBLE' },
    { name: 'cagr', type: 'DOUBLE' },
    { name: 'sharpe', type: 'DOUBLE' },
    { name: 'sortino', type: 'DOUBLE' },
    { name: 'max_drawdown', type: 'DOUBLE' },
    { name: 'calmar', type: 'DOUBLE' },
    { name: 'volatility', type: 'DOUBLE' },
    { name: 'trades', type: 'BIGINT' },
    { name: 'turnover', type: 'DOUBLE' },
    { name: 'exposure', type: 'DOUBLE' },
    { name: 'completed_at', type: 'TIMESTAMP' },
  ],
  key: ['param_set_id'],
};

/** Scored news headlines (src/news); defined in src/contract/news.ts, shared with the Glue table. */
export const NEWS_SENTIMENT: TableDef = NEWS_SENTIMENT_TABLE;

export const TABLES: readonly TableDef[] = [TICKS, BARS, BACKTEST_RESULTS, NEWS_SENTIMENT];

export function tableDef(name: string): TableDef {
  const t = TABLES.find((x) => x.name === name);
  if (!t) throw new Error(`unknown table "${name}" (known: ${TABLES.map((x) => x.name).join(', ')})`);
  return t;
}

/** Every column of the table, partition keys last (the order Athena and DuckDB show them). */
export function allColumns(t: TableDef): readonly Column[] {
  return [...t.columns, ...t.partitionKeys];
}
