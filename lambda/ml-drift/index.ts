/**
 * Scheduled drift check (src/ml/aws/drift-job.ts): PSI of the live features of the model's universe
 * against the approved version's training statistics, as CloudWatch metrics the drift alarm watches.
 */
import { PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { createClients } from '../../src/aws/clients';
import { instrumented, powertools } from '../../src/aws/powertools';
import { loadPanel } from '../../src/backtest/load';
import { readEnv } from '../../src/contract/env';
import { ML_DRIFT_ENV } from '../../src/contract/functions';
import { lakeBuckets } from '../../src/lake/buckets';
import { runDriftJob } from '../../src/ml/aws/drift-job';
import { S3ModelRegistry } from '../../src/ml/registry/s3-registry';
import { S3NewsReader } from '../../src/news/reader';
import { NEWS_SENTIMENT } from '../../src/contract/lake';
import { runtimeFromEnv } from '../../src/trading/lambda-support';

const { symbols, tradingEnvironment: env, modelName, lookbackBars } = readEnv(ML_DRIFT_ENV);
const runtime = runtimeFromEnv(process.env);
const clients = createClients(runtime);
const registry = new S3ModelRegistry(clients.s3, lakeBuckets(runtime, process.env).models);
const tools = powertools();
// A model on feature set version 2 is checked on its live news sentiment too.
const news = new S3NewsReader(clients.s3, lakeBuckets(runtime, process.env)[NEWS_SENTIMENT.zone]);

export const handler = instrumented(
  tools,
  async (): Promise<{ version?: number; maxPsi?: number; drifted?: string[] }> => {
    const r = await runDriftJob(
      {
        registry,
        news,
        panel: async (bars) => {
          const p = await loadPanel(
            symbols.map((s) => `lake:${s}`),
            { runtime, align: 'intersect' },
          );
          const from = Math.max(0, p.dates.length - bars);
          return {
            ...p,
            dates: p.dates.slice(from),
            close: p.close.map((c) => c.subarray(from)),
            volume: p.volume?.map((v) => v.subarray(from)),
          };
        },
        putMetrics: async (namespace, data) => {
          await clients.cloudWatch.send(
            new PutMetricDataCommand({
              Namespace: namespace,
              MetricData: data.map((d) => ({
                MetricName: d.name,
                Dimensions: Object.entries(d.dimensions).map(([Name, Value]) => ({ Name, Value })),
                Value: d.value,
                Unit: 'None',
              })),
            }),
            { abortSignal: AbortSignal.timeout(10_000) },
          );
        },
      },
      { modelName, env, lookbackBars },
    );
    if (!r) {
      tools.logger.info('no version approved: nothing to compare', { modelName, env });
      return {};
    }
    tools.logger.info('drift checked', { version: r.version, maxPsi: r.maxPsi, drifted: r.drifted });
    return { version: r.version, maxPsi: r.maxPsi, drifted: [...r.drifted] };
  },
);
