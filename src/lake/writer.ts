/**
 * Writes rows into the lake as Hive-partitioned Parquet through the S3 API.
 *
 * Every partition is written aside (a local temporary file, or in memory for appends encoded in JS)
 * and then committed with one PUT, which S3 makes visible atomically: a reader sees the old partition or the new one, never half of it.
 * - `merge` (bars, results): one object per partition, `data.parquet`; new rows replace existing
 *   rows with the same key, so importing the same data twice changes nothing. Concurrent merges
 *   into one partition are serialised by conditional PUTs, and a write of several partitions is
 *   announced to readers until it completes (src/lake/commit.ts).
 * - `append` (ticks): a new object per partition named by the caller (deterministic, e.g. by shard
 *   and sequence range), so a retried batch overwrites its own file instead of duplicating rows.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { DuckDBConnection } from '@duckdb/node-api';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AwsClients } from '../aws/clients';
import { InputError } from '../errors';
import { mapLimit } from '../map-limit';
import type { LakeBuckets } from './buckets';
import { commitPartitions, getWithEtag, partitionObjectKey, SAFE_PARTITION_VALUE, writeId } from './commit';
import { prepareAppend, type PreparedAppend } from './parquet-append';
import { allColumns, type TableDef } from '../contract/lake';

export interface LakeWriter {
  readonly clients: AwsClients;
  readonly buckets: LakeBuckets;
  /** Where partitions are staged before commit. @default the OS temp dir */
  readonly tmpDir?: string;
}

/** Column name → values (same length). TIMESTAMP: epoch ms or Date; DATE: 'YYYY-MM-DD'; BIGINT: bigint or number. */
export interface ColumnarRows {
  readonly length: number;
  readonly columns: Readonly<Record<string, ArrayLike<unknown>>>;
}

export interface WriteOptions {
  readonly mode: 'merge' | 'append';
  /** File name (without .parquet) of the objects written in append mode. */
  readonly fileName?: string;
  /** Upload concurrency. @default 8 */
  readonly concurrency?: number;
  /**
   * Encoder of append writes: the JS encoder, or DuckDB's COPY (used anyway for merges and for
   * column types the JS encoder does not take; kept selectable for the benchmark's comparison).
   * @default 'js'
   */
  readonly appendEncoder?: 'js' | 'duckdb';
  /** Called after each committed partition. */
  readonly onPartition?: (done: number, total: number) => void;
  /** How often a multi-partition write refreshes its pending marker. @default HEARTBEAT_MS */
  readonly heartbeatMs?: number;
}

export interface WriteReport {
  readonly rows: number;
  readonly partitions: number;
  readonly bytes: number;
  readonly keys: readonly string[];
}

export function partitionPath(table: TableDef, values: Readonly<Record<string, unknown>>): string {
  return table.partitionKeys
    .map((k) => {
      const v = values[k.name];
      const s = v instanceof Date ? v.toISOString().slice(0, 10) : String(v);
      if (v === null || v === undefined || !SAFE_PARTITION_VALUE.test(s)) {
        throw new InputError(
          `${table.name}.${k.name}: partition value ${JSON.stringify(v)} is empty or has characters outside [A-Za-z0-9._-]`,
          `${table.name}.${k.name}`,
        );
      }
      return `${k.name}=${s}`;
    })
    .join('/');
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(path.join(e.parentPath, e.name));
  }
  return out;
}

export async function writeTable(
  writer: LakeWriter,
  table: TableDef,
  data: ColumnarRows,
  opts: WriteOptions,
): Promise<WriteReport> {
  const cols = allColumns(table);
  for (const c of cols) {
    const v = data.columns[c.name];
    if (!v) throw new InputError(`${table.name}: column "${c.name}" is missing`, `${table.name}.${c.name}`);
    if (v.length !== data.length) {
      throw new InputError(
        `${table.name}: column "${c.name}" has ${v.length} values, expected ${data.length}`,
      );
    }
  }
  if (opts.mode === 'append' && !opts.fileName) throw new Error('append mode needs a fileName');
  if (data.length === 0) return { rows: 0, partitions: 0, bytes: 0, keys: [] };

  const bucket = writer.buckets[table.zone];
  if (opts.mode === 'append' && opts.appendEncoder !== 'duckdb') {
    const prepared = prepareAppend(table, data.columns, data.length);
    if (prepared) return commitAppend(writer, table, bucket, prepared, data.length, opts);
  }
  await sweepStaleStages(writer.tmpDir ?? os.tmpdir());
  // DuckDB is loaded only on this path: appends encoded in JS (above) never need it.
  const { ident, literal, openDuckDb, stageColumns } = await import('./duckdb');
  // The pid in the name lets a later write remove what a killed one left (sweepStaleStages).
  const stage = await mkdtemp(path.join(writer.tmpDir ?? os.tmpdir(), `lake-${table.name}-${process.pid}-`));
  const db = await openDuckDb();
  try {
    const { con } = db;
    const select = await stageColumns(
      con,
      'incoming',
      cols.map((c) => ({ name: c.name, type: c.type, values: data.columns[c.name] })),
      data.length,
      table.name,
    );
    const pk = table.partitionKeys.map((k) => ident(k.name)).join(', ');
    const typed = `SELECT ${select} FROM incoming`;
    // A merge may encode a partition again after a conflict: keep the typed rows in a table.
    await con.run(`CREATE ${opts.mode === 'merge' ? 'TABLE' : 'VIEW'} typed AS ${typed}`);
    // One pass for the partitions, their row counts and rows without a partition value.
    const groups = (
      await con.runAndReadAll(`SELECT ${pk}, count(*) AS _rows FROM typed GROUP BY ALL`)
    ).getRowObjectsJS();
    table.partitionKeys.forEach((k) => {
      const n = groups.reduce((sum, g) => (g[k.name] === null ? sum + Number(g._rows) : sum), 0);
      if (n > 0) {
        throw new InputError(`${table.name}.${k.name}: ${n} row(s) have no value for this partition key`);
      }
    });
    const parts = groups.map((g) => Object.fromEntries(table.partitionKeys.map((k) => [k.name, g[k.name]])));
    const partPaths = parts.map((p) => partitionPath(table, p));
    if (opts.mode === 'merge') {
      return await commitMerge(writer, table, bucket, con, stage, partPaths, data, opts);
    }

    const out = path.join(stage, 'out');
    await con.run(
      `COPY (SELECT ${cols.map((c) => ident(c.name)).join(', ')} FROM typed)
       TO ${literal(out)} (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (${pk}), ROW_GROUP_SIZE 122880)`,
    );
    const rows = data.length;
    db.close();

    // Commit: one PUT per file (DuckDB may split a big partition into several).
    const files = await listFiles(out);
    const byPartition = new Map<string, string[]>();
    for (const f of files) {
      const rel = path.relative(out, path.dirname(f)).split(path.sep).join('/');
      byPartition.set(rel, [...(byPartition.get(rel) ?? []), f]);
    }
    const keys: string[] = [];
    let bytes = 0;
    let done = 0;
    const entries = [...byPartition.entries()];
    await mapLimit(entries, opts.concurrency ?? 8, async ([rel, partFiles]) => {
      for (let i = 0; i < partFiles.length; i++) {
        const suffix = partFiles.length > 1 ? `-${i}` : '';
        const key = `${table.prefix}/${rel}/${opts.fileName!}${suffix}.parquet`;
        const body = await readFile(partFiles[i]);
        await writer.clients.s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: body,
            ContentType: 'application/vnd.apache.parquet',
          }),
        );
        bytes += body.length;
        keys.push(key);
      }
      opts.onPartition?.(++done, entries.length);
    });
    return { rows, partitions: entries.length, bytes, keys: keys.sort() };
  } finally {
    try {
      db.close();
    } catch {
      // already closed after the COPY
    }
    await rm(stage, { recursive: true, force: true });
  }
}

/**
 * Merge mode: every touched partition is read with its ETag, merged with the incoming rows (the
 * newest row per key wins) and PUT conditionally (src/lake/commit.ts). All partitions are encoded
 * before the first PUT, so bad input or an encoding failure writes nothing; a partition that lost
 * a race is read, merged and encoded again on its own.
 */
async function commitMerge(
  writer: LakeWriter,
  table: TableDef,
  bucket: string,
  con: DuckDBConnection,
  stage: string,
  partPaths: readonly string[],
  data: ColumnarRows,
  opts: WriteOptions,
): Promise<WriteReport> {
  const { ident, literal } = await import('./duckdb'); // loaded already by the caller (writeTable)
  const s3 = writer.clients.s3;
  const cols = allColumns(table);
  const pkNames = new Set(table.partitionKeys.map((k) => k.name));
  const fileCols = cols.filter((c) => !pkNames.has(c.name)).map((c) => ident(c.name));
  const pk = table.partitionKeys.map((k) => ident(k.name)).join(', ');
  const hiveTypes = table.partitionKeys.map((k) => `${literal(k.name)}: ${k.type}`).join(', ');
  const order = table.key && table.key.length > 0 ? table.key.map(ident).join(', ') : 'NULL';
  const orderBy = table.key && table.key.length > 0 ? ` ORDER BY ${table.key.map(ident).join(', ')}` : '';
  const keyOf = (pp: string): string => partitionObjectKey(table, pp);
  // One statement at a time on the connection; retries of several partitions may overlap.
  let dbTail: Promise<unknown> = Promise.resolve();
  const onDb = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = dbTail.then(fn, fn);
    dbTail = run.catch(() => undefined);
    return run;
  };
  let fetches = 0;
  /** Downloads the current objects; returns their local files and ETags (absent: no entry). */
  const fetchExisting = async (paths: readonly string[]) => {
    const dir = path.join(stage, `existing-${fetches++}`);
    const found = new Map<string, { file: string; etag: string }>();
    await mapLimit(paths, opts.concurrency ?? 8, async (pp) => {
      const obj = await getWithEtag(s3, bucket, keyOf(pp));
      if (!obj) return;
      const file = path.join(dir, pp, 'data.parquet');
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, obj.bytes);
      found.set(pp, { file, etag: obj.etag });
    });
    return found;
  };
  const mergedSource = (files: readonly string[], where: string): string =>
    files.length === 0
      ? `SELECT * FROM typed${where}`
      : `SELECT * EXCLUDE (_src) FROM (
           SELECT *, 1 AS _src FROM typed${where}
           UNION ALL BY NAME
           SELECT *, 0 AS _src FROM read_parquet([${files.map(literal).join(', ')}], hive_partitioning = true, hive_types = {${hiveTypes}})
         )
         QUALIFY row_number() OVER (PARTITION BY ${pk}, ${order} ORDER BY _src DESC) = 1`;
  let encodes = 0;
  /** One partition merged into exactly one file (no PARTITION_BY: DuckDB cannot split it). */
  const encodeOne = async (pp: string, existing: string | undefined): Promise<Uint8Array> => {
    const where = ` WHERE ${pp
      .split('/')
      .map((seg, i) => {
        const k = table.partitionKeys[i];
        return `${ident(k.name)} = CAST(${literal(seg.slice(k.name.length + 1))} AS ${k.type})`;
      })
      .join(' AND ')}`;
    const file = path.join(stage, `one-${encodes++}.parquet`);
    await onDb(() =>
      con.run(
        `COPY (SELECT ${fileCols.join(', ')} FROM (${mergedSource(existing ? [existing] : [], where)})${orderBy})
         TO ${literal(file)} (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 122880)`,
      ),
    );
    const bytes = await readFile(file);
    await rm(file, { force: true });
    return bytes;
  };

  // Encode every partition before the first PUT: one COPY for all of them (the single-writer path).
  const first = await fetchExisting(partPaths);
  const out = path.join(stage, 'out');
  // A partitioned COPY with more partitions than open files closes and reopens files, which splits
  // a partition into several: allow one open file per partition.
  await con.run(`SET partitioned_write_max_open_files = ${Math.max(100, partPaths.length + 1)}`);
  await con.run(
    `COPY (SELECT ${cols.map((c) => ident(c.name)).join(', ')} FROM (${mergedSource(
      [...first.values()].map((f) => f.file),
      '',
    )})${orderBy})
     TO ${literal(out)} (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (${pk}), ROW_GROUP_SIZE 122880)`,
  );
  const byPartition = new Map<string, string[]>();
  for (const f of await listFiles(out)) {
    const rel = path.relative(out, path.dirname(f)).split(path.sep).join('/');
    byPartition.set(rel, [...(byPartition.get(rel) ?? []), f]);
  }
  const bodies = new Map<string, Uint8Array>();
  for (const pp of partPaths) {
    const files = byPartition.get(pp) ?? [];
    bodies.set(pp, files.length === 1 ? await readFile(files[0]) : await encodeOne(pp, first.get(pp)?.file));
  }
  await rm(out, { recursive: true, force: true });

  const committed = await commitPartitions(
    s3,
    bucket,
    table,
    partPaths.map((partition) => ({
      partition,
      body: bodies.get(partition)!,
      etag: first.get(partition)?.etag,
    })),
    {
      id: () => writeId(table.name, data.columns),
      rows: data.length,
      reencode: async (partition) => {
        const now = (await fetchExisting([partition])).get(partition);
        return { partition, body: await encodeOne(partition, now?.file), etag: now?.etag };
      },
      rerun:
        'Readers of the other partitions are told the write is incomplete; run the same write again to complete it',
      concurrency: opts.concurrency,
      heartbeatMs: opts.heartbeatMs,
      onPartition: opts.onPartition,
    },
  );
  const bytes = committed.reduce((n, w) => n + (w?.body.length ?? 0), 0);
  return { rows: data.length, partitions: partPaths.length, bytes, keys: partPaths.map(keyOf).sort() };
}

/**
 * Removes staging directories (`lake-<table>-<pid>-*`) left by writers that were killed: their pid
 * no longer runs. Once per process and tmp directory.
 */
const swept = new Set<string>();
async function sweepStaleStages(tmpRoot: string): Promise<void> {
  if (swept.has(tmpRoot)) return;
  swept.add(tmpRoot);
  let names: string[];
  try {
    names = await readdir(tmpRoot);
  } catch {
    return;
  }
  for (const n of names) {
    const m = /^lake-[a-z_]+-(\d+)-[A-Za-z0-9]{6}$/.exec(n);
    if (!m || Number(m[1]) === process.pid) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH')
        await rm(path.join(tmpRoot, n), { recursive: true, force: true });
    }
  }
}

/**
 * Commits an append batch encoded in JS: every partition path is validated before the first PUT
 * (bad input writes nothing), then partitions are encoded and PUT `concurrency` at a time.
 */
async function commitAppend(
  writer: LakeWriter,
  table: TableDef,
  bucket: string,
  prepared: PreparedAppend,
  rows: number,
  opts: WriteOptions,
): Promise<WriteReport> {
  const paths = prepared.partitions.map((p) => partitionPath(table, p));
  const keys: string[] = [];
  let bytes = 0;
  let done = 0;
  await mapLimit(
    paths.map((pp, i) => [pp, i] as const),
    opts.concurrency ?? 4,
    async ([pp, i]) => {
      const file = await prepared.encode(i);
      const key = `${table.prefix}/${pp}/${opts.fileName!}.parquet`;
      await writer.clients.s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: file.bytes,
          ContentType: 'application/vnd.apache.parquet',
        }),
      );
      bytes += file.bytes.length;
      keys.push(key);
      opts.onPartition?.(++done, paths.length);
    },
  );
  return { rows, partitions: paths.length, bytes, keys: keys.sort() };
}
