import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import { OrderExecution } from '../../../lib/constructs';
import { findings, orderPath, tradingFixture } from './trading-fixture';

describe('OrderExecution', () => {
  const f = tradingFixture();
  const signals = new kinesis.Stream(f.stack, 'Signals', {
    encryption: kinesis.StreamEncryption.KMS,
    encryptionKey: f.core.key,
    retentionPeriod: Duration.hours(24),
  });
  const algoStateMachine = new sfn.StateMachine(f.stack, 'Sm', {
    definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(f.stack, 'P')),
  });
  const execution = new OrderExecution(f.stack, 'OrderExecution', {
    ...orderPath(f),
    signals,
    algoStateMachine,
    errorAlarmThreshold: 4,
    monitoring: f.monitoring,
  });
  const t = Template.fromStack(f.stack);

  it('Kinesis signals with batch-item failures, bisect and an on-failure queue', () => {
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      StartingPosition: 'LATEST',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 5,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });

  it("bus signals only from the strategies' source; reconciliation every 5 minutes", () => {
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['quant.strategies'], 'detail-type': ['TradingSignal'] },
    });
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)' });
    t.hasResourceProperties('AWS::Lambda::Function', {
      DeadLetterConfig: { TargetArn: Match.anyValue() },
      Environment: { Variables: Match.objectLike({ ALGO_STATE_MACHINE_ARN: Match.anyValue() }) },
    });
  });

  it('alarms: errors at the threshold (for the kill switch), any dead letter', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Threshold: 4,
      Period: 300,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
    });
    expect(execution.errorAlarm.node.path).toBe('T/OrderExecution/ExecutionErrorsAlarm');
  });

  it('has no unacknowledged AwsSolutions or NIST 800-53 R5 findings', () => {
    expect(findings(f.stack, execution)).toEqual([]);
  });
});
