/**
 * Parameter grids for sweeps: `--grid fast=2:100` (inclusive range, optional `:step`),
 * `--grid fast=5,10,20` (list), `--grid short=true,false`, text lists such as model versions
 * (`--grid model=ml-signal@1,ml-signal@2,other@prod`: the strategy's schema judges them), filtered
 * by `--where`, expanded in a
 * deterministic order into parameter sets with content-derived ids (so re-runs find their work).
 */
import { createHash } from 'node:crypto';
import { InputError } from '../errors';
import { evaluateWhere, parseWhere, whereIdentifiers, type Value, type WhereExpr } from './where';

export type ParamValue = Value;
export type Params = Readonly<Record<string, ParamValue>>;

export interface GridAxis {
  readonly name: string;
  readonly values: readonly ParamValue[];
}

/** One point of the grid: `id` is stable across runs for the same strategy and parameters. */
export interface ParamSet {
  readonly id: string;
  readonly params: Params;
}

/** Default cap on the number of parameter sets in one sweep (config overrides it in AWS). */
export const DEFAULT_MAX_GRID_SIZE = 100_000;
/** No axis may list more values than this, whatever the grid cap: bounds memory while parsing. */
const MAX_AXIS_VALUES = 1_000_000;

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A text value of a list: a word, path or `name@version` (no spaces, commas or quotes). */
const TEXT_RE = /^[A-Za-z_./~][A-Za-z0-9_./~@:+-]*$/;

/** True for a text parameter value as grids accept it (never a number's or a boolean's spelling). */
export const isTextValue = (t: string): boolean =>
  TEXT_RE.test(t) && !/^[+-]?(\d|\.\d)/.test(t) && t !== 'true' && t !== 'false';

function parseScalar(text: string, field: string, allowText = false): ParamValue {
  const t = text.trim();
  if (t === 'true' || t === 'false') return t === 'true';
  if (allowText && isTextValue(t)) return t;
  if (t === '' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) {
    throw new InputError(`${field}: "${text}" is not a number or true/false`, field);
  }
  const v = Number(t);
  if (!Number.isFinite(v)) throw new InputError(`${field}: "${text}" is out of range`, field);
  return v;
}

/** Rounds away binary noise from `start + i * step` (0.1 + 2 * 0.1 => 0.3, not 0.30000000000000004). */
const clean = (x: number): number => Number(x.toPrecision(12));

/** Parses one `--grid name=spec` argument. */
export function parseGridArg(arg: string): GridAxis {
  const eq = arg.indexOf('=');
  if (eq <= 0)
    throw new InputError(`grid: "${arg}" must look like name=start:end[:step] or name=a,b,c`, 'grid');
  const name = arg.slice(0, eq).trim();
  const spec = arg.slice(eq + 1).trim();
  const field = `grid.${name}`;
  if (!NAME_RE.test(name)) throw new InputError(`grid: "${name}" is not a valid parameter name`, 'grid');
  if (spec === '') throw new InputError(`${field}: no values given`, field);

  if (spec.includes(':')) {
    const parts = spec.split(':');
    if (parts.length < 2 || parts.length > 3) {
      throw new InputError(`${field}: range "${spec}" must be start:end or start:end:step`, field);
    }
    const [start, end, step] = parts.map((p) => parseScalar(p, field));
    if (
      typeof start !== 'number' ||
      typeof end !== 'number' ||
      (step !== undefined && typeof step !== 'number')
    ) {
      throw new InputError(`${field}: range bounds and step must be numbers`, field);
    }
    const s = step ?? 1;
    if (!(s > 0)) throw new InputError(`${field}: step must be positive, got ${s}`, field);
    if (end < start) throw new InputError(`${field}: range end ${end} is below its start ${start}`, field);
    // The small epsilon keeps the end point when (end - start) / step is an integer up to float error.
    const count = Math.floor((end - start) / s + 1e-9) + 1;
    if (count > MAX_AXIS_VALUES) {
      throw new InputError(`${field}: range has ${count} values, more than ${MAX_AXIS_VALUES}`, field);
    }
    const values: number[] = [];
    for (let i = 0; i < count; i++) values.push(clean(start + i * s));
    return { name, values };
  }

  const values = spec.split(',').map((p) => parseScalar(p, field, true));
  const seen = new Set<ParamValue>();
  for (const v of values) {
    if (seen.has(v)) throw new InputError(`${field}: value ${String(v)} is listed twice`, field);
    seen.add(v);
  }
  return { name, values };
}

/** Parses every `--grid` argument; the same parameter twice is an error. */
export function parseGrid(args: readonly string[]): GridAxis[] {
  if (args.length === 0) throw new InputError('grid: give at least one --grid name=values', 'grid');
  const axes = args.map(parseGridArg);
  const names = new Set<string>();
  for (const a of axes) {
    if (names.has(a.name)) throw new InputError(`grid.${a.name}: parameter given twice`, `grid.${a.name}`);
    names.add(a.name);
  }
  return axes;
}

/** Canonical JSON (sorted keys) so ids do not depend on argument order. */
export function canonicalParams(params: Params): string {
  const keys = Object.keys(params).sort();
  return JSON.stringify(Object.fromEntries(keys.map((k) => [k, params[k]])));
}

/** Stable id of one parameter set of one strategy: first 16 hex digits of SHA-256. */
export function paramSetId(strategy: string, params: Params): string {
  return createHash('sha256')
    .update(`${strategy}\n${canonicalParams(params)}`)
    .digest('hex')
    .slice(0, 16);
}

export interface ExpandOptions {
  readonly strategy: string;
  readonly axes: readonly GridAxis[];
  /** A `--where` expression (string) or an already parsed one. */
  readonly where?: string | WhereExpr;
  /** @default DEFAULT_MAX_GRID_SIZE */
  readonly maxGridSize?: number;
  /** Parameters fixed for every point (e.g. `--param short=true`); grid axes may not repeat them. */
  readonly fixed?: Params;
}

/** Number of points of the unfiltered grid. */
export function gridProduct(axes: readonly GridAxis[]): number {
  return axes.reduce((n, a) => n * a.values.length, 1);
}

/**
 * Expands the grid into parameter sets in a deterministic order (first axis slowest), keeping
 * only points where the filter holds. Fails before enumerating when even the filter could not
 * bring the grid under the cap, and after filtering when the kept points exceed it.
 */
export function expandGrid(opts: ExpandOptions): ParamSet[] {
  const max = opts.maxGridSize ?? DEFAULT_MAX_GRID_SIZE;
  const fixed = opts.fixed ?? {};
  for (const a of opts.axes) {
    if (Object.hasOwn(fixed, a.name)) {
      throw new InputError(`grid.${a.name}: also given as a fixed parameter`, `grid.${a.name}`);
    }
  }
  const where = typeof opts.where === 'string' ? parseWhere(opts.where) : opts.where;
  if (where) {
    const known = new Set([...opts.axes.map((a) => a.name), ...Object.keys(fixed)]);
    for (const id of whereIdentifiers(where)) {
      if (!known.has(id)) {
        throw new InputError(
          `where: unknown parameter "${id}" (grid parameters: ${[...known].join(', ')})`,
          'where',
        );
      }
    }
  }
  const product = gridProduct(opts.axes);
  // Without a filter the product is the size; with one, enumerating far beyond the cap is refused
  // too (a filter rarely keeps less than a tenth), so a typo cannot enumerate billions of points.
  const enumerationCap = where ? max * 10 : max;
  if (product > enumerationCap) {
    throw new InputError(
      `grid: ${product} parameter sets${where ? ' before the --where filter' : ''} exceed the maximum grid size ${max}${where ? ' (x10 before filtering)' : ''}; narrow the ranges or raise the limit`,
      'grid',
    );
  }
  const out: ParamSet[] = [];
  const idx = new Array<number>(opts.axes.length).fill(0);
  for (let n = 0; n < product; n++) {
    const params: Record<string, ParamValue> = { ...fixed };
    opts.axes.forEach((a, i) => (params[a.name] = a.values[idx[i]]));
    const keep = where ? evaluateWhere(where, params) : true;
    if (keep === true || (typeof keep === 'number' && keep !== 0)) {
      out.push({ id: paramSetId(opts.strategy, params), params });
      if (out.length > max) {
        throw new InputError(
          `grid: more than ${max} parameter sets pass the --where filter (the maximum grid size); narrow the ranges or raise the limit`,
          'grid',
        );
      }
    }
    for (let i = opts.axes.length - 1; i >= 0; i--) {
      if (++idx[i] < opts.axes[i].values.length) break;
      idx[i] = 0;
    }
  }
  if (out.length === 0) throw new InputError('grid: no parameter set passes the --where filter', 'where');
  return out;
}

export interface SweepIdentity {
  readonly strategy: string;
  readonly bars: string;
  readonly axes: readonly GridAxis[];
  readonly where?: string;
  readonly costBps?: number;
  readonly fixed?: Params;
}

/**
 * Deterministic sweep id from what determines the results (strategy, data, grid, filter, costs):
 * running the same command again resumes the same sweep instead of starting a new one.
 */
export function sweepIdFor(identity: SweepIdentity): string {
  const body = JSON.stringify({
    strategy: identity.strategy,
    bars: identity.bars,
    axes: identity.axes.map((a) => [a.name, a.values]),
    where: identity.where?.replace(/\s+/g, '') ?? '',
    costBps: identity.costBps ?? 0,
    fixed: identity.fixed ? canonicalParams(identity.fixed) : '',
  });
  return `sw-${createHash('sha256').update(body).digest('hex').slice(0, 12)}`;
}

/** Splits items into batches of at most `size` (the unit of work of one worker or ECS task). */
export function batches<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1)
    throw new InputError(`batchSize: must be a positive integer, got ${size}`, 'batchSize');
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
