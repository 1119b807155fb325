/**
 * Sweep state machine, step 2: writes the expanded grid (minus parameter sets already in the lake)
 * as the Distributed Map's JSON manifest in the results bucket.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { createClients } from '../../src/aws/clients';
import { lakeBuckets } from '../../src/lake/buckets';
import { requiredIntEnv } from '../../src/sweep/env';
import { writeSweepManifest, type ManifestResult } from '../../src/sweep/service';

const MAX_GRID_SIZE = requiredIntEnv(process.env, 'MAX_GRID_SIZE');
const runtime = { mode: 'aws' as const, region: process.env.AWS_REGION };
const buckets = lakeBuckets(runtime, process.env);
// Fail at cold start, not at the first sweep, when the stack forgot the bucket.
void buckets.results;
const clients = createClients(runtime);
const logger = new Logger();

export const handler = async (event: unknown): Promise<ManifestResult> => {
  const r = await writeSweepManifest({ clients, buckets, tmpDir: '/tmp' }, event, {
    maxGridSize: MAX_GRID_SIZE,
    allowFileBars: false,
  });
  logger.info('manifest written', { ...r });
  return r;
};
