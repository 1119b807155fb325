/**
 * Loading bars: a CSV or Parquet file (columns date, open, high, low, close, optional volume, and
 * optionally symbol for several instruments in one file), or `lake:SYMBOL` (daily bars from the
 * curated zone through the lake's reader). Every row is checked; a bad row is an InputError naming
 * `file:line:column`. Dates become ISO 8601 UTC strings (`YYYY-MM-DD` when at midnight).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Runtime } from '../aws/clients';
import { splitCsvLine } from '../csv';
import { InputError } from '../errors';
import type { QueryEngine } from '../lake';
import type { Bars, Panel } from './types';

export interface LoadOptions {
  /** Needed for `lake:` sources (unless `query` is given). */
  readonly runtime?: Runtime;
  /** Query engine to read `lake:` sources with; one is opened (and closed) per call otherwise. */
  readonly query?: QueryEngine;
  /** Environment for the Athena engine in AWS (ATHENA_WORKGROUP, GLUE_DATABASE). @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * How to combine symbols whose calendars differ: `strict` rejects the input, `intersect` keeps
   * only the dates every symbol has. @default 'strict'
   */
  readonly align?: 'strict' | 'intersect';
}

/**
 * The rows of one source, by column. An empty optional cell is NaN (a cell that is text or "NaN"
 * is an error, so NaN never comes from the data itself).
 */
interface Columns {
  readonly date: string[];
  /** Present when the source has a symbol column. */
  readonly symbol?: string[];
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
}

const OPTIONAL = ['open', 'high', 'low', 'volume'] as const;

function emptyColumns(n: number, withSymbol: boolean): Columns {
  return {
    date: new Array<string>(n),
    symbol: withSymbol ? new Array<string>(n) : undefined,
    open: new Float64Array(n),
    high: new Float64Array(n),
    low: new Float64Array(n),
    close: new Float64Array(n),
    volume: new Float64Array(n),
  };
}

/** The first `n` rows of `c` (a file with blank lines fills fewer rows than it has lines). */
function firstRows(c: Columns, n: number): Columns {
  if (n === c.date.length) return c;
  return {
    date: c.date.slice(0, n),
    symbol: c.symbol?.slice(0, n),
    open: c.open.subarray(0, n),
    high: c.high.subarray(0, n),
    low: c.low.subarray(0, n),
    close: c.close.subarray(0, n),
    volume: c.volume.subarray(0, n),
  };
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Normalises a date cell to ISO UTC; a date without zone is read as UTC. */
export function normalizeDate(v: unknown, where: string): string {
  let ms: number;
  if (v instanceof Date) ms = v.getTime();
  else if (typeof v === 'bigint')
    ms = Number(v / 1_000_000n); // nanoseconds since the epoch
  else if (typeof v === 'number') ms = v;
  else if (typeof v === 'string') {
    const s = v.trim();
    if (ISO_DATE.test(s)) {
      if (Number.isNaN(Date.parse(s))) throw new InputError(`${where}: not a valid date "${v}"`, where);
      return s;
    }
    const hasZone = /(Z|[+-]\d{2}:?\d{2}|GMT|UTC)$/i.test(s);
    const d = new Date(s);
    if (Number.isNaN(d.getTime()) || s === '')
      throw new InputError(`${where}: not a valid date "${v}"`, where);
    ms = hasZone
      ? d.getTime()
      : Date.UTC(
          d.getFullYear(),
          d.getMonth(),
          d.getDate(),
          d.getHours(),
          d.getMinutes(),
          d.getSeconds(),
          d.getMilliseconds(),
        );
  } else {
    throw new InputError(
      `${where}: not a date (${v === null || v === undefined ? 'missing' : typeof v})`,
      where,
    );
  }
  if (!Number.isFinite(ms)) throw new InputError(`${where}: not a valid date "${String(v)}"`, where);
  const iso = new Date(ms).toISOString();
  return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso;
}

/**
 * A cell as a number (NaN: an empty optional cell). Its place (`file:line:col`) is only spelled out for an error: nothing is
 * allocated per cell of a large file.
 */
function toNumber(v: unknown, file: string, line: number, col: string, optional: boolean): number {
  // Plain decimal text (the common case): Number() alone, no trimming or type dispatch.
  if (typeof v === 'string' && v !== '') {
    const x = Number(v);
    if (x === x) {
      const c = v.charCodeAt(0);
      if (c > 32 && v.charCodeAt(v.length - 1) > 32) return x;
    }
  }
  if (v === undefined || v === null || v === '') {
    if (optional) return NaN;
    const where = `${file}:${line}:${col}`;
    throw new InputError(`${where}: missing value`, where);
  }
  const x =
    typeof v === 'number'
      ? v
      : typeof v === 'bigint'
        ? Number(v)
        : typeof v === 'string'
          ? Number(v.trim())
          : NaN;
  if (Number.isNaN(x)) {
    const where = `${file}:${line}:${col}`;
    throw new InputError(`${where}: not a number "${String(v)}"`, where);
  }
  return x;
}

const ALIASES: Record<string, string> = {
  date: 'date',
  ts: 'date',
  timestamp: 'date',
  time: 'date',
  datetime: 'date',
  price: 'close',
};

function columnName(h: string): string {
  const k = h.trim().toLowerCase();
  return ALIASES[k] ?? k;
}

/** The date of a cell: an ISO day (the common case) is checked here, anything else by normalizeDate. */
function dateCell(d: unknown, file: string, line: number): string {
  return typeof d === 'string' && d.length === 10 && ISO_DATE.test(d) && !Number.isNaN(Date.parse(d))
    ? d
    : normalizeDate(d, `${file}:${line}:date`);
}

/** Columns of records (Parquet rows), each with its line number for errors. */
function recordColumns(records: readonly Record<string, unknown>[], file: string): Columns {
  const n = records.length;
  const c = emptyColumns(
    n,
    records.some((r) => r.symbol !== undefined && r.symbol !== null),
  );
  for (let i = 0; i < n; i++) {
    const rec = records[i];
    const line = i + 1;
    c.date[i] = dateCell(rec.date, file, line);
    if (c.symbol)
      c.symbol[i] = rec.symbol === undefined || rec.symbol === null ? '' : String(rec.symbol).trim();
    c.open[i] = toNumber(rec.open, file, line, 'open', true);
    c.high[i] = toNumber(rec.high, file, line, 'high', true);
    c.low[i] = toNumber(rec.low, file, line, 'low', true);
    c.close[i] = toNumber(rec.close, file, line, 'close', false);
    c.volume[i] = toNumber(rec.volume, file, line, 'volume', true);
  }
  return c;
}

/**
 * Columns of a CSV text: one pass, cells parsed straight into typed arrays (no object per row:
 * start-up of a backtest is mostly this loop).
 */
function csvColumns(text: string, file: string): Columns {
  // A UTF-8 byte order mark (spreadsheet exports) would otherwise hide the first column's name.
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = splitCsvLine(lines[0]).map(columnName);
  checkHeader(header, file);
  const at = (name: string): number => header.indexOf(name);
  const iDate = at('date');
  const iClose = at('close');
  const iSymbol = at('symbol');
  const iOpt = OPTIONAL.map(at);
  const c = emptyColumns(lines.length - 1, iSymbol >= 0);
  const optCols = OPTIONAL.map((k) => c[k]);
  let n = 0;
  for (let i = 1; i < lines.length; i++) {
    const text = lines[i];
    if (text.length === 0 || (text.charCodeAt(0) <= 32 && text.trim() === '')) continue;
    const cells = splitCsvLine(text);
    const line = i + 1;
    if (cells.length !== header.length) {
      throw new InputError(
        `${file}:${line}: expected ${header.length} columns, got ${cells.length}`,
        `${file}:${line}`,
      );
    }
    c.date[n] = dateCell(cells[iDate], file, line);
    if (c.symbol) c.symbol[n] = cells[iSymbol].trim();
    for (let k = 0; k < OPTIONAL.length; k++)
      optCols[k][n] = iOpt[k] < 0 ? NaN : toNumber(cells[iOpt[k]], file, line, OPTIONAL[k], true);
    c.close[n] = toNumber(cells[iClose], file, line, 'close', false);
    n++;
  }
  return firstRows(c, n);
}

function checkHeader(cols: readonly string[], file: string): void {
  for (const need of ['date', 'close']) {
    if (!cols.includes(need)) {
      throw new InputError(
        `${file}: no ${need} column (columns: ${cols.join(', ') || 'none'})`,
        `${file}:${need}`,
      );
    }
  }
}

async function readFileColumns(file: string): Promise<Columns> {
  if (!existsSync(file)) throw new InputError(`bars: file not found: ${file}`, 'bars');
  if (!statSync(file).isFile()) throw new InputError(`bars: not a file: ${file}`, 'bars');
  const name = path.basename(file);
  const ext = path.extname(file).toLowerCase();
  let rows: Columns;
  if (ext === '.parquet') {
    let objects: Record<string, unknown>[];
    try {
      // Loaded on use: a CSV backtest does not need the Parquet reader.
      const { asyncBufferFromFile, parquetReadObjects } = await import('hyparquet');
      objects = (await parquetReadObjects({ file: await asyncBufferFromFile(file) })) as Record<
        string,
        unknown
      >[];
    } catch (err) {
      throw new InputError(
        `bars: ${name} is not a readable Parquet file (${err instanceof Error ? err.message : String(err)})`,
        'bars',
      );
    }
    const mapped = objects.map((o) =>
      Object.fromEntries(Object.entries(o).map(([k, v]) => [columnName(k), v])),
    );
    if (mapped.length > 0) checkHeader(Object.keys(mapped[0]), name);
    rows = recordColumns(mapped, name);
  } else if (ext === '.csv' || ext === '.txt') {
    const text = readFileSync(file, 'utf8');
    if (text.trim() === '') throw new InputError(`bars: ${name} is empty`, 'bars');
    rows = csvColumns(text, name);
  } else {
    throw new InputError(
      `bars: unsupported file type "${ext || '(none)'}" for ${name} (use .csv or .parquet, or lake:SYMBOL)`,
      'bars',
    );
  }
  if (rows.date.length === 0) throw new InputError(`bars: ${name} has no rows`, 'bars');
  return rows;
}

/** Bars of one symbol: the rows `idx` of `c` (all rows when omitted), checked. */
function toBars(symbol: string, c: Columns, where: string, idx?: readonly number[]): Bars {
  const n = idx ? idx.length : c.date.length;
  const dates = new Array<string>(n);
  const close = new Float64Array(n);
  const cols = OPTIONAL.map(() => new Float64Array(n));
  const src = OPTIONAL.map((k) => c[k]);
  const has = OPTIONAL.map(() => true);
  for (let i = 0; i < n; i++) {
    const r = idx ? idx[i] : i;
    const date = c.date[r];
    if (i > 0 && !(date > dates[i - 1])) {
      throw new InputError(
        `${where}: dates must be strictly increasing, ${date} follows ${dates[i - 1]} (row ${i + 1}${symbol ? `, ${symbol}` : ''})`,
        `${where}:date`,
      );
    }
    dates[i] = date;
    const px = c.close[r];
    if (!(px > 0 && px < Infinity)) {
      throw new InputError(
        `${where}: close must be a finite price > 0, got ${px} on ${date}`,
        `${where}:close`,
      );
    }
    close[i] = px;
    for (let k = 0; k < OPTIONAL.length; k++) {
      const v = src[k][r];
      if (v !== v) has[k] = false;
      else if (k === 3 ? !(v >= 0 && v < Infinity) : !(v > 0 && v < Infinity)) {
        const name = OPTIONAL[k];
        throw new InputError(
          `${where}: ${name} must be a finite ${name === 'volume' ? 'number >= 0' : 'price > 0'}, got ${v} on ${date}`,
          `${where}:${name}`,
        );
      } else cols[k][i] = v;
    }
  }
  return {
    symbol,
    dates,
    close,
    open: has[0] ? cols[0] : undefined,
    high: has[1] ? cols[1] : undefined,
    low: has[2] ? cols[2] : undefined,
    volume: has[3] ? cols[3] : undefined,
  };
}

/** Bars of one symbol from the lake (daily bars of the curated zone). */
async function loadLake(symbol: string, opts: LoadOptions): Promise<Bars> {
  if (!/^[A-Za-z0-9._-]{1,32}$/.test(symbol))
    throw new InputError(`bars: invalid lake symbol "${symbol}"`, 'bars');
  if (!opts.query && !opts.runtime)
    throw new InputError('bars: lake:SYMBOL needs a runtime (local cloud or AWS)', 'bars');
  // Loaded on demand: the lake pulls in DuckDB, which file-based backtests never need.
  const { createQueryEngine, readBars } = await import('../lake');
  const engine = opts.query ?? (await createQueryEngine(opts.runtime!, opts.env ?? process.env));
  try {
    const sb = await readBars(engine, { symbol, interval: '1d' });
    if (sb.ts.length === 0)
      throw new InputError(
        `bars: no daily bars for ${symbol} in the lake (import them with quant lake import)`,
        'bars',
      );
    const c: Columns = {
      date: sb.ts.map((ts, i) => normalizeDate(ts, `lake:${symbol}[${i}].ts`)),
      open: Float64Array.from(sb.open),
      high: Float64Array.from(sb.high),
      low: Float64Array.from(sb.low),
      close: Float64Array.from(sb.close),
      volume: Float64Array.from(sb.volume),
    };
    return toBars(symbol, c, `lake:${symbol}`);
  } finally {
    if (!opts.query) await engine.close();
  }
}

function symbolOf(source: string): string {
  return path.basename(source).replace(/\.(csv|txt|parquet)$/i, '');
}

/** Row indices per symbol ('' when the source has no symbol column), in file order. */
function groupBySymbol(c: Columns): Map<string, number[] | undefined> {
  if (!c.symbol) return new Map([['', undefined]]);
  const by = new Map<string, number[]>();
  c.symbol.forEach((s, i) => {
    let list = by.get(s);
    if (!list) by.set(s, (list = []));
    list.push(i);
  });
  return by;
}

/** Loads one instrument: `file.csv`, `file.parquet` or `lake:SYMBOL`. */
export async function loadBars(source: string, opts: LoadOptions = {}): Promise<Bars> {
  if (typeof source !== 'string' || source.trim() === '')
    throw new InputError('bars: no source given', 'bars');
  if (source.startsWith('lake:')) return loadLake(source.slice(5), opts);
  const rows = await readFileColumns(source);
  const name = path.basename(source);
  const by = groupBySymbol(rows);
  if (by.size > 1) {
    throw new InputError(
      `bars: ${name} holds ${by.size} symbols (${[...by.keys()].slice(0, 5).join(', ')}); this strategy takes one`,
      'bars',
    );
  }
  return toBars(rows.symbol?.[0] || symbolOf(source), rows, name);
}

/**
 * Loads a universe: several sources, or one file with a symbol column (long format). Calendars
 * are aligned per `opts.align`.
 */
export async function loadPanel(sources: readonly string[], opts: LoadOptions = {}): Promise<Panel> {
  if (sources.length === 0) throw new InputError('bars: no source given', 'bars');
  const bars: Bars[] = [];
  for (const src of sources) {
    if (src.startsWith('lake:')) {
      bars.push(await loadLake(src.slice(5), opts));
      continue;
    }
    const rows = await readFileColumns(src);
    const name = path.basename(src);
    for (const [sym, idx] of groupBySymbol(rows)) bars.push(toBars(sym || symbolOf(src), rows, name, idx));
  }
  return alignBars(bars, opts.align ?? 'strict');
}

/** Puts bars of several symbols on one calendar. */
export function alignBars(bars: readonly Bars[], align: 'strict' | 'intersect' = 'strict'): Panel {
  const seen = new Set<string>();
  for (const b of bars) {
    if (seen.has(b.symbol)) throw new InputError(`bars: symbol ${b.symbol} given twice`, 'bars');
    seen.add(b.symbol);
  }
  let dates = bars[0].dates;
  for (const b of bars.slice(1)) {
    const set = new Set(b.dates);
    const common = dates.filter((d) => set.has(d));
    if (align === 'strict' && (common.length !== dates.length || common.length !== b.dates.length)) {
      const own = new Set(dates);
      const missing = dates.find((d) => !set.has(d));
      const extra = b.dates.find((d) => !own.has(d));
      throw new InputError(
        `bars: calendars differ: ${missing ? `${b.symbol} has no bar on ${missing}` : `${bars[0].symbol} has no bar on ${extra}`} (align them, or use align=intersect to keep common dates only)`,
        'bars',
      );
    }
    dates = common;
  }
  if (dates.length < 2)
    throw new InputError(`bars: the symbols share ${dates.length} date(s); need at least 2`, 'bars');
  const pick = (b: Bars, col: Float64Array): Float64Array => {
    if (b.dates.length === dates.length) return col;
    const idx = new Map(b.dates.map((d, i) => [d, i]));
    return Float64Array.from(dates, (d) => col[idx.get(d)!]);
  };
  const allVolume = bars.every((b) => b.volume);
  return {
    symbols: bars.map((b) => b.symbol),
    dates,
    close: bars.map((b) => pick(b, b.close)),
    volume: allVolume ? bars.map((b) => pick(b, b.volume!)) : undefined,
  };
}
