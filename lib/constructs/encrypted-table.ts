import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';

export interface EncryptedTableProps {
  /**
   * Physical name. Give one only where another region must find the table without a reference
   * (a disaster-recovery replica).
   * @default a name CloudFormation generates
   */
  readonly tableName?: string;
  /** Partition key. */
  readonly partitionKey: dynamodb.Attribute;
  /**
   * Sort key.
   * @default none
   */
  readonly sortKey?: dynamodb.Attribute;
  /** Customer-managed key for encryption at rest. */
  readonly encryptionKey: kms.IKey;
  /**
   * Attribute holding an expiry epoch (seconds) for TTL.
   * @default no TTL
   */
  readonly timeToLiveAttribute?: string;
  /**
   * DynamoDB stream view.
   * @default no stream
   */
  readonly stream?: dynamodb.StreamViewType;
  /**
   * Refuse DeleteTable calls (the table is retained on stack deletion either way).
   * @default true
   */
  readonly deletionProtection?: boolean;
}

/**
 * A DynamoDB table with the platform's defaults: on-demand capacity, point-in-time recovery,
 * customer-managed KMS encryption, deletion protection, retained on stack deletion.
 */
export class EncryptedTable extends dynamodb.Table {
  constructor(scope: Construct, id: string, props: EncryptedTableProps) {
    super(scope, id, {
      tableName: props.tableName,
      partitionKey: props.partitionKey,
      sortKey: props.sortKey,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      timeToLiveAttribute: props.timeToLiveAttribute,
      stream: props.stream,
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
