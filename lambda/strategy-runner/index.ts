/**
 * Strategy runner Lambda: on a schedule or the bars pipeline's event, runs the environment's
 * promoted strategy (and model) on the lake's bars and puts its signal on the trading bus.
 * Logic: src/strategy-runner/handler.ts.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { createClients } from '../../src/aws/clients';
import { LakeBarReader } from '../../src/lake/bars-reader';
import { lakeBuckets } from '../../src/lake/buckets';
import { modelStrategyFor } from '../../src/ml/model-strategy';
import { modelsBucketOf, registryFor } from '../../src/ml/registry';
import {
  eventBridgeEmitter,
  handleRunnerEvent,
  runnerConfigFromEnv,
} from '../../src/strategy-runner/handler';
import { S3PromotionStore } from '../../src/strategy-runner/promotions';
import type { BarStrategy } from '../../src/strategy-runner/runner';
import { runtimeFromEnv } from '../../src/trading/lambda-support';

const logger = new Logger({ serviceName: 'strategy-runner' });
const metrics = new Metrics({ namespace: 'Quant/Trading', serviceName: 'strategy-runner' });
const runtime = runtimeFromEnv(process.env);
const clients = createClients(runtime);
// Configuration is read once per container: a missing variable fails the cold start, not a bar.
const config = runnerConfigFromEnv(process.env);
const bucket = modelsBucketOf(runtime, lakeBuckets(runtime, process.env).models, process.env);
const registry = registryFor(runtime, clients.s3, bucket, process.env);
// Loaded models stay in memory across invocations of a warm container.
const models = new Map<string, Promise<BarStrategy>>();

export async function handler(event: unknown, context: Context) {
  logger.addContext(context);
  const t0 = performance.now();
  try {
    const r = await handleRunnerEvent(
      {
        config,
        bars: new LakeBarReader(clients.s3, lakeBuckets(runtime, process.env).curated),
        runner: {
          promotions: new S3PromotionStore(clients.s3, bucket),
          registry: await registry,
          modelStrategy: modelStrategyFor(runtime),
          models,
        },
        emit: eventBridgeEmitter(clients.eventBridge, config.signalBus),
      },
      event,
    );
    logger.info(r.signal ? 'signal' : 'targets unchanged: no signal', {
      signalId: r.signal?.signalId,
      strategy: r.promotion.strategy,
      modelVersion: r.modelVersion,
      inputsHash: r.inputsHash,
    });
    metrics.addMetric('Signals', MetricUnit.Count, r.signal ? 1 : 0);
    return {
      signalId: r.signal?.signalId ?? null,
      modelVersion: r.modelVersion ?? null,
      inputsHash: r.inputsHash,
    };
  } finally {
    metrics.addMetric('RunnerMillis', MetricUnit.Milliseconds, performance.now() - t0);
    metrics.publishStoredMetrics();
  }
}
