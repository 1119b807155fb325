/**
 * Strategy runner Lambda: on a schedule or the bars pipeline's event, runs the environment's
 * promoted strategy (and model) on the lake's bars and puts its signal on the trading bus.
 * Logic: src/strategy-runner/handler.ts.
 */
import { createClients } from '../../src/aws/clients';
import { instrumented, MetricUnit, powertools } from '../../src/aws/powertools';
import { TRADING_METRICS as M, FUNCTION_SERVICE } from '../../src/contract/metrics';
import { LakeBarReader } from '../../src/lake/bars-reader';
import { lakeBuckets } from '../../src/lake/buckets';
import { modelStrategyFor } from '../../src/ml/model-strategy';
import { modelsBucketOf, registryFor } from '../../src/ml/registry';
import { S3NewsReader } from '../../src/news/reader';
import { NEWS_SENTIMENT } from '../../src/contract/lake';
import {
  eventBridgeEmitter,
  handleRunnerEvent,
  runnerConfigFromEnv,
} from '../../src/strategy-runner/handler';
import { S3PromotionStore } from '../../src/strategy-runner/promotions';
import type { BarStrategy } from '../../src/strategy-runner/runner';
import { runtimeFromEnv } from '../../src/trading/lambda-support';

const tools = powertools({ serviceName: FUNCTION_SERVICE.strategyRunner, namespace: M.namespace });
const runtime = runtimeFromEnv(process.env);
const clients = createClients(runtime);
// Configuration is read once per container: a missing variable fails the cold start, not a bar.
const config = runnerConfigFromEnv(process.env);
const bucket = modelsBucketOf(runtime, lakeBuckets(runtime, process.env).models, process.env);
const registry = registryFor(runtime, clients.s3, bucket, process.env);
// Loaded models (and decoded news partitions) stay in memory across invocations of a warm container.
const models = new Map<string, Promise<BarStrategy>>();
// Models on feature set version 2 read the daily sentiment from the lake's news_sentiment objects.
const news = new S3NewsReader(clients.s3, lakeBuckets(runtime, process.env)[NEWS_SENTIMENT.zone]);

export const handler = instrumented(tools, async (event: unknown) => {
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
          news,
        },
        emit: eventBridgeEmitter(clients.eventBridge, config.signalBus),
      },
      event,
    );
    tools.logger.info(r.signal ? 'signal' : 'targets unchanged: no signal', {
      signalId: r.signal?.signalId,
      strategy: r.promotion.strategy,
      modelVersion: r.modelVersion,
      inputsHash: r.inputsHash,
    });
    tools.metrics.addMetric(M.signals, MetricUnit.Count, r.signal ? 1 : 0);
    return {
      signalId: r.signal?.signalId ?? null,
      modelVersion: r.modelVersion ?? null,
      inputsHash: r.inputsHash,
    };
  } finally {
    tools.metrics.addMetric(M.runnerMillis, MetricUnit.Milliseconds, performance.now() - t0);
  }
});
