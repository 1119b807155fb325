import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import { describe, expect, it } from 'vitest';
import { KillSwitch } from '../../../lib/constructs';
import { findings, tradingFixture } from './trading-fixture';

describe('KillSwitch', () => {
  const f = tradingFixture();
  const ks = new KillSwitch(f.stack, 'Halt', { core: f.core, monitoring: f.monitoring });
  const trip = f.monitoring.alarm(f.stack, 'Trip', {
    description: 'trip',
    metric: new cw.Metric({ namespace: 'T', metricName: 'M' }),
    threshold: 1,
  });
  ks.haltOn([trip]);
  const t = Template.fromStack(f.stack);

  it('reserved concurrency 2, outside the VPC; failures to an encrypted queue after 2 retries', () => {
    t.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 2,
      VpcConfig: Match.absent(),
      Environment: { Variables: Match.objectLike({ TRADING_ACCOUNT: 'main' }) },
    });
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 3600,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
    t.hasResource('AWS::SQS::Queue', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ KmsMasterKeyId: Match.anyValue(), MessageRetentionPeriod: 1209600 }),
    });
  });

  it('writes only the account-wide state key', () => {
    const policy = JSON.stringify(t.findResources('AWS::IAM::Policy'));
    expect(policy).toContain('STATE#main#${*}');
    expect(policy).not.toContain('BOOK#');
  });

  it('haltOn: a rule on the given alarms entering ALARM, with retries and a dead-letter queue', () => {
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        resources: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^Trip'), 'Arn'] }],
        detail: { state: { value: ['ALARM'] } },
      },
      Targets: [
        Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 8 }, DeadLetterConfig: Match.anyValue() }),
      ],
    });
  });

  it('alarms on its errors (>= 1) and on any failed halt (> 0)', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('has no unacknowledged AwsSolutions or NIST 800-53 R5 findings', () => {
    expect(findings(f.stack, ks)).toEqual([]);
  });
});
