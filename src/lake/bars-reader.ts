/**
 * Reads one symbol's bars straight from the curated zone's Parquet objects through the S3 API, in
 * pure JS (hyparquet): the Lambdas use it, and DuckDB's native module is not in a Lambda bundle.
 * Layout: `bars/interval=<i>/symbol=<s>/year=<y>/*.parquet` (data.parquet from the lake writer,
 * part-*.parquet from the Glue bars job). Bars are labelled by their close time (UTC).
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { InputError } from '../errors';
import { listPendingS3, waitForCompleteWrites } from './commit';
import { epochMs, parquetRows } from './parquet-read';
import { BARS } from '../contract/lake';

/** One bar as the trading path needs it (epoch ms of the bar's close time). */
export interface LakeBar {
  readonly time: number;
  readonly close: number;
  readonly volume: number;
}

const SYMBOL = /^[A-Za-z0-9._-]{1,32}$/;
/** Decoded files a reader keeps (each up to a year of 1m bars: ~100k bars, a few MB). */
const MAX_DECODED_FILES = 16;

export interface LakeBarReaderOptions {
  /**
   * How long a read waits for a running import into the same series before it fails; an abandoned
   * import fails it at once (src/lake/commit.ts).
   * @default 10 s (a Lambda's read is short-lived)
   */
  readonly waitForWritesMs?: number;
}

export class LakeBarReader {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
    private readonly prefix: string = BARS.prefix,
    private readonly opts: LakeBarReaderOptions = {},
  ) {}

  /**
   * The Parquet objects of a series, once no import into it is incomplete: a quote or a signal
   * never comes from part of an import. The pending markers are listed beside the files (one more
   * LIST, in parallel).
   */
  private async completeFiles(symbol: string, interval: string): Promise<Map<number, string[]>> {
    const [files, waited] = await Promise.all([
      this.files(symbol, interval),
      waitForCompleteWrites(
        () => listPendingS3(this.s3, this.bucket, BARS.name),
        `interval=${interval}/symbol=${symbol}/`,
        `bars of ${symbol} (${interval})`,
        { maxWaitMs: this.opts.waitForWritesMs ?? 10_000 },
      ),
    ]);
    // Files listed while an import was still committing may miss its last partitions: list again.
    return waited ? this.files(symbol, interval) : files;
  }

  /** Where the bars of a symbol live (for messages). */
  location(symbol: string, interval: string): string {
    return `s3://${this.bucket}/${this.prefix}/interval=${interval}/symbol=${symbol}/`;
  }

  /** The Parquet objects of a symbol, by year partition. */
  async files(symbol: string, interval: string): Promise<Map<number, string[]>> {
    if (!SYMBOL.test(symbol)) throw new InputError(`symbol: "${symbol}" is not a valid symbol`, 'symbol');
    const prefix = `${this.prefix}/interval=${interval}/symbol=${symbol}/`;
    const out = new Map<number, string[]>();
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) {
        const m = /year=(\d{4})\/[^/]+\.parquet$/.exec(o.Key ?? '');
        if (!m) continue;
        const y = Number(m[1]);
        out.set(y, [...(out.get(y) ?? []), o.Key!]);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  /**
   * Decoded files by key, with their ETag. A warm Lambda asks S3 again on every read, but
   * conditionally (If-None-Match): an unchanged file answers 304 with no body, so a quote lookup
   * does not download and decode a year of 1m bars each time (~270 ms for 98k bars).
   */
  private readonly decoded = new Map<string, { etag: string; bars: LakeBar[] }>();

  private async readFile(key: string): Promise<LakeBar[]> {
    const cached = this.decoded.get(key);
    let obj;
    try {
      obj = await this.s3.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key, IfNoneMatch: cached?.etag }),
      );
    } catch (err) {
      if (cached && (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 304) {
        return cached.bars;
      }
      throw err;
    }
    // hyparquet decodes snappy itself; the Glue job or other writers may use GZIP.
    const rows = await parquetRows(await obj.Body!.transformToByteArray(), ['ts', 'close', 'volume']);
    const out: LakeBar[] = [];
    for (const r of rows) {
      const time = epochMs(r.ts);
      const close = Number(r.close);
      if (!Number.isFinite(time) || !(close > 0 && close < Infinity)) continue; // not a usable bar
      const volume = r.volume === null || r.volume === undefined ? NaN : Number(r.volume);
      out.push({ time, close, volume });
    }
    if (obj.ETag) {
      // A few symbols' current years: bounded, oldest entry out first.
      if (this.decoded.size >= MAX_DECODED_FILES) this.decoded.delete(this.decoded.keys().next().value!);
      this.decoded.set(key, { etag: obj.ETag, bars: out });
    }
    return out;
  }

  /**
   * Bars of `symbol` with close time in [from, to] (epoch ms), oldest first, one per time (a bar
   * present in two files counts once). Only the year partitions that can hold them are read.
   */
  async read(symbol: string, interval: string, from: number, to: number): Promise<LakeBar[]> {
    const files = await this.completeFiles(symbol, interval);
    const y0 = new Date(from).getUTCFullYear();
    const y1 = new Date(to).getUTCFullYear();
    const keys = [...files.entries()].filter(([y]) => y >= y0 && y <= y1).flatMap(([, k]) => k);
    const byTime = new Map<number, LakeBar>();
    for (const k of keys)
      for (const b of await this.readFile(k)) if (b.time >= from && b.time <= to) byTime.set(b.time, b);
    return [...byTime.values()].sort((a, b) => a.time - b.time);
  }

  /** The latest bar closed at or before `at` (from the latest year partition that has one). */
  async latest(symbol: string, interval: string, at: number): Promise<LakeBar | undefined> {
    const files = await this.completeFiles(symbol, interval);
    const years = [...files.keys()].filter((y) => y <= new Date(at).getUTCFullYear()).sort((a, b) => b - a);
    for (const y of years) {
      let best: LakeBar | undefined;
      for (const k of files.get(y)!)
        for (const b of await this.readFile(k)) if (b.time <= at && (!best || b.time > best.time)) best = b;
      if (best) return best;
    }
    return undefined;
  }
}
