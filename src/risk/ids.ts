/**
 * Account and strategy identifiers, checked wherever they enter (CLI, risk-check API, signals).
 * `#` separates the parts of the risk table's keys and `*` stands for "the whole account" in state
 * keys (src/risk/store.ts), so neither may appear in an id: `--strategy '*'` would otherwise alias
 * the account-wide state.
 */
import * as z from 'zod';
import { InputError } from '../errors';

export const ID_CHARS = /^[A-Za-z0-9._:@/=+-]+$/;

export const idSchema = z
  .string()
  .min(1, 'must be a non-empty string')
  .max(200, 'must be at most 200 characters')
  .regex(ID_CHARS, 'may contain only letters, digits and ._:@/=+-');

/** Returns `value` when it is a valid id; throws InputError naming the field otherwise. */
export function checkId(value: string, field: string): string {
  const r = idSchema.safeParse(value);
  if (!r.success) {
    throw new InputError(`${field}: ${JSON.stringify(value)} ${r.error.issues[0].message}`, field);
  }
  return value;
}
