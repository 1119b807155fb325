/** Small helpers around @duckdb/node-api shared by the lake writer and the local query engine. */
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  DuckDBDataChunk,
  DuckDBInstance,
  INTEGER,
  VARCHAR,
  type DuckDBConnection,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import type { ColumnType } from './tables';

export async function openDuckDb(): Promise<{ con: DuckDBConnection; close(): void }> {
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  return {
    con,
    close() {
      con.closeSync();
      instance.closeSync();
    },
  };
}

/** Quotes an identifier for DuckDB (and Athena). */
export const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;
/** Quotes a string literal. */
export const literal = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/**
 * Staging types for appending from JS: TIMESTAMP arrives as epoch milliseconds (DOUBLE) and DATE as
 * 'YYYY-MM-DD' text; both are cast in SQL, which is much faster than building DuckDB value objects.
 */
export function stagingType(t: ColumnType): DuckDBType {
  switch (t) {
    case 'VARCHAR':
    case 'DATE':
      return VARCHAR;
    case 'DOUBLE':
    case 'TIMESTAMP':
      return DOUBLE;
    case 'BIGINT':
      return BIGINT;
    case 'INTEGER':
      return INTEGER;
    case 'BOOLEAN':
      return BOOLEAN;
  }
}

export function stagingSqlType(t: ColumnType): string {
  return t === 'DATE' ? 'VARCHAR' : t === 'TIMESTAMP' ? 'DOUBLE' : t;
}

/** SQL that turns a staging column into its real type. */
export function castFromStaging(name: string, t: ColumnType): string {
  const c = ident(name);
  if (t === 'TIMESTAMP') return `make_timestamp(CAST(round(${c} * 1000) AS BIGINT)) AS ${c}`;
  if (t === 'DATE') return `CAST(${c} AS DATE) AS ${c}`;
  return c;
}

const CHUNK = 2048;

/** Appends columnar JS data to a DuckDB table whose columns have the given staging types. */
export async function appendColumns(
  con: DuckDBConnection,
  table: string,
  columns: ReadonlyArray<{ type: ColumnType; values: ArrayLike<unknown> }>,
  length: number,
): Promise<void> {
  const appender = await con.createAppender(table);
  const types = columns.map((c) => stagingType(c.type));
  const buf: DuckDBValue[][] = columns.map(() => new Array<DuckDBValue>(CHUNK));
  for (let off = 0; off < length; off += CHUNK) {
    const n = Math.min(CHUNK, length - off);
    const chunk = DuckDBDataChunk.create(types, n);
    for (let c = 0; c < columns.length; c++) {
      const src = columns[c].values;
      const t = columns[c].type;
      const dst = n === CHUNK ? buf[c] : new Array<DuckDBValue>(n);
      if (t === 'BIGINT') {
        for (let i = 0; i < n; i++) {
          const v = src[off + i];
          dst[i] = v === null || v === undefined ? null : typeof v === 'bigint' ? v : BigInt(v as number);
        }
      } else if (t === 'TIMESTAMP') {
        for (let i = 0; i < n; i++) {
          const v = src[off + i];
          dst[i] = v === null || v === undefined ? null : v instanceof Date ? v.getTime() : (v as number);
        }
      } else {
        for (let i = 0; i < n; i++) {
          const v = src[off + i];
          dst[i] = v === undefined ? null : (v as DuckDBValue);
        }
      }
      chunk.setColumnValues(c, dst);
    }
    appender.appendDataChunk(chunk);
  }
  appender.flushSync();
  appender.closeSync();
}
