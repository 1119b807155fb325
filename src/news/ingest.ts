/**
 * The news pull: one function for the CLI (`quant ingest news`), the scheduled Lambda
 * (lambda/news-ingest) and the demo. Fetch every article of a window (src/news/client.ts), score
 * each (src/news/sentiment.ts), and commit one row per (article, symbol) to `news_sentiment`
 * (src/news/lake.ts), de-duplicated by article id. Nothing is written until every page has been
 * fetched: a pull that fails (expired key, vendor down) writes nothing, and the next run redoes it.
 *
 * Point in time: a row carries the article's publication time (`published_at`); aggregates use an
 * article only from then on (src/news/daily.ts).
 */
import { InputError } from '../errors';
import { fetchNews, type FetchNewsOptions } from './client';
import { commitNewsRows, type NewsLakeTarget, type NewsRow } from './lake';
import { scoreArticle } from './sentiment';

/** Symbols become partition values: the lake's safe character set. */
const SYMBOL = /^[A-Za-z0-9._-]{1,64}$/;
/** Longest window of one pull (the vendor pages it; the lake write holds it in memory). */
const MAX_WINDOW_MS = 366 * 86_400_000;
/** An article stamped later than this after the pull is refused (vendor clock ahead of ours). */
const FUTURE_TOLERANCE_MS = 5 * 60_000;

export interface NewsIngestRequest extends Pick<
  FetchNewsOptions,
  'baseUrl' | 'apiKey' | 'pageSize' | 'requestTimeoutMs' | 'maxAttempts' | 'maxBackoffMs' | 'sleep'
> {
  readonly fromMs: number;
  readonly toMs: number;
  /** Keep only these symbols (one request window, filtered here). @default every symbol named */
  readonly symbols?: readonly string[];
  /** @default Date.now */
  readonly now?: () => number;
  /** Progress lines (stderr in the CLI). */
  readonly log?: (line: string) => void;
}

export interface NewsIngestReport {
  readonly from: string;
  readonly to: string;
  readonly pages: number;
  /** Articles received (valid shape). */
  readonly articles: number;
  /** Rows newly written (one per article and symbol). */
  readonly added: number;
  /** Rows already in the lake or repeated in the pull. */
  readonly duplicates: number;
  readonly partitions: number;
  /** Requests retried after 429, 5xx or a network failure. */
  readonly retries: number;
  /** Articles skipped: bad shape, a symbol outside the lake's character set, or a future time. */
  readonly rejected: number;
  readonly rejectedReasons: readonly string[];
  /** Vendor clock minus ours (from the HTTP Date header), when the vendor sent one. */
  readonly clockSkewMs: number | null;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export async function ingestNews(target: NewsLakeTarget, req: NewsIngestRequest): Promise<NewsIngestReport> {
  if (!Number.isFinite(req.fromMs)) throw new InputError('from: not a valid time', 'from');
  if (!Number.isFinite(req.toMs)) throw new InputError('to: not a valid time', 'to');
  if (req.toMs <= req.fromMs)
    throw new InputError(`to: ${iso(req.toMs)} is not after from (${iso(req.fromMs)})`, 'to');
  if (req.toMs - req.fromMs > MAX_WINDOW_MS)
    throw new InputError('to: the window is longer than 366 days (pull it in parts)', 'to');
  const only = req.symbols ? new Set(req.symbols) : undefined;
  for (const s of req.symbols ?? [])
    if (!SYMBOL.test(s)) throw new InputError(`symbols: invalid symbol "${s}"`, 'symbols');
  const now = req.now ?? Date.now;

  const fetched = await fetchNews({
    ...req,
    fromMs: req.fromMs,
    toMs: req.toMs,
    ticker: req.symbols?.length === 1 ? req.symbols[0] : undefined,
  });
  req.log?.(
    `news: ${fetched.articles.length} article(s) in ${fetched.pages} page(s), ${fetched.retries} retried request(s)`,
  );
  const pulledAt = now();
  const reasons = fetched.rejected.map((r) => `${r.id}: ${r.reason}`);
  const rows: NewsRow[] = [];
  const seen = new Set<string>();
  let repeated = 0;
  for (const a of fetched.articles) {
    if (a.publishedMs > pulledAt + FUTURE_TOLERANCE_MS) {
      reasons.push(`${a.id}: published_utc ${iso(a.publishedMs)} is after the pull (${iso(pulledAt)})`);
      continue;
    }
    // The API filters by time already; a vendor that does not is held to the window here.
    if (a.publishedMs < req.fromMs || a.publishedMs >= req.toMs) continue;
    const s = scoreArticle(a.title, a.description);
    for (const symbol of new Set(a.tickers)) {
      if (only && !only.has(symbol)) continue;
      if (!SYMBOL.test(symbol)) {
        reasons.push(`${a.id}: ticker "${symbol}" has characters outside [A-Za-z0-9._-]`);
        continue;
      }
      const k = `${a.id}\u0000${symbol}`;
      if (seen.has(k)) {
        repeated++; // the same article on two pages
        continue;
      }
      seen.add(k);
      rows.push({
        article_id: a.id,
        published_at: a.publishedMs,
        source: a.publisher,
        title: a.title,
        score: s.score,
        comparative: s.comparative,
        ingested_at: pulledAt,
        dt: iso(a.publishedMs).slice(0, 10),
        symbol,
      });
    }
  }
  const c = await commitNewsRows(target, rows);
  req.log?.(`news: ${c.added} row(s) added to news_sentiment in ${c.partitions} partition(s)`);
  return {
    from: iso(req.fromMs),
    to: iso(req.toMs),
    pages: fetched.pages,
    articles: fetched.articles.length,
    added: c.added,
    duplicates: c.duplicates + repeated,
    partitions: c.partitions,
    retries: fetched.retries,
    rejected: reasons.length,
    rejectedReasons: reasons.slice(0, 20),
    clockSkewMs: fetched.clockSkewMs ?? null,
  };
}
