/**
 * Local runners of the Glue jobs: `quant bars build` (ticks -> bars in the curated zone) and
 * compaction (small tick files -> one de-duplicated file per dt/symbol). DuckDB runs the jobs' SQL
 * over the Parquet files the local S3 server keeps on disk; results are committed through S3.
 */
import { DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AwsClients, Runtime } from '../aws/clients';
import { InputError } from '../errors';
import type { LakeBuckets } from '../lake/buckets';
import { literal, openDuckDb } from '../lake/duckdb';
import { localObjectGlob } from '../lake/query';
import { BARS, TICKS } from '../contract/lake';
import { writeTable, type WriteReport } from '../lake/writer';
import type { BarInterval } from '../market-data/events';
import { barsSql, compactionSql, defineSparkCompat } from './glue-sql';
import type { DuckDBConnection } from '@duckdb/node-api';

export interface LakeContext {
  readonly runtime: Runtime;
  readonly clients: AwsClients;
  readonly buckets: LakeBuckets;
  readonly tmpDir?: string;
}

function localDataDir(ctx: LakeContext): string {
  if (ctx.runtime.mode !== 'local') {
    throw new InputError(
      'this runs the Glue job SQL locally; in AWS start the Glue workflow (IngestionStack) instead',
      'mode',
    );
  }
  return ctx.runtime.dataDir;
}

function hasTicks(dataDir: string, bucket: string): boolean {
  const dir = path.join(dataDir, 's3', bucket, TICKS.prefix);
  return (
    existsSync(dir) &&
    readdirSync(dir, { recursive: true }).some((f) => String(f).endsWith('._S3rver_object'))
  );
}

/** Creates the `ticks` view over the raw zone's files on local disk. */
async function ticksView(
  con: DuckDBConnection,
  dataDir: string,
  bucket: string,
  glob?: string,
): Promise<void> {
  await defineSparkCompat(con);
  const files = glob ?? localObjectGlob(dataDir, bucket, TICKS.prefix);
  await con.run(
    `CREATE OR REPLACE VIEW ticks AS SELECT * FROM read_parquet(${literal(files)}, hive_partitioning = true, hive_types = {'dt': DATE, 'symbol': VARCHAR}, union_by_name = true)`,
  );
}

export interface BuildBarsOptions {
  readonly interval: BarInterval;
  /** Days to (re)build; all days when empty. */
  readonly dts?: readonly string[];
}

export interface BuildBarsReport extends WriteReport {
  readonly bars: number;
  readonly symbols: readonly string[];
  /** Labels of the bars built (for the BarsUpdated event's `through`). */
  readonly ts?: readonly unknown[];
}

/** Rebuilds bars of the given days from the raw ticks and merges them into the curated `bars` table. */
export async function buildBars(ctx: LakeContext, o: BuildBarsOptions): Promise<BuildBarsReport> {
  const dataDir = localDataDir(ctx);
  const sql = barsSql(o.interval, o.dts ?? []);
  if (!hasTicks(dataDir, ctx.buckets.raw))
    return { bars: 0, symbols: [], rows: 0, partitions: 0, bytes: 0, keys: [] };
  const db = await openDuckDb();
  let rows: Record<string, unknown>[];
  try {
    await ticksView(db.con, dataDir, ctx.buckets.raw);
    rows = (await db.con.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    db.close();
  }
  if (rows.length === 0) return { bars: 0, symbols: [], rows: 0, partitions: 0, bytes: 0, keys: [] };
  const col = (name: string): unknown[] => rows.map((r) => r[name]);
  const report = await writeTable(
    ctx,
    BARS,
    {
      length: rows.length,
      columns: {
        ts: col('ts'),
        open: col('open'),
        high: col('high'),
        low: col('low'),
        close: col('close'),
        volume: col('volume'),
        vwap: col('vwap'),
        trades: col('trades'),
        interval: rows.map(() => o.interval),
        symbol: col('symbol'),
        year: col('year').map(Number),
      },
    },
    { mode: 'merge' },
  );
  return {
    ...report,
    bars: rows.length,
    symbols: [...new Set(rows.map((r) => String(r.symbol)))].sort(),
    ts: col('ts'),
  };
}

export interface CompactionReport {
  readonly partitions: number;
  readonly inputFiles: number;
  readonly rowsIn: number;
  readonly rowsOut: number;
}

/**
 * Compacts the raw ticks of the given days: per (dt, symbol) one `compacted.parquet` with one row per
 * (symbol, venue, seq), then deletes the small files it replaced. The PUT of the compacted file is
 * atomic; until the deletes finish a reader may see a row twice, which every reader (the bars SQL)
 * tolerates. Re-running after a crash finishes the job.
 */
export async function compactTicks(
  ctx: LakeContext,
  o: { dts: readonly string[] },
): Promise<CompactionReport> {
  const dataDir = localDataDir(ctx);
  if (o.dts.length === 0) throw new InputError('--dt: compaction needs at least one day', 'dt');
  const sql = compactionSql(o.dts);
  if (!hasTicks(dataDir, ctx.buckets.raw)) return { partitions: 0, inputFiles: 0, rowsIn: 0, rowsOut: 0 };
  // Snapshot the input object list first: files that land during compaction are left for next time.
  const inputs: string[] = [];
  for (const dt of o.dts) {
    let token: string | undefined;
    do {
      const r = await ctx.clients.s3.send(
        new ListObjectsV2Command({
          Bucket: ctx.buckets.raw,
          Prefix: `${TICKS.prefix}/dt=${dt}/`,
          ContinuationToken: token,
        }),
      );
      for (const c of r.Contents ?? []) if (c.Key?.endsWith('.parquet')) inputs.push(c.Key);
      token = r.NextContinuationToken;
    } while (token);
  }
  if (inputs.length === 0) return { partitions: 0, inputFiles: 0, rowsIn: 0, rowsOut: 0 };
  const stage = await mkdtemp(path.join(ctx.tmpDir ?? os.tmpdir(), 'compaction-'));
  const db = await openDuckDb();
  try {
    const files = inputs.map((k) => path.join(dataDir, 's3', ctx.buckets.raw, `${k}._S3rver_object`));
    await defineSparkCompat(db.con);
    await db.con.run(
      `CREATE OR REPLACE VIEW ticks AS SELECT * FROM read_parquet([${files.map(literal).join(', ')}], hive_partitioning = true, hive_types = {'dt': DATE, 'symbol': VARCHAR}, union_by_name = true)`,
    );
    const rowsIn = Number((await db.con.runAndReadAll('SELECT count(*) FROM ticks')).getRows()[0][0]);
    await db.con.run(`CREATE TABLE compacted AS ${sql}`);
    const rowsOut = Number((await db.con.runAndReadAll('SELECT count(*) FROM compacted')).getRows()[0][0]);
    const cols = TICKS.columns.map((c) => `"${c.name}"`).join(', ');
    const parts = (
      await db.con.runAndReadAll('SELECT DISTINCT CAST(dt AS VARCHAR) AS dt, symbol FROM compacted')
    ).getRowObjectsJS() as Array<{ dt: string; symbol: string }>;
    const written: string[] = [];
    for (const p of parts) {
      const file = path.join(stage, `${p.dt}-${p.symbol}.parquet`);
      await db.con.run(
        `COPY (SELECT ${cols} FROM compacted WHERE CAST(dt AS VARCHAR) = ${literal(p.dt)} AND symbol = ${literal(p.symbol)} ORDER BY exchange_ts, seq) TO ${literal(file)} (FORMAT parquet, COMPRESSION zstd)`,
      );
      const key = `${TICKS.prefix}/dt=${p.dt}/symbol=${p.symbol}/compacted.parquet`;
      await ctx.clients.s3.send(
        new PutObjectCommand({
          Bucket: ctx.buckets.raw,
          Key: key,
          Body: await readFile(file),
          ContentType: 'application/vnd.apache.parquet',
        }),
      );
      written.push(key);
    }
    const toDelete = inputs.filter((k) => !written.includes(k));
    for (let i = 0; i < toDelete.length; i += 1000) {
      await ctx.clients.s3.send(
        new DeleteObjectsCommand({
          Bucket: ctx.buckets.raw,
          Delete: { Objects: toDelete.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
        }),
      );
    }
    return { partitions: parts.length, inputFiles: inputs.length, rowsIn, rowsOut };
  } finally {
    db.close();
    await rm(stage, { recursive: true, force: true });
  }
}
