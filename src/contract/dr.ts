/** Names shared by the disaster-recovery infrastructure (lib/) and its runtime (src/dr, lambda/). */

/** Table replicator: JSON object mapping each source table name to its DR-region table name. */
export const DR_TABLE_MAP_ENV = 'DR_TABLE_MAP';
/** Table replicator: the DR region its client writes to. */
export const DR_REGION_ENV = 'DR_REGION';
/** Metrics namespace of the table replicator (replication lag, records applied). */
export const DR_METRICS_NAMESPACE = 'Quant/DR';
/** Seconds between a change in the home table and its write in the DR replica (maximum per batch). */
export const DR_REPLICATION_LAG_METRIC = 'TableReplicationLagSeconds';

/** Construct id of the DR region's warm-standby stack (CloudFormation: `<env>-DisasterRecoveryStandby`). */
export const STANDBY_STACK_ID = 'DisasterRecoveryStandby';

/**
 * Outputs of the warm-standby stack that failover reads (src/dr/failover.ts): what to enable, and
 * the reserved concurrency each dormant function gets back.
 */
export const STANDBY_OUTPUTS = {
  executionFunction: 'StandbyExecutionFunction',
  executionConcurrency: 'StandbyExecutionConcurrency',
  algoChildFunction: 'StandbyAlgoChildFunction',
  algoChildConcurrency: 'StandbyAlgoChildConcurrency',
  killSwitchFunction: 'StandbyKillSwitchFunction',
  killSwitchConcurrency: 'StandbyKillSwitchConcurrency',
  signalsMapping: 'StandbySignalsMapping',
  orderBus: 'StandbyOrderBus',
  signalRule: 'StandbySignalRule',
  reconcileRule: 'StandbyReconcileRule',
  killSwitchRule: 'StandbyKillSwitchRule',
  signalsStream: 'StandbySignalsStream',
  riskCheckUrl: 'StandbyRiskCheckUrl',
  riskTable: 'StandbyRiskTable',
  ordersTable: 'StandbyOrdersTable',
  idempotencyTable: 'StandbyIdempotencyTable',
  brokerSecret: 'StandbyBrokerSecret',
} as const;

/** Errors the standby's risk check logged (metric filter, namespace `DR_METRICS_NAMESPACE`). */
export const STANDBY_RISK_CHECK_ERRORS_METRIC = 'StandbyRiskCheckErrors';
