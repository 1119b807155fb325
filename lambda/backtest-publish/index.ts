/**
 * Sweep state machine, step 5: reads the aggregate query's ranked rows and writes them as one JSON
 * object in the results zone; returns the best five for the notification.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { createClients } from '../../src/aws/clients';
import { describeZodIssues, InputError } from '../../src/errors';
import { lakeBuckets } from '../../src/lake/buckets';
import { athenaQueryRows, publishRanking, type RankingResult } from '../../src/sweep/service';

const runtime = { mode: 'aws' as const, region: process.env.AWS_REGION };
const buckets = lakeBuckets(runtime, process.env);
void buckets.results;
const clients = createClients(runtime);
const logger = new Logger();

const eventSchema = z.object({
  strategy: z.string().min(1),
  sweepId: z.string().min(1),
  queryExecutionId: z.string().min(1),
});

export const handler = async (event: unknown): Promise<RankingResult> => {
  const e = eventSchema.safeParse(event);
  if (!e.success) throw new InputError(`event: ${describeZodIssues(e.error.issues)}`, 'event');
  const rows = await athenaQueryRows(clients.athena, e.data.queryExecutionId);
  const r = await publishRanking({ clients, buckets }, e.data, rows);
  logger.info('ranking published', { sweepId: e.data.sweepId, key: r.key, count: r.count });
  return r;
};
