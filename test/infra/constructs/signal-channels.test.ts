import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { QuantKey, SignalChannels } from '../../../lib/constructs';
import { cdkJsonContext } from '../helpers';
import { env, findings } from './trading-fixture';

function build(signalShards?: number) {
  const stack = new Stack(new App({ context: cdkJsonContext() }), 'T', { env });
  const channels = new SignalChannels(stack, 'Channels', {
    encryptionKey: new QuantKey(stack, 'Key', { description: 'k', allowEventBridge: true }),
    signalShards,
  });
  return { stack, channels, t: () => Template.fromStack(stack) };
}

describe('SignalChannels', () => {
  it('on-demand KMS stream (24 h), a bus and a KMS, TLS-only queue, all retained by default', () => {
    const built = build();
    const { channels } = built;
    const t = built.t();
    t.hasResource('AWS::Kinesis::Stream', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        StreamModeDetails: { StreamMode: 'ON_DEMAND' },
        RetentionPeriodHours: 24,
        StreamEncryption: { EncryptionType: 'KMS', KeyId: Match.anyValue() },
      }),
    });
    t.hasResource('AWS::SQS::Queue', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ KmsMasterKeyId: Match.anyValue(), MessageRetentionPeriod: 1209600 }),
    });
    t.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    t.resourceCountIs('AWS::Events::EventBus', 1);
    // Beside the construct, as if created directly in the stack (stable event-source mapping names).
    expect(channels.signals.node.path).toBe('T/Signals');
  });

  it('provisioned shards when given', () => {
    build(4).t().hasResourceProperties('AWS::Kinesis::Stream', { ShardCount: 4 });
  });

  it('has no unacknowledged AwsSolutions or NIST 800-53 R5 findings once a function uses the queue as its DLQ', () => {
    const { stack, channels } = build();
    expect(findings(stack, channels.signals)).toEqual([]);
    expect(findings(stack, channels.bus)).toEqual([]);
    // Alone, the queue is an ordinary queue without a DLQ of its own (SQS3) ...
    expect(findings(stack, channels.deadLetterQueue)).toEqual(['AwsSolutions-SQS3 T/ExecutionDlq/Resource']);
    // ... and a dead-letter queue once a function names it (as OrderExecution does).
    const used = build();
    new lambda.Function(used.stack, 'Fn', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {};'),
      deadLetterQueue: used.channels.deadLetterQueue,
    });
    expect(findings(used.stack, used.channels.deadLetterQueue)).toEqual([]);
  });
});
