/**
 * Scheduled news pull (EventBridge): the window ending now (or the one the event names, for a
 * backfill) into `news_sentiment`, with src/news/ingest.ts, the function `quant ingest news` runs.
 * The key is read from Secrets Manager once per container and again after the vendor rejects it
 * (a rotated key is picked up); a rejection counts in the auth-failures metric, which is alarmed.
 */
import * as z from 'zod';
import { createClients } from '../../src/aws/clients';
import { instrumented, MetricUnit, parseEvent, powertools } from '../../src/aws/powertools';
import { readEnv, text } from '../../src/contract/env';
import { NEWS_INGEST_ENV, NEWS_METRICS } from '../../src/contract/news';
import { lakeBuckets } from '../../src/lake/buckets';
import { VendorAuthError } from '../../src/news/client';
import { ingestNews, type NewsIngestReport } from '../../src/news/ingest';
import { readNewsApiKey } from '../../src/news/secret';
import { runtimeFromEnv } from '../../src/trading/lambda-support';

// AWS when deployed; the local cloud when QUANT_LOCAL_* endpoints are set (tests invoke it in process).
const runtime = runtimeFromEnv(process.env);
const clients = createClients(runtime);
const buckets = lakeBuckets(runtime, process.env);
void buckets.curated; // a missing bucket variable fails the cold start, naming it
const { apiUrl, secretArn } = readEnv({
  apiUrl: text(NEWS_INGEST_ENV.apiUrl),
  secretArn: text(NEWS_INGEST_ENV.secretArn),
});
const tools = powertools({ serviceName: NEWS_METRICS.service, namespace: NEWS_METRICS.namespace });
const { logger, metrics } = tools;
let apiKey: Promise<string> | undefined;

const eventSchema = z.object({
  /** Hours before now the window starts (the schedule's input). */
  lookbackHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(48),
  /** A backfill names its window instead. */
  from: z.iso.datetime().optional(),
  to: z.iso.datetime().optional(),
  symbols: z.array(z.string().min(1)).min(1).optional(),
});

export const handler = instrumented(tools, async (event: unknown): Promise<NewsIngestReport> => {
  const e = parseEvent(eventSchema, event ?? {});
  const toMs = e.to ? Date.parse(e.to) : Date.now();
  const fromMs = e.from ? Date.parse(e.from) : toMs - e.lookbackHours * 3_600_000;
  apiKey ??= readNewsApiKey(clients, secretArn);
  try {
    const r = await ingestNews(
      { clients, buckets },
      { baseUrl: apiUrl, apiKey: await apiKey, fromMs, toMs, symbols: e.symbols },
    );
    metrics.addMetric(NEWS_METRICS.articlesAdded, MetricUnit.Count, r.added);
    metrics.addMetric(NEWS_METRICS.duplicates, MetricUnit.Count, r.duplicates);
    metrics.addMetric(NEWS_METRICS.retries, MetricUnit.Count, r.retries);
    metrics.addMetric(NEWS_METRICS.authFailures, MetricUnit.Count, 0);
    if (r.clockSkewMs !== null)
      metrics.addMetric(NEWS_METRICS.clockSkew, MetricUnit.Milliseconds, r.clockSkewMs);
    logger.info('news pulled', { ...r, rejectedReasons: r.rejectedReasons.slice(0, 5) });
    return r;
  } catch (err) {
    if (err instanceof VendorAuthError) {
      apiKey = undefined;
      metrics.addMetric(NEWS_METRICS.authFailures, MetricUnit.Count, 1);
      logger.error('the news API rejected the key', { status: err.status, message: err.message });
    }
    throw err;
  }
});
