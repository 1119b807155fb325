import { CfnOutput, Duration, Fn, Stack, Validations } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as datasync from 'aws-cdk-lib/aws-datasync';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { VendorSyncConfig } from '../config/types';
import type { IMonitoring } from '../stacks/monitoring-stack';
import { acknowledgeWildcards } from './acknowledge-wildcards';
import { Area } from './area';
import { EncryptedLogGroup } from './encrypted-log-group';
import { graph } from './alarms';

/** Where DataSync writes its task reports in the vendor zone (outside every vendor's prefix). */
export const TASK_REPORT_PREFIX = '_datasync-reports';

export interface VendorPullSyncProps {
  /** The vendor, its bucket and what to copy (lib/config/types.ts `VendorSyncConfig`, validated). */
  readonly sync: VendorSyncConfig;
  /** The vendor zone: objects land under `<vendorName>/`, task reports under `_datasync-reports/`. */
  readonly vendorZone: s3.IBucket;
  /** The vendor zone's own key. */
  readonly vendorKey: kms.IKey;
  /** Alarms (failed or late sync), dashboard widgets, log key and retention. */
  readonly monitoring: IMonitoring;
  /** Values of `quant sync policy --print --config` both modes share (account, region, vendor bucket). */
  readonly policyBase: Readonly<Record<string, string>>;
}

/**
 * Pull mode of the vendor sync: DataSync (S3 -> S3) with a role the vendor's bucket policy admits:
 * full-copy tasks (one per prefix, started by hand or with `quant sync start`) and a scheduled,
 * verified incremental, with task reports in the vendor zone, CloudWatch logs, an alarm on logged
 * errors or a late incremental, and a notification of every execution that ends in ERROR.
 */
export class VendorPullSync extends Area {
  /** DataSync's role: read the vendor bucket, write the vendor zone. */
  readonly role: iam.Role;
  readonly fullCopyTasks: readonly datasync.CfnTask[];
  readonly incrementalTask: datasync.CfnTask;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: VendorPullSyncProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const cfg = props.sync;
    const { vendorZone, vendorKey, policyBase } = props;
    const destPrefix = `${cfg.vendorName}/`;
    const vendorBucketArn = `arn:${stack.partition}:s3:::${cfg.vendorBucket}`;
    const role = new iam.Role(this, 'DataSyncRole', {
      description: `DataSync: copy s3://${cfg.vendorBucket}/${cfg.vendorPrefix} into the vendor zone`,
      assumedBy: new iam.ServicePrincipal('datasync.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:datasync:${stack.region}:${stack.account}:*` },
        },
      }),
    });
    const listBucket = ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'];
    const statements: iam.PolicyStatementProps[] = [
      // Source: read only, and only under the vendor prefix.
      { sid: 'ListVendorBucket', actions: listBucket, resources: [vendorBucketArn] },
      {
        sid: 'ReadVendorObjects',
        actions: ['s3:GetObject', 's3:GetObjectTagging', 's3:GetObjectVersion', 's3:GetObjectVersionTagging'],
        resources: [`${vendorBucketArn}/${cfg.vendorPrefix}*`],
      },
      ...(cfg.vendorKmsKeyArn
        ? [{ sid: 'DecryptVendorObjects', actions: ['kms:Decrypt'], resources: [cfg.vendorKmsKeyArn] }]
        : []),
      // Destination: the vendor's prefix and the task reports, nothing else of the zone.
      { sid: 'ListVendorZone', actions: listBucket, resources: [vendorZone.bucketArn] },
      {
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
      },
      {
        sid: 'UseLakeKey',
        actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
        resources: [vendorKey.keyArn],
      },
    ];
    for (const statement of statements) role.addToPolicy(new iam.PolicyStatement(statement));
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

    this.logGroup = EncryptedLogGroup.of(this, 'DataSyncLogs', props.monitoring);
    // DataSync writes to CloudWatch Logs through a resource policy, not through the task's role.
    new logs.CfnResourcePolicy(this, 'DataSyncLogsPolicy', {
      policyName: `${stack.stackName}-datasync`,
      policyDocument: Fn.toJsonString({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'datasync.amazonaws.com' },
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: `${this.logGroup.logGroupArn}`,
            Condition: {
              StringEquals: { 'aws:SourceAccount': stack.account },
              ArnLike: {
                'aws:SourceArn': `arn:${stack.partition}:datasync:${stack.region}:${stack.account}:task/*`,
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
        name: `${stack.stackName}-${name}`,
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
    this.role = role;
    this.addMonitoring(props.monitoring, [...this.fullCopyTasks, this.incrementalTask], this.logGroup, cfg);
  }

  private addMonitoring(
    monitoring: IMonitoring,
    tasks: readonly datasync.CfnTask[],
    logGroup: logs.LogGroup,
    cfg: VendorSyncConfig,
  ): void {
    const stack = Stack.of(this);
    const taskId = (t: datasync.CfnTask): string => Fn.select(1, Fn.split('/', t.attrTaskArn));
    const incremental = tasks[tasks.length - 1];

    // Any task execution ending in ERROR notifies at once (alarms below catch the slower signals).
    // EventBridge publishes through a role that only this account's rules may assume (no
    // confused deputy), not through a grant to events.amazonaws.com on the alarm topic. The rule's
    // name is fixed so the trust policy can name it without a dependency cycle.
    const taskErrorRuleName = `${stack.stackName}-vendor-sync-error`.slice(0, 64);
    const notifyRole = new iam.Role(this, 'TaskErrorNotifyRole', {
      description: 'EventBridge rule TaskErrorRule: publish to the alarm topic',
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnEquals: {
            'aws:SourceArn': `arn:${stack.partition}:events:${stack.region}:${stack.account}:rule/${taskErrorRuleName}`,
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
        resources: events.Match.prefix(
          `arn:${stack.partition}:datasync:${stack.region}:${stack.account}:task/`,
        ),
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
    monitoring.alarm(this, 'SyncFailedAlarm', {
      description: `Vendor sync (${cfg.vendorName}): DataSync logged errors in the last hour (quant sync history)`,
      metric: errorMetric,
      threshold: 1,
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
    monitoring.alarm(this, 'SyncLateAlarm', {
      description: `Vendor sync (${cfg.vendorName}): the incremental has not run for ${cfg.lateAfterHours} hours`,
      metric: ds('FilesPrepared', incremental, 'SampleCount'),
      threshold: 1,
      evaluationPeriods: cfg.lateAfterHours,
      datapointsToAlarm: cfg.lateAfterHours,
      comparison: '<',
      treatMissingData: cw.TreatMissingData.BREACHING,
    });

    const perTask = (metricName: string) =>
      tasks.map((t, i) =>
        ds(metricName, t).with({ label: i === tasks.length - 1 ? 'incremental' : `full ${i}` }),
      );
    monitoring.addSection(`Vendor sync (${cfg.vendorName})`, [
      [
        graph('Bytes transferred', perTask('BytesTransferred')),
        graph('Files transferred / verified', [...perTask('FilesTransferred'), ...perTask('FilesVerified')]),
        graph('Sync errors (logged)', [errorMetric]),
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
