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

interface Row {
  date: string;
  symbol?: string;
  open?: number;
  high?: number;
  low?: number;
  close: number;
  volume?: number;
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

/** `where` is a string or, so that no text is built per cell of a large file, a function making it. */
type Where = string | (() => string);
const whereText = (w: Where): string => (typeof w === 'string' ? w : w());

function toNumber(v: unknown, at: Where, optional: boolean): number | undefined {
  // Plain decimal text (the common case): Number() alone, no trimming or type dispatch.
  if (typeof v === 'string' && v !== '') {
    const x = Number(v);
    if (x === x) {
      const c = v.charCodeAt(0);
      if (c > 32 && v.charCodeAt(v.length - 1) > 32) return x;
    }
  }
  if (v === undefined || v === null || v === '') {
    if (optional) return undefined;
    const where = whereText(at);
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
    const where = whereText(at);
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

function readRows(records: Iterable<[number, Record<string, unknown>]>, file: string): Row[] {
  const rows: Row[] = [];
  for (const [line, rec] of records) {
    const at = (col: string) => (): string => `${file}:${line}:${col}`;
    const d = rec.date;
    rows.push({
      // An ISO day (the common case) is checked here; anything else goes through normalizeDate.
      date:
        typeof d === 'string' && d.length === 10 && ISO_DATE.test(d) && !Number.isNaN(Date.parse(d))
          ? d
          : normalizeDate(d, `${file}:${line}:date`),
      symbol: rec.symbol === undefined || rec.symbol === null ? undefined : String(rec.symbol).trim(),
      open: toNumber(rec.open, at('open'), true),
      high: toNumber(rec.high, at('high'), true),
      low: toNumber(rec.low, at('low'), true),
      close: toNumber(rec.close, at('close'), false)!,
      volume: toNumber(rec.volume, at('volume'), true),
    });
  }
  return rows;
}

function* csvRecords(text: string, file: string): Generator<[number, Record<string, unknown>]> {
  // A UTF-8 byte order mark (spreadsheet exports) would otherwise hide the first column's name.
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = splitCsvLine(lines[0]).map(columnName);
  checkHeader(header, file);
  for (let i = 1; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const cells = splitCsvLine(lines[i]);
    if (cells.length !== header.length) {
      throw new InputError(
        `${file}:${i + 1}: expected ${header.length} columns, got ${cells.length}`,
        `${file}:${i + 1}`,
      );
    }
    const rec: Record<string, unknown> = {};
    for (let j = 0; j < header.length; j++) rec[header[j]] = cells[j];
    yield [i + 1, rec];
  }
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

async function readFileRows(file: string): Promise<Row[]> {
  if (!existsSync(file)) throw new InputError(`bars: file not found: ${file}`, 'bars');
  if (!statSync(file).isFile()) throw new InputError(`bars: not a file: ${file}`, 'bars');
  const name = path.basename(file);
  const ext = path.extname(file).toLowerCase();
  let rows: Row[];
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
    rows = readRows(
      mapped.map((r, i) => [i + 1, r] as [number, Record<string, unknown>]),
      name,
    );
  } else if (ext === '.csv' || ext === '.txt') {
    const text = readFileSync(file, 'utf8');
    if (text.trim() === '') throw new InputError(`bars: ${name} is empty`, 'bars');
    rows = readRows(csvRecords(text, name), name);
  } else {
    throw new InputError(
      `bars: unsupported file type "${ext || '(none)'}" for ${name} (use .csv or .parquet, or lake:SYMBOL)`,
      'bars',
    );
  }
  if (rows.length === 0) throw new InputError(`bars: ${name} has no rows`, 'bars');
  return rows;
}

function toBars(symbol: string, rows: readonly Row[], where: string): Bars {
  const n = rows.length;
  const dates = new Array<string>(n);
  const close = new Float64Array(n);
  const cols = {
    open: new Float64Array(n),
    high: new Float64Array(n),
    low: new Float64Array(n),
    volume: new Float64Array(n),
  };
  const has = { open: true, high: true, low: true, volume: true };
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    if (i > 0 && !(r.date > dates[i - 1])) {
      throw new InputError(
        `${where}: dates must be strictly increasing, ${r.date} follows ${dates[i - 1]} (row ${i + 1}${symbol ? `, ${symbol}` : ''})`,
        `${where}:date`,
      );
    }
    dates[i] = r.date;
    if (!(r.close > 0 && r.close < Infinity)) {
      throw new InputError(
        `${where}: close must be a finite price > 0, got ${r.close} on ${r.date}`,
        `${where}:close`,
      );
    }
    close[i] = r.close;
    for (const c of ['open', 'high', 'low', 'volume'] as const) {
      const v = r[c];
      if (v === undefined) has[c] = false;
      else if (c === 'volume' ? !(v >= 0 && v < Infinity) : !(v > 0 && v < Infinity)) {
        throw new InputError(
          `${where}: ${c} must be a finite ${c === 'volume' ? 'number >= 0' : 'price > 0'}, got ${v} on ${r.date}`,
          `${where}:${c}`,
        );
      } else cols[c][i] = v;
    }
  }
  return {
    symbol,
    dates,
    close,
    open: has.open ? cols.open : undefined,
    high: has.high ? cols.high : undefined,
    low: has.low ? cols.low : undefined,
    volume: has.volume ? cols.volume : undefined,
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
    const hasVolume = !sb.volume.some((v) => Number.isNaN(v));
    const rows: Row[] = sb.ts.map((ts, i) => ({
      date: normalizeDate(ts, `lake:${symbol}[${i}].ts`),
      open: sb.open[i],
      high: sb.high[i],
      low: sb.low[i],
      close: sb.close[i],
      volume: hasVolume ? sb.volume[i] : undefined,
    }));
    return toBars(symbol, rows, `lake:${symbol}`);
  } finally {
    if (!opts.query) await engine.close();
  }
}

function symbolOf(source: string): string {
  return path.basename(source).replace(/\.(csv|txt|parquet)$/i, '');
}

function groupBySymbol(rows: readonly Row[]): Map<string, Row[]> {
  const by = new Map<string, Row[]>();
  for (const r of rows) {
    const s = r.symbol ?? '';
    let list = by.get(s);
    if (!list) by.set(s, (list = []));
    list.push(r);
  }
  return by;
}

/** Loads one instrument: `file.csv`, `file.parquet` or `lake:SYMBOL`. */
export async function loadBars(source: string, opts: LoadOptions = {}): Promise<Bars> {
  if (typeof source !== 'string' || source.trim() === '')
    throw new InputError('bars: no source given', 'bars');
  if (source.startsWith('lake:')) return loadLake(source.slice(5), opts);
  const rows = await readFileRows(source);
  const name = path.basename(source);
  const by = groupBySymbol(rows);
  if (by.size > 1) {
    throw new InputError(
      `bars: ${name} holds ${by.size} symbols (${[...by.keys()].slice(0, 5).join(', ')}); this strategy takes one`,
      'bars',
    );
  }
  return toBars(rows[0].symbol || symbolOf(source), rows, name);
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
    const rows = await readFileRows(src);
    const name = path.basename(src);
    for (const [sym, list] of groupBySymbol(rows)) bars.push(toBars(sym || symbolOf(src), list, name));
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
