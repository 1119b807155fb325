/**
 * The steps of the sweep state machine that are not backtests, as plain functions with their
 * clients passed in: the Lambda handlers (AWS) and the local state machine call the same code.
 */
import { GetQueryResultsCommand, type AthenaClient } from '@aws-sdk/client-athena';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { describeZodIssues, InputError } from '../errors';
import type { Row } from '../lake/query';
import type { ParamSet } from './grid';
import { sweepParamsSchema, validateSweepRequest, type ValidatedSweep } from './request';
import { checkPartitionValue, completedParamSetIds, type ResultsTarget } from './results';
import { LAKE_PREFIXES } from '../contract/lake';

export const validatedSweepSchema = z.object({
  sweepId: z.string(),
  strategy: z.string(),
  bars: z.string(),
  grid: z.array(z.string()).min(1),
  where: z.string().nullable(),
  costBps: z.number(),
  params: sweepParamsSchema,
  itemCount: z.number(),
  topN: z.number().int().min(1),
  rankBy: z.enum(['sharpe', 'sortino', 'calmar', 'cagr', 'total_return']),
  rankingQuery: z.string(),
});

function parseValidated(raw: unknown): ValidatedSweep {
  const r = validatedSweepSchema.safeParse(raw);
  if (!r.success) throw new InputError(`sweep: ${describeZodIssues(r.error.issues)}`, 'sweep');
  return r.data;
}

export interface ManifestResult {
  readonly bucket: string;
  readonly key: string;
  /** Parameter sets still to run (in the manifest). */
  readonly items: number;
  /** Parameter sets skipped because their results are already in the lake (resume). */
  readonly skipped: number;
}

export function manifestKey(sweepId: string): string {
  return `${LAKE_PREFIXES.sweepManifests}/sweep_id=${checkPartitionValue('sweepId', sweepId)}/manifest.json`;
}

/**
 * Writes the expanded grid (minus parameter sets already done) as a JSON array to the results
 * bucket: the Distributed Map's ItemReader reads it. Re-validates the request (same function as
 * the validate step), so a hand-made input cannot bypass the checks.
 */
export async function writeSweepManifest(
  target: ResultsTarget,
  rawSweep: unknown,
  limits: { maxGridSize?: number; allowFileBars?: boolean } = {},
): Promise<ManifestResult> {
  const s = parseValidated(rawSweep);
  const { items } = validateSweepRequest(
    {
      strategy: s.strategy,
      bars: s.bars,
      grid: [...s.grid],
      ...(s.where !== null ? { where: s.where } : {}),
      costBps: s.costBps,
      params: s.params,
      sweepId: s.sweepId,
    },
    limits,
  );
  const done = await completedParamSetIds(target, s.strategy, s.sweepId);
  const todo: ParamSet[] = items.filter((i) => !done.has(i.id));
  const key = manifestKey(s.sweepId);
  await target.clients.s3.send(
    new PutObjectCommand({
      Bucket: target.buckets.results,
      Key: key,
      Body: JSON.stringify(todo),
      ContentType: 'application/json',
    }),
  );
  return { bucket: target.buckets.results, key, items: todo.length, skipped: items.length - todo.length };
}

export interface RankingResult {
  readonly bucket: string;
  readonly key: string;
  readonly count: number;
  /** The best five (for the notification). */
  readonly top: Row[];
}

export function rankingKey(strategy: string, sweepId: string): string {
  return `${LAKE_PREFIXES.rankings}/strategy=${checkPartitionValue('strategy', strategy)}/sweep_id=${checkPartitionValue('sweepId', sweepId)}/top.json`;
}

/** JSON-safe rows: bigints as numbers or strings, Dates as ISO strings. */
function plain(rows: readonly Row[]): Row[] {
  return JSON.parse(
    JSON.stringify(rows, (_k, v: unknown) =>
      typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v,
    ),
  ) as Row[];
}

/** Writes the ranked top-N rows (the aggregate query's result) as one JSON object in the results zone. */
export async function publishRanking(
  target: ResultsTarget,
  sweep: { readonly strategy: string; readonly sweepId: string },
  rows: readonly Row[],
): Promise<RankingResult> {
  const key = rankingKey(sweep.strategy, sweep.sweepId);
  const body = plain(rows);
  await target.clients.s3.send(
    new PutObjectCommand({
      Bucket: target.buckets.results,
      Key: key,
      Body: JSON.stringify({ sweepId: sweep.sweepId, strategy: sweep.strategy, ranked: body }, null, 1),
      ContentType: 'application/json',
    }),
  );
  return { bucket: target.buckets.results, key, count: body.length, top: body.slice(0, 5) };
}

/** Rows of a finished Athena query (the aggregate step's result), typed by the column metadata. */
export async function athenaQueryRows(athena: AthenaClient, queryExecutionId: string): Promise<Row[]> {
  const rows: Row[] = [];
  let token: string | undefined;
  let columns: { name: string; type: string }[] | undefined;
  let first = true;
  do {
    const page = await athena.send(
      new GetQueryResultsCommand({ QueryExecutionId: queryExecutionId, NextToken: token }),
    );
    columns ??= (page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => ({
      name: c.Name!,
      type: c.Type ?? 'varchar',
    }));
    const data = page.ResultSet?.Rows ?? [];
    // The first row of the first page repeats the column names.
    for (const r of first ? data.slice(1) : data) {
      const row: Row = {};
      columns.forEach((c, i) => {
        const v = r.Data?.[i]?.VarCharValue;
        row[c.name] =
          v === undefined
            ? null
            : /^(double|float|real|decimal|integer|bigint|int|smallint|tinyint)/.test(c.type)
              ? Number(v)
              : v;
      });
      rows.push(row);
    }
    first = false;
    token = page.NextToken;
  } while (token);
  return rows;
}
