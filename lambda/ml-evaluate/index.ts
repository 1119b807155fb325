/**
 * Training state machine, evaluate step: backtests the candidate on its held-out window against the
 * champion (src/ml/aws/evaluate.ts); the gate state reads `passed`.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { createClients } from '../../src/aws/clients';
import { loadPanel } from '../../src/backtest/load';
import { STRATEGY_RUNNER_ENV } from '../../src/contract/models';
import { TRAINING_LAMBDA_ENV, type TrainingEvaluation } from '../../src/contract/training';
import { describeZodIssues, InputError } from '../../src/errors';
import { lakeBuckets } from '../../src/lake/buckets';
import { evaluateCandidate } from '../../src/ml/aws/evaluate';
import { modelStrategyFor } from '../../src/ml/model-strategy';
import { S3ModelRegistry } from '../../src/ml/registry/s3-registry';
import { runtimeFromEnv } from '../../src/trading/lambda-support';

const runtime = runtimeFromEnv(process.env);
const clients = createClients(runtime);
const registry = new S3ModelRegistry(clients.s3, lakeBuckets(runtime, process.env).models);
const symbols = (process.env[STRATEGY_RUNNER_ENV.symbols] ?? '').split(',').filter(Boolean);
const gate = {
  minSharpeOverChampion: Number(process.env[TRAINING_LAMBDA_ENV.minSharpeGain] ?? 0),
  minIc: Number(process.env[TRAINING_LAMBDA_ENV.minTestIc] ?? 0),
};
const logger = new Logger();

const eventSchema = z.object({
  modelName: z.string().min(1),
  jobName: z.string().min(1),
  modelArtifacts: z.string().startsWith('s3://'),
});

export const handler = async (event: unknown): Promise<TrainingEvaluation> => {
  const e = eventSchema.safeParse(event);
  if (!e.success) throw new InputError(`event: ${describeZodIssues(e.error.issues)}`, 'event');
  const r = await evaluateCandidate(
    {
      s3: clients.s3,
      registry,
      modelStrategy: modelStrategyFor(runtime),
      gate,
      panel: () =>
        loadPanel(
          symbols.map((s) => `lake:${s}`),
          { runtime, align: 'intersect' },
        ),
    },
    e.data,
  );
  logger.info('candidate evaluated', { jobName: e.data.jobName, ...r });
  return r;
};
