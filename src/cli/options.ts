/**
 * Option parsers every command uses. Each takes the text as typed and the flag, and throws an
 * InputError naming the flag and the problem (src/cli/main.ts turns it into exit code 2).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type * as z from 'zod';
import { InputError } from '../errors';
import { parseWith } from '../errors';

interface Range {
  readonly min?: number;
  readonly max?: number;
  /**
   * The problem as this flag has always worded it, given the text (scripts and tests match it).
   * @default `must be a whole number from MIN to MAX, got "TEXT"` (or `>= MIN` without a max)
   */
  readonly says?: (v: string) => string;
}

/** A whole number in [min, max] (min defaults to 1). */
export function int(v: string, flag: string, r: Range = {}): number {
  const min = r.min ?? 1;
  const n = Number(v);
  if (v.trim() === '' || !Number.isSafeInteger(n) || n < min || (r.max !== undefined && n > r.max)) {
    const range = r.max === undefined ? `>= ${min}` : `from ${min} to ${r.max}`;
    const says = r.says?.(v) ?? `must be a whole number ${range}, got ${JSON.stringify(v)}`;
    throw new InputError(`${flag}: ${says}`, flag);
  }
  return n;
}

/** `int` for an option that may be absent. */
export const optionalInt = (v: string | undefined, flag: string, r: Range = {}): number | undefined =>
  v === undefined ? undefined : int(v, flag, r);

/** A finite number, within [min, max] where given. */
export function num(v: string, flag: string, r: { min?: number; max?: number } = {}): number {
  const n = Number(v);
  const { min = -Infinity, max = Infinity } = r;
  if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    const range =
      r.min !== undefined && r.max !== undefined
        ? ` between ${r.min} and ${r.max}`
        : r.min !== undefined
          ? ` >= ${r.min}`
          : r.max !== undefined
            ? ` <= ${r.max}`
            : '';
    throw new InputError(`${flag}: must be a number${range}, got ${JSON.stringify(v)}`, flag);
  }
  return n;
}

/** A probability, 0 to 1 (absent: 0). */
export const probability = (v: string | undefined, flag: string): number =>
  v === undefined ? 0 : num(v, flag, { min: 0, max: 1 });

/** One of `values`. */
export function oneOf<const V extends string>(v: string, flag: string, values: readonly V[]): V {
  if (!(values as readonly string[]).includes(v))
    throw new InputError(`${flag}: "${v}" is not one of ${values.join(', ')}`, flag);
  return v as V;
}

/** An http(s) endpoint URL, without trailing slashes (absent: undefined). */
export function endpoint(v: string | undefined, flag: string): string | undefined {
  if (v === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new InputError(`${flag}: "${v}" is not a URL (expected http(s)://HOST[:PORT])`, flag);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InputError(`${flag}: only http and https endpoints are supported, got ${url.protocol}`, flag);
  }
  return v.replace(/\/+$/, '');
}

/** A JSON file checked against its schema; problems name the file (and the field). */
export function jsonFile<T>(schema: z.ZodType<T>, file: string): T {
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
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${name}: not valid JSON (${(err as Error).message})`, name);
  }
  return parseWith(schema, value, name);
}

/** The values of a list option (comma separated, or repeated), trimmed, blanks dropped. */
export const listOf = (v: string | readonly string[] | undefined): string[] =>
  [v ?? []]
    .flat()
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** Commander's collector for a repeatable option. */
export const collect = (v: string, prev: string[]): string[] => [...prev, v];
