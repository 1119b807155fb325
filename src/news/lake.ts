/**
 * Writes `news_sentiment` rows through the lake's commit protocol (src/lake/commit.ts) in pure
 * JavaScript (hyparquet), so the scheduled Lambda needs no DuckDB:
 *
 * - per partition (`dt=`/`symbol=`): read the object with its ETag, keep the incoming rows whose
 *   `article_id` is not there yet (de-duplication: a re-run adds nothing), and encode the union;
 * - every touched partition is encoded before the first PUT (bad input writes nothing); a write of
 *   several partitions is announced by a pending marker until it completes;
 * - each PUT is conditional (`If-Match`/`If-None-Match: *`); a partition that another writer
 *   committed in between is read, de-duplicated and encoded again, with jittered backoff.
 */
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { AwsClients } from '../aws/clients';
import type { LakeBuckets } from '../lake/buckets';
import {
  commitPartitions,
  getWithEtag,
  partitionObjectKey,
  SAFE_PARTITION_VALUE,
  writeId,
  type PartitionWrite,
} from '../lake/commit';
import { parquetRows } from '../lake/parquet-read';
import { mapLimit } from '../map-limit';
import { InputError } from '../errors';
import { NEWS_SENTIMENT } from '../contract/lake';
import { listNewsObjects } from './reader';

/** One row of `news_sentiment` (times in epoch ms, `dt` the UTC date of `published_at`). */
export interface NewsRow {
  readonly article_id: string;
  readonly published_at: number;
  readonly source: string;
  readonly title: string;
  readonly score: number;
  readonly comparative: number;
  readonly ingested_at: number;
  readonly dt: string;
  readonly symbol: string;
}

export interface NewsLakeTarget {
  readonly clients: Pick<AwsClients, 's3'>;
  readonly buckets: LakeBuckets;
}

export interface NewsCommitReport {
  /** Rows written that were not in the lake. */
  readonly added: number;
  /** Incoming rows already in the lake (same article id in the partition). */
  readonly duplicates: number;
  /** Partitions written (partitions with nothing new are not rewritten). */
  readonly partitions: number;
  readonly keys: readonly string[];
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function partitionPath(dt: string, symbol: string): string {
  if (!DATE.test(dt))
    throw new InputError(`news_sentiment.dt: "${dt}" is not YYYY-MM-DD`, 'news_sentiment.dt');
  if (!SAFE_PARTITION_VALUE.test(symbol))
    throw new InputError(
      `news_sentiment.symbol: partition value "${symbol}" is empty or has characters outside [A-Za-z0-9._-]`,
      'news_sentiment.symbol',
    );
  return `dt=${dt}/symbol=${symbol}`;
}

function epochMs(v: unknown): number {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'bigint') return Number(v);
  return Number(v);
}

async function readPartition(bytes: Uint8Array): Promise<Omit<NewsRow, 'dt' | 'symbol'>[]> {
  return (await parquetRows(bytes)).map((r) => ({
    article_id: String(r.article_id),
    published_at: epochMs(r.published_at),
    source: String(r.source ?? ''),
    title: String(r.title ?? ''),
    score: Number(r.score),
    comparative: Number(r.comparative),
    ingested_at: epochMs(r.ingested_at),
  }));
}

function encode(rows: readonly Omit<NewsRow, 'dt' | 'symbol'>[]): Uint8Array {
  const sorted = [...rows].sort(
    (a, b) => a.published_at - b.published_at || (a.article_id < b.article_id ? -1 : 1),
  );
  const col = <K extends keyof NewsRow>(k: K) => sorted.map((r) => r[k as keyof typeof r]);
  const buf = parquetWriteBuffer({
    columnData: NEWS_SENTIMENT.columns.map((c) => {
      const values = col(c.name as keyof NewsRow);
      if (c.type === 'TIMESTAMP')
        return { name: c.name, data: values.map((v) => new Date(v as number)), type: 'TIMESTAMP' as const };
      if (c.type === 'DOUBLE') return { name: c.name, data: values as number[], type: 'DOUBLE' as const };
      return { name: c.name, data: values as string[], type: 'STRING' as const };
    }),
  });
  return new Uint8Array(buf);
}

/** Commits `rows` (de-duplicated by article id per partition) all or nothing per partition. */
export async function commitNewsRows(
  target: NewsLakeTarget,
  rows: readonly NewsRow[],
  opts: {
    readonly concurrency?: number;
    /** How often the pending marker's heartbeat is refreshed (src/lake/commit.ts). @default HEARTBEAT_MS */
    readonly heartbeatMs?: number;
    /** Called after each partition's commit (tests pause a write here). */
    readonly onPartition?: (done: number, of: number) => void | Promise<void>;
  } = {},
): Promise<NewsCommitReport> {
  const s3 = target.clients.s3;
  const bucket = target.buckets[NEWS_SENTIMENT.zone];
  // Group by partition; a path is validated before anything is read or written.
  const byPart = new Map<string, Map<string, Omit<NewsRow, 'dt' | 'symbol'>>>();
  for (const r of rows) {
    const pp = partitionPath(r.dt, r.symbol);
    let m = byPart.get(pp);
    if (!m) byPart.set(pp, (m = new Map()));
    if (!m.has(r.article_id)) {
      const { dt: _dt, symbol: _s, ...rest } = r;
      m.set(r.article_id, rest);
    }
  }
  const keyOf = (pp: string): string => partitionObjectKey(NEWS_SENTIMENT, pp);
  interface Prepared extends PartitionWrite {
    readonly added: number;
  }
  // One LIST tells which partitions exist: a partition that does not is not read (a GET that
  // answers 404 per new partition was a third of a first pull's time). Its PUT stays conditional
  // (If-None-Match), so a writer that creates it meanwhile is still caught, then read and merged.
  const paths = [...byPart.keys()].sort();
  const day = (pp: string): string => pp.slice('dt='.length, 'dt=YYYY-MM-DD'.length);
  const present = new Set(
    paths.length === 0
      ? []
      : (await listNewsObjects(s3, bucket, NEWS_SENTIMENT.prefix, day(paths[0]), day(paths.at(-1)!))).map(
          (o) => o.key,
        ),
  );
  /** Reads the partition and, when something is new, encodes the union (undefined: nothing new). */
  const prepare = async (partition: string, mayExist = true): Promise<Prepared | undefined> => {
    const incoming = byPart.get(partition)!;
    const current = mayExist ? await getWithEtag(s3, bucket, keyOf(partition)) : undefined;
    const existing = current ? await readPartition(current.bytes) : [];
    const have = new Set(existing.map((r) => r.article_id));
    const fresh = [...incoming.values()].filter((r) => !have.has(r.article_id));
    if (fresh.length === 0) return undefined;
    return { partition, etag: current?.etag, body: encode([...existing, ...fresh]), added: fresh.length };
  };

  const concurrency = opts.concurrency ?? 8;
  const prepared = (await mapLimit(paths, concurrency, (pp) => prepare(pp, present.has(keyOf(pp))))).filter(
    (p) => p !== undefined,
  );
  const incomingRows = [...byPart.values()].reduce((n, m) => n + m.size, 0);
  if (prepared.length === 0) return { added: 0, duplicates: incomingRows, partitions: 0, keys: [] };

  const writePaths = prepared.map((p) => p.partition);
  const committed = await commitPartitions(s3, bucket, NEWS_SENTIMENT, prepared, {
    id: () => writeId(NEWS_SENTIMENT.name, { partitions: writePaths, rows: rows.map((r) => r.article_id) }),
    rows: incomingRows,
    reencode: (partition) => prepare(partition),
    rerun: 'Run the same pull again to complete it (rows already committed are not written twice)',
    concurrency,
    heartbeatMs: opts.heartbeatMs,
    onPartition: opts.onPartition,
  });
  const added = committed.reduce((n, p) => n + (p?.added ?? 0), 0);
  return {
    added,
    duplicates: incomingRows - added,
    partitions: writePaths.length,
    keys: writePaths.map(keyOf),
  };
}
