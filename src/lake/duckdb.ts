/** Small helpers around @duckdb/node-api shared by the lake writer and the local query engine. */
import bindings from '@duckdb/node-bindings';
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  DuckDBInstance,
  DuckDBTableFunction,
  INTEGER,
  VARCHAR,
  type DuckDBConnection,
  type DuckDBResultReader,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import { InputError } from '../errors';
import type { ColumnType } from '../contract/lake';

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

/**
 * Runs one read-only statement: exactly one SELECT (no COPY, ATTACH, INSTALL, SET, CREATE, ...), so
 * that SQL typed by a user can read the lake and nothing else. The statement is checked by parsing
 * alone (`json_serialize_sql` serialises SELECTs only): preparing it would already run side
 * effects of some statements (EXPORT DATABASE creates its directory when bound). Throws InputError
 * for anything but one SELECT, with DuckDB's message for a syntax error.
 */
export async function runReadOnly(con: DuckDBConnection, sql: string): Promise<DuckDBResultReader> {
  if (sql.trim() === '') throw new InputError('sql: empty query', 'sql');
  const parsed = await con.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR) AS j', [sql]);
  const tree = JSON.parse(String(parsed.getRowObjectsJS()[0].j)) as {
    error?: boolean;
    error_type?: string;
    error_message?: string;
    statements?: unknown[];
  };
  if (tree.error) {
    if (tree.error_type === 'parser') throw new InputError(`sql: ${tree.error_message}`, 'sql');
    const keyword = (/^[\s(]*([A-Za-z]+)/.exec(sql)?.[1] ?? '?').toUpperCase();
    throw new InputError(`sql: only SELECT queries are allowed on the lake, got ${keyword}`, 'sql');
  }
  const count = tree.statements?.length ?? 0;
  if (count === 0) throw new InputError('sql: no statement in the query', 'sql');
  if (count > 1) throw new InputError(`sql: one statement only, got ${count}`, 'sql');
  return con.runAndReadAll(sql);
}

/** Quotes an identifier for DuckDB (and Athena). */
export const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;
/** Quotes a string literal. */
export const literal = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/**
 * How one JS column is staged in DuckDB. Staging is the hot path of every lake write, so columns
 * are turned into flat typed arrays once and served to DuckDB by a table function that copies each
 * 2,048-row slice straight into the output vector's memory (no per-value calls, no intermediate
 * DuckDB table):
 * - Float64Array / BigInt64Array / Int32Array are used as they are (NaN in a Float64Array means
 *   missing: NULL, through a validity bitmap built once);
 * - low-cardinality strings (symbols, venues, dates): dictionary-encoded to INTEGER codes in JS and
 *   decoded in SQL, ~20x cheaper than creating one DuckDB string per value;
 * - plain arrays of numbers, bigints or Dates for numeric columns are converted to typed arrays
 *   (null/undefined/NaN: NULL);
 * - anything else (high-cardinality strings, booleans): value by value.
 * TIMESTAMP arrives as epoch milliseconds and DATE as 'YYYY-MM-DD' text; both are cast in SQL.
 */
interface StagedColumn {
  readonly name: string;
  readonly duckType: DuckDBType;
  /** SQL producing the column's real type from the staged one. */
  readonly select: string;
  /** Flat values copied into the vector as bytes, with an optional validity bitmap (1 = valid). */
  readonly flat?: {
    readonly values: Float64Array | BigInt64Array | Int32Array;
    readonly valid?: BigUint64Array;
  };
  /** Fallback: values set one by one. */
  readonly values?: ArrayLike<unknown>;
  readonly type: ColumnType;
}

const MAX_DICTIONARY = 4096;
/** Rows per table-function call: DuckDB's vector size, a multiple of 64 (validity words). */
const CHUNK = 2048;

/** Validity bitmap of a flat column: undefined when every value is present. */
function validityOf(isNull: (i: number) => boolean, length: number): BigUint64Array | undefined {
  let mask: Uint32Array | undefined;
  for (let i = 0; i < length; i++) {
    if (isNull(i)) {
      mask ??= new Uint32Array(Math.ceil(length / 64) * 2).fill(0xffffffff);
      mask[i >>> 5] &= ~(1 << (i & 31));
    }
  }
  return mask && new BigUint64Array(mask.buffer);
}

function flatColumn(t: ColumnType, values: ArrayLike<unknown>, length: number): StagedColumn['flat'] {
  if ((t === 'DOUBLE' || t === 'TIMESTAMP') && values instanceof Float64Array) {
    return { values, valid: validityOf((i) => values[i] !== values[i], length) };
  }
  if (t === 'BIGINT' && values instanceof BigInt64Array) return { values };
  if (t === 'INTEGER' && values instanceof Int32Array) return { values };
  if (values instanceof Float64Array || values instanceof BigInt64Array || values instanceof Int32Array) {
    return undefined; // a typed array of another type: converted value by value
  }
  const missing = (v: unknown): boolean =>
    v === null || v === undefined || (typeof v === 'number' && v !== v);
  if (t === 'DOUBLE' || t === 'TIMESTAMP') {
    const out = new Float64Array(length);
    for (let i = 0; i < length; i++) {
      const v = values[i];
      if (missing(v)) out[i] = NaN;
      else if (typeof v === 'number') out[i] = v;
      else if (t === 'TIMESTAMP' && v instanceof Date) out[i] = v.getTime();
      else return undefined;
    }
    return { values: out, valid: validityOf((i) => out[i] !== out[i], length) };
  }
  if (t === 'BIGINT' || t === 'INTEGER') {
    const out = t === 'BIGINT' ? new BigInt64Array(length) : new Int32Array(length);
    for (let i = 0; i < length; i++) {
      const v = values[i];
      if (missing(v)) continue;
      if (t === 'BIGINT') {
        if (typeof v === 'bigint') (out as BigInt64Array)[i] = v;
        else if (typeof v === 'number' && Number.isSafeInteger(v)) (out as BigInt64Array)[i] = BigInt(v);
        else return undefined;
      } else if (typeof v === 'number' && (v | 0) === v) (out as Int32Array)[i] = v;
      else return undefined;
    }
    return { values: out, valid: validityOf((i) => missing(values[i]), length) };
  }
  return undefined;
}

function stageColumn(
  name: string,
  t: ColumnType,
  values: ArrayLike<unknown>,
  length: number,
  field: string,
): StagedColumn {
  const c = ident(name);
  const cast = (expr: string): string =>
    t === 'TIMESTAMP'
      ? `make_timestamp(CAST(round(${expr} * 1000) AS BIGINT)) AS ${c}`
      : t === 'DATE'
        ? `CAST(${expr} AS DATE) AS ${c}`
        : `${expr} AS ${c}`;
  const flat = flatColumn(t, values, length);
  if (flat) {
    const duckType =
      flat.values instanceof Float64Array ? DOUBLE : flat.values instanceof BigInt64Array ? BIGINT : INTEGER;
    return { name, type: t, duckType, select: cast(c), flat };
  }
  if (t === 'VARCHAR' || t === 'DATE') {
    // Dictionary-encode when the column has few distinct values (codes: -1 = NULL).
    const dict = new Map<string, number>();
    const codes = new Int32Array(length);
    let ok = true;
    for (let i = 0; i < length; i++) {
      const v = values[i];
      if (v === null || v === undefined) {
        codes[i] = -1;
        continue;
      }
      const s = String(v);
      let code = dict.get(s);
      if (code === undefined) {
        if (dict.size >= MAX_DICTIONARY) {
          ok = false;
          break;
        }
        code = dict.size;
        dict.set(s, code);
      }
      codes[i] = code;
    }
    if (ok && dict.size > 0) {
      // DATE: the dictionary itself is cast (a few values), not every row.
      const list = `[${[...dict.keys()].map(literal).join(', ')}]::${t}[]`;
      return {
        name,
        type: t,
        duckType: INTEGER,
        select: `CASE WHEN ${c} < 0 THEN NULL ELSE list_extract(${list}, ${c} + 1) END AS ${c}`,
        flat: { values: codes },
      };
    }
  }
  checkValues(field, t, values, length);
  const duckType = { VARCHAR, DATE: VARCHAR, DOUBLE, TIMESTAMP: DOUBLE, BIGINT, INTEGER, BOOLEAN }[t];
  return { name, type: t, duckType, select: cast(c), values };
}

const describeValue = (v: unknown): string =>
  typeof v === 'string'
    ? `"${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`
    : typeof v === 'object'
      ? 'an object'
      : String(v);

/**
 * Type check of a column staged value by value (typed arrays are checked by their type): a wrong
 * value fails the write up front with the column and row, before anything is staged or written.
 */
function checkValues(field: string, t: ColumnType, values: ArrayLike<unknown>, length: number): void {
  const ok: (v: unknown) => boolean = {
    DOUBLE: (v: unknown) => typeof v === 'number',
    BIGINT: (v: unknown) =>
      (typeof v === 'number' && Number.isSafeInteger(v)) ||
      (typeof v === 'bigint' && v >= -(2n ** 63n) && v < 2n ** 63n),
    INTEGER: (v: unknown) => typeof v === 'number' && (v | 0) === v,
    TIMESTAMP: (v: unknown) =>
      (v instanceof Date && !Number.isNaN(v.getTime())) || (typeof v === 'number' && Number.isFinite(v)),
    DATE: (v: unknown) => (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)) || v instanceof Date,
    VARCHAR: (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint',
    BOOLEAN: (v: unknown) => typeof v === 'boolean',
  }[t];
  for (let i = 0; i < length; i++) {
    const v = values[i];
    if (v === null || v === undefined || ok(v)) continue;
    throw new InputError(`${field}: row ${i}: expected ${t}, got ${describeValue(v)}`, field);
  }
}

/** Value-by-value conversion for the fallback path. */
function genericValues(t: ColumnType, values: ArrayLike<unknown>, off: number, n: number): DuckDBValue[] {
  const dst = new Array<DuckDBValue>(n);
  for (let i = 0; i < n; i++) {
    const v = values[off + i];
    if (v === null || v === undefined) dst[i] = null;
    else if (t === 'BIGINT') dst[i] = typeof v === 'bigint' ? v : BigInt(v as number);
    else if (t === 'TIMESTAMP') dst[i] = v instanceof Date ? v.getTime() : (v as number);
    else if (t === 'DOUBLE') dst[i] = Number.isNaN(v) ? null : (v as number);
    else if (t === 'VARCHAR') dst[i] = String(v);
    else dst[i] = v as DuckDBValue;
  }
  return dst;
}

let stageSeq = 0;

/**
 * Makes `table` a view over the staged columns (served by a table function reading the JS arrays,
 * which must stay unchanged while the connection uses the view); returns the SELECT list that turns
 * staged columns into their real types (use as `SELECT <list> FROM table`).
 */
export async function stageColumns(
  con: DuckDBConnection,
  table: string,
  columns: ReadonlyArray<{ name: string; type: ColumnType; values: ArrayLike<unknown> }>,
  length: number,
  /** Prefix of the field named in type errors, e.g. the table name. */
  fieldPrefix = '',
): Promise<string> {
  const staged = columns.map((c) =>
    stageColumn(c.name, c.type, c.values, length, fieldPrefix ? `${fieldPrefix}.${c.name}` : c.name),
  );
  const fn = `stage_scan_${++stageSeq}`;
  con.registerTableFunction(
    DuckDBTableFunction.create({
      name: fn,
      bindFunction: (bind) => {
        for (const s of staged) bind.addResultColumn(s.name, s.duckType);
        bind.setCardinality(length, true);
      },
      // One cursor per scan (the view is scanned more than once). One thread: the slices are
      // handed out in order, so DuckDB keeps the rows in their arrival order.
      initFunction: (init) => {
        init.setInitData({ next: 0 });
        init.setMaxThreads(1);
      },
      mainFunction: (info, out) => {
        const cursor = info.initData as { next: number };
        const off = cursor.next;
        const n = Math.min(CHUNK, length - off);
        cursor.next = off + n;
        out.rowCount = n;
        if (n === 0) return;
        for (let c = 0; c < staged.length; c++) {
          const s = staged[c];
          if (!s.flat) {
            out.setColumnValues(c, genericValues(s.type, s.values!, off, n));
            continue;
          }
          const { values, valid } = s.flat;
          const vec = bindings.data_chunk_get_vector(out.chunk, c);
          const w = values.BYTES_PER_ELEMENT;
          bindings.copy_data_to_vector(
            vec,
            0,
            values.buffer as ArrayBuffer,
            values.byteOffset + off * w,
            n * w,
          );
          if (valid) {
            bindings.vector_ensure_validity_writable(vec);
            bindings.copy_data_to_vector_validity(
              vec,
              0,
              valid.buffer as ArrayBuffer,
              off / 8,
              Math.ceil(n / 64) * 8,
            );
          }
        }
      },
    }),
  );
  await con.run(`CREATE VIEW ${ident(table)} AS SELECT * FROM ${fn}()`);
  return staged.map((s) => s.select).join(', ');
}
