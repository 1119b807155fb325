import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { dev, prod } from '../../lib/config';
import type { QuantStage } from '../../lib/quant-stage';
import { TASK_REPORT_PREFIX } from '../../lib/stacks/data-sync-stack';
import { buildVendorPolicies, type PolicyParams } from '../../src/sync/policy';
import { nagViolations, resourcesOfType, template, testApp } from './helpers';

type Statement = {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Principal?: unknown;
};

let devStage: QuantStage;
let prodStage: QuantStage;
let t: Template;
let p: Template;

beforeAll(() => {
  const noBundling = { 'aws:cdk:bundling-stacks': [] };
  devStage = testApp([dev], noBundling).stages.dev;
  prodStage = testApp([prod], noBundling).stages.prod;
  t = template(devStage.dataSync);
  p = template(prodStage.dataSync);
});

const actions = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const roleStatements = (tpl: Template): Statement[] =>
  resourcesOfType(tpl, 'AWS::IAM::Policy').flatMap(
    ([, r]) => (r.Properties!.PolicyDocument as { Statement: Statement[] }).Statement,
  );

describe('DataSyncStack: cdk-nag and least privilege', () => {
  it('has no unacknowledged AwsSolutions findings (dev: pull; prod: pull + push)', () => {
    expect(nagViolations(devStage.dataSync)).toEqual([]);
    expect(nagViolations(prodStage.dataSync)).toEqual([]);
    // The push grants land in the lake's bucket and key policies: those stay clean too.
    expect(nagViolations(prodStage.dataLake)).toEqual([]);
  });

  it('the DataSync role is trusted by DataSync of this account only', () => {
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'datasync.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': dev.account },
              ArnLike: { 'aws:SourceArn': `arn:aws:datasync:${dev.region}:${dev.account}:*` },
            },
          }),
        ],
      },
    });
  });

  it('reads the vendor bucket (prefix only, no writes) and writes only the vendor prefix of the zone', () => {
    const st = roleStatements(t);
    expect(st.every((s) => !actions(s).some((a) => a === '*' || a.endsWith(':*')))).toBe(true);
    const vendorArn = `arn:aws:s3:::${dev.vendorSync.vendorBucket}`;
    const onVendor = st.filter((s) => JSON.stringify(s.Resource).includes(vendorArn));
    expect(onVendor.flatMap(actions).sort()).toEqual(
      [
        's3:GetBucketLocation',
        's3:GetObject',
        's3:GetObjectTagging',
        's3:GetObjectVersion',
        's3:GetObjectVersionTagging',
        's3:ListBucket',
        's3:ListBucketMultipartUploads',
      ].sort(),
    );
    expect(st.find((s) => s.Sid === 'ReadVendorObjects')!.Resource).toBe(`${vendorArn}/reference/*`);
    const write = st.find((s) => s.Sid === 'WriteVendorZone')!;
    const rendered = JSON.stringify(write.Resource);
    expect(rendered).toContain('/acme/*');
    expect(rendered).toContain(`/${TASK_REPORT_PREFIX}/*`);
    expect(actions(write)).toContain('s3:PutObject');
  });
});

describe('DataSyncStack: locations and tasks', () => {
  it('copies s3://vendor/PREFIX into the vendor zone under the vendor name', () => {
    t.hasResourceProperties('AWS::DataSync::LocationS3', {
      S3BucketArn: 'arn:aws:s3:::vendor-market-data-dev',
      Subdirectory: '/reference/',
    });
    t.hasResourceProperties('AWS::DataSync::LocationS3', {
      Subdirectory: '/acme/',
      S3StorageClass: 'STANDARD',
    });
  });

  it('dev: one full-copy task and a daily incremental, verified, reported, logged', () => {
    const tasks = resourcesOfType(t, 'AWS::DataSync::Task').map(([, r]) => r.Properties!);
    expect(tasks).toHaveLength(2);
    const incremental = tasks.find((x) => x.Schedule)!;
    expect(incremental.Schedule).toEqual({ ScheduleExpression: 'cron(0 3 * * ? *)', Status: 'ENABLED' });
    for (const task of tasks) {
      expect(task.Options).toMatchObject({
        VerifyMode: 'ONLY_FILES_TRANSFERRED',
        TransferMode: 'CHANGED',
        PreserveDeletedFiles: 'PRESERVE',
        LogLevel: 'TRANSFER',
      });
      expect(task.Excludes).toEqual([{ FilterType: 'SIMPLE_PATTERN', Value: '*/_tmp/*|*.inprogress' }]);
      expect(task.CloudWatchLogGroupArn).toBeDefined();
      expect(task.TaskReportConfig).toMatchObject({
        OutputType: 'STANDARD',
        ReportLevel: 'ERRORS_ONLY',
        Destination: {
          S3: { Subdirectory: expect.stringMatching(new RegExp(`^${TASK_REPORT_PREFIX}/acme/`)) },
        },
      });
    }
  });

  it('prod: the full copy is split by prefix into one task each', () => {
    const tasks = resourcesOfType(p, 'AWS::DataSync::Task').map(([, r]) => r.Properties!);
    const full = tasks.filter((x) => !x.Schedule);
    expect(full.map((x) => x.Includes)).toEqual([
      [{ FilterType: 'SIMPLE_PATTERN', Value: '/reference/*' }],
      [{ FilterType: 'SIMPLE_PATTERN', Value: '/eod/*' }],
      [{ FilterType: 'SIMPLE_PATTERN', Value: '/intraday/*' }],
    ]);
  });

  it('logs to a KMS-encrypted log group that DataSync may write to', () => {
    t.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: Match.anyValue(), RetentionInDays: 14 });
    const policy = resourcesOfType(t, 'AWS::Logs::ResourcePolicy')[0][1].Properties!;
    expect(JSON.stringify(policy.PolicyDocument)).toContain('datasync.amazonaws.com');
  });
});

describe('DataSyncStack: push mode (prod)', () => {
  it("lets the vendor's replication role write replicas under its prefix and encrypt with the vendor zone's own key", () => {
    const lake = template(prodStage.dataLake);
    const role = prod.vendorSync.replicationRoleArn!;
    const bucketStatements = resourcesOfType(lake, 'AWS::S3::BucketPolicy').flatMap(
      ([, r]) => (r.Properties!.PolicyDocument as { Statement: Statement[] }).Statement,
    );
    const replicate = bucketStatements.find((s) => s.Sid === 'ReplicationFromacme')!;
    expect(replicate.Principal).toEqual({ AWS: role });
    expect(actions(replicate)).toEqual(
      expect.arrayContaining(['s3:ReplicateObject', 's3:ObjectOwnerOverrideToBucketOwner']),
    );
    expect(JSON.stringify(replicate.Resource)).toContain('/acme/*');
    const keyStatements = resourcesOfType(lake, 'AWS::KMS::Key').flatMap(
      ([, r]) => (r.Properties!.KeyPolicy as { Statement: Statement[] }).Statement,
    );
    const enc = keyStatements.find((s) => s.Sid === 'ReplicaEncryptionacme')!;
    expect(actions(enc)).toEqual(['kms:Encrypt', 'kms:GenerateDataKey']);
    // The vendor's key is the vendor zone's own, not the key of the other zones.
    const keys = resourcesOfType(lake, 'AWS::KMS::Key');
    const encKey = keys.find(([, r]) =>
      (r.Properties!.KeyPolicy as { Statement: Statement[] }).Statement.some(
        (s) => s.Sid === 'ReplicaEncryptionacme',
      ),
    )![0];
    expect(encKey).toMatch(/^VendorKey/);
    const buckets = resourcesOfType(lake, 'AWS::S3::Bucket');
    const keyOf = (prefix: string) =>
      JSON.stringify(buckets.find(([id]) => id.startsWith(prefix))![1].Properties!.BucketEncryption);
    expect(keyOf('VendorBucket')).toContain(encKey);
    for (const other of ['RawBucket', 'CuratedBucket', 'ResultsBucket', 'ModelsBucket', 'AuditBucket']) {
      expect(keyOf(other)).not.toContain(encKey);
    }
    // No delete markers on our copy, no listing of our bucket.
    expect(actions(replicate)).not.toContain('s3:ReplicateDelete');
    // The vendor may not suspend versioning (or change anything else) on our bucket.
    const versioning = bucketStatements.find((s) => s.Sid === 'ReplicationVersioningacme')!;
    expect(actions(versioning)).toEqual(['s3:GetBucketVersioning']);
    const vendorActions = bucketStatements
      .filter((s) => JSON.stringify(s.Principal).includes(role))
      .flatMap(actions);
    expect(vendorActions).not.toContain('s3:PutBucketVersioning');
    // dev is pull-only: no vendor principal in its lake policies.
    expect(JSON.stringify(template(devStage.dataLake).toJSON())).not.toContain('acme-replication');
  });
});

describe('DataSyncStack: catalog and monitoring', () => {
  it('creates a Glue table per vendor dataset with date partition projection', () => {
    t.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'vendor_symbols',
        PartitionKeys: [{ Name: 'as_of', Type: 'date' }],
        Parameters: Match.objectLike({
          'projection.enabled': 'true',
          'projection.as_of.type': 'date',
          'projection.as_of.range': '2020-01-01,NOW',
          'projection.as_of.format': 'yyyy-MM-dd',
        }),
      }),
    });
    const [, table] = resourcesOfType(t, 'AWS::Glue::Table')[0];
    const input = table.Properties!.TableInput as { Parameters: Record<string, unknown> };
    expect(JSON.stringify(input.Parameters['storage.location.template'])).toContain(
      '/acme/symbols/as_of=${as_of}/',
    );
  });

  it('sends task executions in ERROR to the alarm topic', () => {
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        source: ['aws.datasync'],
        'detail-type': ['DataSync Task Execution State Change'],
        detail: { State: ['ERROR'] },
      }),
      Targets: [Match.objectLike({ Arn: Match.anyValue() })],
    });
  });

  it('alarms on logged errors and on a late incremental (missing data counts as late)', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'SyncErrors',
      Namespace: 'Quant/DataSync',
      Threshold: 1,
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'FilesPrepared',
      Namespace: 'AWS/DataSync',
      EvaluationPeriods: 26,
      DatapointsToAlarm: 26,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
  });
});

/**
 * The value of a JSON output with its deploy-time tokens replaced by plausible values: each token
 * becomes `stand(token)`, so a test can see which field holds which reference.
 */
function outputJson(tpl: Template, name: string, stand: (token: unknown) => string): Record<string, unknown> {
  const value = (tpl.toJSON().Outputs as Record<string, { Value: unknown }>)[name].Value as
    string | { 'Fn::Join': [string, unknown[]] };
  const text =
    typeof value === 'string'
      ? value
      : value['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : stand(part))).join('');
  return JSON.parse(text) as Record<string, unknown>;
}

describe('DataSyncStack: the vendor policy parameters from config (quant sync policy --print --config)', () => {
  const ROLE = 'arn:aws:iam::333333333333:role/DataSyncRole-ABC';
  const KEY = 'arn:aws:kms:ap-southeast-1:333333333333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const stand = (token: unknown): string => {
    const s = JSON.stringify(token);
    if (s.includes('Fn::GetAtt') && s.includes('Arn')) return ROLE;
    return /Key/i.test(s) ? KEY : 'quant-vendor-zone-bucket';
  };

  it('pull: an output with the config values and the DataSync role, accepted by the policy builder', () => {
    const params = outputJson(t, 'VendorPolicyConfigPull', stand);
    expect(params).toEqual({
      mode: 'pull',
      account: devStage.dataSync.account,
      region: devStage.dataSync.region,
      vendorAccount: dev.vendorSync.vendorAccount,
      vendorBucket: dev.vendorSync.vendorBucket,
      vendorRegion: dev.vendorSync.vendorRegion,
      vendorPrefix: dev.vendorSync.vendorPrefix,
      roleArn: ROLE,
    });
    const policies = buildVendorPolicies(params as PolicyParams);
    expect(JSON.stringify(policies.bucketPolicy)).toContain(ROLE);
    expect(JSON.stringify(policies.bucketPolicy)).toContain(
      `arn:aws:s3:::${dev.vendorSync.vendorBucket}/${dev.vendorSync.vendorPrefix}*`,
    );
    // dev is pull-only: no push parameters.
    expect(Object.keys(t.toJSON().Outputs as object)).not.toContain('VendorPolicyConfigPush');
  });

  it('push (prod): the replication role, our bucket and key, RTC as configured', () => {
    const params = outputJson(p, 'VendorPolicyConfigPush', stand);
    expect(params).toMatchObject({
      mode: 'push',
      vendorPrefix: prod.vendorSync.vendorPrefix,
      roleArn: prod.vendorSync.replicationRoleArn,
      destBucket: 'quant-vendor-zone-bucket',
      destKmsKeyArn: KEY,
      replicationTimeControl: prod.vendorSync.replicationTimeControl,
    });
    const policies = buildVendorPolicies(params as PolicyParams);
    expect(policies.replicationConfiguration).toBeDefined();
    expect(JSON.stringify(policies.rolePolicy)).toContain(KEY);
  });
});

describe('DataSyncStack: dashboard', () => {
  it('adds a vendor sync section: bytes and files transferred, errors, execution durations', () => {
    const body = JSON.stringify(template(devStage.dashboard).toJSON());
    for (const text of [
      'Vendor sync (acme)',
      'Bytes transferred',
      'BytesTransferred',
      'Files transferred / verified',
      'FilesTransferred',
      'Sync errors (logged)',
      'Task executions: duration and outcome',
    ]) {
      expect(body).toContain(text);
    }
  });
});
