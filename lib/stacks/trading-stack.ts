/**
 * Trading: the stack composes the areas in lib/constructs/, in this order: the trading key and
 * DynamoDB tables (risk state, limits and books; orders; idempotency), the signals stream, order
 * bus and dead-letter queue, the audit trail (Firehose into the write-once audit bucket, Glue table
 * `audit_events`), broker access, the algorithm scheduler, order execution, the risk-check API, the
 * kill switch, the daily returns job, and the risk alarms with the trading section of the dashboard.
 * Runtime logic lives in src/risk and src/trading; the handlers in lambda/<name>.
 */
import type { StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { TradingConfig } from '../config/types';
import {
  AlgoScheduler,
  AreaStack,
  AuditTrail,
  BrokerAccess,
  DailyStress,
  DailyTca,
  KillSwitch,
  OrderExecution,
  orderPathOf,
  QuantKey,
  ReturnsJob,
  RiskCheckApi,
  SignalChannels,
  TradingRiskAlarms,
  TradingTables,
} from '../constructs';
import type { TradingCore } from '../constructs';
import type { LakeZone } from './data-lake-stack';
import type { IMonitoring } from './monitoring-stack';

export interface TradingStackProps extends StackProps {
  readonly config: TradingConfig;
  /** The lake: the write-once audit bucket, its key and the Glue database. */
  readonly lake: {
    readonly buckets: Readonly<Record<LakeZone, s3.IBucket>>;
    readonly auditKey: kms.IKey;
    readonly databaseName: string;
  };
  readonly monitoring: IMonitoring;
  /**
   * Where the broker-facing functions (execution, algo-child) run: private subnets whose only way
   * out is the NAT gateways' fixed Elastic IPs (the broker's allow-list), HTTPS only.
   * @default outside a VPC (Lambda's shared egress)
   */
  readonly brokerEgress?: {
    readonly vpc: ec2.IVpc;
    readonly subnets: ec2.SubnetSelection;
  };
  /**
   * DynamoDB Streams (new and old images) on the tables, for their replication to the DR region
   * (lib/stacks/disaster-recovery-stack.ts). Adding a stream updates a table in place.
   * @default false
   */
  readonly changeStreams?: boolean;
}

/**
 * Its areas extend `Area` (lib/constructs/area.ts): their resources keep the logical ids they had
 * when this stack created them directly (tables, queues and secrets are retained data).
 */
export class TradingStack extends AreaStack {
  readonly key: QuantKey;
  /** Risk state, limits and books; orders; idempotency records. */
  readonly tables: TradingTables;
  /** The signals stream, the order bus (`OrderEvents`) and the dead-letter queue. */
  readonly channels: SignalChannels;
  readonly audit: AuditTrail;
  readonly broker: BrokerAccess;
  readonly algos: AlgoScheduler;
  readonly orderExecution: OrderExecution;
  readonly riskCheckApi: RiskCheckApi;
  readonly halt: KillSwitch;
  /** Publishes the account's returns window daily from the lake's daily bars (config.returnsJob). */
  readonly returnsJob?: ReturnsJob;
  readonly riskAlarms: TradingRiskAlarms;
  /** The daily TCA of the account's parent orders into the lake's tca table. */
  readonly dailyTca: DailyTca;

  constructor(scope: Construct, id: string, props: TradingStackProps) {
    super(scope, id, props);
    const { config, lake, monitoring } = props;
    const curated = lake.buckets.curated;

    this.key = new QuantKey(this, 'TradingKey', {
      description: 'Trading tables, signals stream, dead-letter queue and audit delivery',
      allowEventBridge: true,
    });
    this.tables = new TradingTables(this, 'Tables', {
      encryptionKey: this.key,
      changeStreams: props.changeStreams,
    });
    this.channels = new SignalChannels(this, 'Channels', {
      encryptionKey: this.key,
      signalShards: config.signalShards,
    });
    const { bus, deadLetterQueue } = this.channels;

    this.audit = new AuditTrail(this, 'Audit', {
      bucket: lake.buckets.audit,
      bucketKey: lake.auditKey,
      encryptionKey: this.key,
      databaseName: lake.databaseName,
      logKey: monitoring.logKey,
      logRetentionDays: monitoring.logRetentionDays,
    });
    const core: TradingCore = {
      account: config.account,
      key: this.key,
      tables: this.tables,
      audit: this.audit,
      bus,
      deadLetterQueue,
      logKey: monitoring.logKey,
      logRetentionDays: monitoring.logRetentionDays,
    };

    this.broker = new BrokerAccess(this, 'Broker', {
      broker: config.broker,
      brokerUrl: config.brokerUrl,
      paperCostBps: config.paperCostBps,
      quoteMaxAgeMs: config.quoteMaxAgeMs,
      encryptionKey: this.key,
      egress: props.brokerEgress,
    });
    const orderPath = orderPathOf({
      core,
      broker: this.broker,
      curatedBucket: curated,
      concurrency: config.executionConcurrency,
    });
    this.algos = new AlgoScheduler(this, 'Algos', orderPath);
    this.orderExecution = new OrderExecution(this, 'OrderExecution', {
      ...orderPath,
      signals: this.channels.signals,
      algoStateMachine: this.algos.stateMachine,
      errorAlarmThreshold: config.killSwitchErrorThreshold,
      monitoring,
    });
    this.riskCheckApi = new RiskCheckApi(this, 'RiskCheckApi', {
      core,
      concurrency: config.riskCheckConcurrency,
    });
    this.halt = new KillSwitch(this, 'Halt', { core, monitoring, concurrency: config.killSwitchConcurrency });
    if (config.returnsJob) {
      this.returnsJob = new ReturnsJob(this, 'Returns', {
        ...config.returnsJob,
        account: config.account,
        curatedBucket: curated,
        deadLetterQueue,
        logKey: monitoring.logKey,
        logRetentionDays: monitoring.logRetentionDays,
        monitoring,
      });
      // The daily stress test of the book, after the returns job (lib/constructs/daily-stress.ts).
      const stress = { account: config.account, riskTable: this.tables.risk, after: config.returnsJob };
      new DailyStress(this, 'DailyStress', { ...stress, lake, monitoring });
    }

    // TCA of the day's finished parents into the lake's tca table, after the close.
    this.dailyTca = new DailyTca(this, 'DailyTca', {
      account: config.account,
      ordersTable: this.tables.orders,
      lake,
      monitoring,
    });

    this.riskAlarms = new TradingRiskAlarms(this, 'RiskAlarms', { monitoring });
    // Execution errors, drawdown and daily loss trip the kill switch.
    this.halt.haltOn([this.orderExecution.errorAlarm, ...this.riskAlarms.lossAlarms]);
    this.riskAlarms.addDashboardSection(this.orderExecution.function, this.orderExecution.deadLetterDepth);
  }
}
