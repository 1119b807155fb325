/**
 * Risk-stress Lambda: on its daily schedule (after the returns job), stresses the account's book
 * under the configured scenarios, as `quant risk stress --scenarios` does, writes the result to the
 * audit zone and publishes the worst P&L, the P&L per scenario and the breaches as metrics (the
 * breaches are alarmed). The schedule's input is `{account, scenarios, reverse}`. Logic:
 * src/risk/stress-job `runStressJob`.
 */
import { createClients } from '../../src/aws/clients';
import { dimensionMetric, instrumented, MetricUnit, powertools } from '../../src/aws/powertools';
import { readEnv, text } from '../../src/contract/env';
import { LAKE_BUCKET_ENV } from '../../src/contract/lake';
import { STRESS_METRICS as M } from '../../src/contract/metrics';
import { TRADING_ENV } from '../../src/contract/trading';
import { lakeBuckets } from '../../src/lake/buckets';
import { runStressJob } from '../../src/risk/stress-job';
import { runtimeFromEnv } from '../../src/trading/lambda-support';
import { ensureLocalTradingTables } from '../../src/trading/tables';

const tools = powertools({ serviceName: M.service, namespace: M.namespace });
const clients = createClients(runtimeFromEnv(process.env));
const local = clients.runtime.mode === 'local';
const buckets = lakeBuckets(clients.runtime, process.env);
// Read at cold start: a missing variable fails the start and names it.
const env = local
  ? undefined
  : readEnv({
      riskTable: text(TRADING_ENV.riskTable),
      curated: text(LAKE_BUCKET_ENV.curated),
      audit: text(LAKE_BUCKET_ENV.audit),
    });
const riskTable = env
  ? Promise.resolve(env.riskTable)
  : ensureLocalTradingTables(clients.dynamodb).then((t) => t.risk);

export const handler = instrumented(tools, async (event: unknown) => {
  const r = await runStressJob(
    {
      doc: clients.doc,
      s3: clients.s3,
      riskTable: await riskTable,
      curatedBucket: env?.curated ?? buckets.curated,
      auditBucket: env?.audit ?? buckets.audit,
    },
    event,
  );
  const { metrics } = tools;
  for (const s of r.scenarios)
    dimensionMetric(metrics, [M.scenarioDimension, s.name], M.pnl, MetricUnit.NoUnit, s.pnl);
  metrics.addMetric(M.worstPnlPctNav, MetricUnit.Percent, r.worst.pnlPctNav);
  metrics.addMetric(M.breaches, MetricUnit.Count, r.breaches);
  if (r.reverse && r.reverse.equity !== null)
    metrics.addMetric(M.reverseEquityShockPct, MetricUnit.Percent, r.reverse.equity * 100);
  tools.logger.info('stress run published', {
    account: r.account,
    key: r.key,
    nav: r.nav,
    worst: r.worst,
    breaches: r.breaches,
    reverse: r.reverse,
    varBudgetNotEvaluated: r.varBudgetNotEvaluated,
  });
  // The full result (positions and groups) is in the audit zone; the invocation returns a summary.
  return {
    account: r.account,
    key: r.key,
    worst: r.worst,
    breaches: r.breaches,
    scenarios: r.scenarios.map((s) => ({
      name: s.name,
      pnl: s.pnl,
      breaches: s.breaches.map((b) => b.rule),
    })),
    ...(r.reverse ? { reverse: r.reverse } : {}),
  };
});
