/**
 * The warm standby's parts (lib/constructs/dr-standby.ts) and the dormant mode of the trading
 * constructs (OrderExecution, AlgoScheduler, KillSwitch), each in a small stack.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { describe, expect, it } from 'vitest';
import {
  acknowledgeInlinePolicies,
  AlgoScheduler,
  KillSwitch,
  OrderExecution,
  QuantKey,
  StandbyMonitoring,
  StandbyNetwork,
  StandbyTables,
  TradingTables,
} from '../../../lib/constructs';
import { cdkJsonContext, SKIP_BUNDLING } from '../helpers';
import { env, findings, orderPath, tradingFixture } from './trading-fixture';

function newStack(): Stack {
  const app = new App({ context: { ...cdkJsonContext(), ...SKIP_BUNDLING } });
  // As QuantStage does (inline policies are CDK's norm).
  acknowledgeInlinePolicies(app);
  return new Stack(app, 'S', { env });
}

describe('StandbyNetwork', () => {
  const stack = newStack();
  const logKey = new QuantKey(stack, 'LogKey', { description: 'logs', allowCloudWatchLogs: true });
  const net = new StandbyNetwork(stack, 'Network', {
    network: {
      vpcCidr: '10.60.0.0/16',
      availabilityZones: ['us-east-1a', 'us-east-1b'],
      natGateways: 2,
      flowLogRetentionDays: 30,
    },
    logKey,
  });
  const t = Template.fromStack(stack);

  it('NAT gateways on retained Elastic IPs; public and egress subnets only; every flow logged', () => {
    expect(net.natEips).toHaveLength(2);
    const eips = t.findResources('AWS::EC2::EIP');
    expect(Object.values(eips).map((e) => e.DeletionPolicy)).toEqual(['Retain', 'Retain']);
    t.resourceCountIs('AWS::EC2::NatGateway', 2);
    t.resourceCountIs('AWS::EC2::Subnet', 4);
    t.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL' });
    t.resourceCountIs('AWS::EC2::VPCEndpoint', 2);
  });

  it('has no unacknowledged finding of either pack', () => {
    expect(findings(stack)).toEqual([]);
  });
});

describe('StandbyMonitoring', () => {
  const stack = newStack();
  const topicKey = new QuantKey(stack, 'TopicKey', { description: 'topic', allowCloudWatchAlarms: true });
  const logKey = new QuantKey(stack, 'LogKey', { description: 'logs', allowCloudWatchLogs: true });
  const m = new StandbyMonitoring(stack, 'Monitoring', {
    environmentName: 'test',
    alarmEmail: 'ops@example.com',
    topicKey,
    logKey,
    logRetentionDays: 30,
  });
  const metric = new cw.Metric({ namespace: 'N', metricName: 'M', period: Duration.minutes(1) });
  m.alarm(stack, 'A', { description: 'an alarm', metric, threshold: 1 });
  m.addAlarmStatus();
  const t = Template.fromStack(stack);

  it('a KMS-encrypted topic with an e-mail subscription; alarms notify it on ALARM and OK', () => {
    t.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^MonitoringDrAlarmTopic') }],
      OKActions: [{ Ref: Match.stringLikeRegexp('^MonitoringDrAlarmTopic') }],
    });
    expect(JSON.stringify(t.findResources('AWS::CloudWatch::Dashboard'))).toContain('alarm');
  });

  it('has no unacknowledged finding of either pack', () => {
    expect(findings(stack)).toEqual([]);
  });
});

describe('StandbyTables', () => {
  it('scopes risk-table writes to the given keys on the given table, with its key', () => {
    const stack = newStack();
    const key = new QuantKey(stack, 'Key', { description: 'k' });
    const home = new TradingTables(stack, 'Tables', { encryptionKey: key });
    const tables = new StandbyTables(home.risk, home.orders, home.idempotency, key);
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    tables.grantRiskWrites({ grantPrincipal: role, addToRolePolicy: (st) => role.addToPolicy(st) }, [
      'BOOK#main',
    ]);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RiskTable'), 'Arn'] },
            Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['BOOK#main'] } },
          }),
        ]),
      },
    });
  });
});

describe('dormant trading constructs', () => {
  const build = (dormant: boolean | undefined) => {
    const f = tradingFixture();
    const signals = new kinesis.Stream(f.stack, 'Signals', {
      encryption: kinesis.StreamEncryption.KMS,
      encryptionKey: f.core.key,
    });
    const algos = new AlgoScheduler(f.stack, 'Algos', { ...orderPath(f), dormant });
    const exec = new OrderExecution(f.stack, 'OrderExecution', {
      ...orderPath(f),
      dormant,
      signals,
      algoStateMachine: algos.stateMachine,
      errorAlarmThreshold: 4,
      monitoring: f.monitoring,
    });
    const halt = new KillSwitch(f.stack, 'Halt', {
      core: f.core,
      monitoring: f.monitoring,
      concurrency: 2,
      dormant,
    });
    halt.haltOn([exec.errorAlarm]);
    return { f, parts: [algos, exec, halt], t: Template.fromStack(f.stack) };
  };
  const concurrencies = (t: Template) =>
    Object.values(t.findResources('AWS::Lambda::Function'))
      .map((r) => r.Properties.ReservedConcurrentExecutions as number | undefined)
      .filter((c) => c !== undefined)
      .sort();

  it('dormant: concurrency 0, the three rules and the stream mapping disabled, nag clean', () => {
    const { f, parts, t } = build(true);
    expect(concurrencies(t)).toEqual([0, 0, 0]);
    const rules = Object.values(t.findResources('AWS::Events::Rule'));
    expect(rules).toHaveLength(3);
    for (const r of rules) expect(r.Properties.State).toBe('DISABLED');
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { Enabled: false });
    for (const part of parts) expect(findings(f.stack, part)).toEqual([]);
  });

  it('by default: the configured concurrency, everything enabled, nag clean', () => {
    const { f, parts, t } = build(undefined);
    expect(concurrencies(t)).toEqual([2, 3, 3]);
    for (const r of Object.values(t.findResources('AWS::Events::Rule')))
      expect(r.Properties.State).toBe('ENABLED');
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { Enabled: Match.absent() });
    for (const part of parts) expect(findings(f.stack, part)).toEqual([]);
  });
});
