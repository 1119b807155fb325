import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { dev, prod } from '../../lib/config';
import type { QuantStage } from '../../lib/quant-stage';
import { nagViolations, resourcesOfType, template, testApp } from './helpers';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

let stage: QuantStage;
let t: Template;

beforeAll(() => {
  stage = testApp([dev]).stages.dev;
  t = template(stage.trading);
});

const logicalId = (prefix: string, type: string): string => {
  const ids = resourcesOfType(t, type)
    .map(([id]) => id)
    .filter((id) => id.startsWith(prefix));
  expect(ids).toHaveLength(1);
  return ids[0];
};
const fnId = (prefix: string): string => logicalId(prefix, 'AWS::Lambda::Function');
const policyOf = (fnPrefix: string): Statement[] => {
  const role = (t.findResources('AWS::Lambda::Function')[fnId(fnPrefix)].Properties as { Role: unknown })
    .Role as { 'Fn::GetAtt': [string, string] };
  return resourcesOfType(t, 'AWS::IAM::Policy')
    .filter(([, p]) => JSON.stringify(p.Properties!.Roles).includes(role['Fn::GetAtt'][0]))
    .flatMap(([, p]) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement);
};
const actions = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const riskTable = () => logicalId('RiskTable', 'AWS::DynamoDB::Table');
const onRiskTable = (s: Statement) => JSON.stringify(s.Resource).includes(riskTable());

describe('kill switch: cannot fail silently', () => {
  it('async failures go to a KMS-encrypted, TLS-only queue after 2 retries', () => {
    const queue = logicalId('KillSwitchFailures', 'AWS::SQS::Queue');
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fnId('KillSwitch') },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queue, 'Arn'] } } },
    });
    const key = logicalId('TradingKey', 'AWS::KMS::Key');
    const q = t.findResources('AWS::SQS::Queue')[queue].Properties as Record<string, unknown>;
    expect(q.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [key, 'Arn'] });
    t.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queue }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('alarms to the alarm topic: a message on the failure queue, and any kill-switch error', () => {
    const queue = logicalId('KillSwitchFailures', 'AWS::SQS::Queue');
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [Match.anyValue()],
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId('KillSwitch') } }],
      Threshold: 1,
      AlarmActions: [Match.anyValue()],
    });
  });

  it('reserved concurrency: kill switch and risk check (config, with defaults); validated', () => {
    t.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: Match.absent(),
      ReservedConcurrentExecutions: 2,
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'kill-switch' }) },
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 10,
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'risk-check' }) },
    });
    const custom = testApp([{ ...prod, trading: { ...prod.trading, killSwitchConcurrency: 3 } }]).stages.prod;
    template(custom.trading).hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 3,
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'kill-switch' }) },
    });
  });

  it('has no unacknowledged AwsSolutions findings', () => {
    expect(nagViolations(stage.trading)).toEqual([]);
  });
});

describe('trading roles: writes scoped to the keys each function writes', () => {
  const account = dev.trading.account;
  const writes = (fnPrefix: string): Statement[] =>
    policyOf(fnPrefix).filter(
      (s) => onRiskTable(s) && actions(s).some((a) => /^dynamodb:(Put|Update|Delete|BatchWrite)/.test(a)),
    );

  it.each([
    ['Execution', [`BOOK#${account}`, `RATE#${account}#*`, `STATE#${account}#\${*}`]],
    ['AlgoChild', [`BOOK#${account}`, `RATE#${account}#*`, `STATE#${account}#\${*}`]],
    ['KillSwitch', [`STATE#${account}#\${*}`]],
  ])('%s writes only %j (never LIMITS#)', (fn, keys) => {
    const w = writes(fn);
    expect(w).toHaveLength(1);
    expect(actions(w[0]).sort()).toEqual(['dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(w[0].Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': keys } });
    expect(JSON.stringify(w[0].Condition)).not.toContain('LIMITS');
  });

  it('the risk check only reads', () => {
    expect(writes('RiskCheck')).toEqual([]);
  });
});

describe('signals: only the configured account and source', () => {
  it('the TradingSignal rule matches source quant.strategies only', () => {
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['quant.strategies'], 'detail-type': ['TradingSignal'] },
    });
  });

  it('execution and algo-child get TRADING_ACCOUNT', () => {
    for (const fn of ['Execution', 'AlgoChild']) {
      const props = t.findResources('AWS::Lambda::Function')[fnId(fn)].Properties as {
        Environment: { Variables: Record<string, unknown> };
      };
      expect(props.Environment.Variables.TRADING_ACCOUNT).toBe(dev.trading.account);
    }
  });
});

describe('confused deputy: EventBridge grants carry source conditions', () => {
  const eventsStatements = (tt: Template, type: string, docProp: string) =>
    resourcesOfType(tt, type).flatMap(([, r]) =>
      (
        (r.Properties![docProp] as { Statement: Array<Statement & { Principal?: unknown }> }) ?? {
          Statement: [],
        }
      ).Statement.filter((s) => JSON.stringify(s.Principal ?? '').includes('events.amazonaws.com')),
    );

  it('keys (trading, topic, stream), the alarm topic and roles EventBridge assumes: aws:SourceAccount and aws:SourceArn', () => {
    const stacks = [stage.trading, stage.alerts, stage.ingestion, stage.dataSync].filter(Boolean);
    let seen = 0;
    for (const st of stacks) {
      const tt = template(st!);
      const s = [
        ...eventsStatements(tt, 'AWS::KMS::Key', 'KeyPolicy'),
        ...eventsStatements(tt, 'AWS::SNS::TopicPolicy', 'PolicyDocument'),
        ...eventsStatements(tt, 'AWS::IAM::Role', 'AssumeRolePolicyDocument'),
      ];
      for (const x of s) {
        const c = JSON.stringify(x.Condition ?? {});
        expect(c, JSON.stringify(x)).toContain('aws:SourceAccount');
        expect(c, JSON.stringify(x)).toContain('aws:SourceArn');
        seen++;
      }
    }
    expect(seen).toBeGreaterThanOrEqual(3);
  });
});
