/**
 * Sweep results in the lake: one Parquet object per batch under
 * `backtest_results/strategy=S/sweep_id=ID/batch-<batchId>.parquet` (the lake writer's append
 * mode: each object is one atomic PUT, named by the batch's content so a retried batch overwrites
 * its own object and never duplicates rows; concurrent batches never touch each other's objects).
 * Resume reads the `param_set_id` column of the objects already there.
 */
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { AwsClients } from '../aws/clients';
import { InputError } from '../errors';
import type { LakeBuckets } from '../lake/buckets';
import { BACKTEST_RESULTS } from '../contract/lake';
// No import of the lake writer or DuckDB here (writing is in results-writer.ts): the sweep's Lambda
// steps (validate, manifest, publish) import this module and are bundled without DuckDB's native
// packages, and an ESM bundle resolves every import when it loads. The resume check reads Parquet in
// pure JS.

const SAFE_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** hyparquet decodes only snappy by itself; batches encoded in JS (lake/parquet-append.ts) are GZIP. */
const COMPRESSORS = { GZIP: (input: Uint8Array): Uint8Array => new Uint8Array(gunzipSync(input)) };

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

/** Ids of the parameter sets of a sweep whose results are already in the lake. */
export async function completedParamSetIds(
  target: ResultsTarget,
  strategy: string,
  sweepId: string,
): Promise<Set<string>> {
  const done = new Set<string>();
  for (const r of await readSweepRows(target, strategy, sweepId, ['param_set_id']))
    if (typeof r.param_set_id === 'string') done.add(r.param_set_id);
  return done;
}

/**
 * Rows of a sweep's result objects in the lake (the given columns; SQL NULL as null), read in pure
 * JS: the local sweep ranks them without starting a query engine (see rank.ts).
 */
export async function readSweepRows(
  target: ResultsTarget,
  strategy: string,
  sweepId: string,
  columns: readonly string[],
): Promise<Record<string, unknown>[]> {
  // Loaded on use: request validation imports this module, and `quant backtest` needs no S3 client.
  const [{ GetObjectCommand, ListObjectsV2Command }, { parquetReadObjects }] = await Promise.all([
    import('@aws-sdk/client-s3'),
    import('hyparquet'),
  ]);
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
  const out: Record<string, unknown>[] = [];
  for (const key of keys) {
    const obj = await target.clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const bytes = await obj.Body!.transformToByteArray();
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const rows = (await parquetReadObjects({
      file,
      columns: [...columns],
      compressors: COMPRESSORS,
    })) as Record<string, unknown>[];
    for (const r of rows) {
      for (const c of columns) if (r[c] === undefined) r[c] = null;
      out.push(r);
    }
  }
  return out;
}
