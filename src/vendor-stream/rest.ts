/**
 * GET against a vendor's REST history endpoint: a timeout on every attempt, retries with
 * exponential backoff and full jitter on 429, 5xx and network errors (honouring `Retry-After`),
 * `VendorAuthError` on 401/403, `VendorRequestError` on other 4xx.
 */
import { backoffDelay } from '../ingest/producer';
import { VendorAuthError, VendorRequestError } from './errors';
import type { HttpRequest } from './types';

export interface RestOptions {
  /** Per attempt. @default 10000 */
  readonly timeoutMs?: number;
  /** @default 8 */
  readonly maxAttempts?: number;
  /** @default 200 */
  readonly baseBackoffMs?: number;
  /** @default 10000 */
  readonly maxBackoffMs?: number;
  readonly random?: () => number;
  /** Called before each retry with the status (0: network error or timeout). */
  readonly onRetry?: (status: number, delayMs: number) => void;
  readonly signal?: AbortSignal;
}

export class RestGiveUpError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'RestGiveUpError';
  }
}

/** `Retry-After` in ms (seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterMs(v: string | null, nowMs = Date.now()): number | undefined {
  if (v === null || v.trim() === '') return undefined;
  const s = Number(v);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const d = Date.parse(v);
  return Number.isNaN(d) ? undefined : Math.max(0, d - nowMs);
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

export async function vendorGet(vendor: string, req: HttpRequest, o: RestOptions = {}): Promise<string> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  const maxAttempts = o.maxAttempts ?? 8;
  const base = o.baseBackoffMs ?? 200;
  const cap = o.maxBackoffMs ?? 10_000;
  const random = o.random ?? Math.random;
  let last = '';
  let lastStatus = 0;
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    let status = 0;
    let retryAfter: number | undefined;
    try {
      const signals = [AbortSignal.timeout(timeoutMs)];
      if (o.signal) signals.push(o.signal);
      const res = await fetch(req.url, { headers: req.headers, signal: AbortSignal.any(signals) });
      status = res.status;
      const text = await res.text();
      if (res.ok) return text;
      const detail = `HTTP ${status} from ${new URL(req.url).pathname}: ${text.slice(0, 200)}`;
      if (status === 401 || status === 403) throw new VendorAuthError(vendor, detail, true);
      if (status !== 429 && status < 500) throw new VendorRequestError(vendor, detail);
      retryAfter = retryAfterMs(res.headers.get('retry-after'));
      last = detail;
    } catch (err) {
      if (err instanceof VendorAuthError || err instanceof VendorRequestError) throw err;
      if (o.signal?.aborted) throw err;
      last = `${new URL(req.url).pathname}: ${(err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (err as Error).message}`;
    }
    lastStatus = status;
    if (attempt + 1 >= maxAttempts) break;
    const delay = Math.min(cap, Math.max(retryAfter ?? 0, backoffDelay(attempt, base, cap, random)));
    o.onRetry?.(status, delay);
    await sleep(delay, o.signal);
  }
  throw new RestGiveUpError(
    `${vendor} history request failed after ${maxAttempts} attempts: ${last}`,
    lastStatus,
  );
}
