import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

export interface EncryptedQueueProps {
  /** Customer-managed key of the messages. */
  readonly encryptionKey: kms.IKey;
  /**
   * What happens to the queue when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * An SQS queue (dead-letter, failure or event queue) encrypted with a customer-managed key, TLS-only,
 * keeping messages for the 14 days SQS allows at most.
 */
export class EncryptedQueue extends sqs.Queue {
  constructor(scope: Construct, id: string, props: EncryptedQueueProps) {
    super(scope, id, {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }
}
