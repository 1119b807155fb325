/**
 * Bars in the lake: parsing and validating CSV or Parquet files, importing them into the curated
 * `bars` table, and reading a symbol's bars back.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { AwsClients, Runtime } from '../aws/clients';
import { splitCsvLine } from '../csv';
import { InputError } from '../errors';
import type { LakeBuckets } from './buckets';
import { literal, openDuckDb } from './duckdb';
import { waitForCompleteWrites } from './commit';
import type { QueryEngine } from './query';
import { BARS } from '../contract/lake';
import { writeTable, type WriteReport } from './writer';

export const BAR_INTERVALS = ['1m', '1d'] as const;
export type BarInterval = (typeof BAR_INTERVALS)[number];

/** Columnar bars of one or more symbols (ts: epoch ms of the bar's label, UTC). */
export interface BarRows {
  readonly symbol: string[];
  readonly ts: number[];
  readonly open: number[];
  readonly high: number[];
  readonly low: number[];
  readonly close: number[];
  readonly volume: (number | null)[];
}

export interface ParseOptions {
  /** Symbol for files without a symbol column. */
  readonly symbol?: string;
  /** Stop collecting after this many bad rows. @default 20 */
  readonly maxErrors?: number;
}

/**
 * Sane bounds for imported prices and volumes: far outside any traded instrument, but they keep a
 * typo such as 1e308 from turning into Infinity in returns and metrics downstream.
 */
export const MAX_PRICE = 1e10;
export const MIN_PRICE = 1e-9;
export const MAX_VOLUME = 1e15;

const SYMBOL = /^[A-Za-z0-9._-]{1,32}$/;

/** Parses a date or timestamp: YYYY-MM-DD (midnight UTC) or ISO 8601 with a zone (UTC assumed without). */
function parseTs(s: string): number {
  const t = s.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) {
    const ms = Date.parse(`${t}T00:00:00Z`);
    return new Date(ms).toISOString().startsWith(t) ? ms : NaN; // rejects 2021-02-30
  }
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(t)) {
    const iso = t.replace(' ', 'T');
    return Date.parse(/(Z|[+-]\d{2}:?\d{2})$/.test(iso) ? iso : `${iso}Z`);
  }
  return NaN;
}

/** Collects row problems; throws one InputError listing them (with line numbers) at the end. */
class Problems {
  readonly list: string[] = [];
  total = 0;
  constructor(
    private readonly file: string,
    private readonly max: number,
  ) {}
  add(line: number, msg: string): void {
    this.total++;
    if (this.list.length < this.max) this.list.push(`${this.file}:${line}: ${msg}`);
  }
  throwIfAny(): void {
    if (this.total === 0) return;
    const more = this.total > this.list.length ? `\n  ... and ${this.total - this.list.length} more` : '';
    throw new InputError(
      `${this.total} bad row(s) in ${this.file}; nothing was written:\n  ${this.list.join('\n  ')}${more}`,
      this.file,
    );
  }
}

/** The column names (lower case) each field of a bar file may have; date to close are required. */
const BAR_FIELDS = {
  date: ['date', 'ts', 'timestamp', 'time', 'datetime'],
  open: ['open'],
  high: ['high'],
  low: ['low'],
  close: ['close'],
  volume: ['volume'],
  symbol: ['symbol', 'ticker'],
} as const;
type BarField = keyof typeof BAR_FIELDS;
type RawRow = { line: number } & Record<BarField, unknown>;

/** Each field's column index among `names` (-1: absent), and the required fields that are absent. */
function fieldColumns(names: readonly string[]): { col: Record<BarField, number>; missing: BarField[] } {
  const col = Object.fromEntries(
    Object.entries(BAR_FIELDS).map(([f, aliases]) => [
      f,
      names.findIndex((n) => (aliases as readonly string[]).includes(n.toLowerCase())),
    ]),
  ) as Record<BarField, number>;
  return { col, missing: (['date', 'open', 'high', 'low', 'close'] as const).filter((f) => col[f] < 0) };
}

/** One row's fields, `at(i)` being the value of column i. */
function rawRow(line: number, col: Record<BarField, number>, at: (i: number) => unknown): RawRow {
  const fields = (Object.keys(BAR_FIELDS) as BarField[]).map((f) => [
    f,
    col[f] >= 0 ? at(col[f]) : undefined,
  ]);
  return { line, ...(Object.fromEntries(fields) as Record<BarField, unknown>) };
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v.trim() !== '') return Number(v);
  return NaN;
}

/** Validates rows (any source) into columnar bars; every problem is reported with its line. */
function validateRows(rows: Iterable<RawRow>, file: string, opts: ParseOptions): BarRows {
  const problems = new Problems(file, opts.maxErrors ?? 20);
  const out: BarRows = { symbol: [], ts: [], open: [], high: [], low: [], close: [], volume: [] };
  const seen = new Map<string, number>();
  if (opts.symbol !== undefined && !SYMBOL.test(opts.symbol)) {
    throw new InputError(
      `--symbol: "${opts.symbol}" is not a valid symbol (letters, digits, . _ -)`,
      'symbol',
    );
  }
  for (const r of rows) {
    const symbol =
      r.symbol === undefined || r.symbol === null || r.symbol === '' ? opts.symbol : String(r.symbol);
    if (symbol === undefined) {
      problems.add(r.line, 'symbol: missing (the file has no symbol column; pass --symbol)');
      continue;
    }
    if (!SYMBOL.test(symbol)) {
      problems.add(r.line, `symbol: "${symbol}" is not a valid symbol`);
      continue;
    }
    const ts = r.date instanceof Date ? r.date.getTime() : parseTs(String(r.date ?? ''));
    const o = toNumber(r.open);
    const h = toNumber(r.high);
    const l = toNumber(r.low);
    const c = toNumber(r.close);
    const hasVol = r.volume !== undefined && r.volume !== null && r.volume !== '';
    const v = hasVol ? toNumber(r.volume) : null;
    const errs: string[] = [];
    if (!Number.isFinite(ts)) errs.push(`date: "${String(r.date)}" is not a date (YYYY-MM-DD or ISO 8601)`);
    for (const [name, x] of [
      ['open', o],
      ['high', h],
      ['low', l],
      ['close', c],
    ] as const) {
      if (!Number.isFinite(x)) errs.push(`${name}: not a finite number`);
      else if (x <= 0) errs.push(`${name}: ${x} is not positive`);
      else if (x > MAX_PRICE || x < MIN_PRICE)
        errs.push(`${name}: ${x} is outside the sane price range ${MIN_PRICE} to ${MAX_PRICE}`);
    }
    if (errs.length === 0) {
      if (h < Math.max(o, c, l)) errs.push(`high: ${h} is below open, close or low`);
      if (l > Math.min(o, c, h)) errs.push(`low: ${l} is above open, close or high`);
    }
    if (v !== null && (!Number.isFinite(v) || v < 0))
      errs.push(`volume: "${String(r.volume)}" is not a non-negative number`);
    else if (v !== null && v > MAX_VOLUME) errs.push(`volume: ${v} is above the sane maximum ${MAX_VOLUME}`);
    if (errs.length === 0) {
      const k = `${symbol}\u0000${ts}`;
      const first = seen.get(k);
      if (first !== undefined) errs.push(`date: duplicate of line ${first} for ${symbol}`);
      else seen.set(k, r.line);
    }
    if (errs.length > 0) {
      problems.add(r.line, errs.join('; '));
      continue;
    }
    out.symbol.push(symbol);
    out.ts.push(ts);
    out.open.push(o);
    out.high.push(h);
    out.low.push(l);
    out.close.push(c);
    out.volume.push(v);
  }
  problems.throwIfAny();
  if (out.ts.length === 0) throw new InputError(`${file}: no bars (the file has a header but no rows)`, file);
  return out;
}

/** Parses bars from CSV text: columns date (or ts/timestamp), open, high, low, close, optional volume, symbol. */
export function parseBarsCsv(text: string, file: string, opts: ParseOptions = {}): BarRows {
  const lines = text.split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '').map((h) => h.trim().toLowerCase());
  if (header.length === 1 && header[0] === '') throw new InputError(`${file}: the file is empty`, file);
  const { col, missing } = fieldColumns(header);
  if (missing.length > 0) {
    throw new InputError(
      `${file}:1: missing column(s) ${missing.join(', ')} (found: ${header.join(', ')})`,
      `${file}:header`,
    );
  }
  function* rows(): Generator<RawRow> {
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i];
      if (line.trim() === '') continue;
      const f = splitCsvLine(line);
      yield rawRow(i + 1, col, (k) => f[k]?.trim());
    }
  }
  return validateRows(rows(), file, opts);
}

/** Reads bars from a CSV or Parquet file (by extension). */
export async function readBarsFile(file: string, opts: ParseOptions = {}): Promise<BarRows> {
  const name = path.basename(file);
  try {
    const s = await stat(file);
    if (s.size === 0) throw new InputError(`${name}: the file is empty`, file);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(
      `${file}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? err})`,
      file,
    );
  }
  if (/\.parquet$/i.test(file)) return readBarsParquet(file, opts);
  if (/\.csv$/i.test(file)) return parseBarsCsv(await readFile(file, 'utf8'), name, opts);
  throw new InputError(`${file}: unsupported file type (expected .csv or .parquet)`, file);
}

async function readBarsParquet(file: string, opts: ParseOptions): Promise<BarRows> {
  const db = await openDuckDb();
  try {
    let rows: Record<string, unknown>[];
    try {
      rows = (await db.con.runAndReadAll(`SELECT * FROM read_parquet(${literal(file)})`)).getRowObjectsJS();
    } catch (err) {
      throw new InputError(
        `${path.basename(file)}: not a readable Parquet file (${(err as Error).message})`,
        file,
      );
    }
    const keys = Object.keys(rows[0] ?? {});
    const { col, missing } = fieldColumns(keys);
    if (rows.length > 0 && missing.length > 0) {
      throw new InputError(`${path.basename(file)}: missing column(s) ${missing.join(', ')}`, file);
    }
    return validateRows(
      rows.map((r, i) => {
        const row = rawRow(i + 1, col, (k) => r[keys[k]]);
        return { ...row, date: normalizeDate(row.date) };
      }),
      path.basename(file),
      opts,
    );
  } finally {
    db.close();
  }
}

function normalizeDate(v: unknown): unknown {
  if (v instanceof Date) return v;
  if (v && typeof v === 'object' && 'toString' in v) return String(v);
  return v;
}

export interface ImportBarsOptions {
  readonly interval: BarInterval;
  readonly onPartition?: (done: number, total: number) => void;
}

/** Writes bars into the curated `bars` table (merge: a re-import replaces rather than duplicates). */
export async function importBars(
  writer: { clients: AwsClients; buckets: LakeBuckets; tmpDir?: string },
  bars: BarRows,
  opts: ImportBarsOptions,
): Promise<WriteReport> {
  if (!(BAR_INTERVALS as readonly string[]).includes(opts.interval)) {
    throw new InputError(
      `--interval: "${opts.interval}" is not one of ${BAR_INTERVALS.join(', ')}`,
      'interval',
    );
  }
  const n = bars.ts.length;
  const year = bars.ts.map((t) => new Date(t).getUTCFullYear());
  return writeTable(
    writer,
    BARS,
    {
      length: n,
      columns: {
        ts: bars.ts,
        open: bars.open,
        high: bars.high,
        low: bars.low,
        close: bars.close,
        volume: bars.volume,
        vwap: new Array(n).fill(null),
        trades: new Array(n).fill(null),
        interval: new Array(n).fill(opts.interval),
        symbol: bars.symbol,
        year,
      },
    },
    { mode: 'merge', onPartition: opts.onPartition },
  );
}

/** How long a read waits for a running import of the same series. */
const WAIT_FOR_WRITE_MS = 10 * 60_000;

/**
 * A series is read only when no import into it is incomplete (src/lake/commit.ts), so that a
 * backtest never runs on part of an import.
 */
async function waitForImports(engine: QueryEngine, symbol: string, interval: string): Promise<void> {
  const list = engine.pendingWrites?.bind(engine);
  if (!list) return;
  await waitForCompleteWrites(
    () => list('bars'),
    `interval=${interval}/symbol=${symbol}/`,
    `bars of ${symbol} (${interval})`,
    { maxWaitMs: WAIT_FOR_WRITE_MS },
  );
}

export interface SymbolBars {
  readonly symbol: string;
  readonly interval: BarInterval;
  /** Bar labels, ISO 8601 UTC, increasing. */
  readonly ts: string[];
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
}

/** Reads one symbol's bars from the lake through the query interface, oldest first. */
export async function readBars(
  engine: QueryEngine,
  opts: { symbol: string; interval?: BarInterval; from?: string; to?: string },
): Promise<SymbolBars> {
  if (!SYMBOL.test(opts.symbol))
    throw new InputError(`symbol: "${opts.symbol}" is not a valid symbol`, 'symbol');
  const interval = opts.interval ?? '1d';
  const where = [`symbol = ${literal(opts.symbol)}`, `"interval" = ${literal(interval)}`];
  if (opts.from) where.push(`ts >= TIMESTAMP ${literal(opts.from)}`);
  if (opts.to) where.push(`ts <= TIMESTAMP ${literal(opts.to)}`);
  await waitForImports(engine, opts.symbol, interval);
  const rows = await engine.query(
    `SELECT ts, open, high, low, close, volume FROM bars WHERE ${where.join(' AND ')} ORDER BY ts`,
  );
  const n = rows.length;
  const out: SymbolBars = {
    symbol: opts.symbol,
    interval,
    ts: new Array<string>(n),
    open: new Float64Array(n),
    high: new Float64Array(n),
    low: new Float64Array(n),
    close: new Float64Array(n),
    volume: new Float64Array(n),
  };
  rows.forEach((r, i) => {
    const ts = r.ts as Date | string;
    out.ts[i] =
      ts instanceof Date ? ts.toISOString() : new Date(`${String(ts).replace(' ', 'T')}Z`).toISOString();
    out.open[i] = Number(r.open);
    out.high[i] = Number(r.high);
    out.low[i] = Number(r.low);
    out.close[i] = Number(r.close);
    out.volume[i] = r.volume === null ? NaN : Number(r.volume);
  });
  return out;
}

/** Convenience for callers holding only a runtime. */
export type { Runtime };
