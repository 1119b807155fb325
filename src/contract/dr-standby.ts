/**
 * Names shared by the DR region's warm standby (lib/stacks/disaster-recovery-standby-stack.ts) and
 * the failover runbook (src/dr/failover.ts). A file of its own: the replicator Lambda bundles
 * src/contract/dr.ts, and its asset stays unchanged when these change.
 */
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
