/**
 * Point-in-time data of a backtest: reference data (region, asset class, sector) as of each date,
 * corporate actions (splits, cash dividends) and delistings. Nothing here looks ahead:
 *
 * - A reference record applies from its `from` date until the symbol's next record; before its
 *   first record a symbol is unknown to the risk engine (the `unknownSymbol` rule rejects it, as
 *   live pre-trade risk rejects a symbol missing from the security master).
 * - Prices are adjusted forwards: the adjusted close starts at the raw close of the first bar and
 *   compounds the total return of each bar, (close[t] + dividend[t]) * split[t] / close[t-1] - 1, so
 *   a split moves no return and a dividend is paid on its ex-date, and the adjusted series at t
 *   depends only on bars up to t. Strategies see the adjusted panel; the risk gate sizes orders
 *   in raw shares at raw prices (what the market quoted that day).
 * - A symbol delisted on date D trades for the last time at the close of the first bar on or after
 *   D: its position is closed there and every later order for it is rejected (rule `delisted`).
 *   Its rows after D, if the file carries them, move no position.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { splitCsvLine } from '../csv';
import { InputError } from '../errors';
import type { Panel } from './types';

export interface ReferenceRecord {
  readonly symbol: string;
  /** First date (YYYY-MM-DD) the record holds. */
  readonly from: string;
  readonly region?: string;
  readonly assetClass?: string;
  readonly sector?: string;
}

export type CorporateAction =
  | { readonly symbol: string; readonly date: string; readonly type: 'split'; readonly ratio: number }
  | { readonly symbol: string; readonly date: string; readonly type: 'dividend'; readonly amount: number }
  | { readonly symbol: string; readonly date: string; readonly type: 'delist' };

export interface ReferenceFields {
  readonly region?: string;
  readonly assetClass?: string;
  readonly sector?: string;
}

/** Reference records indexed for `at(symbol, date)`. */
export class ReferenceIndex {
  private readonly bySymbol = new Map<string, ReferenceRecord[]>();

  constructor(records: readonly ReferenceRecord[]) {
    for (const r of records) {
      const list = this.bySymbol.get(r.symbol) ?? [];
      list.push(r);
      this.bySymbol.set(r.symbol, list);
    }
    for (const list of this.bySymbol.values()) list.sort((a, b) => a.from.localeCompare(b.from));
  }

  /** The record in force on `date` (YYYY-MM-DD or ISO time), or undefined before the first one. */
  at(symbol: string, date: string): ReferenceFields | undefined {
    const list = this.bySymbol.get(symbol);
    if (!list) return undefined;
    const day = date.slice(0, 10);
    let hit: ReferenceRecord | undefined;
    for (const r of list) {
      if (r.from <= day) hit = r;
      else break;
    }
    return hit;
  }
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

interface CsvTable {
  readonly name: string;
  readonly header: readonly string[];
  readonly rows: { line: number; cells: string[] }[];
}

function readCsv(file: string, required: readonly string[]): CsvTable {
  const name = path.basename(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(
      `${name}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      name,
    );
  }
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '').map((h) => h.trim().toLowerCase().replace(/_/g, ''));
  for (const col of required) {
    if (!header.includes(col)) throw new InputError(`${name}:1: missing column "${col}"`, `${name}:1:${col}`);
  }
  const rows: { line: number; cells: string[] }[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    rows.push({ line: i + 1, cells: splitCsvLine(lines[i]).map((c) => c.trim()) });
  }
  return { name, header, rows };
}

function cell(t: CsvTable, row: { line: number; cells: string[] }, col: string): string {
  const i = t.header.indexOf(col);
  return i < 0 ? '' : (row.cells[i] ?? '');
}

function bad(t: CsvTable, line: number, field: string, problem: string): never {
  throw new InputError(`${t.name}:${line}:${field}: ${problem}`, `${t.name}:${line}:${field}`);
}

function dateCell(t: CsvTable, row: { line: number; cells: string[] }, col: string): string {
  const v = cell(t, row, col);
  if (!DAY.test(v) || Number.isNaN(Date.parse(v)))
    bad(t, row.line, col, `must be a date YYYY-MM-DD, got "${v}"`);
  return v;
}

/**
 * Reference data as of dates: CSV with columns `symbol,from,region,asset_class,sector` (asset_class
 * or assetClass; empty cells leave the field unset). A bad row is an InputError `file:line:field`.
 */
export function loadReferenceCsv(file: string): ReferenceRecord[] {
  const t = readCsv(file, ['symbol', 'from']);
  const seen = new Set<string>();
  return t.rows.map((row) => {
    const symbol = cell(t, row, 'symbol');
    if (symbol === '') bad(t, row.line, 'symbol', 'must not be empty');
    const from = dateCell(t, row, 'from');
    const key = `${symbol}\u0000${from}`;
    if (seen.has(key)) bad(t, row.line, 'from', `a second record of ${symbol} from ${from}`);
    seen.add(key);
    const opt = (col: string): string | undefined => cell(t, row, col) || undefined;
    return { symbol, from, region: opt('region'), assetClass: opt('assetclass'), sector: opt('sector') };
  });
}

/**
 * Corporate actions: CSV with columns `symbol,date,type,value`; type `split` (value: new shares
 * per old share, e.g. 2 for 2-for-1), `dividend` (value: cash per share on the ex-date) or
 * `delist` (value empty). A bad row is an InputError `file:line:field`.
 */
export function loadActionsCsv(file: string): CorporateAction[] {
  const t = readCsv(file, ['symbol', 'date', 'type', 'value']);
  return t.rows.map((row): CorporateAction => {
    const symbol = cell(t, row, 'symbol');
    if (symbol === '') bad(t, row.line, 'symbol', 'must not be empty');
    const date = dateCell(t, row, 'date');
    const type = cell(t, row, 'type').toLowerCase();
    const raw = cell(t, row, 'value');
    const value = Number(raw);
    if (type === 'delist') return { symbol, date, type };
    if (type !== 'split' && type !== 'dividend')
      bad(t, row.line, 'type', `must be split, dividend or delist, got "${cell(t, row, 'type')}"`);
    if (raw === '' || !Number.isFinite(value) || value <= 0)
      bad(t, row.line, 'value', `must be a number > 0, got "${raw}"`);
    return type === 'split' ? { symbol, date, type, ratio: value } : { symbol, date, type, amount: value };
  });
}

/** A panel with corporate actions applied: what strategies and the return calculation see. */
export interface AdjustedPanel {
  /** Forward-adjusted total-return closes (raw close on the first bar), adjusted volumes. */
  readonly panel: Panel;
  /** splitFactor[a][t]: product of the split ratios of symbol a on bars 1..t (1 before any). */
  readonly splitFactor: readonly Float64Array[];
  /** Bar at whose close each delisted symbol trades for the last time (absent: listed throughout). */
  readonly delistBar: ReadonlyMap<string, number>;
}

/**
 * Applies corporate actions to a raw panel (see the file comment). An action dated between two
 * bars applies at the next bar; actions of symbols outside the panel are ignored.
 */
export function adjustPanel(raw: Panel, actions: readonly CorporateAction[]): AdjustedPanel {
  const n = raw.dates.length;
  const days = raw.dates.map((d) => d.slice(0, 10));
  const index = new Map(raw.symbols.map((s, a) => [s, a]));
  const ratio = raw.symbols.map(() => new Float64Array(n).fill(1));
  const dividend = raw.symbols.map(() => new Float64Array(n));
  const delistBar = new Map<string, number>();
  /** First bar on or after `day`; n when after the last. */
  const barOf = (day: string): number => {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (days[mid] < day) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  for (const act of actions) {
    const a = index.get(act.symbol);
    if (a === undefined) continue;
    const t = barOf(act.date);
    if (act.type === 'delist') {
      if (t < n) delistBar.set(act.symbol, Math.min(t, delistBar.get(act.symbol) ?? t));
      continue;
    }
    // A split or dividend on the first bar has no previous close to adjust against.
    if (t === 0 || t >= n) continue;
    if (act.type === 'split') ratio[a][t] *= act.ratio;
    else dividend[a][t] += act.amount;
  }
  const close = raw.close.map((c, a) => {
    const out = new Float64Array(n);
    out[0] = c[0];
    for (let t = 1; t < n; t++) out[t] = (out[t - 1] * ((c[t] + dividend[a][t]) * ratio[a][t])) / c[t - 1];
    return out;
  });
  const splitFactor = ratio.map((r) => {
    const f = new Float64Array(n);
    let cum = 1;
    for (let t = 0; t < n; t++) f[t] = cum *= r[t];
    return f;
  });
  // Volumes in shares of the first bar (a 2-for-1 split halves later volumes), so that notional
  // (adjusted close × adjusted volume) is unchanged.
  const volume = raw.volume?.map((v, a) => v.map((x, t) => x / splitFactor[a][t]));
  return {
    panel: { symbols: raw.symbols, dates: raw.dates, close, volume },
    splitFactor,
    delistBar,
  };
}
