import { InputError } from '../errors';

/** Reads a required positive integer environment variable (handlers read them once, at cold start). */
export function requiredIntEnv(env: Readonly<Record<string, string | undefined>>, name: string): number {
  const raw = env[name];
  const n = Number(raw);
  if (raw === undefined || raw === '' || !Number.isSafeInteger(n) || n < 1) {
    throw new InputError(
      `${name}: required positive integer environment variable, got ${JSON.stringify(raw)}`,
      name,
    );
  }
  return n;
}
