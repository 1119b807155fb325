import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { BARS, LAKE_PREFIXES } from '../../src/contract/lake';
import { TRADING_ENV } from '../../src/contract/trading';
import type { WildcardReason } from './acknowledge-wildcards';
import { TRADING_METRICS } from '../../src/contract/metrics';
import type { AuditTrail } from './audit-trail';
import type { QuantFunctionProps } from './quant-function';

/**
 * The three trading tables a trading function works with: the home region's `TradingTables`, or
 * the DR region's replicas for the warm standby (lib/constructs/standby-tables.ts).
 */
export interface TradingTableSet {
  readonly risk: dynamodb.ITable;
  readonly orders: dynamodb.ITable;
  readonly idempotency: dynamodb.ITable;
  /** Reads of the risk table; put / update only on items whose key matches `keys`. */
  grantRiskWrites(
    grantee: iam.IGrantable & { addToRolePolicy(s: iam.PolicyStatement): void },
    keys: readonly string[],
  ): void;
}

/**
 * The order path's access to the orders table (src/trading/execution.ts): consistent gets and
 * conditional puts, and with `reconcile` the scan of the execution function's reconciliation. No
 * function updates, deletes or batch-writes an order record, so none may. The table's key comes
 * with `grantRiskWrites` (one key for the three tables).
 */
export function grantOrderRecords(
  tables: TradingTableSet,
  grantee: iam.IGrantable,
  opts: { readonly reconcile?: boolean } = {},
): void {
  tables.orders.grant(
    grantee,
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    ...(opts.reconcile ? ['dynamodb:Scan'] : []),
  );
}

/** What every trading function works with: one account's tables, audit trail, order bus and key. */
export interface TradingCore {
  /** The one account this deployment trades. */
  readonly account: string;
  /** The trading key (tables, stream, queues, audit delivery). */
  readonly key: kms.IKey;
  readonly tables: TradingTableSet;
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

/**
 * A dormant standby function has reserved concurrency 0 (nothing can invoke it), which NIST 800-53
 * R5 LambdaConcurrency reads as "no limit": acknowledged here, with the reason.
 */
export function acknowledgeDormant(fn: IConstruct): void {
  Validations.of(fn).acknowledge({
    id: 'NIST.800.53.R5-LambdaConcurrency',
    reason:
      'Dormant warm standby in the DR region: reserved concurrency 0 is the switch that keeps it from running (no double trading while the home region trades); failover sets the configured limit (docs/disaster-recovery.md).',
  });
}

/** Audit records (Firehose) and order, fill and state events (the bus) out of `fn`. */
export function grantTradingEvents(core: TradingCore, fn: iam.IGrantable): void {
  core.audit.grantPut(fn);
  core.bus.grantPutEventsTo(fn);
}

const suffix = (prefix: string) => new RegExp(`/${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/\\*$`);

/** IAM5 findings of the trading functions' grants, each with its reason (`acknowledgeWildcards`). */
export const TRADING_WILDCARDS = {
  kmsDataKeys: [
    /^Action::kms:(GenerateDataKey|ReEncrypt)\*$/,
    'Data-key actions that SSE-KMS needs; the statements are limited to the trading, audit and lake keys.',
  ],
  curatedReadActions: [
    /^Action::s3:(GetObject|GetBucket|List)\*$/,
    'CDK read grant action groups (s3:GetObject*, s3:GetBucket*, s3:List*) of the curated bucket: the object actions are limited to the risk/returns/ and bars prefixes the function reads, the bucket actions (listing included) apply to the whole curated bucket.',
  ],
  returnsWindows: [
    suffix(LAKE_PREFIXES.riskReturns),
    'One returns-window object per account (written by a job) under risk/returns/ in the curated zone.',
  ],
  bars: [
    (finding: string) =>
      suffix(LAKE_PREFIXES.minuteBars).test(finding) ||
      suffix(LAKE_PREFIXES.dailyBars).test(finding) ||
      suffix(`${LAKE_PREFIXES.pending}/${BARS.name}`).test(finding),
    "Read-only: the 1-minute bars (one partition per symbol and year) for child quotes and VWAP curves; the daily bars for the returns-window job; the bars table's pending markers (one per import in progress, named by a hash), which the bar reader checks before it reads.",
  ],
} as const satisfies Record<string, WildcardReason>;
