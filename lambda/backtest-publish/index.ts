/**
 * Sweep state machine, step 5: reads the aggregate query's ranked rows and writes them as one JSON
 * object in the results zone; returns the best five for the notification.
 */
import * as z from 'zod';
import { createClients } from '../../src/aws/clients';
import { instrumented, parseEvent, powertools } from '../../src/aws/powertools';
import { readEnv } from '../../src/contract/env';
import { BACKTEST_PUBLISH_ENV } from '../../src/contract/functions';
import { lakeBuckets } from '../../src/lake/buckets';
import { athenaQueryRows, publishRanking } from '../../src/sweep/service';

readEnv(BACKTEST_PUBLISH_ENV);
const runtime = { mode: 'aws' as const, region: process.env.AWS_REGION };
const buckets = lakeBuckets(runtime, process.env);
const clients = createClients(runtime);
const tools = powertools();

const eventSchema = z.object({
  strategy: z.string().min(1),
  sweepId: z.string().min(1),
  queryExecutionId: z.string().min(1),
});

export const handler = instrumented(tools, async (event: unknown) => {
  const e = parseEvent(eventSchema, event);
  const rows = await athenaQueryRows(clients.athena, e.queryExecutionId);
  const r = await publishRanking({ clients, buckets }, e, rows);
  tools.logger.info('ranking published', { sweepId: e.sweepId, key: r.key, count: r.count });
  return r;
});
