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
import { CfnOutput, Duration } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
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
  QuantKey,
  RiskCheckApi,
  SignalChannels,
  StandbyMonitoring,
  StandbyNetwork,
  StandbyTables,
  TradingRiskAlarms,
  tradingEnvironment,
  type EncryptedTable,
  type TradingCore,
} from '../constructs';
import { LAKE_BUCKET_ENV } from '../../src/contract/lake';
import { DR_METRICS_NAMESPACE } from '../../src/contract/dr';
import { STANDBY_OUTPUTS, STANDBY_RISK_CHECK_ERRORS_METRIC } from '../../src/contract/dr-standby';

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
    const orderPath = {
      core,
      broker: this.broker,
      curatedBucket: curated,
      concurrency: trading.executionConcurrency,
      dormant,
      environment: {
        ...tradingEnvironment(core),
        ...this.broker.environment,
        [LAKE_BUCKET_ENV.curated]: curated.bucketName,
      },
    };
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
    this.addStandbyAlarms(monitoring);
    monitoring.addAlarmStatus();

    const out = (key: string, value: string, description: string) =>
      new CfnOutput(this, key, { value, description });
    const o = STANDBY_OUTPUTS;
    out(o.executionFunction, this.orderExecution.function.functionName, 'Standby execution function');
    out(
      o.executionConcurrency,
      String(trading.executionConcurrency),
      'Its reserved concurrency after failover',
    );
    out(o.algoChildFunction, this.algos.algoChild.functionName, 'Standby algo-child function');
    out(
      o.algoChildConcurrency,
      String(trading.executionConcurrency),
      'Its reserved concurrency after failover',
    );
    out(o.killSwitchFunction, this.halt.function.functionName, 'Standby kill switch');
    out(
      o.killSwitchConcurrency,
      String(trading.killSwitchConcurrency ?? 2),
      'Its reserved concurrency after failover',
    );
    out(
      o.signalsMapping,
      this.orderExecution.signalsSource.eventSourceMappingId,
      'Mapping of the standby signals stream onto execution',
    );
    out(o.orderBus, this.channels.bus.eventBusName, 'Standby order bus (signals in, order events out)');
    out(o.signalRule, this.orderExecution.signalRule.ruleName, 'Rule: bus signals to execution');
    out(o.reconcileRule, this.orderExecution.reconcileRule.ruleName, 'Rule: reconciliation schedule');
    out(o.killSwitchRule, killSwitchRule.ruleName, 'Rule: kill-switch alarms to the kill switch');
    out(
      o.signalsStream,
      this.channels.signals.streamName,
      'Standby signals stream (strategies send here after failover)',
    );
    out(o.riskCheckUrl, this.riskCheckApi.url.url, 'Standby risk-check URL (IAM auth)');
    out(o.riskTable, this.tables.risk.tableName, 'Replica risk table (the standby trades on it)');
    out(o.ordersTable, this.tables.orders.tableName, 'Replica orders table');
    out(o.idempotencyTable, this.tables.idempotency.tableName, 'Replica idempotency table');
    if (this.broker.secret)
      out(o.brokerSecret, this.broker.secret.secretArn, 'Standby broker API keys (set at setup)');
  }

  /**
   * While dormant, any attempt to run the order path or the kill switch is throttled (reserved
   * concurrency 0): a signal, a schedule or a caller reached the standby. That is either a
   * misdirected producer or a half-done failover; both need a person.
   */
  private addStandbyAlarms(monitoring: StandbyMonitoring): void {
    const fns = [this.orderExecution.function, this.algos.algoChild, this.halt.function];
    const throttles = fns.map((f) => f.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }));
    const invoked = new cw.MathExpression({
      expression: throttles.map((_, i) => `t${i}`).join(' + '),
      usingMetrics: Object.fromEntries(throttles.map((m, i) => [`t${i}`, m])),
      period: Duration.minutes(5),
      label: 'invocations refused by the dormant standby',
    });
    if (this.dormant)
      monitoring.alarm(this, 'StandbyInvokedWhileDormantAlarm', {
        description:
          'Something invoked the dormant DR standby (signal, schedule or caller) and was refused: make sure only the home region trades, or finish the failover (docs/disaster-recovery.md)',
        metric: invoked,
        threshold: 1,
      });
    // The read path of the replica, live even while dormant. The function answers a failed read
    // with a 500 (not a Lambda error) and logs it at ERROR: count both. It fires only when the
    // check is called (a probe at setup, a drill, or strategies after failover).
    const fn = this.riskCheckApi.function;
    const logged = new logs.MetricFilter(this, 'StandbyRiskCheckErrorFilter', {
      logGroup: fn.logGroupResource,
      filterPattern: logs.FilterPattern.stringValue('$.level', '=', 'ERROR'),
      metricNamespace: DR_METRICS_NAMESPACE,
      metricName: STANDBY_RISK_CHECK_ERRORS_METRIC,
      metricValue: '1',
    });
    monitoring.alarm(this, 'StandbyRiskCheckErrorsAlarm', {
      description:
        'The DR standby risk check failed (it could not read the replica risk table, or crashed): the standby would fail at failover',
      metric: new cw.MathExpression({
        expression: 'FILL(crashes, 0) + FILL(logged, 0)',
        usingMetrics: {
          crashes: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
          logged: logged.metric({ period: Duration.minutes(5), statistic: 'Sum' }),
        },
        period: Duration.minutes(5),
        label: 'risk-check errors',
      }),
      threshold: 1,
    });
  }
}
