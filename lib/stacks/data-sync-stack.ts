/**
 * Vendor data sync: copies a vendor's bucket (another account, another region) into the vendor zone.
 *
 * - pull: DataSync (S3 -> S3) with a role the vendor's bucket policy admits (`quant sync policy
 *   --print`): full-copy tasks (one per prefix, started by hand or with `quant sync start`) and a
 *   scheduled incremental, verified, with task reports in the vendor zone and CloudWatch logs.
 * - push: the vendor replicates into the vendor zone (cross-account, cross-region, SSE-KMS); this
 *   stack lets the vendor's replication role write replicas under `<vendorName>/` and use the lake key.
 * Glue tables with partition projection make each vendor dataset queryable as soon as it lands.
 */
import { CfnOutput, Duration, Fn, Stack, Validations } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as datasync from 'aws-cdk-lib/aws-datasync';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { acknowledgeWildcards, EncryptedLogGroup } from '../constructs';
import type { VendorDatasetConfig, VendorSyncConfig } from '../config/types';
import type { DataLakeHandles } from './data-lake-stack';
import type { IMonitoring } from './monitoring-stack';

export interface DataSyncStackProps extends StackProps {
  readonly vendorSync: VendorSyncConfig;
  /** The vendor zone bucket, the lake key and the Glue database. */
  readonly lake: DataLakeHandles;
  /** Alarms (failed or late sync), dashboard widgets, log key and retention. */
  readonly monitoring: IMonitoring;
}

/** Where DataSync writes its task reports in the vendor zone (outside every vendor's prefix). */
export const TASK_REPORT_PREFIX = '_datasync-reports';

export class DataSyncStack extends Stack {
  /** DataSync's role: read the vendor bucket, write the vendor zone (pull mode). */
  readonly role?: iam.Role;
  readonly fullCopyTasks: readonly datasync.CfnTask[] = [];
  readonly incrementalTask?: datasync.CfnTask;
  readonly logGroup?: logs.LogGroup;

  constructor(scope: Construct, id: string, props: DataSyncStackProps) {
    super(scope, id, props);
    const cfg = props.vendorSync;
    const vendorZone = props.lake.buckets.vendor;
    // The vendor zone has its own key (DataLakeStack): a vendor's role never gets the other zones' key.
    const vendorKey = vendorZone.encryptionKey;
    if (!vendorKey) throw new Error('DataSyncStack: the vendor zone bucket has no KMS key');
    const destPrefix = `${cfg.vendorName}/`;
    const vendorBucketArn = `arn:${this.partition}:s3:::${cfg.vendorBucket}`;
    // What `quant sync policy --print --config` needs in both modes (the outputs below add the rest).
    const policyBase = {
      account: this.account,
      region: this.region,
      vendorAccount: cfg.vendorAccount,
      vendorBucket: cfg.vendorBucket,
      vendorRegion: cfg.vendorRegion,
      vendorPrefix: cfg.vendorPrefix,
    };

    if (cfg.mode !== 'push') {
      const role = new iam.Role(this, 'DataSyncRole', {
        description: `DataSync: copy s3://${cfg.vendorBucket}/${cfg.vendorPrefix} into the vendor zone`,
        assumedBy: new iam.ServicePrincipal('datasync.amazonaws.com', {
          conditions: {
            StringEquals: { 'aws:SourceAccount': this.account },
            ArnLike: { 'aws:SourceArn': `arn:${this.partition}:datasync:${this.region}:${this.account}:*` },
          },
        }),
      });
      this.role = role;
      // Source: read only, and only under the vendor prefix.
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ListVendorBucket',
          actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
          resources: [vendorBucketArn],
        }),
      );
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ReadVendorObjects',
          actions: [
            's3:GetObject',
            's3:GetObjectTagging',
            's3:GetObjectVersion',
            's3:GetObjectVersionTagging',
          ],
          resources: [`${vendorBucketArn}/${cfg.vendorPrefix}*`],
        }),
      );
      if (cfg.vendorKmsKeyArn) {
        role.addToPolicy(
          new iam.PolicyStatement({
            sid: 'DecryptVendorObjects',
            actions: ['kms:Decrypt'],
            resources: [cfg.vendorKmsKeyArn],
          }),
        );
      }
      // Destination: the vendor's prefix and the task reports, nothing else of the zone.
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ListVendorZone',
          actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
          resources: [vendorZone.bucketArn],
        }),
      );
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'WriteVendorZone',
          actions: [
            's3:AbortMultipartUpload',
            's3:DeleteObject',
            's3:GetObject',
            's3:GetObjectTagging',
            's3:ListMultipartUploadParts',
            's3:PutObject',
            's3:PutObjectTagging',
          ],
          resources: [
            vendorZone.arnForObjects(`${destPrefix}*`),
            vendorZone.arnForObjects(`${TASK_REPORT_PREFIX}/*`),
          ],
        }),
      );
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'UseLakeKey',
          actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
          resources: [vendorKey.keyArn],
        }),
      );
      // A resource wildcard ending in one of these suffixes is meant; nothing else is.
      const resourceEndsWith =
        (suffix: string) =>
        (finding: string): boolean =>
          finding.startsWith('Resource::') && finding.endsWith(suffix);
      acknowledgeWildcards(role, [
        [
          resourceEndsWith(`${vendorBucketArn}/${cfg.vendorPrefix}*`),
          'DataSync reads every object under the configured vendor prefix; the keys are not known in advance',
        ],
        [
          resourceEndsWith(`/${destPrefix}*`),
          "DataSync writes every object of the vendor under the vendor's prefix in the vendor zone",
        ],
        [
          resourceEndsWith(`/${TASK_REPORT_PREFIX}/*`),
          'DataSync writes its task reports (names chosen by DataSync) under this prefix',
        ],
      ]);

      this.logGroup = new EncryptedLogGroup(this, 'DataSyncLogs', {
        encryptionKey: props.monitoring.logKey,
        retentionDays: props.monitoring.logRetentionDays,
      });
      // DataSync writes to CloudWatch Logs through a resource policy, not through the task's role.
      new logs.CfnResourcePolicy(this, 'DataSyncLogsPolicy', {
        policyName: `${this.stackName}-datasync`,
        policyDocument: Fn.toJsonString({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'datasync.amazonaws.com' },
              Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              Resource: `${this.logGroup.logGroupArn}`,
              Condition: {
                StringEquals: { 'aws:SourceAccount': this.account },
                ArnLike: {
                  'aws:SourceArn': `arn:${this.partition}:datasync:${this.region}:${this.account}:task/*`,
                },
              },
            },
          ],
        }),
      });

      const source = new datasync.CfnLocationS3(this, 'VendorLocation', {
        s3BucketArn: vendorBucketArn,
        subdirectory: `/${cfg.vendorPrefix}`,
        s3Config: { bucketAccessRoleArn: role.roleArn },
      });
      const dest = new datasync.CfnLocationS3(this, 'VendorZoneLocation', {
        s3BucketArn: vendorZone.bucketArn,
        subdirectory: `/${destPrefix}`,
        s3StorageClass: 'STANDARD',
        s3Config: { bucketAccessRoleArn: role.roleArn },
      });
      // The locations are only usable once the role can read and write.
      source.node.addDependency(role);
      dest.node.addDependency(role);

      const filters = (patterns: readonly string[]) =>
        patterns.length > 0 ? [{ filterType: 'SIMPLE_PATTERN', value: patterns.join('|') }] : undefined;
      const task = (taskId: string, name: string, includes: readonly string[], schedule?: string) =>
        new datasync.CfnTask(this, taskId, {
          name: `${this.stackName}-${name}`,
          sourceLocationArn: source.attrLocationArn,
          destinationLocationArn: dest.attrLocationArn,
          cloudWatchLogGroupArn: this.logGroup!.logGroupArn,
          includes: filters(includes),
          excludes: filters(cfg.excludes),
          schedule: schedule ? { scheduleExpression: schedule, status: 'ENABLED' } : undefined,
          options: {
            verifyMode: 'ONLY_FILES_TRANSFERRED',
            transferMode: 'CHANGED',
            overwriteMode: 'ALWAYS',
            // A vendor deleting or re-cutting history must not delete our copy.
            preserveDeletedFiles: 'PRESERVE',
            objectTags: 'PRESERVE',
            logLevel: 'TRANSFER',
            taskQueueing: 'ENABLED',
            bytesPerSecond: cfg.bytesPerSecond,
          },
          taskReportConfig: {
            destination: {
              s3: {
                s3BucketArn: vendorZone.bucketArn,
                subdirectory: `${TASK_REPORT_PREFIX}/${cfg.vendorName}/${name}/`,
                bucketAccessRoleArn: role.roleArn,
              },
            },
            outputType: 'STANDARD',
            reportLevel: 'ERRORS_ONLY',
            objectVersionIds: 'INCLUDE',
          },
        });

      const prefixes = cfg.fullCopyPrefixes.length > 0 ? cfg.fullCopyPrefixes : [''];
      this.fullCopyTasks = prefixes.map((p, i) =>
        task(
          prefixes.length > 1 ? `FullCopyTask${i}` : 'FullCopyTask',
          prefixes.length > 1 ? `full-${p.replace(/[^a-z0-9]+/gi, '-').replace(/-+$/, '')}` : 'full',
          p ? [`/${p}*`, ...cfg.includes] : cfg.includes,
        ),
      );
      this.incrementalTask = task('IncrementalTask', 'incremental', cfg.includes, cfg.incrementalSchedule);

      this.fullCopyTasks.forEach(
        (t, i) =>
          new CfnOutput(this, `FullCopyTaskArn${i}`, {
            value: t.attrTaskArn,
            description: `quant sync start --task-arn <this> (full copy${cfg.fullCopyPrefixes[i] ? ` of ${cfg.fullCopyPrefixes[i]}` : ''})`,
          }),
      );
      new CfnOutput(this, 'IncrementalTaskArn', { value: this.incrementalTask.attrTaskArn });
      new CfnOutput(this, 'DataSyncRoleArn', {
        value: role.roleArn,
        description:
          'quant sync policy --print --role-arn <this>: the vendor admits this role in its bucket policy',
      });
      // The policy parameters from this environment's config, as the CLI reads them: save the value
      // to a file and run `quant sync policy --print --config <file>`.
      new CfnOutput(this, 'VendorPolicyConfigPull', {
        value: Stack.of(this).toJsonString({
          mode: 'pull',
          ...policyBase,
          roleArn: role.roleArn,
          ...(cfg.vendorKmsKeyArn ? { vendorKmsKeyArn: cfg.vendorKmsKeyArn } : {}),
        }),
        description: 'quant sync policy --print --config <this value saved as a file> (pull mode)',
      });
      this.addMonitoring(props, [...this.fullCopyTasks, this.incrementalTask], this.logGroup, cfg);
    }

    if (cfg.mode !== 'pull') {
      const vendorRole = new iam.ArnPrincipal(cfg.replicationRoleArn!);
      vendorZone.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: `ReplicationFrom${cfg.vendorName.replace(/[^a-z0-9]/gi, '')}`,
          principals: [vendorRole],
          // No s3:ReplicateDelete: the replication rule `quant sync policy` prints does not
          // replicate delete markers (src/sync/policy.ts), and a vendor must not hide our copy.
          actions: ['s3:ReplicateObject', 's3:ReplicateTags', 's3:ObjectOwnerOverrideToBucketOwner'],
          resources: [vendorZone.arnForObjects(`${destPrefix}*`)],
        }),
      );
      vendorZone.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: `ReplicationVersioning${cfg.vendorName.replace(/[^a-z0-9]/gi, '')}`,
          principals: [vendorRole],
          // Read-only on the bucket: replication needs to see that versioning is on, never to change
          // it (s3:PutBucketVersioning would let the vendor suspend versioning on our bucket), and
          // never to list it.
          actions: ['s3:GetBucketVersioning'],
          resources: [vendorZone.bucketArn],
        }),
      );
      vendorKey.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: `ReplicaEncryption${cfg.vendorName.replace(/[^a-z0-9]/gi, '')}`,
          principals: [vendorRole],
          actions: ['kms:Encrypt', 'kms:GenerateDataKey'],
          resources: ['*'],
          conditions: {
            StringEquals: { 'kms:ViaService': `s3.${this.region}.amazonaws.com` },
          },
        }),
      );
      new CfnOutput(this, 'ReplicationDestination', {
        value: `${vendorZone.bucketArn}/${destPrefix}`,
        description: `quant sync policy --print --mode push ...; RTC ${cfg.replicationTimeControl ? 'requested' : 'not requested'}`,
      });
      new CfnOutput(this, 'VendorPolicyConfigPush', {
        value: Stack.of(this).toJsonString({
          mode: 'push',
          ...policyBase,
          roleArn: cfg.replicationRoleArn!,
          destBucket: vendorZone.bucketName,
          destKmsKeyArn: vendorKey.keyArn,
          replicationTimeControl: cfg.replicationTimeControl,
          ...(cfg.vendorKmsKeyArn ? { vendorKmsKeyArn: cfg.vendorKmsKeyArn } : {}),
        }),
        description: 'quant sync policy --print --config <this value saved as a file> (push mode)',
      });
    }

    for (const d of cfg.datasets) this.addDatasetTable(d, props, `${destPrefix}${d.prefix}/`);
  }

  /**
   * Acknowledges the role's IAM5 findings whose resource ends in one of the given object prefixes.
   * Cross-stack bucket ARNs render only after references are resolved, so this runs as a validation;
   * any other wildcard stays unacknowledged and fails the nag test and `cdk synth`.
   */

  private addDatasetTable(d: VendorDatasetConfig, props: DataSyncStackProps, keyPrefix: string): void {
    const location = `s3://${props.lake.buckets.vendor.bucketName}/${keyPrefix}`;
    const parameters: Record<string, string> = { classification: d.format, EXTERNAL: 'TRUE' };
    if (d.datePartition) {
      const p = d.datePartition.name;
      Object.assign(parameters, {
        'projection.enabled': 'true',
        [`projection.${p}.type`]: 'date',
        [`projection.${p}.range`]: `${d.datePartition.start},NOW`,
        [`projection.${p}.format`]: 'yyyy-MM-dd',
        [`projection.${p}.interval`]: '1',
        [`projection.${p}.interval.unit`]: 'DAYS',
        'storage.location.template': `${location}${p}=\${${p}}/`,
      });
    }
    if (d.format === 'csv') parameters['skip.header.line.count'] = '1';
    const serde =
      d.format === 'parquet'
        ? {
            inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
            outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
            serdeInfo: {
              serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
            },
          }
        : {
            inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
            outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
            serdeInfo: {
              serializationLibrary: 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe',
              parameters: { 'field.delim': ',' },
            },
          };
    new glue.CfnTable(this, `Table-${d.table}`, {
      catalogId: this.account,
      databaseName: props.lake.databaseName,
      tableInput: {
        name: d.table,
        description: `Vendor dataset ${d.table} (${d.format}) synced from the vendor's bucket`,
        tableType: 'EXTERNAL_TABLE',
        parameters,
        partitionKeys: d.datePartition ? [{ name: d.datePartition.name, type: 'date' }] : [],
        storageDescriptor: { location, columns: d.columns.map((c) => ({ ...c })), ...serde },
      },
    });
  }

  private addMonitoring(
    props: DataSyncStackProps,
    tasks: readonly datasync.CfnTask[],
    logGroup: logs.LogGroup,
    cfg: VendorSyncConfig,
  ): void {
    const { monitoring } = props;
    const taskId = (t: datasync.CfnTask): string => Fn.select(1, Fn.split('/', t.attrTaskArn));
    const incremental = tasks[tasks.length - 1];

    // Any task execution ending in ERROR notifies at once (alarms below catch the slower signals).
    // EventBridge publishes through a role that only this account's rules may assume (no
    // confused deputy), not through a grant to events.amazonaws.com on the alarm topic. The rule's
    // name is fixed so the trust policy can name it without a dependency cycle.
    const taskErrorRuleName = `${this.stackName}-vendor-sync-error`.slice(0, 64);
    const notifyRole = new iam.Role(this, 'TaskErrorNotifyRole', {
      description: 'EventBridge rule TaskErrorRule: publish to the alarm topic',
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': this.account },
          ArnEquals: {
            'aws:SourceArn': `arn:${this.partition}:events:${this.region}:${this.account}:rule/${taskErrorRuleName}`,
          },
        },
      }),
    });
    Validations.of(notifyRole).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason:
        'Publishing to the KMS-encrypted alarm topic needs a data key; the statement names only the alarm topic key.',
    });
    new events.Rule(this, 'TaskErrorRule', {
      ruleName: taskErrorRuleName,
      description: 'DataSync task execution of the vendor sync ended in ERROR',
      eventPattern: {
        source: ['aws.datasync'],
        detailType: ['DataSync Task Execution State Change'],
        resources: events.Match.prefix(`arn:${this.partition}:datasync:${this.region}:${this.account}:task/`),
        detail: { State: ['ERROR'] },
      },
      targets: [
        new targets.SnsTopic(monitoring.alarmTopic, {
          role: notifyRole,
          message: events.RuleTargetInput.fromText(
            `Vendor sync (${cfg.vendorName}) failed: ${events.EventField.fromPath('$.resources[0]')} is ${events.EventField.fromPath('$.detail.State')}. Details: quant sync status --execution-arn ${events.EventField.fromPath('$.resources[0]')}`,
          ),
        }),
      ],
    });

    const errors = new logs.MetricFilter(this, 'SyncErrorFilter', {
      logGroup,
      filterPattern: logs.FilterPattern.anyTerm('[ERROR]', 'ERROR'),
      metricNamespace: 'Quant/DataSync',
      metricName: 'SyncErrors',
      metricValue: '1',
    });
    const errorMetric = errors.metric({ statistic: 'Sum', period: Duration.hours(1) });
    monitoring.addAlarm(this, 'SyncFailedAlarm', {
      alarmDescription: `Vendor sync (${cfg.vendorName}): DataSync logged errors in the last hour (quant sync history)`,
      metric: errorMetric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });

    const ds = (metricName: string, t: datasync.CfnTask, statistic = 'Sum', period = Duration.hours(1)) =>
      new cw.Metric({
        namespace: 'AWS/DataSync',
        metricName,
        dimensionsMap: { TaskId: taskId(t) },
        statistic,
        period,
      });
    // Each execution publishes FilesPrepared; hours without one count as "no run" (missing = breaching).
    monitoring.addAlarm(this, 'SyncLateAlarm', {
      alarmDescription: `Vendor sync (${cfg.vendorName}): the incremental has not run for ${cfg.lateAfterHours} hours`,
      metric: ds('FilesPrepared', incremental, 'SampleCount'),
      threshold: 1,
      evaluationPeriods: cfg.lateAfterHours,
      datapointsToAlarm: cfg.lateAfterHours,
      comparisonOperator: cw.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cw.TreatMissingData.BREACHING,
    });

    const perTask = (metricName: string) =>
      tasks.map((t, i) =>
        ds(metricName, t).with({ label: i === tasks.length - 1 ? 'incremental' : `full ${i}` }),
      );
    monitoring.addSection(`Vendor sync (${cfg.vendorName})`, [
      [
        new cw.GraphWidget({ title: 'Bytes transferred', left: perTask('BytesTransferred'), width: 8 }),
        new cw.GraphWidget({
          title: 'Files transferred / verified',
          left: [...perTask('FilesTransferred'), ...perTask('FilesVerified')],
          width: 8,
        }),
        new cw.GraphWidget({ title: 'Sync errors (logged)', left: [errorMetric], width: 8 }),
      ],
      [
        new cw.LogQueryWidget({
          title: 'Task executions: duration and outcome',
          logGroupNames: [logGroup.logGroupName],
          queryLines: [
            'fields @timestamp, @message',
            'filter @message like /Execution|ERROR|Verif/',
            'sort @timestamp desc',
            'limit 50',
          ],
          width: 24,
        }),
      ],
    ]);
  }
}
