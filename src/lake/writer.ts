/**
 * Writes rows into the lake as Hive-partitioned Parquet through the S3 API.
 *
 * Every partition is written aside (a local temporary file, or in memory for appends encoded in JS)
 * and then committed with one PUT, which S3 makes visible atomically: a reader sees the old partition or the new one, never half of it.
 * - `merge` (bars, results): one object per partition, `data.parquet`; new rows replace existing
 *   rows with the same key, so importing the same data twice changes nothing.
 * - `append` (ticks): a new object per partition named by the caller (deterministic, e.g. by shard
 *   and sequence range), so a retried batch overwrites its own file instead of duplicating rows.
 */
import { GetObjectCommand, NoSuchKey, PutObjectCommand } from '@aws-sdk/client-s3';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AwsClients } from '../aws/clients';
import { InputError } from '../errors';
import type { LakeBuckets } from './buckets';
import { prepareAppend, type PreparedAppend } from './parquet-append';
import { allColumns, type TableDef } from './tables';

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
}

export interface WriteReport {
  readonly rows: number;
  readonly partitions: number;
  readonly bytes: number;
  readonly keys: readonly string[];
}

/** Partition values become path segments: keep them to a safe character set. */
const SAFE_PARTITION_VALUE = /^[A-Za-z0-9._-]{1,64}$/;

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

async function mapLimit<T>(items: readonly T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(workers);
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
  // DuckDB is loaded only on this path: appends encoded in JS (above) never need it.
  const { ident, literal, openDuckDb, stageColumns } = await import('./duckdb');
  const stage = await mkdtemp(path.join(writer.tmpDir ?? os.tmpdir(), `lake-${table.name}-`));
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
    await con.run(`CREATE VIEW typed AS ${typed}`);
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

    let source = 'typed';
    if (opts.mode === 'merge') {
      // Bring in the current content of each touched partition, then keep the newest row per key.
      const existingDir = path.join(stage, 'existing');
      const found: string[] = [];
      await mapLimit(partPaths, opts.concurrency ?? 8, async (pp) => {
        const key = `${table.prefix}/${pp}/data.parquet`;
        try {
          const obj = await writer.clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
          const bytes = await obj.Body!.transformToByteArray();
          const file = path.join(existingDir, pp, 'data.parquet');
          await mkdir(path.dirname(file), { recursive: true });
          await writeFile(file, bytes);
          found.push(file);
        } catch (err) {
          if (!(err instanceof NoSuchKey)) throw err;
        }
      });
      if (found.length > 0) {
        const hiveTypes = table.partitionKeys.map((k) => `${literal(k.name)}: ${k.type}`).join(', ');
        const order = table.key && table.key.length > 0 ? table.key.map(ident).join(', ') : 'NULL';
        await con.run(`CREATE TABLE merged AS
          SELECT * EXCLUDE (_src) FROM (
            SELECT *, 1 AS _src FROM typed
            UNION ALL BY NAME
            SELECT *, 0 AS _src FROM read_parquet([${found.map(literal).join(', ')}], hive_partitioning = true, hive_types = {${hiveTypes}})
          )
          QUALIFY row_number() OVER (PARTITION BY ${pk}, ${order} ORDER BY _src DESC) = 1`);
        source = 'merged';
      }
    }

    const out = path.join(stage, 'out');
    // Merged partitions are sorted by key (small, read often); appended batches keep arrival order.
    const orderBy =
      opts.mode === 'merge' && table.key && table.key.length > 0
        ? ` ORDER BY ${table.key.map(ident).join(', ')}`
        : '';
    await con.run(
      `COPY (SELECT ${cols.map((c) => ident(c.name)).join(', ')} FROM ${source}${orderBy})
       TO ${literal(out)} (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (${pk}), ROW_GROUP_SIZE 122880)`,
    );
    const rows = data.length;
    db.close();

    // Commit: one PUT per partition. DuckDB may split a big partition into several files; keep one.
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
        const name = opts.mode === 'merge' ? 'data' : opts.fileName!;
        const suffix = partFiles.length > 1 && opts.mode === 'append' ? `-${i}` : '';
        if (opts.mode === 'merge' && partFiles.length > 1) {
          throw new Error(`internal: partition ${rel} produced ${partFiles.length} files in merge mode`);
        }
        const key = `${table.prefix}/${rel}/${name}${suffix}.parquet`;
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
