import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface DataBackupPlanProps {
  /** Vault of the recovery points (in this region). */
  readonly vault: backup.IBackupVault;
  /**
   * Vault in another region that every recovery point is copied to, with the same retention.
   * @default no copies
   */
  readonly copyTo?: backup.IBackupVault;
  /** Daily backups are kept this many days. */
  readonly dailyRetentionDays: number;
  /**
   * Monthly backups (the 1st of each month) are kept this many days; 0 = none.
   * @default 0
   */
  readonly monthlyRetentionDays?: number;
  /**
   * Hour (UTC) the backup window opens.
   * @default 5
   */
  readonly hourUtc?: number;
  /** DynamoDB tables to back up. */
  readonly tables: readonly dynamodb.ITable[];
  /** S3 buckets to back up (versioning on; AWS Backup needs it). */
  readonly buckets: readonly s3.IBucket[];
}

/**
 * An AWS Backup plan for DynamoDB tables and S3 buckets: daily and (optionally) monthly rules, each
 * recovery point copied to a vault in another region, and a backup role that only AWS Backup assumes.
 */
export class DataBackupPlan extends Construct {
  readonly plan: backup.BackupPlan;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: DataBackupPlanProps) {
    super(scope, id);
    const hour = props.hourUtc ?? 5;
    const monthly = props.monthlyRetentionDays ?? 0;
    if (!Number.isInteger(props.dailyRetentionDays) || props.dailyRetentionDays < 1)
      throw new Error(`DataBackupPlan ${id} dailyRetentionDays: must be a whole number >= 1`);
    if (!Number.isInteger(hour) || hour < 0 || hour > 23)
      throw new Error(`DataBackupPlan ${id} hourUtc: must be a whole number 0-23, got ${hour}`);
    if (props.tables.length + props.buckets.length === 0)
      throw new Error(`DataBackupPlan ${id}: nothing to back up`);
    const rule = (name: string, days: number, schedule: events.Schedule) =>
      new backup.BackupPlanRule({
        ruleName: name,
        scheduleExpression: schedule,
        startWindow: Duration.hours(1),
        completionWindow: Duration.hours(8),
        deleteAfter: Duration.days(days),
        copyActions: props.copyTo
          ? [{ destinationBackupVault: props.copyTo, deleteAfter: Duration.days(days) }]
          : undefined,
      });
    const rules = [
      rule('Daily', props.dailyRetentionDays, events.Schedule.cron({ minute: '0', hour: String(hour) })),
    ];
    if (monthly > 0)
      rules.push(
        rule('Monthly', monthly, events.Schedule.cron({ minute: '0', hour: String(hour), day: '1' })),
      );
    this.plan = new backup.BackupPlan(this, 'Plan', { backupVault: props.vault, backupPlanRules: rules });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('backup.amazonaws.com'),
      description: 'AWS Backup: backs up the trading tables and lake buckets of this plan',
    });
    if (props.buckets.length > 0)
      this.role.addManagedPolicy(
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSBackupServiceRolePolicyForS3Backup'),
      );
    this.plan.addSelection('Data', {
      role: this.role,
      resources: [
        ...props.tables.map((t) => backup.BackupResource.fromDynamoDbTable(t)),
        ...props.buckets.map((b) => backup.BackupResource.fromArn(b.bucketArn)),
      ],
    });
    // cdk-nag sees only backup selections in a table's own stack.
    for (const t of props.tables)
      if (Stack.of(t) !== Stack.of(this))
        Validations.of(t).acknowledge({
          id: 'NIST.800.53.R5-DynamoDBInBackupPlan',
          reason: `In the AWS Backup plan ${this.node.path} (another stack), daily and copied to the DR region.`,
        });
    const managed = ['AWSBackupServiceRolePolicyForBackup'];
    if (props.buckets.length > 0) managed.push('AWSBackupServiceRolePolicyForS3Backup');
    for (const name of managed)
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/${name}]`,
        reason:
          "AWS Backup's own service-role policy: AWS keeps it in step with what Backup calls; only backup.amazonaws.com assumes this role, and Backup uses it only on the resources this plan's selection names.",
      });
  }
}
