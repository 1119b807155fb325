/**
 * The S3-to-S3 sync engine: copies new or changed objects between two S3-compatible endpoints
 * (different accounts, regions or servers), verifies each copy, and never leaves a partial object
 * visible. Used by `quant sync run`, the local demo and wherever DataSync does not reach.
 *
 * Change detection (ETags are not comparable across endpoints: KMS, multipart part sizes):
 * - different size: copy;
 * - same size and equal ETags in both listings: skip (same content, no extra request);
 * - otherwise HEAD the destination and compare the source ETag recorded there at copy time
 *   (user metadata `quant-sync-source-etag`) with the source's current ETag.
 * Verification: the MD5 computed over the bytes read from the source must equal the MD5 the
 * destination reports for what it stored (its ETag for single PUTs and parts; plain or composite
 * MD5 for multipart). When the destination's ETags are not MD5s (SSE-KMS) the object is read back
 * and hashed instead. Only verified objects count as copied.
 */
import crypto from 'node:crypto';
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type GetObjectCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { InputError } from '../errors';
import { NetworkError } from '../aws/network';
import { compareKeys, listAll, stripQuotes } from './listing';
import { formatS3Uri, type S3Location } from './uri';

export const MiB = 1024 * 1024;
/** Parts of multipart copies are at least this large (fewer requests; S3's minimum is 5 MiB). */
export const DEFAULT_PART_SIZE = 64 * MiB;
/** User metadata key (x-amz-meta-quant-sync-source-etag) recording the source ETag of a copy. */
export const SOURCE_ETAG_META = 'quant-sync-source-etag';
const MAX_PARTS = 10_000;

export interface SyncEndpoint extends S3Location {
  readonly client: S3Client;
  /** Shown in errors, e.g. the endpoint URL. @default 'AWS' */
  readonly endpointLabel?: string;
}

export interface SyncOptions {
  readonly source: SyncEndpoint;
  readonly dest: SyncEndpoint;
  /** Objects copied at the same time. @default 32 */
  readonly concurrency?: number;
  /** Plan only: list, compare and report; write and delete nothing. @default false */
  readonly dryRun?: boolean;
  /** Delete destination objects under the prefix that the source does not have. @default false */
  readonly delete?: boolean;
  /** Multipart part size in bytes (objects larger than one part are uploaded in parts). @default 64 MiB */
  readonly partSize?: number;
  /** Attempts per object for failed reads, writes or verifications. @default 3 */
  readonly attempts?: number;
  /** First retry delay; doubles per attempt. @default 200 ms */
  readonly retryDelayMs?: number;
  /** Called after each object is settled (progress display). */
  readonly onObject?: (key: string, outcome: 'copied' | 'skipped' | 'failed' | 'deleted') => void;
}

export interface Tally {
  objects: number;
  bytes: number;
}

export interface FailedObject {
  readonly key: string;
  readonly reason: string;
  readonly attempts: number;
}

export interface SyncReport {
  readonly source: string;
  readonly dest: string;
  readonly dryRun: boolean;
  readonly delete: boolean;
  readonly listed: { source: number; dest: number };
  /** What the comparison decided (also in a dry run): objects to copy, extra objects at the destination. */
  readonly planned: { copy: Tally; delete: Tally };
  readonly copied: Tally;
  readonly skipped: Tally;
  readonly deleted: Tally;
  readonly failed: Tally & { items: FailedObject[] };
  /** Attempts repeated after a failed read, write or verification. */
  retries: number;
  /** Copies restarted because the source object changed while it was read. */
  sourceChanges: number;
  /** Objects listed at the source that were gone when read (not copied, not failed). */
  vanished: number;
  /** How copies were verified: by the destination's MD5 ETag, or by reading the copy back. */
  readonly verified: { etag: number; readBack: number };
  elapsedSeconds: number;
}

interface SourceObject {
  readonly key: string;
  readonly rel: string;
  size: number;
  etag: string;
}

interface DestObject {
  readonly size: number;
  readonly etag: string;
}

class SourceChangedError extends Error {}
class SourceVanishedError extends Error {}
class VerificationError extends Error {}

function errorCode(err: unknown): string {
  const e = err as { name?: string; Code?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  return e?.Code ?? e?.code ?? e?.name ?? 'Error';
}

function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function describe(err: unknown): string {
  const code = errorCode(err);
  const status = httpStatus(err);
  const msg = err instanceof Error ? err.message : String(err);
  return `${code}${status ? ` (HTTP ${status})` : ''}: ${msg}`;
}

/** 4xx other than timeouts and throttling will not succeed on a retry. */
function retryable(err: unknown): boolean {
  if (err instanceof VerificationError) return true;
  const status = httpStatus(err);
  if (status === undefined) return true; // network: reset, refused mid-run, timeout
  return status >= 500 || status === 408 || status === 429;
}

/**
 * Hashes what passes through and checks its length: a source stream that ends early or runs long
 * fails the upload instead of sending a short body against a fixed Content-Length.
 */
function meter(expected: number | undefined, ...hashes: crypto.Hash[]): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (expected !== undefined && seen > expected) {
        cb(new Error(`source sent more than the expected ${expected} bytes`));
        return;
      }
      for (const h of hashes) h.update(chunk);
      cb(null, chunk);
    },
    flush(cb) {
      cb(
        expected !== undefined && seen !== expected
          ? new Error(`source stream ended after ${seen} of ${expected} bytes`)
          : null,
      );
    },
  });
}

/** Streams `src` through `through` while `send` uploads it; tears both down if either fails. */
async function pump<T>(src: Readable, through: Transform, send: (body: Transform) => Promise<T>): Promise<T> {
  const piping = pipeline(src, through);
  try {
    const [out] = await Promise.all([send(through), piping]);
    return out;
  } catch (err) {
    src.destroy();
    through.destroy();
    await piping.catch(() => undefined);
    throw err;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A fixed number of tasks in flight; `submit` waits for a free slot (backpressure on the listing). */
class Pool {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly idle: Array<() => void> = [];
  constructor(private readonly size: number) {}

  async submit(task: () => Promise<void>): Promise<void> {
    while (this.active >= this.size) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    // Tasks report their own failures; this only keeps a stray rejection from crashing the process.
    void task()
      .catch(() => undefined)
      .finally(() => {
        this.active--;
        this.waiting.shift()?.();
        if (this.active === 0) for (const r of this.idle.splice(0)) r();
      });
  }

  async drain(): Promise<void> {
    if (this.active > 0) await new Promise<void>((r) => this.idle.push(r));
  }
}

/**
 * Starts pulling `source` at once into a buffer of at most `limit` items, so the next listing page
 * is fetched while other work runs. Errors surface to the consumer in order; `stop()` ends the pull.
 */
function readAhead<T>(source: AsyncIterable<T>, limit: number): AsyncIterable<T> & { stop(): void } {
  let buffer: T[] = [];
  let head = 0;
  let done = false;
  let stopped = false;
  let failure: { err: unknown } | undefined;
  let wake: (() => void) | undefined;
  let space: (() => void) | undefined;
  const notify = (): void => {
    wake?.();
    wake = undefined;
  };
  void (async () => {
    try {
      for await (const item of source) {
        if (stopped) break;
        buffer.push(item);
        notify();
        while (buffer.length - head >= limit && !stopped) await new Promise<void>((r) => (space = r));
      }
    } catch (err) {
      failure = { err };
    } finally {
      done = true;
      notify();
    }
  })();
  return {
    stop() {
      stopped = true;
      space?.();
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (head < buffer.length) {
          const item = buffer[head++];
          if (head > 4096 && head * 2 > buffer.length) {
            buffer = buffer.slice(head);
            head = 0;
          }
          space?.();
          space = undefined;
          yield item;
          continue;
        }
        if (failure) throw failure.err;
        if (done) return;
        await new Promise<void>((r) => (wake = r));
      }
    },
  };
}

/**
 * The error for a failure of the first listing request of one side, which is what checks bucket,
 * credentials and endpoint (no separate request: that was one more round trip before any work).
 */
function preflightError(err: unknown, ep: SyncEndpoint, side: 'source' | 'dest'): Error {
  if (err instanceof NetworkError) return new NetworkError(`${side}: ${err.message}`);
  const where = `${formatS3Uri(ep)} at ${ep.endpointLabel ?? 'AWS'}`;
  const code = errorCode(err);
  const status = httpStatus(err);
  const creds = `check the ${side} credentials (${side.toUpperCase()}_AWS_ACCESS_KEY_ID / ${side.toUpperCase()}_AWS_SECRET_ACCESS_KEY or --${side}-profile)`;
  if (code === 'NoSuchBucket' || status === 404) {
    return new InputError(
      `${side}: bucket "${ep.bucket}" does not exist at ${ep.endpointLabel ?? 'AWS'}`,
      side,
    );
  }
  if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken'].includes(code)) {
    return new InputError(`${side}: credentials rejected by ${where} (${code}); ${creds}`, side);
  }
  if (code === 'AccessDenied' || status === 403) {
    return new InputError(
      `${side}: access denied to ${where} (${code}); ${creds} and the bucket policy`,
      side,
    );
  }
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET'].includes(code)) {
    return new InputError(`${side}: cannot reach ${ep.endpointLabel ?? 'AWS'} (${code})`, `${side}-endpoint`);
  }
  return new Error(`${side}: listing ${where} failed: ${describe(err)}`, { cause: err });
}

/** Syncs `source` into `dest`; resolves with the report (failed objects are in it, not thrown). */
export async function syncS3(opts: SyncOptions): Promise<SyncReport> {
  const started = performance.now();
  const { source, dest } = opts;
  const concurrency = opts.concurrency ?? 32;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024) {
    throw new InputError(`concurrency: expected an integer 1-1024, got ${concurrency}`, 'concurrency');
  }
  const basePartSize = opts.partSize ?? DEFAULT_PART_SIZE;
  if (!Number.isInteger(basePartSize) || basePartSize < 5 * MiB || basePartSize > 5 * 1024 * MiB) {
    throw new InputError(`partSize: expected 5 MiB to 5 GiB, got ${basePartSize}`, 'partSize');
  }
  const attempts = opts.attempts ?? 3;
  const retryDelayMs = opts.retryDelayMs ?? 200;
  const dryRun = opts.dryRun ?? false;
  const report: SyncReport = {
    source: formatS3Uri(source),
    dest: formatS3Uri(dest),
    dryRun,
    delete: opts.delete ?? false,
    listed: { source: 0, dest: 0 },
    planned: { copy: { objects: 0, bytes: 0 }, delete: { objects: 0, bytes: 0 } },
    copied: { objects: 0, bytes: 0 },
    skipped: { objects: 0, bytes: 0 },
    deleted: { objects: 0, bytes: 0 },
    failed: { objects: 0, bytes: 0, items: [] },
    retries: 0,
    sourceChanges: 0,
    vanished: 0,
    verified: { etag: 0, readBack: 0 },
    elapsedSeconds: 0,
  };
  const fail = (key: string, size: number, reason: string, tries: number): void => {
    report.failed.objects++;
    report.failed.bytes += size;
    if (report.failed.items.length < 1000) report.failed.items.push({ key, reason, attempts: tries });
    opts.onObject?.(key, 'failed');
  };

  // Both listings run at once (two servers, often two regions). The destination listing is held in
  // memory (about 100 bytes per object); source pages are read ahead into a bounded buffer meanwhile.
  // A source object is compared as soon as the destination listing has passed its key (listings come
  // in key order), so copies start while both listings are still running. If the destination ever
  // lists out of order, comparisons wait for its end instead; a decision taken too early can only
  // copy an object that was already there (a key listed later), never skip one.
  const destIndex = new Map<string, DestObject>();
  let destHigh: string | undefined;
  let destOrdered = true;
  let destDone = false;
  let destProgress: (() => void) | undefined;
  const list = (ep: SyncEndpoint, side: 'source' | 'dest') =>
    listAll(ep, ep.prefix, true, (err) => preflightError(err, ep, side));
  const sourceListing = readAhead(list(source, 'source'), 50);
  const destListing = (async () => {
    try {
      for await (const page of list(dest, 'dest')) {
        for (const o of page) {
          const rel = o.key.slice(dest.prefix.length);
          if (destOrdered && destHigh !== undefined && compareKeys(rel, destHigh) <= 0) destOrdered = false;
          destIndex.set(rel, o);
          destHigh = rel;
        }
        destProgress?.();
      }
    } finally {
      destDone = true;
      destProgress?.();
    }
  })();
  // Rejections are taken where the listing is awaited (below); this only marks them handled.
  destListing.catch(() => undefined);
  /** Resolves once the destination listing has covered `rel` (or ended; rejects if it failed). */
  const destCovers = async (rel: string): Promise<void> => {
    while (!destDone && !(destOrdered && destHigh !== undefined && compareKeys(rel, destHigh) <= 0)) {
      await Promise.race([destListing, new Promise<void>((r) => (destProgress = r))]);
    }
    if (destDone) await destListing;
  };
  const seen = new Set<string>();

  const destKey = (rel: string): string => dest.prefix + rel;

  async function needsCopy(obj: SourceObject): Promise<boolean> {
    const d = destIndex.get(obj.rel);
    if (!d || d.size !== obj.size) return true;
    if (d.etag === obj.etag) return false;
    try {
      const head = await dest.client.send(
        new HeadObjectCommand({ Bucket: dest.bucket, Key: destKey(obj.rel) }),
      );
      return head.Metadata?.[SOURCE_ETAG_META] !== obj.etag;
    } catch (err) {
      if (httpStatus(err) === 404) return true; // deleted since listing
      throw err;
    }
  }

  async function getSource(obj: SourceObject, range?: [number, number]): Promise<GetObjectCommandOutput> {
    let out: GetObjectCommandOutput;
    try {
      out = await source.client.send(
        new GetObjectCommand({
          Bucket: source.bucket,
          Key: obj.key,
          IfMatch: `"${obj.etag}"`,
          Range: range ? `bytes=${range[0]}-${range[1]}` : undefined,
        }),
      );
    } catch (err) {
      if (httpStatus(err) === 412) throw new SourceChangedError(obj.key);
      if (httpStatus(err) === 404 || errorCode(err) === 'NoSuchKey') throw new SourceVanishedError(obj.key);
      throw err;
    }
    // Servers that ignore If-Match (s3rver) still report the ETag of what they send.
    if (stripQuotes(out.ETag) !== obj.etag) {
      (out.Body as Readable | undefined)?.destroy();
      throw new SourceChangedError(obj.key);
    }
    return out;
  }

  /** What a copy keeps besides the bytes: user metadata and the standard content headers. */
  function headersOf(get: GetObjectCommandOutput) {
    return {
      ContentType: get.ContentType,
      CacheControl: get.CacheControl,
      ContentDisposition: get.ContentDisposition,
      ContentEncoding: get.ContentEncoding,
      ContentLanguage: get.ContentLanguage,
      Metadata: { ...(get.Metadata ?? {}), [SOURCE_ETAG_META]: stripQuotes(get.ETag) },
    };
  }

  /** Reads the copy back and compares MD5s (destinations whose ETag is not an MD5). */
  async function readBack(key: string, expectedMd5: string): Promise<void> {
    const out = await dest.client.send(new GetObjectCommand({ Bucket: dest.bucket, Key: key }));
    const h = crypto.createHash('md5');
    await pipeline(
      out.Body as Readable,
      meter(undefined, h),
      new Writable({ write: (_chunk, _enc, cb) => cb() }),
    );
    if (h.digest('hex') !== expectedMd5)
      throw new VerificationError(`${key}: read-back MD5 differs from the source`);
    report.verified.readBack++;
  }

  async function copySingle(obj: SourceObject): Promise<void> {
    const get = await getSource(obj);
    const md5 = crypto.createHash('md5');
    const key = destKey(obj.rel);
    if (obj.size === 0) {
      // An empty body as a stream reads to the SDK as "unknown length": send an empty buffer.
      (get.Body as Readable).destroy();
      if ((get.ContentLength ?? 0) !== 0) throw new SourceChangedError(obj.key);
      const put = await dest.client.send(
        new PutObjectCommand({ Bucket: dest.bucket, Key: key, Body: Buffer.alloc(0), ...headersOf(get) }),
      );
      const digest = md5.digest('hex');
      if (stripQuotes(put.ETag) === digest) report.verified.etag++;
      else await readBack(key, digest);
      return;
    }
    const put = await pump(get.Body as Readable, meter(obj.size, md5), (body) =>
      dest.client.send(
        new PutObjectCommand({
          Bucket: dest.bucket,
          Key: key,
          Body: body,
          ContentLength: obj.size,
          ...headersOf(get),
        }),
      ),
    );
    const digest = md5.digest('hex');
    if (stripQuotes(put.ETag) === digest) report.verified.etag++;
    else await readBack(key, digest);
  }

  async function copyMultipart(obj: SourceObject): Promise<void> {
    const partSize = Math.max(basePartSize, Math.ceil(obj.size / MAX_PARTS / MiB) * MiB);
    const key = destKey(obj.rel);
    const first = await getSource(obj, [0, Math.min(partSize, obj.size) - 1]);
    const created = await dest.client
      .send(new CreateMultipartUploadCommand({ Bucket: dest.bucket, Key: key, ...headersOf(first) }))
      .catch((err: unknown) => {
        (first.Body as Readable).destroy();
        throw err;
      });
    const uploadId = created.UploadId!;
    const whole = crypto.createHash('md5');
    const partMd5s: Buffer[] = [];
    let partEtagsAreMd5 = true;
    const parts: Array<{ PartNumber: number; ETag: string }> = [];
    try {
      // Parts of one object go in order so one pass hashes the whole object; objects run in parallel.
      for (let n = 1, off = 0; off < obj.size; n++, off += partSize) {
        const end = Math.min(off + partSize, obj.size) - 1;
        const get = n === 1 ? first : await getSource(obj, [off, end]);
        const ph = crypto.createHash('md5');
        const up = await pump(get.Body as Readable, meter(end - off + 1, ph, whole), (body) =>
          dest.client.send(
            new UploadPartCommand({
              Bucket: dest.bucket,
              Key: key,
              UploadId: uploadId,
              PartNumber: n,
              Body: body,
              ContentLength: end - off + 1,
            }),
          ),
        );
        const pd = ph.digest();
        partMd5s.push(pd);
        if (stripQuotes(up.ETag) !== pd.toString('hex')) partEtagsAreMd5 = false;
        parts.push({ PartNumber: n, ETag: up.ETag! });
      }
      const done = await dest.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: dest.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
      const digest = whole.digest('hex');
      const composite = `${crypto.createHash('md5').update(Buffer.concat(partMd5s)).digest('hex')}-${parts.length}`;
      const etag = stripQuotes(done.ETag);
      if (partEtagsAreMd5 && (etag === composite || etag === digest)) report.verified.etag++;
      else await readBack(key, digest);
    } catch (err) {
      await dest.client
        .send(new AbortMultipartUploadCommand({ Bucket: dest.bucket, Key: key, UploadId: uploadId }))
        .catch(() => undefined);
      throw err;
    }
  }

  async function refreshSource(obj: SourceObject): Promise<void> {
    try {
      const head = await source.client.send(new HeadObjectCommand({ Bucket: source.bucket, Key: obj.key }));
      obj.size = head.ContentLength ?? 0;
      obj.etag = stripQuotes(head.ETag);
    } catch (err) {
      if (httpStatus(err) === 404) throw new SourceVanishedError(obj.key);
      throw err;
    }
  }

  async function copyVerified(obj: SourceObject): Promise<void> {
    let tries = 0;
    let restarts = 0;
    for (;;) {
      tries++;
      try {
        if (obj.size > basePartSize) await copyMultipart(obj);
        else await copySingle(obj);
        report.copied.objects++;
        report.copied.bytes += obj.size;
        opts.onObject?.(obj.rel, 'copied');
        return;
      } catch (err) {
        if (err instanceof SourceVanishedError) {
          report.vanished++;
          return;
        }
        if (err instanceof SourceChangedError && restarts < 5) {
          restarts++;
          tries--;
          report.sourceChanges++;
          try {
            await refreshSource(obj);
          } catch (e) {
            if (e instanceof SourceVanishedError) {
              report.vanished++;
              return;
            }
            throw e;
          }
          continue;
        }
        if (tries < attempts && retryable(err)) {
          report.retries++;
          await sleep(retryDelayMs * 2 ** (tries - 1));
          continue;
        }
        const reason =
          err instanceof SourceChangedError ? 'source kept changing while it was copied' : describe(err);
        // A copy that failed verification must not stay visible as if it were good.
        if (err instanceof VerificationError) {
          await dest.client
            .send(new DeleteObjectCommand({ Bucket: dest.bucket, Key: destKey(obj.rel) }))
            .catch(() => undefined);
        }
        fail(obj.rel, obj.size, reason, tries);
        return;
      }
    }
  }

  const pool = new Pool(concurrency);
  try {
    for await (const page of sourceListing) {
      for (const o of page) {
        const rel = o.key.slice(source.prefix.length);
        report.listed.source++;
        seen.add(rel);
        await destCovers(rel);
        // Same size and ETag on both sides: nothing to ask or copy (most objects of a re-run).
        const d = destIndex.get(rel);
        if (d !== undefined && d.size === o.size && d.etag === o.etag) {
          report.skipped.objects++;
          report.skipped.bytes += o.size;
          opts.onObject?.(rel, 'skipped');
          continue;
        }
        const obj: SourceObject = { key: o.key, rel, size: o.size, etag: o.etag };
        await pool.submit(async () => {
          let copy: boolean;
          try {
            copy = await needsCopy(obj);
          } catch (err) {
            fail(obj.rel, obj.size, `comparing with the destination: ${describe(err)}`, 1);
            return;
          }
          if (!copy) {
            report.skipped.objects++;
            report.skipped.bytes += obj.size;
            opts.onObject?.(obj.rel, 'skipped');
            return;
          }
          report.planned.copy.objects++;
          report.planned.copy.bytes += obj.size;
          if (dryRun) return;
          try {
            await copyVerified(obj);
          } catch (err) {
            fail(obj.rel, obj.size, describe(err), attempts);
          }
        });
      }
    }
    await destListing;
  } catch (err) {
    // A failed listing ends the run after the copies in flight settle; nothing is deleted.
    sourceListing.stop();
    await pool.drain();
    throw err;
  }
  report.listed.dest = destIndex.size;
  await pool.drain();

  // Deletes only after a complete source listing (a failed listing throws before this point).
  for (const [rel, d] of destIndex) {
    if (seen.has(rel)) continue;
    report.planned.delete.objects++;
    report.planned.delete.bytes += d.size;
    if (dryRun || !opts.delete) continue;
    await pool.submit(async () => {
      try {
        await dest.client.send(new DeleteObjectCommand({ Bucket: dest.bucket, Key: destKey(rel) }));
        report.deleted.objects++;
        report.deleted.bytes += d.size;
        opts.onObject?.(rel, 'deleted');
      } catch (err) {
        fail(rel, d.size, `delete at destination: ${describe(err)}`, 1);
      }
    });
  }
  await pool.drain();
  report.elapsedSeconds = Math.round((performance.now() - started) / 10) / 100;
  return report;
}
