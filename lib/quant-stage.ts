import { Annotations, RemovalPolicies, Stage, Tags } from 'aws-cdk-lib';
import type { StackProps, StageProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from './config/types';
import { parseEnvironment } from './config/schema';
import { acknowledgeInlinePolicies } from './constructs';
import { DataLakeStack } from './stacks/data-lake-stack';
import { DashboardStack, MonitoringHub, MonitoringStack } from './stacks/monitoring-stack';
import { NetworkStack } from './stacks/network-stack';
import { BacktestStack } from './stacks/backtest-stack';
import { TradingStack } from './stacks/trading-stack';
import { DataSyncStack } from './stacks/data-sync-stack';
import { IngestionStack } from './stacks/ingestion-stack';
import { FeedHandlerStack } from './stacks/feed-handler-stack';
import { TrainingStack } from './stacks/training-stack';
import { BucketReplication, drKeyAlias, replicaBucketName } from './constructs';
import {
  DisasterRecoveryRegionStack,
  DisasterRecoveryStack,
  REPLICATED_ZONES,
} from './stacks/disaster-recovery-stack';
import { DisasterRecoveryStandbyStack } from './stacks/disaster-recovery-standby-stack';
import { STANDBY_STACK_ID } from '../src/contract/dr-standby';

/** The environment whose data is always retained, whatever the context says. */
const ALWAYS_RETAINED = 'prod';

export interface QuantStageProps extends StageProps {
  /**
   * The environment this stage deploys (account, region and every size and limit), as written in
   * lib/config/environments.ts: the stage checks it against lib/config/schema.ts before building anything.
   */
  readonly config: EnvironmentConfig;
  /**
   * Let CloudFormation delete this environment's data (buckets, keys, tables, streams, log groups)
   * with its stacks, so a dev environment can be torn down (`-c quant:allowDestroy=true`). Prod
   * ignores it: its data is always retained. Buckets must be emptied before their stack is deleted.
   * @default false (every stateful resource keeps its RETAIN policy)
   */
  readonly allowDestroy?: boolean;
}

/**
 * One whole environment (dev, staging or prod). Stacks inside are named `Network`, `DataLake`, ...;
 * CloudFormation stack names become `<env>-Network`, `<env>-DataLake`, ...
 *
 * Adding an area's stack: construct it in the constructor below (after the shared stacks), pass it the
 * handles it needs through typed props, and spread `this.stackProps(...)` into its props:
 *
 *   this.ingestion = new IngestionStack(this, 'Ingestion', {
 *     ...this.stackProps('Kinesis ticks stream and the S3 writer', { stateful: false }),
 *     config: config.ingestion, vpc: this.network.vpc, lake: this.dataLake, monitoring: this.monitoring,
 *   });
 */
export class QuantStage extends Stage {
  readonly config: EnvironmentConfig;
  /** Alarm topic and log key (stack `Monitoring`, built first). */
  readonly alerts: MonitoringStack;
  readonly network: NetworkStack;
  /** Stateful: keys, buckets, Glue catalog, Athena workgroup. */
  readonly dataLake: DataLakeStack;
  /** The environment's dashboard (stack `Dashboard`; depends on every stack that contributes). */
  readonly dashboard: DashboardStack;
  /** What stacks use to add alarms and dashboard widgets. */
  readonly monitoring: MonitoringHub;
  /** Backtest sweeps: ECS batch tasks and the sweep state machine. */
  readonly backtest: BacktestStack;
  /** Trading: risk tables, execution / risk-check / kill-switch Lambdas, audit delivery. */
  readonly trading: TradingStack;
  /** Vendor data sync: DataSync tasks (pull) or replication grants (push), vendor Glue tables. */
  readonly dataSync: DataSyncStack;
  /** Market data: Kinesis ticks stream, consumer into the raw zone, Glue bars and compaction. */
  readonly ingestion: IngestionStack;
  /** Machine learning: training workflow, drift check, strategy runner. */
  readonly training: TrainingStack;
  /** CME feed handler on EC2 behind a Transit Gateway multicast domain (absent when `feed.enabled` is false). */
  readonly feed?: FeedHandlerStack;
  /** DR region: replica keys, buckets and tables, the DR backup vault (when `disasterRecovery` is set). */
  readonly disasterRecoveryRegion?: DisasterRecoveryRegionStack;
  /** Home region: backup vault and plan, trading-table replicator, replication alarms. */
  readonly disasterRecovery?: DisasterRecoveryStack;
  /** DR region: the dormant warm standby of the trading compute (when `disasterRecovery.standby.enabled`). */
  readonly disasterRecoveryStandby?: DisasterRecoveryStandbyStack;

  constructor(scope: Construct, id: string, props: QuantStageProps) {
    const { allowDestroy = false, ...stageProps } = props;
    const config = parseEnvironment(props.config);
    super(scope, id, { ...stageProps, env: { account: config.account, region: config.region } });
    this.config = config;
    if (allowDestroy && config.name === ALWAYS_RETAINED) {
      Annotations.of(this).addWarningV2(
        'quant:allowDestroyIgnored',
        `${config.name} always retains its data: quant:allowDestroy is ignored`,
      );
    } else if (allowDestroy) {
      RemovalPolicies.of(this).destroy();
    }
    // Answer the AZ lookup of every stack in this stage from config: synth stays offline and deterministic.
    this.node.setContext(`availability-zones:account=${config.account}:region=${config.region}`, [
      ...config.network.availabilityZones,
    ]);
    const standbyNet = config.disasterRecovery?.standby?.enabled && config.disasterRecovery.standby.network;
    if (standbyNet) {
      // The same for the DR region's warm standby (its own VPC).
      this.node.setContext(
        `availability-zones:account=${config.account}:region=${config.disasterRecovery!.drRegion}`,
        [...standbyNet.availabilityZones],
      );
    }
    Tags.of(this).add('project', 'quant-platform');
    Tags.of(this).add('environment', config.name);
    acknowledgeInlinePolicies(this);

    this.alerts = new MonitoringStack(this, 'Monitoring', {
      ...this.stackProps('Alarm topic and log encryption key', { stateful: true }),
      environmentName: config.name,
      alarmEmail: config.monitoring.alarmEmail,
      logRetentionDays: config.monitoring.logRetentionDays,
    });
    this.dashboard = new DashboardStack(this, 'Dashboard', {
      ...this.stackProps('CloudWatch dashboard of the environment', { stateful: false }),
      environmentName: config.name,
    });
    this.monitoring = new MonitoringHub(this.alerts, this.dashboard);

    this.network = new NetworkStack(this, 'Network', {
      ...this.stackProps('VPC, endpoints and flow logs', { stateful: false }),
      network: config.network,
      logKey: this.alerts.logKey,
      monitoring: this.monitoring,
    });
    this.dataLake = new DataLakeStack(this, 'DataLake', {
      ...this.stackProps('Data lake: buckets, keys, Glue catalog, Athena workgroup', { stateful: true }),
      environmentName: config.name,
      dataLake: config.dataLake,
      monitoring: this.monitoring,
    });

    // Area stacks go here (see the class comment).
    this.backtest = new BacktestStack(this, 'Backtest', {
      ...this.stackProps('Backtest sweeps: ECS batch tasks and the sweep state machine', { stateful: false }),
      backtest: config.backtest,
      vpc: this.network.vpc,
      taskSubnets: this.network.isolatedSubnets,
      lake: this.dataLake,
      monitoring: this.monitoring,
    });
    this.ingestion = new IngestionStack(this, 'Ingestion', {
      // Stateful: the stream holds ticks not yet in the lake.
      ...this.stackProps('Kinesis ticks stream, consumer into the raw zone, Glue bars and compaction', {
        stateful: true,
      }),
      config: config.ingestion,
      lake: this.dataLake,
      monitoring: this.monitoring,
      vpc: this.network.vpc,
      egressSubnets: this.network.egressSubnets,
    });
    this.dataSync = new DataSyncStack(this, 'DataSync', {
      ...this.stackProps('Vendor data sync: DataSync tasks, replication grants, vendor tables', {
        stateful: false,
      }),
      vendorSync: config.vendorSync,
      lake: this.dataLake,
      monitoring: this.monitoring,
    });
    this.trading = new TradingStack(this, 'Trading', {
      // Stateful: orders, positions, limits and trading states.
      ...this.stackProps('Trading: risk state, execution, kill switch, audit trail', { stateful: true }),
      config: config.trading,
      lake: this.dataLake,
      monitoring: this.monitoring,
      brokerEgress: { vpc: this.network.vpc, subnets: this.network.egressSubnets },
      changeStreams: config.disasterRecovery !== undefined,
    });
    this.training = new TrainingStack(this, 'Training', {
      ...this.stackProps('Machine learning: SageMaker training workflow, drift check, strategy runner', {
        stateful: false,
      }),
      config: config.training,
      vpc: this.network.vpc,
      isolatedSubnets: this.network.isolatedSubnets,
      lake: this.dataLake,
      signalBus: this.trading.channels.bus,
      tradingAccount: config.trading.account,
      monitoring: this.monitoring,
    });
    if (config.feed.enabled) {
      this.feed = new FeedHandlerStack(this, 'FeedHandler', {
        ...this.stackProps('CME feed handler: Transit Gateway multicast, EC2 handlers, relay', {
          stateful: false,
        }),
        config: config.feed,
        network: config.network,
        vpc: this.network.vpc,
        ticksStream: this.ingestion.stream,
        monitoring: this.monitoring,
      });
    }
    if (config.disasterRecovery) {
      const dr = this.addDisasterRecovery(config.disasterRecovery);
      this.disasterRecoveryRegion = dr.region;
      this.disasterRecovery = dr.home;
      this.disasterRecoveryStandby = dr.standby;
    } else {
      this.dataLake.acknowledgeNoReplication();
    }
  }

  /** Replicas in the DR region first; the lake's replication and the backups point at them. */
  private addDisasterRecovery(dr: NonNullable<EnvironmentConfig['disasterRecovery']>): {
    region: DisasterRecoveryRegionStack;
    home: DisasterRecoveryStack;
    standby?: DisasterRecoveryStandbyStack;
  } {
    const { config } = this;
    // Just the three tables: the replicas are made for every key of this object.
    const { risk, orders, idempotency } = this.trading.tables;
    const tables = { risk, orders, idempotency };
    const naming = { environmentName: config.name, account: config.account, drRegion: dr.drRegion };
    const region = new DisasterRecoveryRegionStack(this, 'DisasterRecoveryRegion', {
      ...this.stackProps(`DR region ${dr.drRegion}: replica keys, buckets and tables, backup copies`, {
        stateful: true,
      }),
      env: { account: config.account, region: dr.drRegion },
      naming,
      config: dr,
      dataLake: config.dataLake,
      tables,
    });
    const buckets = REPLICATED_ZONES.map((zone) => ({
      name: zone,
      bucket: this.dataLake.buckets[zone],
      sourceKey: zone === 'audit' ? this.dataLake.auditKey : this.dataLake.lakeKey,
      destinationBucketName: replicaBucketName(naming, zone),
      destinationKeyAlias: drKeyAlias(naming, zone === 'audit' ? 'audit' : 'lake'),
    }));
    const replication = new BucketReplication(this.dataLake, 'DrReplication', {
      buckets,
      destinationRegion: dr.drRegion,
      replicationTimeControl: dr.replicationTimeControl,
    });
    this.dataLake.addStackDependency(region, 'replication rules name the replica buckets');
    const home = new DisasterRecoveryStack(this, 'DisasterRecovery', {
      ...this.stackProps('Disaster recovery: locked backups, trading-table replication, replication alarms', {
        stateful: true,
      }),
      naming,
      config: dr,
      tables,
      buckets: (['raw', 'curated', 'vendor', 'results', 'models', 'audit'] as const).map(
        (z) => this.dataLake.buckets[z],
      ),
      replication: { construct: replication, buckets },
      monitoring: this.monitoring,
    });
    home.addStackDependency(region, 'backup copies go to the DR vault; replicas must exist');
    return { region, home, standby: this.addStandby(dr, region) };
  }

  /** The dormant trading compute in the DR region, on the replicas (docs/disaster-recovery.md). */
  private addStandby(
    dr: NonNullable<EnvironmentConfig['disasterRecovery']>,
    region: DisasterRecoveryRegionStack,
  ): DisasterRecoveryStandbyStack | undefined {
    const { config } = this;
    const network = dr.standby?.enabled ? dr.standby.network : undefined;
    if (!network) return undefined;
    return new DisasterRecoveryStandbyStack(this, STANDBY_STACK_ID, {
      ...this.stackProps(`DR region ${dr.drRegion}: dormant warm standby of the trading compute`, {
        stateful: true,
      }),
      env: { account: config.account, region: dr.drRegion },
      environmentName: config.name,
      config: dr,
      trading: config.trading,
      alarmEmail: config.monitoring.alarmEmail,
      logRetentionDays: config.monitoring.logRetentionDays,
      replicas: region,
    });
  }

  /**
   * Common props of a stack in this stage: a description naming the environment and, for stateful
   * stacks (data that must survive), termination protection when the config asks for it (prod).
   */
  stackProps(description: string, opts: { readonly stateful: boolean }): StackProps {
    return {
      description: `Quant platform (${this.config.name}): ${description}`,
      terminationProtection: opts.stateful && this.config.terminationProtection,
    };
  }
}
