/**
 * Names shared by the trading stack (lib/stacks/trading-stack.ts) and the trading runtime
 * (src/trading): the EventBridge rule routes only signals that carry exactly these.
 */

/** `source` of every TradingSignal event on the order bus; the signal rule matches only it. */
export const TRADING_SIGNAL_SOURCE = 'quant.strategies';

/** `detail-type` of a trading signal on the order bus. */
export const TRADING_SIGNAL_DETAIL_TYPE = 'TradingSignal';

/** The CloudWatch alarm state-change event the kill-switch rule routes and its function parses. */
export const ALARM_STATE_CHANGE = {
  source: 'aws.cloudwatch',
  detailType: 'CloudWatch Alarm State Change',
  /** The state that halts trading (OK and INSUFFICIENT_DATA change nothing). */
  alarm: 'ALARM',
} as const;

/** Environment variable with the one account the execution and algo-child functions trade. */
export const TRADING_ACCOUNT_ENV = 'TRADING_ACCOUNT';

/** Environment variables of the trading functions (execution, algo child, risk check, kill switch). */
export const TRADING_ENV = {
  account: TRADING_ACCOUNT_ENV,
  riskTable: 'RISK_TABLE',
  ordersTable: 'ORDERS_TABLE',
  idempotencyTable: 'IDEMPOTENCY_TABLE',
  /** Firehose stream of the audit trail. */
  auditStream: 'AUDIT_STREAM',
  deadLetterQueueUrl: 'DLQ_URL',
  /** EventBridge bus of order, fill and state events. @default no events */
  orderBus: 'ORDER_BUS',
  /** `paper` | `rest`. @default paper */
  broker: 'BROKER',
  paperCostBps: 'PAPER_COST_BPS',
  brokerUrl: 'BROKER_URL',
  brokerSecretArn: 'BROKER_SECRET_ARN',
  /** Oldest 1-minute bar accepted as a child's quote. */
  quoteMaxAgeMs: 'QUOTE_MAX_AGE_MS',
  /** The algorithm state machine the execution function starts parents on. @default no algorithms */
  algoStateMachineArn: 'ALGO_STATE_MACHINE_ARN',
} as const;
