/** `--timeout SECONDS`: apart from src/aws/network.ts so that parsing it loads no HTTP handler. */
import { InputError } from '../errors';

/** Longest wait for one request, all attempts included. @see src/aws/network.ts */
export const DEFAULT_TIMEOUT_MS = 60_000;

/** `--timeout SECONDS` as typed, in milliseconds; undefined for the default. */
export function parseTimeoutSeconds(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const s = Number(text);
  if (!(s > 0 && s <= 3600)) {
    throw new InputError(`--timeout: must be a number of seconds from 0 to 3600, got "${text}"`, 'timeout');
  }
  return Math.round(s * 1000);
}
