import type * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { TRADING_ENV } from '../../src/contract/trading';
import { TRADING_METRICS } from '../../src/contract/metrics';
import type { AuditTrail } from './audit-trail';
import type { QuantFunctionProps } from './quant-function';
import type { TradingTables } from './trading-tables';

/** What every trading function works with: one account's tables, audit trail, order bus and key. */
export interface TradingCore {
  /** The one account this deployment trades. */
  readonly account: string;
  /** The trading key (tables, stream, queues, audit delivery). */
  readonly key: kms.IKey;
  readonly tables: TradingTables;
  readonly audit: AuditTrail;
  /** Order, fill and state events out (source quant.trading); signals in. */
  readonly bus: events.IEventBus;
  /** Poison signals and failed asynchronous invocations (alarmed). */
  readonly deadLetterQueue: sqs.IQueue;
  /** Key and retention of the functions' log groups. */
  readonly logKey: kms.IKey;
  readonly logRetentionDays: number;
}

/** The environment every trading function reads its tables, stream, queue, account and bus from. */
export function tradingEnvironment(core: TradingCore): Record<string, string> {
  return {
    [TRADING_ENV.riskTable]: core.tables.risk.tableName,
    [TRADING_ENV.ordersTable]: core.tables.orders.tableName,
    [TRADING_ENV.idempotencyTable]: core.tables.idempotency.tableName,
    [TRADING_ENV.auditStream]: core.audit.deliveryStream.ref,
    [TRADING_ENV.deadLetterQueueUrl]: core.deadLetterQueue.queueUrl,
    [TRADING_ENV.account]: core.account,
    [TRADING_ENV.orderBus]: core.bus.eventBusName,
  };
}

/** Log group and metrics namespace of a trading function. */
export function tradingFunctionDefaults(
  core: TradingCore,
): Pick<QuantFunctionProps, 'logKey' | 'logRetentionDays' | 'metricsNamespace'> {
  return {
    logKey: core.logKey,
    logRetentionDays: core.logRetentionDays,
    metricsNamespace: TRADING_METRICS.namespace,
  };
}

/** Audit records (Firehose) and order, fill and state events (the bus) out of `fn`. */
export function grantTradingEvents(core: TradingCore, fn: iam.IGrantable): void {
  core.audit.grantPut(fn);
  core.bus.grantPutEventsTo(fn);
}
