/**
 * Training state machine, evaluate step: backtests the candidate on its held-out window against the
 * champion (src/ml/aws/evaluate.ts); the gate state reads `passed`.
 */
import * as z from 'zod';
import { createClients } from '../../src/aws/clients';
import { instrumented, parseEvent, powertools } from '../../src/aws/powertools';
import { loadPanel } from '../../src/backtest/load';
import { readEnv } from '../../src/contract/env';
import { ML_EVALUATE_ENV } from '../../src/contract/functions';
import type { TrainingEvaluation } from '../../src/contract/training';
import { lakeBuckets } from '../../src/lake/buckets';
import { evaluateCandidate } from '../../src/ml/aws/evaluate';
import { modelStrategyFor } from '../../src/ml/model-strategy';
import { S3ModelRegistry } from '../../src/ml/registry/s3-registry';
import { S3NewsReader } from '../../src/news/reader';
import { NEWS_SENTIMENT } from '../../src/contract/lake';
import { runtimeFromEnv } from '../../src/trading/lambda-support';

const env = readEnv(ML_EVALUATE_ENV);
const runtime = runtimeFromEnv(process.env);
const clients = createClients(runtime);
const registry = new S3ModelRegistry(clients.s3, lakeBuckets(runtime, process.env).models);
const symbols = env.symbols.split(',').filter(Boolean);
const gate = { minSharpeOverChampion: env.minSharpeGain, minIc: env.minTestIc };
const tools = powertools();
const news = new S3NewsReader(clients.s3, lakeBuckets(runtime, process.env)[NEWS_SENTIMENT.zone]);

const eventSchema = z.object({
  modelName: z.string().min(1),
  jobName: z.string().min(1),
  modelArtifacts: z.string().startsWith('s3://'),
});

export const handler = instrumented(tools, async (event: unknown): Promise<TrainingEvaluation> => {
  const e = parseEvent(eventSchema, event);
  const r = await evaluateCandidate(
    {
      s3: clients.s3,
      registry,
      modelStrategy: modelStrategyFor(runtime),
      // A candidate on feature set version 2 is scored on the lake's news sentiment.
      news,
      gate,
      panel: () =>
        loadPanel(
          symbols.map((s) => `lake:${s}`),
          { runtime, align: 'intersect' },
        ),
    },
    e,
  );
  tools.logger.info('candidate evaluated', { jobName: e.jobName, ...r });
  return r;
});
