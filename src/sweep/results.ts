/**
 * Sweep results in the lake: one Parquet object per batch under
 * `backtest_results/strategy=S/sweep_id=ID/batch-<batchId>.parquet` (the lake writer's append
 * mode: each object is one atomic PUT, named by the batch's content so a retried batch overwrites
 * its own object and never duplicates rows; concurrent batches never touch each other's objects).
 * Resume reads the `param_set_id` column of the objects already there.
 */
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AwsClients } from '../aws/clients';
import { InputError } from '../errors';
import { BACKTEST_RESULTS, writeTable, type LakeBuckets } from '../lake';
import { literal, openDuckDb } from '../lake/duckdb';
import type { ResultRow } from './evaluate';

const SAFE_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Checks a value that becomes a partition path segment or part of SQL (no quoting needed then). */
export function checkPartitionValue(field: string, value: string): string {
  if (!SAFE_ID.test(value)) {
    throw new InputError(`${field}: "${value}" must be 1-64 characters of A-Z a-z 0-9 . _ -`, field);
  }
  return value;
}

/** Stable id of a batch: first 16 hex digits of SHA-256 over its sorted parameter-set ids. */
export function batchIdFor(paramSetIds: readonly string[]): string {
  return createHash('sha256')
    .update([...paramSetIds].sort().join('\n'))
    .digest('hex')
    .slice(0, 16);
}

export function resultsPrefix(strategy: string, sweepId: string): string {
  return `${BACKTEST_RESULTS.prefix}/strategy=${checkPartitionValue('strategy', strategy)}/sweep_id=${checkPartitionValue('sweepId', sweepId)}/`;
}

export interface ResultsTarget {
  readonly clients: AwsClients;
  readonly buckets: LakeBuckets;
  /** Staging directory for Parquet files (read-only root file systems: a writable volume). @default OS temp */
  readonly tmpDir?: string;
}

/** Writes one batch's rows as one object; returns its key. */
export async function writeBatchResults(
  target: ResultsTarget,
  ids: { readonly strategy: string; readonly sweepId: string; readonly batchId: string },
  rows: readonly ResultRow[],
): Promise<string | undefined> {
  if (rows.length === 0) return undefined;
  const col = <K extends keyof ResultRow>(k: K) => rows.map((r) => r[k]);
  const report = await writeTable(
    { clients: target.clients, buckets: target.buckets, tmpDir: target.tmpDir },
    BACKTEST_RESULTS,
    {
      length: rows.length,
      columns: {
        param_set_id: col('param_set_id'),
        params: col('params'),
        bars_source: col('bars_source'),
        bars: col('bars'),
        periods: col('periods'),
        total_return: col('total_return'),
        cagr: col('cagr'),
        sharpe: col('sharpe'),
        sortino: col('sortino'),
        max_drawdown: col('max_drawdown'),
        calmar: col('calmar'),
        volatility: col('volatility'),
        trades: col('trades'),
        turnover: col('turnover'),
        exposure: col('exposure'),
        completed_at: col('completed_at'),
        strategy: rows.map(() => checkPartitionValue('strategy', ids.strategy)),
        sweep_id: rows.map(() => checkPartitionValue('sweepId', ids.sweepId)),
      },
    },
    { mode: 'append', fileName: `batch-${checkPartitionValue('batchId', ids.batchId)}` },
  );
  return report.keys[0];
}

/** Ids of the parameter sets of a sweep whose results are already in the lake. */
export async function completedParamSetIds(
  target: ResultsTarget,
  strategy: string,
  sweepId: string,
): Promise<Set<string>> {
  const bucket = target.buckets.results;
  const prefix = resultsPrefix(strategy, sweepId);
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await target.clients.s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) if (o.Key?.endsWith('.parquet')) keys.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const done = new Set<string>();
  if (keys.length === 0) return done;
  const dir = await mkdtemp(path.join(target.tmpDir ?? os.tmpdir(), 'sweep-resume-'));
  const db = await openDuckDb();
  try {
    const files: string[] = [];
    for (const [i, key] of keys.entries()) {
      const obj = await target.clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const file = path.join(dir, `${i}.parquet`);
      await writeFile(file, await obj.Body!.transformToByteArray());
      files.push(file);
    }
    const reader = await db.con.runAndReadAll(
      `SELECT DISTINCT param_set_id FROM read_parquet([${files.map(literal).join(', ')}])`,
    );
    for (const [id] of reader.getRows()) done.add(String(id));
    return done;
  } finally {
    db.close();
    await rm(dir, { recursive: true, force: true });
  }
}
