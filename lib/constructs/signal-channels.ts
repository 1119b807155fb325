import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EncryptedQueue } from './encrypted-queue';

export interface SignalChannelsProps {
  /** Key of the stream and the queue (the trading key). */
  readonly encryptionKey: kms.IKey;
  /**
   * Shards of the signals stream; 0 is on-demand.
   * @default 0
   */
  readonly signalShards?: number;
}

/**
 * How signals come in and order events go out: the KMS-encrypted signals stream (24 h), the order
 * bus (signals in, order, fill and state events out) and the encrypted, TLS-only dead-letter queue
 * of poison signals and failed asynchronous invocations, all retained.
 *
 * Created in this construct's parent scope (`Signals`, ... beside it): the execution function's
 * event-source mapping is named after the stream's construct path, and a renamed mapping would be
 * replaced.
 */
export class SignalChannels extends Construct {
  readonly signals: kinesis.Stream;
  readonly bus: events.EventBus;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: SignalChannelsProps) {
    super(scope, id);
    const shards = props.signalShards ?? 0;
    this.signals = new kinesis.Stream(scope, 'Signals', {
      streamMode: shards === 0 ? kinesis.StreamMode.ON_DEMAND : kinesis.StreamMode.PROVISIONED,
      shardCount: shards === 0 ? undefined : shards,
      retentionPeriod: Duration.hours(24),
      encryption: kinesis.StreamEncryption.KMS,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.signals).acknowledge({
      id: 'AwsSolutions-KDS3',
      reason:
        'A customer-managed key (rotated, retained) instead of aws/kinesis: its key policy controls who can read signals.',
    });
    this.bus = new events.EventBus(scope, 'OrderEvents', {
      description: 'Trading signals in, order events out',
    });
    this.deadLetterQueue = new EncryptedQueue(scope, 'ExecutionDlq', { encryptionKey: props.encryptionKey });
  }
}
