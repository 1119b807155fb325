/**
 * Parts of the warm standby in the DR region (lib/stacks/disaster-recovery-standby-stack.ts) that the
 * home region's stacks provide there: the trading tables (here the replicas), the network with fixed
 * egress addresses, and the alarm topic with its dashboard.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import type { NetworkConfig } from '../config/types';
import type { IMonitoring } from '../stacks/monitoring-stack';
import { PlatformAlarm, type PlatformAlarmProps } from './alarms';
import { Area } from './area';
import { natEgressVpc } from './retained-nat-eips';
import type { TradingTableSet } from './trading-core';
import { grantRiskTableWrites } from './trading-tables';

/** The DR region's replica tables as the trading functions' tables (`TradingCore.tables`). */
export class StandbyTables implements TradingTableSet {
  constructor(
    readonly risk: dynamodb.ITable,
    readonly orders: dynamodb.ITable,
    readonly idempotency: dynamodb.ITable,
    /** The replicas' key (the DR stack's trading replica key). */
    private readonly key: kms.IKey,
  ) {}

  grantRiskWrites(
    grantee: iam.IGrantable & { addToRolePolicy(s: iam.PolicyStatement): void },
    keys: readonly string[],
  ): void {
    grantRiskTableWrites(this.risk, this.key, grantee, keys);
  }
}

export interface StandbyNetworkProps {
  /** CIDR, zones, NAT gateways and flow-log retention (`disasterRecovery.standby.network`). */
  readonly network: NetworkConfig;
  /** Key of the flow-log group. */
  readonly logKey: kms.IKey;
}

/**
 * The standby's VPC: public subnets holding only NAT gateways with retained Elastic IPs (the
 * broker's allow-list must already hold them before a failover), private subnets with egress for the
 * broker-facing functions, gateway endpoints for S3 and DynamoDB, every flow logged. No interface
 * endpoints: the functions reach the other AWS APIs through NAT on 443, which costs nothing while
 * the standby is dormant.
 */
export class StandbyNetwork extends Area {
  readonly vpc: ec2.Vpc;
  /** Private subnets with outbound internet through NAT. */
  readonly egressSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  /** Retained: replacing the stack keeps the addresses on the broker's allow-list. */
  readonly natEips: readonly ec2.CfnEIP[];

  constructor(scope: Construct, id: string, props: StandbyNetworkProps) {
    super(scope, id);
    const n = props.network;
    const { vpc, natEips } = natEgressVpc(this, {
      network: n,
      logKey: props.logKey,
      ids: {
        eip: 'StandbyNatEip',
        vpc: 'StandbyVpc',
        flowLogs: 'StandbyFlowLogs',
        output: 'StandbyNatPublicIps',
      },
      gatewayEndpointSubnets: [this.egressSubnets],
      outputDescription:
        'Fixed source addresses of the standby broker calls (add them to the broker allow-list)',
    });
    this.vpc = vpc;
    this.natEips = natEips;
  }
}

export interface StandbyMonitoringProps {
  /** Environment name, in the topic's display name. */
  readonly environmentName: string;
  /** Address subscribed to the DR alarm topic. */
  readonly alarmEmail: string;
  /** Key of the topic (lets CloudWatch alarms publish). */
  readonly topicKey: kms.IKey;
  /** Key of the standby's log groups (lets CloudWatch Logs use it). */
  readonly logKey: kms.IKey;
  readonly logRetentionDays: number;
}

/**
 * Monitoring inside the DR region (alarms notify a topic in their own region): the DR alarm topic
 * (KMS, TLS-only, e-mail), the standby's log key and a dashboard of the standby's alarms.
 */
export class StandbyMonitoring extends Area implements IMonitoring {
  readonly alarmTopic: sns.Topic;
  readonly logKey: kms.IKey;
  readonly logRetentionDays: number;
  readonly dashboard: cw.Dashboard;
  private readonly alarms: cw.IAlarm[] = [];

  constructor(scope: Construct, id: string, props: StandbyMonitoringProps) {
    super(scope, id);
    this.logKey = props.logKey;
    this.logRetentionDays = props.logRetentionDays;
    this.alarmTopic = new sns.Topic(this, 'DrAlarmTopic', {
      displayName: `Quant ${props.environmentName} DR standby alarms`,
      masterKey: props.topicKey,
      enforceSSL: true,
    });
    this.alarmTopic.addSubscription(new subs.EmailSubscription(props.alarmEmail));
    this.dashboard = new cw.Dashboard(this, 'StandbyDashboard', {
      defaultInterval: Duration.hours(24),
      periodOverride: cw.PeriodOverride.AUTO,
    });
    this.dashboard.addWidgets(
      new cw.TextWidget({
        markdown: `# Quant platform: ${props.environmentName}, DR standby (${Stack.of(this).region})`,
        width: 24,
        height: 2,
      }),
    );
  }

  alarm(scope: Construct, id: string, props: Omit<PlatformAlarmProps, 'topic'>): PlatformAlarm {
    const alarm = new PlatformAlarm(scope, id, { ...props, topic: this.alarmTopic });
    this.alarms.push(alarm);
    return alarm;
  }

  addAlarm(scope: Construct, id: string, props: cw.AlarmProps): cw.Alarm {
    const alarm = new cw.Alarm(scope, id, { treatMissingData: cw.TreatMissingData.NOT_BREACHING, ...props });
    const action = new cwActions.SnsAction(this.alarmTopic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    this.alarms.push(alarm);
    return alarm;
  }

  addSection(title: string, rows: readonly (readonly cw.IWidget[])[]): void {
    this.dashboard.addWidgets(new cw.TextWidget({ markdown: `## ${title}`, width: 24, height: 1 }));
    for (const row of rows) this.dashboard.addWidgets(...row);
  }

  /** Draws every alarm made so far in one status widget (call once, after the last alarm). */
  addAlarmStatus(): void {
    this.dashboard.addWidgets(
      new cw.AlarmStatusWidget({
        title: 'Alarms',
        alarms: [...this.alarms],
        width: 24,
        height: 4,
        sortBy: cw.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
      }),
    );
  }
}
