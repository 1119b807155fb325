/**
 * Sweep state machine, step 2: writes the expanded grid (minus parameter sets already in the lake)
 * as the Distributed Map's JSON manifest in the results bucket.
 */
import { createClients } from '../../src/aws/clients';
import { instrumented, powertools } from '../../src/aws/powertools';
import { readEnv } from '../../src/contract/env';
import { BACKTEST_MANIFEST_ENV } from '../../src/contract/functions';
import { lakeBuckets } from '../../src/lake/buckets';
import { writeSweepManifest } from '../../src/sweep/service';

const env = readEnv(BACKTEST_MANIFEST_ENV);
const runtime = { mode: 'aws' as const, region: process.env.AWS_REGION };
const buckets = lakeBuckets(runtime, process.env);
const clients = createClients(runtime);
const tools = powertools();

export const handler = instrumented(tools, async (event: unknown) => {
  const r = await writeSweepManifest({ clients, buckets, tmpDir: '/tmp' }, event, {
    maxGridSize: env.maxGridSize,
    allowFileBars: false,
  });
  tools.logger.info('manifest written', { ...r });
  return r;
});
