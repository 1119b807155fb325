/**
 * Client of a news API in the shape of Polygon's `GET /v2/reference/news`: articles with `id`,
 * `publisher.name`, `title`, `description`, `published_utc` and `tickers`, paged by `next_url`
 * (a cursor). The key goes in an `Authorization: Bearer` header, never in a URL that could be logged.
 *
 * Faults: 429 and 5xx (and a connection that fails or times out) are retried with exponential
 * backoff and jitter, honouring `Retry-After`; the page's cursor is kept, so a retry loses nothing.
 * 401/403 is a rejected key (`VendorAuthError`): not retried, named clearly.
 */
import * as z from 'zod';
import { InputError } from '../errors';
import { retryAfterMs } from '../vendor-stream/rest';

export interface NewsArticle {
  readonly id: string;
  readonly publisher: string;
  readonly title: string;
  readonly description: string;
  /** Publication time, epoch ms (UTC). */
  readonly publishedMs: number;
  readonly tickers: readonly string[];
}

/** The vendor rejected the key (HTTP 401/403): expired, revoked or wrong. */
export class VendorAuthError extends InputError {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message, 'apiKey');
    this.name = 'VendorAuthError';
  }
}

/** The vendor kept failing (429/5xx/network) after every attempt. */
export class VendorUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VendorUnavailableError';
  }
}

export interface FetchNewsOptions {
  /** e.g. `https://api.polygon.io` or the local simulator's URL. */
  readonly baseUrl: string;
  readonly apiKey: string;
  /** Articles published at or after this time (epoch ms)... */
  readonly fromMs: number;
  /** ...and before this one (epoch ms). */
  readonly toMs: number;
  /** Only articles naming this ticker (the API takes one). @default every article */
  readonly ticker?: string;
  /** Articles per page. @default 100 */
  readonly pageSize?: number;
  /** Longest wait for one request. @default 20 s */
  readonly requestTimeoutMs?: number;
  /** Attempts per page before giving up. @default 6 */
  readonly maxAttempts?: number;
  /** Longest backoff between two attempts. @default 30 s */
  readonly maxBackoffMs?: number;
  /** Injected for tests. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface FetchNewsResult {
  readonly articles: NewsArticle[];
  readonly pages: number;
  /** Attempts that were retried (429, 5xx, network). */
  readonly retries: number;
  /** Articles the API sent that do not have the documented shape (skipped), with the reason. */
  readonly rejected: { readonly id: string; readonly reason: string }[];
  /** Vendor clock minus ours, from the last response's `Date` header (1 s resolution). */
  readonly clockSkewMs?: number;
}

const articleSchema = z.object({
  id: z.string().min(1).max(256),
  publisher: z.object({ name: z.string().min(1) }),
  title: z.string().min(1),
  description: z.string().optional(),
  published_utc: z.iso.datetime({ offset: true }),
  tickers: z.array(z.string()).default([]),
});

const pageSchema = z.object({
  results: z.array(z.unknown()).default([]),
  next_url: z.string().optional(),
});

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function errorText(body: string): string {
  try {
    const j = JSON.parse(body) as { error?: unknown; message?: unknown };
    const m = j.error ?? j.message;
    if (typeof m === 'string') return m;
  } catch {
    // not JSON: the text itself
  }
  return body.slice(0, 200);
}

/** Backoff before attempt `attempt + 1`: `Retry-After` if the server sent one, else 2^n with jitter. */
export function backoffMs(attempt: number, retryAfter: string | null, maxMs: number): number {
  const after = retryAfterMs(retryAfter);
  if (after !== undefined) return Math.min(maxMs, after);
  const cap = Math.min(maxMs, 250 * 2 ** attempt);
  return cap / 2 + Math.random() * (cap / 2);
}

/** Every article of the window, page by page. */
export async function fetchNews(o: FetchNewsOptions): Promise<FetchNewsResult> {
  let base: URL;
  try {
    base = new URL(o.baseUrl);
  } catch {
    throw new InputError(`url: "${o.baseUrl}" is not a URL`, 'url');
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:')
    throw new InputError(`url: "${o.baseUrl}" is not an http(s) URL`, 'url');
  if (o.apiKey.trim() === '') throw new InputError('apiKey: the news API key is empty', 'apiKey');
  const sleep = o.sleep ?? defaultSleep;
  const maxAttempts = o.maxAttempts ?? 6;
  const timeoutMs = o.requestTimeoutMs ?? 20_000;
  const first = new URL('/v2/reference/news', base);
  first.searchParams.set('published_utc.gte', new Date(o.fromMs).toISOString());
  first.searchParams.set('published_utc.lt', new Date(o.toMs).toISOString());
  first.searchParams.set('order', 'asc');
  first.searchParams.set('sort', 'published_utc');
  first.searchParams.set('limit', String(o.pageSize ?? 100));
  if (o.ticker) first.searchParams.set('ticker', o.ticker);

  const articles: NewsArticle[] = [];
  const rejected: { id: string; reason: string }[] = [];
  let retries = 0;
  let pages = 0;
  let clockSkewMs: number | undefined;
  let next: URL | undefined = first;
  while (next) {
    const url: URL = next;
    let body: unknown;
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(url, {
          headers: { Authorization: `Bearer ${o.apiKey}`, Accept: 'application/json' },
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        const why = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        if (attempt >= maxAttempts)
          throw new VendorUnavailableError(
            `news API ${url.origin}: no answer after ${attempt} attempts (${why})`,
          );
        retries++;
        await sleep(backoffMs(attempt, null, o.maxBackoffMs ?? 30_000));
        continue;
      }
      const text = await res.text();
      if (res.ok) {
        const date = res.headers.get('date');
        if (date && !Number.isNaN(Date.parse(date))) clockSkewMs = Date.parse(date) - Date.now();
        try {
          body = JSON.parse(text);
        } catch {
          throw new VendorUnavailableError(`news API ${url.origin}: the response is not JSON`);
        }
        break;
      }
      if (res.status === 401 || res.status === 403) {
        throw new VendorAuthError(
          `news API ${url.origin} rejected the key (HTTP ${res.status}: ${errorText(text)}): ` +
            'it is expired, revoked or wrong; put a valid key in the secret (QUANT_VENDOR_KEY locally)',
          res.status,
        );
      }
      if (res.status !== 429 && res.status < 500) {
        throw new InputError(
          `news API ${url.origin}: HTTP ${res.status} for ${url.pathname} (${errorText(text)})`,
          'url',
        );
      }
      if (attempt >= maxAttempts)
        throw new VendorUnavailableError(
          `news API ${url.origin}: HTTP ${res.status} after ${attempt} attempts (${errorText(text)})`,
        );
      retries++;
      await sleep(backoffMs(attempt, res.headers.get('retry-after'), o.maxBackoffMs ?? 30_000));
    }
    pages++;
    const page = pageSchema.safeParse(body);
    if (!page.success) throw new VendorUnavailableError(`news API ${url.origin}: a page without "results"`);
    for (const raw of page.data.results) {
      const a = articleSchema.safeParse(raw);
      if (!a.success) {
        const id = (raw as { id?: unknown } | null)?.id;
        rejected.push({
          id: typeof id === 'string' ? id : '(none)',
          reason: a.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        });
        continue;
      }
      articles.push({
        id: a.data.id,
        publisher: a.data.publisher.name,
        title: a.data.title,
        description: a.data.description ?? '',
        publishedMs: Date.parse(a.data.published_utc),
        tickers: a.data.tickers,
      });
    }
    next = undefined;
    if (page.data.next_url) {
      const n = new URL(page.data.next_url, base);
      // The key goes only to the API's own origin.
      if (n.origin !== base.origin)
        throw new VendorUnavailableError(
          `news API ${base.origin}: next_url points to another origin (${n.origin})`,
        );
      next = n;
    }
  }
  return { articles, pages, retries, rejected, clockSkewMs };
}
