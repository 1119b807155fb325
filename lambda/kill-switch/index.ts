/**
 * Kill switch: a CloudWatch alarm (drawdown, loss, error rate) entering ALARM sets the trading
 * account HALTED (latched: only `quant risk resume` with actor and reason clears it).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { createClients } from '../../src/aws/clients';
import { tradingServices } from '../../src/trading/context';
import { onKillSwitchAlarm, runtimeFromEnv } from '../../src/trading/lambda-support';
import { STATE_LEVEL } from '../../src/trading/post-trade';

const logger = new Logger({ serviceName: 'kill-switch' });
const metrics = new Metrics({ namespace: 'Quant/Trading', serviceName: 'kill-switch' });
const account = process.env.TRADING_ACCOUNT;
if (!account) throw new Error('environment variable TRADING_ACCOUNT is required');
const services = tradingServices(createClients(runtimeFromEnv(process.env)), process.env);

export async function handler(event: unknown, context: Context) {
  logger.addContext(context);
  try {
    const r = await onKillSwitchAlarm(await services, event, account!);
    logger.info('kill switch', { account, ...r });
    // The HALTED alarm of the dashboard watches this metric.
    metrics.addMetric('Halts', MetricUnit.Count, r.changed ? 1 : 0);
    metrics.addMetric('TradingState', MetricUnit.Count, STATE_LEVEL[r.state]);
    return r;
  } finally {
    metrics.publishStoredMetrics();
  }
}
