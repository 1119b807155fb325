/**
 * The query interface of the lake, with two implementations that take the same SQL for the queries
 * the platform issues:
 * - Athena (in AWS): start, poll with backoff, page through the results, clear error text.
 * - DuckDB (locally): views with the Glue table names over the Parquet files the local S3 server
 *   keeps on disk (DuckDB's httpfs cannot be installed offline, so it reads the files directly).
 * Differences are listed in docs/lake.md.
 */
import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  type ColumnInfo,
} from '@aws-sdk/client-athena';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { AthenaClient } from '@aws-sdk/client-athena';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Runtime } from '../aws/clients';
import { athenaClient, s3Client } from '../aws/clients';
import { lakeBuckets, type LakeBuckets } from './buckets';
import { InputError } from '../errors';
import { listPendingLocal, listPendingS3, type PendingWrite } from './commit';
import { ident, literal, openDuckDb, runReadOnly } from './duckdb';
import { allColumns, TABLES, type TableDef } from '../contract/lake';

export type Row = Record<string, unknown>;

export interface QueryEngine {
  readonly kind: 'athena' | 'duckdb';
  query(sql: string): Promise<Row[]>;
  /** Multi-partition writes of a table that have not completed (src/lake/commit.ts). */
  pendingWrites?(table: string): Promise<PendingWrite[]>;
  close(): Promise<void>;
}

export class QueryError extends Error {
  constructor(
    message: string,
    readonly sql: string,
  ) {
    super(message);
    this.name = 'QueryError';
  }
}

/** s3rver keeps object `k` of bucket `b` at `<dir>/b/k._S3rver_object`. */
export function localObjectGlob(dataDir: string, bucket: string, prefix: string): string {
  return path.join(dataDir, 's3', bucket, prefix, '**', '*._S3rver_object');
}

function hasObjects(dir: string): boolean {
  if (!existsSync(dir)) return false;
  return readdirSync(dir, { recursive: true }).some((f) => String(f).endsWith('._S3rver_object'));
}

/** DuckDB over the local lake: one view per table, re-globbed at every query so new files show. */
export class DuckDbQueryEngine implements QueryEngine {
  readonly kind = 'duckdb' as const;
  private constructor(
    private readonly con: DuckDBConnection,
    private readonly closeDb: () => void,
    private readonly dataDir: string,
    private readonly buckets: LakeBuckets,
    private readonly tables: readonly TableDef[],
  ) {}

  static async create(
    runtime: Extract<Runtime, { mode: 'local' }>,
    tables: readonly TableDef[] = TABLES,
  ): Promise<DuckDbQueryEngine> {
    const db = await openDuckDb();
    return new DuckDbQueryEngine(db.con, db.close, runtime.dataDir, lakeBuckets(runtime), tables);
  }

  private viewSql(t: TableDef): string {
    const cols = allColumns(t);
    const dir = path.join(this.dataDir, 's3', this.buckets[t.zone], t.prefix);
    if (!hasObjects(dir)) {
      // No data yet: an empty view with the right columns, as Athena shows an empty table.
      return `SELECT ${cols.map((c) => `CAST(NULL AS ${c.type}) AS ${ident(c.name)}`).join(', ')} WHERE false`;
    }
    const hiveTypes = t.partitionKeys.map((k) => `${literal(k.name)}: ${k.type}`).join(', ');
    return `SELECT ${cols.map((c) => ident(c.name)).join(', ')} FROM read_parquet(${literal(
      localObjectGlob(this.dataDir, this.buckets[t.zone], t.prefix),
    )}, hive_partitioning = true, hive_types = {${hiveTypes}}, union_by_name = true)`;
  }

  async query(sql: string): Promise<Row[]> {
    try {
      for (const t of this.tables)
        await this.con.run(`CREATE OR REPLACE TEMP VIEW ${ident(t.name)} AS ${this.viewSql(t)}`);
      const reader = await runReadOnly(this.con, sql);
      return reader.getRowObjectsJS() as Row[];
    } catch (err) {
      if (err instanceof InputError) throw err;
      throw new QueryError(`query failed: ${err instanceof Error ? err.message : String(err)}`, sql);
    }
  }

  async pendingWrites(table: string): Promise<PendingWrite[]> {
    const t = this.tables.find((x) => x.name === table);
    return t ? listPendingLocal(this.dataDir, this.buckets[t.zone], table) : [];
  }

  async close(): Promise<void> {
    this.closeDb();
  }
}

export interface AthenaEngineOptions {
  readonly workgroup: string;
  readonly database: string;
  /** Longest wait for one query. @default 10 minutes */
  readonly timeoutMs?: number;
  /** Injected for tests. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

function convertAthena(value: string | undefined, info: ColumnInfo | undefined): unknown {
  if (value === undefined) return null;
  switch (info?.Type) {
    case 'integer':
    case 'tinyint':
    case 'smallint':
    case 'double':
    case 'float':
    case 'real':
    case 'decimal':
      return Number(value);
    case 'bigint': {
      const b = BigInt(value);
      return b <= BigInt(Number.MAX_SAFE_INTEGER) && b >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
    }
    case 'boolean':
      return value === 'true';
    case 'timestamp':
      return new Date(`${value.replace(' ', 'T')}Z`);
    default:
      return value;
  }
}

/** Athena: start, poll with exponential backoff, page through results. */
export class AthenaQueryEngine implements QueryEngine {
  readonly kind = 'athena' as const;
  constructor(
    private readonly athena: AthenaClient,
    private readonly opts: AthenaEngineOptions,
    /** Lists a table's pending writes in S3 (not given: none are checked). */
    readonly pendingWrites?: (table: string) => Promise<PendingWrite[]>,
  ) {}

  async query(sql: string): Promise<Row[]> {
    const sleep = this.opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const start = await this.athena.send(
      new StartQueryExecutionCommand({
        QueryString: sql,
        WorkGroup: this.opts.workgroup,
        QueryExecutionContext: { Database: this.opts.database },
      }),
    );
    const id = start.QueryExecutionId;
    if (!id) throw new QueryError('Athena returned no query execution id', sql);
    const deadline = Date.now() + (this.opts.timeoutMs ?? 600_000);
    let delay = 200;
    for (;;) {
      const { QueryExecution: qe } = await this.athena.send(
        new GetQueryExecutionCommand({ QueryExecutionId: id }),
      );
      const state = qe?.Status?.State;
      if (state === 'SUCCEEDED') break;
      if (state === 'FAILED' || state === 'CANCELLED') {
        const reason =
          qe?.Status?.StateChangeReason ?? qe?.Status?.AthenaError?.ErrorMessage ?? 'no reason given';
        throw new QueryError(`Athena query ${id} ${state.toLowerCase()}: ${reason}`, sql);
      }
      if (Date.now() > deadline)
        throw new QueryError(`Athena query ${id} still ${state} after the timeout`, sql);
      await sleep(delay);
      delay = Math.min(delay * 2, 5_000);
    }
    const rows: Row[] = [];
    let token: string | undefined;
    let header = true;
    let infos: ColumnInfo[] = [];
    do {
      const page = await this.athena.send(
        new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token, MaxResults: 1000 }),
      );
      infos = page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? infos;
      for (const r of page.ResultSet?.Rows ?? []) {
        if (header) {
          header = false; // the first row of the first page repeats the column names
          continue;
        }
        const row: Row = {};
        (r.Data ?? []).forEach((d, i) => {
          row[infos[i]?.Name ?? `_${i}`] = convertAthena(d.VarCharValue, infos[i]);
        });
        rows.push(row);
      }
      token = page.NextToken;
    } while (token);
    return rows;
  }

  async close(): Promise<void> {}
}

/** The engine for the runtime: DuckDB locally, Athena in AWS (workgroup and database from env). */
export async function createQueryEngine(
  runtime: Runtime,
  env: Readonly<Record<string, string | undefined>> = {},
): Promise<QueryEngine> {
  if (runtime.mode === 'local') return DuckDbQueryEngine.create(runtime);
  const workgroup = env.ATHENA_WORKGROUP;
  const database = env.GLUE_DATABASE;
  if (!workgroup || !database) {
    throw new Error('ATHENA_WORKGROUP and GLUE_DATABASE must be set to query the lake in AWS');
  }
  const buckets = lakeBuckets(runtime, env);
  return new AthenaQueryEngine(athenaClient(runtime), { workgroup, database }, async (table) => {
    const t = TABLES.find((x) => x.name === table);
    if (!t) return [];
    const s3 = s3Client(runtime);
    try {
      return await listPendingS3(s3, buckets[t.zone], table);
    } finally {
      s3.destroy();
    }
  });
}
