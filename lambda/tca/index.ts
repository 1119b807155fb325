/**
 * Daily TCA job: on its schedule after the close, analyses the account's finished parent orders of
 * the day (orders table, the lake's 1-minute and daily bars) and merges them into the lake's `tca`
 * table, as `quant tca record --day` does. The schedule's input is `{account, time}` (the firing
 * time names the day, so a retry redoes the same day); `{account, day}` re-runs a past day. Logic:
 * src/trading/tca-job `recordTca`.
 */
import { createClients } from '../../src/aws/clients';
import { instrumented, MetricUnit, powertools } from '../../src/aws/powertools';
import { readEnv } from '../../src/contract/env';
import { TCA_JOB_ENV } from '../../src/contract/functions';
import { TCA_METRICS as M } from '../../src/contract/metrics';
import { lakeBuckets } from '../../src/lake/buckets';
import { runtimeFromEnv } from '../../src/trading/lambda-support';
import { ensureLocalTradingTables } from '../../src/trading/tables';
import { recordTca } from '../../src/trading/tca-job';

const tools = powertools({ serviceName: M.service, namespace: M.namespace });
const clients = createClients(runtimeFromEnv(process.env));
const local = clients.runtime.mode === 'local';
const buckets = lakeBuckets(clients.runtime, process.env);
// Read at cold start: a missing variable fails the start and names it.
const env = local ? undefined : readEnv(TCA_JOB_ENV);
const ordersTable = env
  ? Promise.resolve(env.ordersTable)
  : ensureLocalTradingTables(clients.dynamodb).then((t) => t.orders);

export const handler = instrumented(tools, async (event: unknown) => {
  // One day per run (today's, without `day` or `time`): the role writes only this day's object.
  const input = event && typeof event === 'object' ? event : {};
  const r = await recordTca(
    {
      doc: clients.doc,
      s3: clients.s3,
      ordersTable: await ordersTable,
      curatedBucket: env?.curatedBucket ?? buckets.curated,
      resultsBucket: env?.resultsBucket ?? buckets.results,
    },
    { time: new Date().toISOString(), ...input },
  );
  const { metrics } = tools;
  metrics.addMetric(M.parents, MetricUnit.Count, r.parents);
  metrics.addMetric(M.unfinished, MetricUnit.Count, r.unfinished);
  if (Number.isFinite(r.summary.shortfallBps))
    metrics.addMetric(M.shortfallBps, MetricUnit.NoUnit, r.summary.shortfallBps);
  const result = {
    account: r.account,
    day: r.day,
    parents: r.parents,
    unfinished: r.unfinished,
    keys: r.keys,
    summary: r.summary,
  };
  tools.logger.info('tca recorded', result);
  return result;
});
