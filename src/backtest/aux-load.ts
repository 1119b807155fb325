/**
 * Side data for the carry and factor strategies (Panel.aux), from CSV files or the seeded synthetic
 * generators. Files (header row, one record per line):
 *
 * - `fields`: `date,symbol,<field>,...`: per-symbol numbers such as fundamentals (`bookToPrice`,
 *   `earningsYield`, `roe`, `debtToEquity`) or a futures curve (`front`, `next`, `days`).
 * - `rates`: `date,currency,rate`: short rates (annual, decimal) per currency.
 * - `curve`: `date,tenor,yield`: a yield curve, tenor in years.
 * - `labels`: `symbol,<label>,...`: static labels such as `sector`.
 *
 * A dated value is known from its date on (forward-filled onto the panel's calendar, never
 * backwards): files hold data as of publication. Bad rows exit 2 naming `file:line:column`.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { splitCsvLine } from '../csv';
import { InputError } from '../errors';
import { bondCarryData, commodityCarryData, fxCarryData } from '../synthetic/carry-data';
import { equityUniverse } from '../synthetic/equity-universe';
import { macroUniverse } from '../synthetic/macro-universe';
import { normalizeDate } from './load';
import type { Panel, PanelAux } from './types';

export type AuxKind = 'fields' | 'rates' | 'curve' | 'labels';
export const AUX_KINDS: readonly AuxKind[] = ['fields', 'rates', 'curve', 'labels'];

interface Table {
  readonly name: string;
  readonly header: readonly string[];
  /** [line number, cells] */
  readonly rows: readonly (readonly [number, readonly string[]])[];
}

function readTable(file: string, required: readonly string[]): Table {
  if (!existsSync(file) || !statSync(file).isFile())
    throw new InputError(`data: file not found: ${file}`, 'data');
  const name = path.basename(file);
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '').map((h) => h.trim());
  for (const c of required) {
    if (!header.includes(c))
      throw new InputError(`${name}:1: missing column "${c}" (have: ${header.join(', ')})`, `${name}:1`);
  }
  const rows: [number, string[]][] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const cells = splitCsvLine(lines[i]);
    if (cells.length !== header.length) {
      throw new InputError(
        `${name}:${i + 1}: ${cells.length} cells for ${header.length} columns`,
        `${name}:${i + 1}`,
      );
    }
    rows.push([i + 1, cells.map((c) => c.trim())]);
  }
  if (rows.length === 0) throw new InputError(`${name}: no rows`, name);
  return { name, header, rows };
}

function num(t: Table, line: number, col: string, v: string): number {
  const x = Number(v);
  if (v === '' || !Number.isFinite(x)) {
    throw new InputError(`${t.name}:${line}:${col}: not a number "${v}"`, `${t.name}:${line}:${col}`);
  }
  return x;
}

function text(t: Table, line: number, col: string, v: string): string {
  if (v === '') throw new InputError(`${t.name}:${line}:${col}: missing value`, `${t.name}:${line}:${col}`);
  return v;
}

/**
 * Index of the panel bar from which a value dated `date` is known: the first bar on or after it
 * (-1 when after the last bar). Dates of the panel are ISO strings, so they compare as text.
 */
function firstBarFrom(dates: readonly string[], date: string): number {
  let lo = 0;
  let hi = dates.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (dates[mid].slice(0, date.length) < date) lo = mid + 1;
    else hi = mid;
  }
  return lo < dates.length ? lo : -1;
}

/** Dated points of one series, in date order, filled onto the calendar (NaN before the first). */
function fill(
  dates: readonly string[],
  points: readonly (readonly [string, number])[],
  where: string,
): Float64Array {
  const out = new Float64Array(dates.length).fill(NaN);
  const sorted = [...points].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i][0] === sorted[i - 1][0])
      throw new InputError(`${where}: two values dated ${sorted[i][0]}`, where);
  }
  for (let i = 0; i < sorted.length; i++) {
    const from = firstBarFrom(dates, sorted[i][0]);
    if (from < 0) break;
    const to = i + 1 < sorted.length ? firstBarFrom(dates, sorted[i + 1][0]) : dates.length;
    out.fill(sorted[i][1], from, to < 0 ? dates.length : to);
  }
  return out;
}

function dateCell(t: Table, line: number, v: string): string {
  return normalizeDate(v, `${t.name}:${line}:date`);
}

/** `date,symbol,<field>...` onto the panel: fields[name][a][t]. Symbols not in the panel are ignored. */
export function loadFieldsFile(file: string, panel: Panel): Record<string, Float64Array[]> {
  const t = readTable(file, ['date', 'symbol']);
  const names = t.header.filter((h) => h !== 'date' && h !== 'symbol');
  if (names.length === 0)
    throw new InputError(`${t.name}:1: no field columns besides date and symbol`, `${t.name}:1`);
  const di = t.header.indexOf('date');
  const si = t.header.indexOf('symbol');
  const bySymbol = new Map<string, [string, number[]][]>();
  for (const [line, cells] of t.rows) {
    const date = dateCell(t, line, cells[di]);
    const sym = text(t, line, 'symbol', cells[si]);
    const vals = names.map((f) => num(t, line, f, cells[t.header.indexOf(f)]));
    let list = bySymbol.get(sym);
    if (!list) bySymbol.set(sym, (list = []));
    list.push([date, vals]);
  }
  const out: Record<string, Float64Array[]> = {};
  names.forEach((f, j) => {
    out[f] = panel.symbols.map((s) =>
      fill(
        panel.dates,
        (bySymbol.get(s) ?? []).map(([d, v]) => [d, v[j]] as const),
        `${t.name}:${s}`,
      ),
    );
  });
  return out;
}

/** `date,currency,rate` onto the panel's calendar: rates[ccy][t]. */
export function loadRatesFile(file: string, panel: Panel): Record<string, Float64Array> {
  const t = readTable(file, ['date', 'currency', 'rate']);
  const [di, ci, ri] = ['date', 'currency', 'rate'].map((c) => t.header.indexOf(c));
  const byCcy = new Map<string, [string, number][]>();
  for (const [line, cells] of t.rows) {
    const date = dateCell(t, line, cells[di]);
    const ccy = text(t, line, 'currency', cells[ci]).toUpperCase();
    if (!/^[A-Z]{3}$/.test(ccy))
      throw new InputError(
        `${t.name}:${line}:currency: "${cells[ci]}" is not a 3-letter code`,
        `${t.name}:${line}:currency`,
      );
    const rate = num(t, line, 'rate', cells[ri]);
    if (Math.abs(rate) > 1)
      throw new InputError(
        `${t.name}:${line}:rate: ${rate} is not a decimal annual rate (|rate| <= 1)`,
        `${t.name}:${line}:rate`,
      );
    let list = byCcy.get(ccy);
    if (!list) byCcy.set(ccy, (list = []));
    list.push([date, rate]);
  }
  return Object.fromEntries([...byCcy].map(([c, pts]) => [c, fill(panel.dates, pts, `${t.name}:${c}`)]));
}

/** `date,tenor,yield` onto the panel's calendar. */
export function loadCurveFile(file: string, panel: Panel): NonNullable<PanelAux['curve']> {
  const t = readTable(file, ['date', 'tenor', 'yield']);
  const [di, ti, yi] = ['date', 'tenor', 'yield'].map((c) => t.header.indexOf(c));
  const byTenor = new Map<number, [string, number][]>();
  for (const [line, cells] of t.rows) {
    const date = dateCell(t, line, cells[di]);
    const tenor = num(t, line, 'tenor', cells[ti]);
    if (!(tenor > 0 && tenor <= 100))
      throw new InputError(
        `${t.name}:${line}:tenor: must be in years, > 0 and <= 100, got ${tenor}`,
        `${t.name}:${line}:tenor`,
      );
    const y = num(t, line, 'yield', cells[yi]);
    if (Math.abs(y) > 1)
      throw new InputError(
        `${t.name}:${line}:yield: ${y} is not a decimal annual yield (|yield| <= 1)`,
        `${t.name}:${line}:yield`,
      );
    let list = byTenor.get(tenor);
    if (!list) byTenor.set(tenor, (list = []));
    list.push([date, y]);
  }
  const tenors = [...byTenor.keys()].sort((a, b) => a - b);
  if (tenors.length < 2) throw new InputError(`${t.name}: a curve needs at least 2 tenors`, t.name);
  return { tenors, yields: tenors.map((m) => fill(panel.dates, byTenor.get(m)!, `${t.name}:tenor ${m}`)) };
}

/** `symbol,<label>...`: labels[name][a] ('' for symbols the file does not list). */
export function loadLabelsFile(file: string, panel: Panel): Record<string, string[]> {
  const t = readTable(file, ['symbol']);
  const si = t.header.indexOf('symbol');
  const names = t.header.filter((h) => h !== 'symbol');
  if (names.length === 0) throw new InputError(`${t.name}:1: no label columns besides symbol`, `${t.name}:1`);
  const bySymbol = new Map<string, readonly string[]>();
  for (const [line, cells] of t.rows) {
    const sym = text(t, line, 'symbol', cells[si]);
    if (bySymbol.has(sym))
      throw new InputError(`${t.name}:${line}:symbol: ${sym} listed twice`, `${t.name}:${line}:symbol`);
    names.forEach((f) => text(t, line, f, cells[t.header.indexOf(f)]));
    bySymbol.set(sym, cells);
  }
  return Object.fromEntries(
    names.map((f) => [f, panel.symbols.map((s) => bySymbol.get(s)?.[t.header.indexOf(f)] ?? '')]),
  );
}

/** Parses `--data kind=file`. */
export function parseDataSpec(spec: string): { kind: AuxKind; file: string } {
  const eq = spec.indexOf('=');
  const kind = spec.slice(0, Math.max(0, eq)).trim();
  if (eq <= 0 || !AUX_KINDS.includes(kind as AuxKind)) {
    throw new InputError(
      `--data: expected kind=file with kind one of ${AUX_KINDS.join(', ')}, got "${spec}"`,
      'data',
    );
  }
  return { kind: kind as AuxKind, file: spec.slice(eq + 1).trim() };
}

/** A panel with the side data of the given files merged into its aux (files win over what it had). */
export function attachAux(panel: Panel, specs: readonly { kind: AuxKind; file: string }[]): Panel {
  if (specs.length === 0) return panel;
  const aux: { -readonly [K in keyof PanelAux]: PanelAux[K] } = { ...panel.aux };
  for (const { kind, file } of specs) {
    if (kind === 'fields') aux.fields = { ...aux.fields, ...loadFieldsFile(file, panel) };
    else if (kind === 'rates') aux.rates = { ...aux.rates, ...loadRatesFile(file, panel) };
    else if (kind === 'curve') aux.curve = loadCurveFile(file, panel);
    else aux.labels = { ...aux.labels, ...loadLabelsFile(file, panel) };
  }
  return { ...panel, aux };
}

export const SYNTHETIC_SOURCES = ['macro', 'fx', 'commodities', 'bonds', 'equities'] as const;

/**
 * `synthetic:NAME[?seed=1&days=2520&assets=500]`: a seeded universe with its side data
 * (src/synthetic/): the macro ETFs, currency pairs with short rates, commodity futures with their
 * curves, government bonds with the yield curve, or an equity cross-section with sectors and
 * fundamentals.
 */
export function loadSynthetic(source: string): Panel {
  const m = /^synthetic:([a-z]+)(?:\?(.*))?$/.exec(source.trim());
  const name = m?.[1];
  if (!m || !SYNTHETIC_SOURCES.includes(name as (typeof SYNTHETIC_SOURCES)[number])) {
    throw new InputError(
      `bars: "${source}" is not one of ${SYNTHETIC_SOURCES.map((s) => `synthetic:${s}`).join(', ')}`,
      'bars',
    );
  }
  const opts: Record<string, number> = {};
  for (const kv of (m[2] ?? '').split('&').filter(Boolean)) {
    const [k, v] = kv.split('=');
    const x = Number(v);
    const ok =
      ['seed', 'days', 'assets'].includes(k) &&
      Number.isInteger(x) &&
      x >= (k === 'seed' ? 0 : 2) &&
      x <= 100_000;
    if (!ok)
      throw new InputError(
        `bars: ${source}: "${kv}" must be seed, days or assets = a whole number (days, assets >= 2)`,
        'bars',
      );
    opts[k] = x;
  }
  if (opts.assets !== undefined && name !== 'equities')
    throw new InputError(`bars: ${source}: assets is only for synthetic:equities`, 'bars');
  switch (name) {
    case 'fx':
      return fxCarryData(opts);
    case 'commodities':
      return commodityCarryData(opts);
    case 'bonds':
      return bondCarryData(opts);
    case 'equities':
      return equityUniverse(opts);
    default: {
      const rows = macroUniverse(opts);
      const symbols = [...new Set(rows.symbol)];
      const n = rows.symbol.length / symbols.length;
      const dates = rows.ts.slice(0, n).map((ms) => new Date(ms).toISOString().slice(0, 10));
      return {
        symbols,
        dates,
        close: symbols.map((_, a) => Float64Array.from(rows.close.slice(a * n, (a + 1) * n))),
        volume: symbols.map((_, a) => Float64Array.from(rows.volume.slice(a * n, (a + 1) * n))),
      };
    }
  }
}
