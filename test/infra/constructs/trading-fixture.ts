/**
 * A small world for the trading area constructs: a stack with the trading key, tables, bus,
 * dead-letter queue, audit trail and a curated bucket, a VPC for broker egress, and the real
 * monitoring stacks (alarm topic, dashboard). Each construct test builds one and adds its construct.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import {
  acknowledgeInlinePolicies,
  AuditTrail,
  BrokerAccess,
  QuantKey,
  SecureBucket,
  TradingTables,
  orderPathOf,
  type TradingCore,
} from '../../../lib/constructs';
import { DashboardStack, MonitoringHub, MonitoringStack } from '../../../lib/stacks/monitoring-stack';
import { cdkJsonContext, nagViolations, SKIP_BUNDLING } from '../helpers';

export const env = { account: '111111111111', region: 'us-east-1' };

export interface TradingFixture {
  readonly app: App;
  readonly stack: Stack;
  readonly monitoring: MonitoringHub;
  readonly dashboard: DashboardStack;
  readonly core: TradingCore;
  readonly curated: SecureBucket;
  readonly vpc: ec2.Vpc;
  readonly broker: BrokerAccess;
}

export function tradingFixture(): TradingFixture {
  const app = new App({ context: { ...cdkJsonContext(), ...SKIP_BUNDLING } });
  const alerts = new MonitoringStack(app, 'Monitoring', {
    env,
    environmentName: 'test',
    alarmEmail: 'ops@example.com',
    logRetentionDays: 30,
  });
  const dashboard = new DashboardStack(app, 'Dashboard', { env, environmentName: 'test' });
  const monitoring = new MonitoringHub(alerts, dashboard);
  const stack = new Stack(app, 'T', { env });
  // As QuantStage does for every stack (inline policies are CDK's norm).
  acknowledgeInlinePolicies(stack);
  const key = new QuantKey(stack, 'TradingKey', { description: 'trading', allowEventBridge: true });
  const lakeKey = new QuantKey(stack, 'LakeKey', { description: 'lake' });
  const auditKey = new QuantKey(stack, 'AuditKey', { description: 'audit' });
  const accessLogs = new SecureBucket(stack, 'AccessLogs', { encryption: 's3-managed' });
  const curated = new SecureBucket(stack, 'Curated', {
    encryptionKey: lakeKey,
    accessLogsBucket: accessLogs,
  });
  const auditBucket = new SecureBucket(stack, 'AuditBucket', {
    encryptionKey: auditKey,
    accessLogsBucket: accessLogs,
  });
  const tables = new TradingTables(stack, 'Tables', { encryptionKey: key });
  const audit = new AuditTrail(stack, 'Audit', {
    bucket: auditBucket,
    bucketKey: auditKey,
    encryptionKey: key,
    databaseName: 'quant_test',
    logKey: alerts.logKey,
    logRetentionDays: 30,
  });
  const core: TradingCore = {
    account: 'main',
    key,
    tables,
    audit,
    bus: new events.EventBus(stack, 'Bus'),
    deadLetterQueue: new sqs.Queue(stack, 'Dlq', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
    }),
    logKey: alerts.logKey,
    logRetentionDays: 30,
  };
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 1,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
      { name: 'egress', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    ],
  });
  const broker = new BrokerAccess(stack, 'Broker', {
    broker: 'paper',
    paperCostBps: 1,
    encryptionKey: key,
    egress: { vpc, subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } },
  });
  return { app, stack, monitoring, dashboard, core, curated, vpc, broker };
}

/** The order path's props (execution, algo child) over a fixture, as the stacks build them. */
export function orderPath(f: TradingFixture) {
  return orderPathOf({ core: f.core, broker: f.broker, curatedBucket: f.curated, concurrency: 3 });
}

/** Unacknowledged AwsSolutions and NIST 800-53 R5 findings under `scope`, after synthesis. */
export function findings(stack: Stack, scope: IConstruct = stack): string[] {
  Template.fromStack(stack);
  return [...nagViolations(scope, 'AwsSolutions'), ...nagViolations(scope, 'NIST.800.53.R5')].map(
    (v) => `${v.rule} ${v.path}`,
  );
}
