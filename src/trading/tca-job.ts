/**
 * Recording TCA of an account's parent orders into the lake's `tca` table: the orders table (the
 * blotter the execution path keeps), the lake's 1-minute and daily bars (`lakeTape`), `computeTca`,
 * then `writeTcaRows`. `quant tca record` runs it locally; the daily TCA Lambda (lambda/tca,
 * scheduled after the close) runs it in AWS for the day's parents, with AWS clients.
 *
 * Only finished parents are analysed: an algorithm parent whose schedule has not ended or that has
 * a child still working, or a plain order still working, is left out and counted as unfinished
 * (a later run for the same day takes it: the daily job's next run is for the next day, so it does
 * not). Rows are merged on parent_id, so a run for the same day replaces its rows and never
 * duplicates them.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { describeZodIssues, InputError } from '../errors';
import { idSchema } from '../risk/ids';
import type { OrderRecord } from './execution';
import { accountBlotter } from './paper';
import { computeTca, summarizeTca, tcaInputsFromBlotter, type TcaRow, type TcaSummary } from './tca';
import { lakeTape, writeTcaRows } from './tca-lake';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

export const tcaJobSchema = z.strictObject({
  account: idSchema,
  /** The decision day (UTC) whose parents are analysed. @default the day of `time`, or all days */
  day: z
    .string()
    .regex(DAY, 'must be a date YYYY-MM-DD')
    .refine((d) => !Number.isNaN(Date.parse(d)), 'must be a real date')
    .optional(),
  /** The schedule's firing time (EventBridge `time`): its UTC day, so a retried event redoes the same day. */
  time: z.iso.datetime().optional(),
});
export type TcaJob = z.input<typeof tcaJobSchema>;

export interface TcaJobDeps {
  readonly doc: DynamoDBDocumentClient;
  readonly s3: S3Client;
  readonly ordersTable: string;
  /** Curated zone: the bars. */
  readonly curatedBucket: string;
  /** Results zone: the `tca` table. */
  readonly resultsBucket: string;
  /** @default Date.now */
  readonly now?: () => number;
}

export interface TcaJobResult {
  readonly account: string;
  /** The decision day analysed, or null for every day. */
  readonly day: string | null;
  readonly parents: number;
  /** Parents of the day left out because they were still working. */
  readonly unfinished: number;
  readonly partitions: number;
  readonly keys: readonly string[];
  readonly summary: TcaSummary;
  readonly rows: readonly TcaRow[];
}

const WORKING = new Set(['PENDING', 'SUBMITTED', 'UNKNOWN']);
const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** Whether a parent (with its children) is still working at `now`. */
export function isWorking(parent: OrderRecord, children: readonly OrderRecord[], now: number): boolean {
  if (!parent.algo) return WORKING.has(parent.status);
  if (parent.priceTime + parent.algo.durationSec * 1000 > now) return true;
  return children.some((c) => WORKING.has(c.status));
}

export async function recordTca(deps: TcaJobDeps, input: unknown): Promise<TcaJobResult> {
  const p = tcaJobSchema.safeParse(input);
  if (!p.success) throw new InputError(`tca job: ${describeZodIssues(p.error.issues)}`, 'tcaJob');
  const { account } = p.data;
  const day = p.data.day ?? (p.data.time ? p.data.time.slice(0, 10) : null);
  const now = (deps.now ?? Date.now)();
  const blotter = await accountBlotter(deps.doc, deps.ordersTable, account);
  const kids = new Map<string, OrderRecord[]>();
  for (const o of blotter) {
    if (o.parentId === undefined) continue;
    const list = kids.get(o.parentId);
    if (list) list.push(o);
    else kids.set(o.parentId, [o]);
  }
  const keep = new Set<string>();
  let unfinished = 0;
  for (const o of blotter) {
    if (o.parentId !== undefined || (day !== null && utcDay(o.priceTime) !== day)) continue;
    if (isWorking(o, kids.get(o.orderId) ?? [], now)) unfinished++;
    else keep.add(o.orderId);
  }
  const chosen = blotter.filter((o) => keep.has(o.parentId ?? o.orderId));
  const inputs = await tcaInputsFromBlotter(chosen, lakeTape(deps.s3, deps.curatedBucket));
  const rows = inputs.map(computeTca);
  const report = await writeTcaRows(
    { clients: { s3: deps.s3 }, buckets: { results: deps.resultsBucket } },
    rows,
  );
  return {
    account,
    day,
    parents: rows.length,
    unfinished,
    partitions: report.partitions,
    keys: report.keys,
    summary: summarizeTca(rows),
    rows,
  };
}
