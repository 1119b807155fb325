/**
 * Readers of scored articles from the lake's `news_sentiment`, for the daily sentiment feature of
 * the backtest and live path (src/news/panel.ts). Two readers, one answer:
 * - `EngineNewsReader`: through a query engine (DuckDB over the local lake, Athena in AWS), what
 *   the training path reads;
 * - `S3NewsReader`: the Parquet objects through the S3 API in pure JS (hyparquet), for Lambdas
 *   (no DuckDB in their bundle), as src/lake/bars-reader.ts reads bars.
 * Both wait for (or refuse) a news pull still writing the symbols' partitions (src/news/pending.ts).
 */
import { ListObjectsV2Command, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { NEWS_SENTIMENT } from '../contract/lake';
import { listPendingS3 } from '../lake/commit';
import { epochMs, parquetRows } from '../lake/parquet-read';
import type { QueryEngine } from '../lake/query';
import type { ScoredArticle } from './daily';
import { waitForNewsOnEngine, waitForNewsWrites } from './pending';

/** Articles of each symbol published in [fromMs, toMs) (every asked symbol is a key). */
export type ArticlesBySymbol = Map<string, ScoredArticle[]>;

export interface NewsReader {
  /** Where the articles come from (for messages). */
  readonly location: string;
  articles(symbols: readonly string[], fromMs: number, toMs: number): Promise<ArticlesBySymbol>;
}

const SYMBOL = /^[A-Za-z0-9._-]{1,64}$/;

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
/** `TIMESTAMP 'YYYY-MM-DD HH:MM:SS.mmm'` (UTC), a literal both DuckDB and Athena read. */
const tsLiteral = (ms: number): string =>
  `TIMESTAMP '${new Date(ms).toISOString().replace('T', ' ').slice(0, 23)}'`;

/** One order whatever the read order: the daily mean (a float sum) is then the same to the bit. */
function inOrder(m: ArticlesBySymbol): ArticlesBySymbol {
  for (const list of m.values())
    list.sort((a, b) => a.publishedAt - b.publishedAt || a.comparative - b.comparative);
  return m;
}

function checkSymbols(symbols: readonly string[]): void {
  for (const s of symbols) if (!SYMBOL.test(s)) throw new Error(`symbols: invalid symbol "${s}"`);
}

/** Through a query engine: the relation `news_sentiment` (a DuckDB view locally, the Glue table in AWS). */
export class EngineNewsReader implements NewsReader {
  readonly location = `the lake's ${NEWS_SENTIMENT.name} table`;
  constructor(
    private readonly engine: QueryEngine,
    private readonly opts: { readonly newsWaitMs?: number } = {},
  ) {}

  async articles(symbols: readonly string[], fromMs: number, toMs: number): Promise<ArticlesBySymbol> {
    checkSymbols(symbols);
    const out: ArticlesBySymbol = new Map(symbols.map((s) => [s, []]));
    if (symbols.length === 0) return out;
    await waitForNewsOnEngine(this.engine, {
      symbols,
      fromDay: day(fromMs),
      toDay: day(toMs),
      maxWaitMs: this.opts.newsWaitMs,
    });
    // One row per article and symbol: the de-duplicated table never holds an id twice per partition.
    const rows = await this.engine.query(
      `SELECT symbol, published_at, comparative FROM ${NEWS_SENTIMENT.name}
       WHERE symbol IN (${symbols.map((s) => `'${s}'`).join(', ')})
         AND published_at >= ${tsLiteral(fromMs)} AND published_at < ${tsLiteral(toMs)}`,
    );
    for (const r of rows)
      out
        .get(String(r.symbol))
        ?.push({ publishedAt: epochMs(r.published_at), comparative: Number(r.comparative) });
    return inOrder(out);
  }
}

const PARTITION_KEY = /dt=(\d{4}-\d{2}-\d{2})\/symbol=([^/]+)\/[^/]+\.parquet$/;
/** Decoded partitions kept (one per day and symbol with news: a year of 10 symbols is ~2,500). */
const MAX_DECODED = 20_000;

export interface S3NewsReaderOptions {
  /**
   * How long a read waits for a running news pull into the same symbols before it fails; an
   * abandoned pull fails it at once. @default 10 s (a Lambda's read is short-lived)
   */
  readonly waitForWritesMs?: number;
  /** Parallel GETs. @default 16 */
  readonly concurrency?: number;
}

/**
 * The `news_sentiment` objects (`<prefix>/dt=<day>/symbol=<s>/*.parquet`) of the days [fromDay,
 * toDay]: one paginated LIST from the first day's partitions on (partitions nest by day first).
 */
export async function listNewsObjects(
  s3: S3Client,
  bucket: string,
  prefix: string,
  fromDay: string,
  toDay: string,
): Promise<Array<{ key: string; etag: string; symbol: string }>> {
  const out: Array<{ key: string; etag: string; symbol: string }> = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: `${prefix}/`,
        StartAfter: token ? undefined : `${prefix}/dt=${fromDay}`,
        ContinuationToken: token,
      }),
      { abortSignal: AbortSignal.timeout(30_000) },
    );
    let past = false;
    for (const o of page.Contents ?? []) {
      const m = PARTITION_KEY.exec(o.Key ?? '');
      if (!m) continue;
      if (m[1] > toDay) {
        past = true;
        break;
      }
      if (m[1] >= fromDay) out.push({ key: o.Key!, etag: o.ETag ?? '', symbol: m[2] });
    }
    token = !past && page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/**
 * The `news_sentiment` objects through the S3 API. One
 * LIST from the first day's partitions on; a partition whose ETag is unchanged since the last read
 * is not downloaded again (a warm Lambda reads only the new day).
 */
export class S3NewsReader implements NewsReader {
  private readonly decoded = new Map<string, { etag: string; rows: ScoredArticle[] }>();

  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
    private readonly prefix: string = NEWS_SENTIMENT.prefix,
    private readonly opts: S3NewsReaderOptions = {},
  ) {}

  get location(): string {
    return `s3://${this.bucket}/${this.prefix}/`;
  }

  private async read(key: string, etag: string): Promise<ScoredArticle[]> {
    const hit = this.decoded.get(key);
    if (hit && etag !== '' && hit.etag === etag) return hit.rows;
    const obj = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
      abortSignal: AbortSignal.timeout(30_000),
    });
    const raw = await parquetRows(await obj.Body!.transformToByteArray(), ['published_at', 'comparative']);
    const rows = raw.map((r) => ({
      publishedAt: epochMs(r.published_at),
      comparative: Number(r.comparative),
    }));
    if (this.decoded.size >= MAX_DECODED) this.decoded.delete(this.decoded.keys().next().value!);
    this.decoded.set(key, { etag: obj.ETag ?? etag, rows });
    return rows;
  }

  async articles(symbols: readonly string[], fromMs: number, toMs: number): Promise<ArticlesBySymbol> {
    checkSymbols(symbols);
    const out: ArticlesBySymbol = new Map(symbols.map((s) => [s, []]));
    if (symbols.length === 0) return out;
    const fromDay = day(fromMs);
    const toDay = day(toMs);
    // Listed after the wait: a pull that has just committed is seen whole.
    await waitForNewsWrites(() => listPendingS3(this.s3, this.bucket, NEWS_SENTIMENT.name), {
      symbols,
      fromDay,
      toDay,
      maxWaitMs: this.opts.waitForWritesMs ?? 10_000,
    });
    const objects = (await listNewsObjects(this.s3, this.bucket, this.prefix, fromDay, toDay)).filter((o) =>
      out.has(o.symbol),
    );
    let next = 0;
    const worker = async () => {
      while (next < objects.length) {
        const o = objects[next++];
        for (const a of await this.read(o.key, o.etag))
          if (a.publishedAt >= fromMs && a.publishedAt < toMs) out.get(o.symbol)!.push(a);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.concurrency ?? 16, objects.length) }, worker));
    return inOrder(out);
  }
}

/**
 * A reader that reads [fromMs, toMs) of `symbols` once and answers every read inside it from
 * memory (a replay asks for each bar's window; one query instead of one per bar). A read outside
 * goes to `inner`. Each answer holds only the articles of the window asked for: no bar sees news
 * published after its cut-off.
 */
export class PrefetchedNewsReader implements NewsReader {
  private all?: Promise<ArticlesBySymbol>;
  constructor(
    private readonly inner: NewsReader,
    private readonly symbols: readonly string[],
    private readonly fromMs: number,
    private readonly toMs: number,
  ) {}

  get location(): string {
    return this.inner.location;
  }

  async articles(symbols: readonly string[], fromMs: number, toMs: number): Promise<ArticlesBySymbol> {
    if (fromMs < this.fromMs || toMs > this.toMs || symbols.some((s) => !this.symbols.includes(s)))
      return this.inner.articles(symbols, fromMs, toMs);
    this.all ??= this.inner.articles(this.symbols, this.fromMs, this.toMs);
    // A failed read is not kept: the next bar asks again.
    this.all.catch(() => (this.all = undefined));
    const all = await this.all;
    return new Map(
      symbols.map((s) => [
        s,
        (all.get(s) ?? []).filter((a) => a.publishedAt >= fromMs && a.publishedAt < toMs),
      ]),
    );
  }
}
