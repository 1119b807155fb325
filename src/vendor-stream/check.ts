/** Small field checks shared by the adapters: each returns the value or records why not. */

import type { Malformed, VendorItem } from './types';

export class FieldError extends Error {}

export function num(o: Record<string, unknown>, k: string, where: string, positive = true): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isFinite(v) || (positive ? v <= 0 : v < 0))
    throw new FieldError(
      `${where}.${k}: must be a ${positive ? 'positive' : 'non-negative'} number, got ${JSON.stringify(v)}`,
    );
  return v;
}

const SYMBOL = /^[A-Za-z0-9._-]{1,64}$/;
export function sym(o: Record<string, unknown>, k: string, where: string): string {
  const v = o[k];
  if (typeof v !== 'string' || !SYMBOL.test(v))
    throw new FieldError(`${where}.${k}: must be a symbol ([A-Za-z0-9._-]{1,64}), got ${JSON.stringify(v)}`);
  return v;
}

/** A string or integer identifier, as text. */
export function ident(o: Record<string, unknown>, k: string, where: string): string {
  const v = o[k];
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  throw new FieldError(`${where}.${k}: must be an id (string or integer), got ${JSON.stringify(v)}`);
}

/** Smallest plausible timestamp: 2000-01-01 (a smaller one is a unit mistake). */
const MIN_MS = 946_684_800_000;
const MAX_MS = 4_102_444_800_000;

export function msTs(o: Record<string, unknown>, k: string, where: string): bigint {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < MIN_MS || v >= MAX_MS)
    throw new FieldError(
      `${where}.${k}: must be Unix milliseconds between 2000 and 2100, got ${JSON.stringify(v)}`,
    );
  return BigInt(v) * 1_000_000n;
}

export function nsText(o: Record<string, unknown>, k: string, where: string): bigint {
  const v = o[k];
  if (typeof v !== 'string' || !/^\d{1,19}$/.test(v))
    throw new FieldError(`${where}.${k}: must be Unix nanoseconds, got ${JSON.stringify(v)}`);
  const n = BigInt(v);
  if (n < BigInt(MIN_MS) * 1_000_000n || n >= BigInt(MAX_MS) * 1_000_000n)
    throw new FieldError(`${where}.${k}: must be Unix nanoseconds between 2000 and 2100, got ${v}`);
  return n;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Frames are JSON arrays of messages (both vendors); a lone object is accepted as one message. */
export function messagesOf(frame: string): unknown[] | string {
  let v: unknown;
  try {
    v = JSON.parse(frame);
  } catch (err) {
    return `not JSON: ${(err as Error).message}`;
  }
  if (Array.isArray(v)) return v;
  if (isObject(v)) return [v];
  return `expected a JSON array of messages, got ${typeof v}`;
}

/**
 * `parse` on each object of `list`; a non-object (`notObject` says why) or a FieldError from `parse`
 * becomes a `malformed` item in `out`, so one bad entry never loses the others.
 */
export function eachObject(
  list: readonly unknown[],
  out: { push(m: Malformed): unknown },
  notObject: string,
  parse: (o: Record<string, unknown>) => unknown,
): void {
  for (const o of list) {
    try {
      if (!isObject(o)) throw new FieldError(notObject);
      parse(o);
    } catch (err) {
      if (!(err instanceof FieldError)) throw err;
      out.push({ kind: 'malformed', reason: err.message, raw: rawOf(o) });
    }
  }
}

/** A WebSocket frame's messages through `parse` (`eachObject`); a frame that is no list of them is malformed. */
export function parseFrameWith(
  frame: string,
  out: VendorItem[],
  parse: (m: Record<string, unknown>, out: VendorItem[]) => void,
): void {
  const msgs = messagesOf(frame);
  if (typeof msgs === 'string') out.push({ kind: 'malformed', reason: msgs, raw: rawOf(frame) });
  else eachObject(msgs, out, 'message is not a JSON object', (m) => parse(m, out));
}

export function trimSlash(u: string): string {
  return u.endsWith('/') ? u.slice(0, -1) : u;
}

/** A message's text for the quarantine record, bounded. */
export function rawOf(m: unknown): string {
  const s = typeof m === 'string' ? m : JSON.stringify(m);
  return s.length > 4096 ? `${s.slice(0, 4096)}...` : s;
}
