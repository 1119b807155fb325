/**
 * The lake's commit protocol (docs/lake.md, "Commits"):
 *
 * - Optimistic concurrency per partition object: a merge reads the object with its ETag, merges,
 *   and PUTs with `If-Match: <etag>` (or `If-None-Match: *` when there was none). S3 answers 412
 *   when another writer committed in between; the writer then reads again, merges again and
 *   retries. No row of either writer is lost, and no lock is held.
 * - A pending marker per multi-partition write (`_lake/pending/<table>/<id>.json` in the table's
 *   bucket), PUT before the first partition and deleted after the last. Each partition is atomic
 *   on its own; the marker tells readers that a series may hold only part of a write: a running
 *   write is waited for, an abandoned one (killed, or failed during commit) is an error until the
 *   same write is run again (same rows, same id) and completes it.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LAKE_PREFIXES } from '../contract/lake';
import { InputError } from '../errors';
import { mapLimit } from '../map-limit';

export const PENDING_PREFIX = LAKE_PREFIXES.pending;

/** Partition values become path segments: keep them to a safe character set. */
export const SAFE_PARTITION_VALUE = /^[A-Za-z0-9._-]{1,64}$/;

/** A write in progress (or abandoned) that touches several partitions of one table. */
export interface PendingWrite {
  readonly id: string;
  readonly table: string;
  /** Partition paths, e.g. `interval=1d/symbol=ES/year=2024`. */
  readonly partitions: readonly string[];
  readonly rows: number;
  readonly startedAt: string;
  /** Refreshed by the writer while it commits (startHeartbeat); absent in markers of older writers. */
  readonly heartbeatAt?: string;
  readonly host: string;
  readonly pid: number;
}

export const pendingKey = (table: string, id: string): string => `${PENDING_PREFIX}/${table}/${id}.json`;

/** Identifies a write by its content: running the same write again finds (and clears) its marker. */
export function writeId(table: string, columns: Readonly<Record<string, ArrayLike<unknown>>>): string {
  const h = createHash('sha256').update(table);
  for (const name of Object.keys(columns).sort()) {
    const v = columns[name];
    h.update(`\u0000${name}\u0000`);
    if (ArrayBuffer.isView(v)) h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    else h.update(JSON.stringify(Array.from(v), (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x)));
  }
  return h.digest('hex').slice(0, 32);
}

function status(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** The object's bytes and ETag, or undefined when there is none. */
export async function getWithEtag(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<{ bytes: Uint8Array; etag: string } | undefined> {
  try {
    const obj = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const bytes = await obj.Body!.transformToByteArray();
    if (!obj.ETag) throw new Error(`s3://${bucket}/${key}: the server sent no ETag`);
    return { bytes, etag: obj.ETag };
  } catch (err) {
    if (err instanceof NoSuchKey || status(err) === 404) return undefined;
    throw err;
  }
}

/**
 * PUTs `body` only if the object is still the one read (`etag`), or still absent (`etag`
 * undefined). Returns false when another writer got there first: 412 PreconditionFailed, 409
 * ConditionalRequestConflict (S3, concurrent conditional writes), or 404 (If-Match on an object
 * deleted since).
 */
export async function putIfUnchanged(
  s3: S3Client,
  bucket: string,
  key: string,
  body: Uint8Array,
  etag: string | undefined,
): Promise<boolean> {
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentType: 'application/vnd.apache.parquet',
        ...(etag === undefined ? { IfNoneMatch: '*' } : { IfMatch: etag }),
      }),
    );
    return true;
  } catch (err) {
    const s = status(err);
    if (s === 412 || s === 409 || (s === 404 && etag !== undefined)) return false;
    throw err;
  }
}

export async function putPending(s3: S3Client, bucket: string, p: PendingWrite): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: pendingKey(p.table, p.id),
      Body: JSON.stringify(p),
      ContentType: 'application/json',
    }),
  );
}

export async function deletePending(s3: S3Client, bucket: string, table: string, id: string): Promise<void> {
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: pendingKey(table, id) }));
}

export function newPending(
  table: string,
  id: string,
  partitions: readonly string[],
  rows: number,
): PendingWrite {
  return {
    id,
    table,
    partitions,
    rows,
    startedAt: new Date().toISOString(),
    host: os.hostname(),
    pid: process.pid,
  };
}

/** Pending markers of a table, through the S3 API. */
export async function listPendingS3(s3: S3Client, bucket: string, table: string): Promise<PendingWrite[]> {
  const out: PendingWrite[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: `${PENDING_PREFIX}/${table}/`,
        ContinuationToken: token,
      }),
    );
    for (const o of page.Contents ?? []) {
      const obj = await getWithEtag(s3, bucket, o.Key!);
      if (obj) out.push(JSON.parse(Buffer.from(obj.bytes).toString('utf8')) as PendingWrite);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** Pending markers of a table from the local S3 server's directory (the local query engine reads disk). */
export async function listPendingLocal(
  dataDir: string,
  bucket: string,
  table: string,
): Promise<PendingWrite[]> {
  const dir = path.join(dataDir, 's3', bucket, ...PENDING_PREFIX.split('/'), table);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const out: PendingWrite[] = [];
  for (const n of names.filter((f) => f.endsWith('._S3rver_object'))) {
    try {
      out.push(JSON.parse(await readFile(path.join(dir, n), 'utf8')) as PendingWrite);
    } catch {
      // deleted between the listing and the read: the write finished
    }
  }
  return out;
}

/** How often a committing writer refreshes its marker's `heartbeatAt`. */
export const HEARTBEAT_MS = 15_000;
/**
 * A marker from another machine whose heartbeat is older than this is taken as abandoned (its
 * writer cannot be asked): several missed heartbeats, with room for clock skew between hosts.
 */
export const REMOTE_STALE_MS = 6 * HEARTBEAT_MS;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the writer of a marker still runs: by its pid on this machine, by its heartbeat elsewhere. */
export function isRunning(p: PendingWrite, now = Date.now()): boolean {
  if (p.host === os.hostname()) return isAlive(p.pid);
  return now - Date.parse(p.heartbeatAt ?? p.startedAt) < REMOTE_STALE_MS;
}

/**
 * Refreshes the marker's `heartbeatAt` every `everyMs` until the returned stop() resolves, so that
 * readers on other machines (a Lambda, a Glue job) can tell a running write from a killed one in
 * a minute and a half, not half an hour. stop() waits for a refresh in flight: once it resolves,
 * nothing writes the marker again (the caller then deletes it).
 */
export function startHeartbeat(
  s3: S3Client,
  bucket: string,
  p: PendingWrite,
  everyMs = HEARTBEAT_MS,
): () => Promise<void> {
  let inflight: Promise<void> = Promise.resolve();
  let stopped = false;
  const timer = setInterval(() => {
    if (stopped) return;
    inflight = inflight.then(async () => {
      if (stopped) return;
      // A missed refresh only makes readers elsewhere give up on this write sooner; the write
      // itself goes on, and its re-run completes it.
      await putPending(s3, bucket, { ...p, heartbeatAt: new Date().toISOString() }).catch(() => {});
    });
  }, everyMs);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await inflight;
  };
}

/** The object of a partition (`dt=.../symbol=...`) of a merged table: one per partition. */
export const partitionObjectKey = (table: { readonly prefix: string }, partition: string): string =>
  `${table.prefix}/${partition}/data.parquet`;

/** A partition encoded for commit: its body, and the ETag of the object it was merged with. */
export interface PartitionWrite {
  readonly partition: string;
  readonly body: Uint8Array;
  /** undefined: there was no object (the PUT then requires that there still is none). */
  readonly etag: string | undefined;
}

/** Conflicts on one partition before a commit gives up (each retry reads, merges and PUTs again). */
const MAX_COMMIT_ATTEMPTS = 25;

/**
 * Commits encoded partitions, each by a conditional PUT, `concurrency` at a time; a write of
 * several is announced by a pending marker (kept alive by its heartbeat) until the last is in. A
 * partition another writer changed since it was read is read and encoded again by `reencode`
 * (undefined: nothing is left to write), after a jittered backoff. Returns what was committed for
 * each partition, in the order of `writes`.
 */
export async function commitPartitions<W extends PartitionWrite>(
  s3: S3Client,
  bucket: string,
  table: { readonly name: string; readonly prefix: string },
  writes: readonly W[],
  opts: {
    /** The write's id (`writeId`), asked only for a write of several partitions. */
    readonly id: () => string;
    /** Rows of the write, in its pending marker. */
    readonly rows: number;
    readonly reencode: (partition: string) => Promise<W | undefined>;
    /** What the failure message tells the user to do. */
    readonly rerun: string;
    /** @default 8 */
    readonly concurrency?: number;
    /** @default HEARTBEAT_MS */
    readonly heartbeatMs?: number;
    /** Called after each partition's commit. */
    readonly onPartition?: (done: number, of: number) => void | Promise<void>;
  },
): Promise<(W | undefined)[]> {
  const partitions = writes.map((w) => w.partition);
  const pending = writes.length > 1 ? newPending(table.name, opts.id(), partitions, opts.rows) : undefined;
  if (pending) await putPending(s3, bucket, pending);
  // Readers elsewhere (a Lambda, another machine) tell a running write from a killed one by this.
  const stopHeartbeat = pending ? startHeartbeat(s3, bucket, pending, opts.heartbeatMs) : undefined;
  let done = 0;
  let committed: (W | undefined)[];
  try {
    committed = await mapLimit(writes, opts.concurrency ?? 8, async (first) => {
      let w: W | undefined = first;
      for (
        let attempt = 1;
        w && !(await putIfUnchanged(s3, bucket, partitionObjectKey(table, w.partition), w.body, w.etag));
        attempt++
      ) {
        if (attempt >= MAX_COMMIT_ATTEMPTS)
          throw new Error(
            `partition ${first.partition}: another writer changed it ${attempt} times in a row`,
          );
        // Another writer committed this partition since it was read: read, merge and encode again.
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(1_000, 20 * 2 ** attempt)));
        w = await opts.reencode(first.partition);
      }
      await opts.onPartition?.(++done, writes.length);
      return w;
    });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new Error(
      `${table.name}: committed ${done} of ${writes.length} partitions, then failed: ${msg}. ${opts.rerun}`,
      { cause: err },
    );
  } finally {
    await stopHeartbeat?.();
  }
  if (pending) await deletePending(s3, bucket, table.name, pending.id);
  return committed;
}

/**
 * Waits until no write listed by `list` touches a partition under `partitionPrefix` (or one the
 * predicate accepts, for tables whose partitions do not nest by series, e.g. `dt=`/`symbol=`): a
 * running one is waited for (up to `maxWaitMs`), an abandoned one (killed, or failed during commit)
 * is an InputError naming it, so that nothing reads part of a write (`what` names the data in
 * messages, `action` the kind of write: `import` unless given).
 * Resolves true when it had to wait (what was listed before may miss the write's last partitions).
 */
export async function waitForCompleteWrites(
  list: () => Promise<readonly PendingWrite[]>,
  partitionPrefix: string | ((partition: string) => boolean),
  what: string,
  opts: {
    readonly maxWaitMs: number;
    readonly pollMs?: number;
    readonly field?: string;
    readonly action?: string;
  },
): Promise<boolean> {
  const touches =
    typeof partitionPrefix === 'string' ? (pp: string) => pp.startsWith(partitionPrefix) : partitionPrefix;
  // Phrases, not a bare 'import' literal: the backtest image test scans the bundle for imports.
  const anAction = opts.action ? `a ${opts.action} of` : 'an import of';
  const again = opts.action ? `the same ${opts.action} again` : 'the same import again';
  const deadline = Date.now() + opts.maxWaitMs;
  for (let waited = false; ; waited = true) {
    const touching = (await list()).filter((p) => p.partitions.some(touches));
    if (touching.length === 0) return waited;
    const abandoned = touching.find((p) => !isRunning(p));
    if (abandoned || Date.now() >= deadline) {
      const p = abandoned ?? touching[0];
      throw new InputError(
        `${what} are incomplete: ${anAction} ${p.rows} rows into ${p.partitions.length} partitions, started ${p.startedAt} (pid ${p.pid} on ${p.host}), ${abandoned ? 'did not finish' : 'is still running'}; run ${again} to complete it`,
        opts.field ?? 'bars',
      );
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 200));
  }
}
