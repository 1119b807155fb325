import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { Stack } from 'aws-cdk-lib';
import { LAKE_PREFIXES } from '../../src/contract/lake';
import { acknowledgeWildcards } from './acknowledge-wildcards';
import { EncryptedLogGroup } from './encrypted-log-group';
import { TRADING_WILDCARDS } from './trading-core';
import { Area } from './area';
import { allow } from './policy-statements';

/** Where Firehose puts records it could not deliver (never read by the runtime). */
const ERRORS_PREFIX = 'audit_errors';

export interface AuditTrailProps {
  /** The write-once audit bucket (Object Lock, compliance mode). */
  readonly bucket: s3.IBucket;
  /** The audit bucket's key: objects are encrypted with it. */
  readonly bucketKey: kms.IKey;
  /** Key of the delivery stream itself (the trading key). */
  readonly encryptionKey: kms.IKey;
  /**
   * Glue database of the table `audit_events`.
   * @default no Glue table (the DR standby: the region has no lake catalog)
   */
  readonly databaseName?: string;
  /** Key of the delivery-error log group. */
  readonly logKey: kms.IKey;
  readonly logRetentionDays: number;
  /**
   * First day of the table's date partitions (partition projection).
   * @default '2024-01-01'
   */
  readonly firstDay?: string;
}

/**
 * The trading audit trail: a Firehose delivery stream into the audit bucket, partitioned by day
 * (`audit_events/dt=YYYY-MM-DD/`, src/trading/audit.ts), its own least-privilege role (put-only on
 * the two prefixes), delivery errors logged to an encrypted log group, and the Glue table
 * `audit_events` over it, dates by partition projection (no crawler).
 */
export class AuditTrail extends Area {
  readonly deliveryStream: firehose.CfnDeliveryStream;
  /** The Glue table `audit_events` (with `databaseName`). */
  readonly table?: glue.CfnTable;
  private readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: AuditTrailProps) {
    super(scope, id);
    const { bucket } = props;
    this.encryptionKey = props.encryptionKey;
    const logs = EncryptedLogGroup.of(this, 'AuditDeliveryLogs', props);
    const logStream = logs.addStream('S3Delivery');
    const role = new iam.Role(this, 'AuditDeliveryRole', {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com'),
      description: 'Firehose delivery of the audit trail into the audit bucket',
    });
    allow(
      role,
      {
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resources: [
          bucket.arnForObjects(`${LAKE_PREFIXES.auditEvents}/*`),
          bucket.arnForObjects(`${ERRORS_PREFIX}/*`),
        ],
      },
      {
        actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
        resources: [bucket.bucketArn],
      },
      {
        actions: ['logs:PutLogEvents'],
        resources: [logs.logGroupArn, `${logs.logGroupArn}:*`],
      },
    );
    props.bucketKey.grantEncrypt(role);
    props.encryptionKey.grantEncryptDecrypt(role);
    this.deliveryStream = new firehose.CfnDeliveryStream(this, 'AuditDelivery', {
      deliveryStreamType: 'DirectPut',
      deliveryStreamEncryptionConfigurationInput: {
        keyType: 'CUSTOMER_MANAGED_CMK',
        keyArn: props.encryptionKey.keyArn,
      },
      extendedS3DestinationConfiguration: {
        bucketArn: bucket.bucketArn,
        roleArn: role.roleArn,
        prefix: `${LAKE_PREFIXES.auditEvents}/dt=!{timestamp:yyyy-MM-dd}/`,
        errorOutputPrefix: `${ERRORS_PREFIX}/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/`,
        bufferingHints: { intervalInSeconds: 60, sizeInMBs: 5 },
        compressionFormat: 'UNCOMPRESSED',
        encryptionConfiguration: { kmsEncryptionConfig: { awskmsKeyArn: props.bucketKey.keyArn } },
        cloudWatchLoggingOptions: {
          enabled: true,
          logGroupName: logs.logGroupName,
          logStreamName: logStream.logStreamName,
        },
      },
    });
    this.deliveryStream.node.addDependency(role);
    acknowledgeWildcards(this, [
      TRADING_WILDCARDS.kmsDataKeys,
      [
        (finding) => [LAKE_PREFIXES.auditEvents, ERRORS_PREFIX].some((p) => finding.endsWith(`/${p}/*`)),
        'Firehose names audit objects per delivery batch at run time; the grant is limited to the audit_events/ and audit_errors/ prefixes and is put-only (Object Lock keeps them immutable).',
      ],
      [
        /^Resource::<\w*AuditDeliveryLogs[0-9A-F]+\.Arn>:\*$/,
        'Firehose writes error records to log streams of its own log group.',
      ],
    ]);

    if (props.databaseName === undefined) return;
    const location = `s3://${bucket.bucketName}/${LAKE_PREFIXES.auditEvents}/`;
    this.table = new glue.CfnTable(this, 'AuditEventsTable', {
      catalogId: Stack.of(this).account,
      databaseName: props.databaseName,
      tableInput: {
        // Named after its prefix (src/trading/audit.ts).
        name: LAKE_PREFIXES.auditEvents,
        description: 'Append-only trading audit trail: signals, checks, orders, fills, state changes',
        tableType: 'EXTERNAL_TABLE',
        partitionKeys: [{ name: 'dt', type: 'string' }],
        parameters: {
          classification: 'json',
          'projection.enabled': 'true',
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd',
          'projection.dt.range': `${props.firstDay ?? '2024-01-01'},NOW`,
          'storage.location.template': `${location}dt=\${dt}/`,
        },
        storageDescriptor: {
          location,
          inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          serdeInfo: {
            serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
            parameters: { 'ignore.malformed.json': 'true', 'case.insensitive': 'true' },
          },
          columns: ['eventid', 'type', 'time', 'account', 'strategy', 'signalid', 'orderid', 'detail'].map(
            (name) => ({ name, type: 'string' }),
          ),
        },
      },
    });
  }

  /** Lets `grantee` put records on the delivery stream (and encrypt them with the stream's key). */
  grantPut(grantee: iam.IGrantable): void {
    allow(grantee, {
      actions: ['firehose:PutRecordBatch'],
      resources: [this.deliveryStream.attrArn],
    });
    this.encryptionKey.grantEncrypt(grantee);
  }
}
