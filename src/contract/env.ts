/**
 * One reader for the environment a deployed function or task is given: each handler declares the
 * variables it needs as a spec (names from the other contract files) and reads them once, at cold
 * start, so a missing or malformed variable fails the start and names the variable. Imports nothing.
 */

/** A missing or malformed environment variable (the message names it). */
export class EnvError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`environment variable ${variable}${problem.startsWith(':') ? '' : ' '}${problem}`);
    this.name = 'EnvError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** How one variable is read: its name and how its text becomes a value. */
export interface EnvVar<T> {
  readonly name: string;
  read(raw: string | undefined): T;
}

const required = (name: string, raw: string | undefined): string => {
  if (raw === undefined || raw === '') throw new EnvError(name, 'is required');
  return raw;
};

/** A non-empty string. */
export const text = (name: string): EnvVar<string> => ({ name, read: (raw) => required(name, raw) });

/** A string that may be absent (`undefined` then, or `fallback`). */
export function optionalText(name: string): EnvVar<string | undefined>;
export function optionalText(name: string, fallback: string): EnvVar<string>;
export function optionalText(name: string, fallback?: string): EnvVar<string | undefined> {
  return { name, read: (raw) => (raw === undefined || raw === '' ? fallback : raw) };
}

/** A whole number >= `min` (default 1); absent is an error unless `fallback` is given. */
export const int = (name: string, opts: { min?: number; fallback?: number } = {}): EnvVar<number> => ({
  name,
  read: (raw) => {
    if ((raw === undefined || raw === '') && opts.fallback !== undefined) return opts.fallback;
    const min = opts.min ?? 1;
    const n = Number(required(name, raw));
    if (!Number.isSafeInteger(n) || n < min)
      throw new EnvError(name, `must be a whole number >= ${min}, got ${JSON.stringify(raw)}`);
    return n;
  },
});

/** A finite number; absent is `fallback`. */
export const num = (name: string, fallback: number): EnvVar<number> => ({
  name,
  read: (raw) => {
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new EnvError(name, `must be a number, got ${JSON.stringify(raw)}`);
    return n;
  },
});

/** A comma-separated, non-empty list. */
export const list = (name: string): EnvVar<string[]> => ({
  name,
  read: (raw) => {
    const items = required(name, raw)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (items.length === 0) throw new EnvError(name, 'must list at least one value');
    return items;
  },
});

/** One of `values`. */
export const oneOf = <const V extends string>(name: string, values: readonly V[]): EnvVar<V> => ({
  name,
  read: (raw) => {
    const v = required(name, raw);
    if (!(values as readonly string[]).includes(v))
      throw new EnvError(name, `: ${JSON.stringify(v)} is not one of ${values.join(', ')}`);
    return v as V;
  },
});

export type EnvSpec = Readonly<Record<string, EnvVar<unknown>>>;
export type EnvOf<S extends EnvSpec> = { readonly [K in keyof S]: ReturnType<S[K]['read']> };

/** Reads every variable of `spec` from `env`; the first missing or malformed one throws `EnvError`. */
export function readEnv<S extends EnvSpec>(spec: S, env: Env = process.env): EnvOf<S> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(spec)) out[key] = v.read(env[v.name]);
  return out as EnvOf<S>;
}

/** The variable (and its value) that makes `quant` use AWS, as `--aws` does (src/cli/context.ts). */
export const QUANT_MODE_ENV = 'QUANT_MODE';
export const QUANT_MODE_AWS = 'aws';
