/**
 * Kill switch: a CloudWatch alarm (drawdown, loss, error rate) entering ALARM sets the trading
 * account HALTED (latched: only `quant risk resume` with actor and reason clears it).
 */
import { createClients } from '../../src/aws/clients';
import { instrumented, MetricUnit, powertools } from '../../src/aws/powertools';
import { readEnv } from '../../src/contract/env';
import { TRADED_ACCOUNT_ENV } from '../../src/contract/functions';
import { TRADING_METRICS as M, FUNCTION_SERVICE } from '../../src/contract/metrics';
import { tradingServices } from '../../src/trading/context';
import { onKillSwitchAlarm, runtimeFromEnv } from '../../src/trading/lambda-support';
import { STATE_LEVEL } from '../../src/trading/post-trade';

const { account } = readEnv(TRADED_ACCOUNT_ENV);
const tools = powertools({ serviceName: FUNCTION_SERVICE.killSwitch, namespace: M.namespace });
const services = tradingServices(createClients(runtimeFromEnv(process.env)), process.env);

export const handler = instrumented(tools, async (event: unknown) => {
  const r = await onKillSwitchAlarm(await services, event, account);
  tools.logger.info('kill switch', { account, ...r });
  // The HALTED alarm of the dashboard watches this metric.
  tools.metrics.addMetric(M.halts, MetricUnit.Count, r.changed ? 1 : 0);
  tools.metrics.addMetric(M.tradingState, MetricUnit.Count, STATE_LEVEL[r.state]);
  return r;
});
