/**
 * The warm standby in the DR region (docs/disaster-recovery.md, "Failover"): the trading compute of
 * lib/stacks/trading-stack.ts, built from the same constructs, pointed at the replica tables and
 * buckets of `DisasterRecoveryRegionStack`, and dormant until failover.
 *
 * Dormant means the order path (execution, algo-child) and the kill switch have reserved
 * concurrency 0, so nothing can invoke them, and their rules and stream mapping are disabled: the
 * standby cannot trade while the home region does, and writes nothing to the replica tables, which
 * only the home region's replicator writes. The risk-check API stays live: it only reads the
 * replica, so it shows the standby can reach its data. Failover lifts the dormancy in a few API
 * calls (`quant dr failover`, src/dr/failover.ts, reads the stack outputs named in
 * src/contract/dr-standby.ts); `disasterRecovery.standby.dormant: false` then makes it permanent.
 *
 * Not here, because nothing in the order path needs them to trade: the daily returns job and
 * stress test (the curated replica holds the last returns window), the strategy runner and the
 * training workflow, the Athena catalog of the audit trail.
 */
import type { StackProps } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { DisasterRecoveryConfig, TradingConfig } from '../config/types';
import {
  AlgoScheduler,
  AreaStack,
  AuditTrail,
  BrokerAccess,
  KillSwitch,
  OrderExecution,
  orderPathOf,
  QuantKey,
  RiskCheckApi,
  SignalChannels,
  StandbyAlarms,
  StandbyMonitoring,
  StandbyNetwork,
  StandbyOutputs,
  StandbyTables,
  TradingRiskAlarms,
  type EncryptedTable,
  type TradingCore,
} from '../constructs';

export interface DisasterRecoveryStandbyStackProps extends StackProps {
  readonly environmentName: string;
  /** The DR config; `standby` must be enabled, with its network. */
  readonly config: DisasterRecoveryConfig;
  /** The home region's trading config: the standby trades the same account the same way. */
  readonly trading: TradingConfig;
  /** Who gets the DR alarms, and how long the standby's logs are kept. */
  readonly alarmEmail: string;
  readonly logRetentionDays: number;
  /** The replicas in the DR region (`DisasterRecoveryRegionStack`). */
  readonly replicas: {
    readonly tables: Readonly<Record<'risk' | 'orders' | 'idempotency', EncryptedTable>>;
    readonly buckets: Readonly<Record<'curated' | 'audit', s3.IBucket>>;
    readonly keys: Readonly<Record<'lake' | 'audit' | 'trading', kms.IKey>>;
  };
}

/** Stateful only in its retained Elastic IPs, broker secret and queues; the rest is compute. */
export class DisasterRecoveryStandbyStack extends AreaStack {
  readonly key: QuantKey;
  readonly logKey: QuantKey;
  readonly monitoring: StandbyMonitoring;
  readonly network: StandbyNetwork;
  readonly tables: StandbyTables;
  readonly channels: SignalChannels;
  readonly audit: AuditTrail;
  readonly broker: BrokerAccess;
  readonly algos: AlgoScheduler;
  readonly orderExecution: OrderExecution;
  readonly riskCheckApi: RiskCheckApi;
  readonly halt: KillSwitch;
  readonly dormant: boolean;

  constructor(scope: Construct, id: string, props: DisasterRecoveryStandbyStackProps) {
    super(scope, id, props);
    const { config, trading, replicas } = props;
    const standby = config.standby;
    if (!standby?.enabled || !standby.network)
      throw new Error('DisasterRecoveryStandbyStack: disasterRecovery.standby is not enabled');
    const dormant = standby.dormant;
    this.dormant = dormant;

    this.key = new QuantKey(this, 'StandbyKey', {
      description: 'Quant DR standby: signals stream, queues, audit delivery, broker secret, alarm topic',
      allowEventBridge: true,
      allowCloudWatchAlarms: true,
    });
    this.logKey = new QuantKey(this, 'StandbyLogKey', {
      description: 'Quant DR standby: CloudWatch Logs',
      allowCloudWatchLogs: true,
    });
    const monitoring = new StandbyMonitoring(this, 'Monitoring', {
      environmentName: props.environmentName,
      alarmEmail: props.alarmEmail,
      topicKey: this.key,
      logKey: this.logKey,
      logRetentionDays: props.logRetentionDays,
    });
    this.monitoring = monitoring;
    this.network = new StandbyNetwork(this, 'Network', { network: standby.network, logKey: this.logKey });
    this.tables = new StandbyTables(
      replicas.tables.risk,
      replicas.tables.orders,
      replicas.tables.idempotency,
      replicas.keys.trading,
    );
    this.channels = new SignalChannels(this, 'Channels', {
      encryptionKey: this.key,
      signalShards: trading.signalShards,
    });
    // Into the audit replica: after failover the trail continues where the replication left it.
    this.audit = new AuditTrail(this, 'Audit', {
      bucket: replicas.buckets.audit,
      bucketKey: replicas.keys.audit,
      encryptionKey: this.key,
      logKey: this.logKey,
      logRetentionDays: props.logRetentionDays,
    });
    const core: TradingCore = {
      account: trading.account,
      key: this.key,
      tables: this.tables,
      audit: this.audit,
      bus: this.channels.bus,
      deadLetterQueue: this.channels.deadLetterQueue,
      logKey: this.logKey,
      logRetentionDays: props.logRetentionDays,
    };
    // Its own secret (set once at setup, docs/disaster-recovery.md): the home secret's replica
    // would carry a random ARN suffix this stack cannot know without a cross-region lookup.
    this.broker = new BrokerAccess(this, 'Broker', {
      broker: trading.broker,
      brokerUrl: trading.brokerUrl,
      paperCostBps: trading.paperCostBps,
      quoteMaxAgeMs: trading.quoteMaxAgeMs,
      encryptionKey: this.key,
      egress: { vpc: this.network.vpc, subnets: this.network.egressSubnets },
    });
    const curated = replicas.buckets.curated;
    const orderPath = orderPathOf({
      core,
      broker: this.broker,
      curatedBucket: curated,
      concurrency: trading.executionConcurrency,
      dormant,
    });
    this.algos = new AlgoScheduler(this, 'Algos', orderPath);
    this.orderExecution = new OrderExecution(this, 'OrderExecution', {
      ...orderPath,
      signals: this.channels.signals,
      algoStateMachine: this.algos.stateMachine,
      errorAlarmThreshold: trading.killSwitchErrorThreshold,
      monitoring,
    });
    this.riskCheckApi = new RiskCheckApi(this, 'RiskCheckApi', {
      core,
      concurrency: trading.riskCheckConcurrency,
    });
    this.halt = new KillSwitch(this, 'Halt', {
      core,
      monitoring,
      concurrency: trading.killSwitchConcurrency,
      dormant,
    });
    const riskAlarms = new TradingRiskAlarms(this, 'RiskAlarms', { monitoring });
    const killSwitchRule = this.halt.haltOn([this.orderExecution.errorAlarm, ...riskAlarms.lossAlarms]);
    new StandbyAlarms(this, 'Alarms', {
      monitoring,
      dormant,
      dormantFunctions: [this.orderExecution.function, this.algos.algoChild, this.halt.function],
      riskCheck: this.riskCheckApi.function,
    });
    monitoring.addAlarmStatus();
    const { orderExecution, algos, halt, channels, riskCheckApi, tables, broker } = this;
    new StandbyOutputs(this, 'Outputs', {
      orderExecution,
      algos,
      halt,
      channels,
      riskCheckApi,
      tables,
      broker,
      killSwitchRule,
      executionConcurrency: trading.executionConcurrency,
      killSwitchConcurrency: trading.killSwitchConcurrency,
    });
  }
}
