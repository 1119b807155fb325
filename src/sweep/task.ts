/**
 * The backtest batch task (the ECS task's logic; ecs-tasks/backtest/main.ts is its entry point):
 * reads one batch of parameter sets from its environment, evaluates them over the bars and writes
 * the results as one Parquet object. Locally the same entry point runs as a child process.
 *
 * Environment (set by the task definition and by the state machine's container override):
 *   SWEEP_ID, STRATEGY, BARS, COST_BPS   what to run
 *   BATCH_ITEMS                          JSON array of { id, params } (the Distributed Map batch)
 *   LAKE_*_BUCKET                        lake buckets (in AWS)
 *   QUANT_LOCAL_ENDPOINTS, QUANT_DATA_DIR  the local cloud (locally)
 *   TMPDIR                               writable scratch directory (/tmp volume in the container)
 */
import * as z from 'zod';
import { createClients, type Runtime } from '../aws/clients';
import { asPanel, loadBars, type Bars, type Panel } from '../backtest';
import { parseStrategyParams, prepareStrategy } from '../backtest/strategies';
import { NEWS_SENTIMENT } from '../contract/lake';
import { SWEEP_TASK_ENV } from '../contract/sweep';
import { describeZodIssues, InputError } from '../errors';
import { lakeBuckets } from '../lake';
import { LOCAL_REGION } from '../local/defaults';
import { withModelInputs } from '../ml/model-inputs';
import { useModelRegistry } from '../ml/registry/resolver';
import { S3NewsReader } from '../news/reader';
import { evaluateBatch } from './evaluate';
import { isTextValue } from './grid';
import { batchIdFor } from './results';
import { writeBatchResults } from './results-writer';

type Env = Readonly<Record<string, string | undefined>>;

const itemsSchema = z
  .array(
    z
      .object({
        id: z.string().regex(/^[0-9a-f]{16}$/, 'must be 16 hex digits'),
        params: z.record(
          z.string(),
          z.union([z.number(), z.boolean(), z.string().max(1024).refine(isTextValue, 'not a text value')]),
        ),
      })
      .strict(),
  )
  .min(1)
  .max(100_000);

const taskEnvSchema = z.object({
  [SWEEP_TASK_ENV.sweepId]: z.string().min(1),
  [SWEEP_TASK_ENV.strategy]: z.string().min(1),
  [SWEEP_TASK_ENV.bars]: z.string().min(1),
  [SWEEP_TASK_ENV.costBps]: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const n = v === undefined || v === '' ? 0 : Number(v);
      if (!Number.isFinite(n) || n < 0)
        ctx.addIssue({ code: 'custom', message: `not a non-negative number: "${v}"` });
      return n;
    }),
  [SWEEP_TASK_ENV.batchItems]: z.string().min(2),
});

/** The runtime of a task: the local cloud when QUANT_LOCAL_ENDPOINTS is set, AWS otherwise. */
export function runtimeFromEnv(env: Env): Runtime {
  const local = env.QUANT_LOCAL_ENDPOINTS;
  if (!local) return { mode: 'aws', region: env.AWS_REGION };
  const endpoints = JSON.parse(local) as { s3: string; kinesis: string; dynamodb: string };
  if (!env.QUANT_DATA_DIR)
    throw new InputError('QUANT_DATA_DIR: required with QUANT_LOCAL_ENDPOINTS', 'QUANT_DATA_DIR');
  return { mode: 'local', region: env.AWS_REGION ?? LOCAL_REGION, endpoints, dataDir: env.QUANT_DATA_DIR };
}

/** Environment variables that point a child process at a local cloud. */
export function localTaskEnv(runtime: Extract<Runtime, { mode: 'local' }>): Record<string, string> {
  return {
    QUANT_LOCAL_ENDPOINTS: JSON.stringify(runtime.endpoints),
    QUANT_DATA_DIR: runtime.dataDir,
    AWS_REGION: runtime.region,
  };
}

export interface BatchTaskResult {
  readonly sweepId: string;
  readonly batchId: string;
  readonly items: number;
  readonly key: string | undefined;
  readonly durationMs: number;
}

/** Runs one batch from the task's environment. Bad input throws InputError (exit code 2). */
export async function runBatchTask(env: Env): Promise<BatchTaskResult> {
  const started = Date.now();
  const e = taskEnvSchema.safeParse(env);
  if (!e.success) throw new InputError(`task environment: ${describeZodIssues(e.error.issues)}`, 'env');
  let rawItems: unknown;
  try {
    rawItems = JSON.parse(e.data.BATCH_ITEMS);
  } catch (err) {
    throw new InputError(`BATCH_ITEMS: not valid JSON (${(err as Error).message})`, 'BATCH_ITEMS');
  }
  const items = itemsSchema.safeParse(rawItems);
  if (!items.success)
    throw new InputError(`BATCH_ITEMS: ${describeZodIssues(items.error.issues)}`, 'BATCH_ITEMS');

  const runtime = runtimeFromEnv(env);
  const clients = createClients(runtime);
  try {
    useModelRegistry(runtime, clients.s3, () => lakeBuckets(runtime, env).models, env);
    const bars = await loadBars(e.data.BARS, { runtime });
    const spec = { strategy: e.data.STRATEGY, barsSource: e.data.BARS, costBps: e.data.COST_BPS };
    // Models on feature set version 2 score on the lake's news sentiment (src/ml/model-inputs.ts).
    let input: Bars | Panel = bars;
    if (items.data.some((i) => typeof i.params.model === 'string')) {
      const runs = items.data.map((i) =>
        parseStrategyParams(e.data.STRATEGY, i.params as Record<string, string | number | boolean>),
      );
      for (const p of runs) await prepareStrategy(e.data.STRATEGY, p);
      const panel = asPanel(bars);
      const withNews = await withModelInputs(
        panel,
        runs,
        () => new S3NewsReader(clients.s3, lakeBuckets(runtime, env)[NEWS_SENTIMENT.zone]),
      );
      if (withNews !== panel) input = withNews;
    }
    const rows = await evaluateBatch(input, spec, items.data);
    const batchId = batchIdFor(items.data.map((i) => i.id));
    const key = await writeBatchResults(
      { clients, buckets: lakeBuckets(runtime, env), tmpDir: env.TMPDIR },
      { strategy: e.data.STRATEGY, sweepId: e.data.SWEEP_ID, batchId },
      rows,
    );
    return { sweepId: e.data.SWEEP_ID, batchId, items: rows.length, key, durationMs: Date.now() - started };
  } finally {
    clients.destroy();
  }
}

/** CloudWatch embedded-metric-format line (stdout -> awslogs -> metrics; no API call needed). */
export function emfLine(
  namespace: string,
  service: string,
  metrics: Record<string, { value: number; unit: string }>,
): string {
  return JSON.stringify({
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [['service']],
          Metrics: Object.entries(metrics).map(([Name, m]) => ({ Name, Unit: m.unit })),
        },
      ],
    },
    service,
    ...Object.fromEntries(Object.entries(metrics).map(([k, m]) => [k, m.value])),
  });
}
