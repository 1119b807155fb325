import { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { dev, prod } from '../../lib/config';
import type { QuantStage } from '../../lib/quant-stage';
import { GLUE_TYPE, LAKE_BUCKET_ENV } from '../../src/contract/lake';
import { TCA_TABLE } from '../../src/contract/tca';
import { nagViolations, resourcesOfType, synthStage, template } from './helpers';

let stage: QuantStage;
let prodStage: QuantStage;
let probe: Stack;
beforeAll(() => {
  stage = synthStage(dev);
  prodStage = synthStage(prod);
  // A consumer in another stack, as an area stack would grant its task role.
  probe = new Stack(stage, 'QueryProbe');
  stage.dataLake.grantQuery(
    new iam.Role(probe, 'Researcher', { assumedBy: new iam.AccountRootPrincipal() }),
    ['curated'],
  );
});

const t = () => template(stage.dataLake);

function bucketByLogicalPrefix(prefix: string) {
  const found = resourcesOfType(t(), 'AWS::S3::Bucket').filter(([id]) => id.startsWith(prefix));
  expect(found, `one bucket ${prefix}`).toHaveLength(1);
  return found[0];
}

describe('data-lake stack: keys and buckets', () => {
  it('creates customer-managed keys with rotation that are retained', () => {
    const keys = resourcesOfType(t(), 'AWS::KMS::Key');
    // Lake zones, audit, and the vendor zone's own key.
    expect(keys.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'AuditKey',
      'LakeKey',
      'VendorKey',
    ]);
    for (const [, key] of keys) {
      expect(key.Properties?.EnableKeyRotation).toBe(true);
      expect(key.DeletionPolicy).toBe('Retain');
      expect(key.UpdateReplacePolicy).toBe('Retain');
    }
  });

  it('has eight buckets, all versioned, public access blocked, retained, none with a hard-coded name', () => {
    const buckets = resourcesOfType(t(), 'AWS::S3::Bucket');
    expect(buckets.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(
      [
        'AccessLogsBucket',
        'AthenaResultsBucket',
        'AuditBucket',
        'CuratedBucket',
        'ModelsBucket',
        'RawBucket',
        'ResultsBucket',
        'VendorBucket',
      ].sort(),
    );
    for (const [id, b] of buckets) {
      expect(b.DeletionPolicy, id).toBe('Retain');
      expect(b.Properties?.BucketName, id).toBeUndefined();
      expect(b.Properties?.VersioningConfiguration, id).toEqual({ Status: 'Enabled' });
      expect(b.Properties?.PublicAccessBlockConfiguration, id).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
    }
    // No custom resource empties buckets on delete.
    expect(resourcesOfType(t(), 'Custom::S3AutoDeleteObjects')).toHaveLength(0);
  });

  it('encrypts every zone with a KMS key and logs access to the access-logs bucket (SSE-S3)', () => {
    const [logsId, logs] = bucketByLogicalPrefix('AccessLogsBucket');
    expect(logs.Properties?.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
    for (const [id, b] of resourcesOfType(t(), 'AWS::S3::Bucket')) {
      if (id === logsId) continue;
      expect(b.Properties?.BucketEncryption, id).toEqual({
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [expect.stringMatching(/^(Lake|Audit|Vendor)Key/), 'Arn'] },
            },
          },
        ],
      });
      expect(b.Properties?.LoggingConfiguration, id).toEqual({
        DestinationBucketName: { Ref: logsId },
        LogFilePrefix: expect.any(String),
      });
    }
  });

  it('denies non-TLS and TLS < 1.2 requests on every bucket', () => {
    const policies = resourcesOfType(t(), 'AWS::S3::BucketPolicy');
    expect(policies).toHaveLength(8);
    for (const [id, p] of policies) {
      const statements = (p.Properties?.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement;
      expect(statements, id).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 's3:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          Principal: { AWS: '*' },
        }),
      );
      expect(statements, id).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 's3:*',
          Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
        }),
      );
      // Nothing in any bucket policy grants access to everyone.
      for (const s of statements) if (s.Effect === 'Allow') expect(s.Principal, id).not.toEqual({ AWS: '*' });
    }
  });

  it('locks the audit bucket in compliance mode with the configured retention (7 years in prod)', () => {
    const [, audit] = bucketByLogicalPrefix('AuditBucket');
    expect(audit.Properties?.ObjectLockEnabled).toBe(true);
    expect(audit.Properties?.ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: dev.dataLake.auditRetentionDays } },
    });
    const prodAudit = resourcesOfType(template(prodStage.dataLake), 'AWS::S3::Bucket').find(([id]) =>
      id.startsWith('AuditBucket'),
    );
    const days = (
      prodAudit?.[1].Properties?.ObjectLockConfiguration as {
        Rule: { DefaultRetention: { Days: number; Mode: string } };
      }
    ).Rule.DefaultRetention;
    expect(days.Mode).toBe('COMPLIANCE');
    expect(days.Days).toBeGreaterThanOrEqual(7 * 365);
  });

  it('applies lifecycle rules from config', () => {
    const [, raw] = resourcesOfType(template(prodStage.dataLake), 'AWS::S3::Bucket').find(([id]) =>
      id.startsWith('RawBucket'),
    )!;
    const rules = (raw.Properties?.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    expect(rules).toContainEqual(
      expect.objectContaining({
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
        Status: 'Enabled',
      }),
    );
    expect(rules).toContainEqual(
      expect.objectContaining({
        Id: 'tiering-and-expiry',
        Status: 'Enabled',
        Transitions: [
          { StorageClass: 'STANDARD_IA', TransitionInDays: prod.dataLake.raw.infrequentAccessAfterDays },
          { StorageClass: 'GLACIER_IR', TransitionInDays: prod.dataLake.raw.glacierAfterDays },
        ],
        NoncurrentVersionExpiration: { NoncurrentDays: prod.dataLake.raw.noncurrentVersionExpireDays },
      }),
    );
    expect(rules.find((r) => r.Id === 'tiering-and-expiry')?.ExpirationInDays).toBeUndefined();
    const [, devRaw] = bucketByLogicalPrefix('RawBucket');
    expect(
      (devRaw.Properties?.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules,
    ).toContainEqual(
      expect.objectContaining({
        Id: 'tiering-and-expiry',
        ExpirationInDays: dev.dataLake.raw.expireAfterDays,
      }),
    );
    const [, athenaResults] = bucketByLogicalPrefix('AthenaResultsBucket');
    expect(
      (athenaResults.Properties?.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules,
    ).toContainEqual(expect.objectContaining({ ExpirationInDays: dev.dataLake.athenaResultsExpireDays }));
  });
});

describe('data-lake stack: Glue catalog and Athena', () => {
  it('defines the database and the five tables as Parquet with partition projection', () => {
    t().hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: 'quant_dev' } });
    const tables = resourcesOfType(t(), 'AWS::Glue::Table');
    expect(tables.map(([, r]) => (r.Properties?.TableInput as { Name: string }).Name).sort()).toEqual([
      'backtest_results',
      'bars',
      'news_sentiment',
      'tca',
      'ticks',
    ]);
    for (const [, r] of tables) {
      const input = r.Properties?.TableInput as {
        TableType: string;
        Parameters: Record<string, string>;
        StorageDescriptor: Record<string, unknown>;
      };
      expect(input.TableType).toBe('EXTERNAL_TABLE');
      expect(input.Parameters['projection.enabled']).toBe('true');
      expect(input.Parameters.classification).toBe('parquet');
      expect(input.StorageDescriptor.InputFormat).toBe(
        'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      );
      expect(
        (input.StorageDescriptor.SerdeInfo as { SerializationLibrary: string }).SerializationLibrary,
      ).toBe('org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe');
    }
  });

  it('projects ticks by dt (date range from config to NOW) and injected symbol, located under ticks/', () => {
    t().hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'ticks',
        PartitionKeys: [
          { Name: 'dt', Type: 'date' },
          { Name: 'symbol', Type: 'string' },
        ],
        Parameters: Match.objectLike({
          'projection.dt.type': 'date',
          'projection.dt.range': `${dev.dataLake.projectionStartDate},NOW`,
          'projection.dt.format': 'yyyy-MM-dd',
          'projection.symbol.type': 'injected',
          'storage.location.template': {
            'Fn::Join': [
              '',
              ['s3://', { Ref: Match.stringLikeRegexp('^RawBucket') }, '/ticks/dt=${dt}/symbol=${symbol}/'],
            ],
          },
        }),
        StorageDescriptor: Match.objectLike({
          Location: { 'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('^RawBucket') }, '/ticks/']] },
        }),
      }),
    });
  });

  it('projects tca by injected account and dt in the results zone, its columns from the one definition', () => {
    t().hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: TCA_TABLE.name,
        PartitionKeys: [
          { Name: 'account', Type: 'string' },
          { Name: 'dt', Type: 'date' },
        ],
        Parameters: Match.objectLike({
          'projection.account.type': 'injected',
          'projection.dt.type': 'date',
          'projection.dt.range': `${dev.dataLake.projectionStartDate},NOW`,
          'storage.location.template': {
            'Fn::Join': [
              '',
              [
                's3://',
                { Ref: Match.stringLikeRegexp('^ResultsBucket') },
                '/tca/account=${account}/dt=${dt}/',
              ],
            ],
          },
        }),
        StorageDescriptor: Match.objectLike({
          Columns: TCA_TABLE.columns.map((c) => ({ Name: c.name, Type: GLUE_TYPE[c.type] })),
        }),
      }),
    });
    // Spot checks of the Hive types, by hand.
    const tca = resourcesOfType(t(), 'AWS::Glue::Table').find(
      ([, r]) => (r.Properties?.TableInput as { Name: string }).Name === 'tca',
    )!;
    const cols = (
      tca[1].Properties!.TableInput as { StorageDescriptor: { Columns: { Name: string; Type: string }[] } }
    ).StorageDescriptor.Columns;
    expect(cols.find((c) => c.Name === 'qty')!.Type).toBe('bigint');
    expect(cols.find((c) => c.Name === 'decision_time')!.Type).toBe('timestamp');
    expect(cols.find((c) => c.Name === 'shortfall_bps')!.Type).toBe('double');
  });

  it('projects bars by interval enum (1m, 1d), injected symbol and integer year, in the curated zone', () => {
    t().hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'bars',
        Parameters: Match.objectLike({
          'projection.interval.type': 'enum',
          'projection.interval.values': '1m,1d',
          'projection.symbol.type': 'injected',
          'projection.year.type': 'integer',
          'projection.year.range': '2000,2099',
          'storage.location.template': {
            'Fn::Join': [
              '',
              [
                's3://',
                { Ref: Match.stringLikeRegexp('^CuratedBucket') },
                '/bars/interval=${interval}/symbol=${symbol}/year=${year}/',
              ],
            ],
          },
        }),
      }),
    });
    t().hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'backtest_results',
        Parameters: Match.objectLike({
          'projection.strategy.type': 'injected',
          'projection.sweep_id.type': 'injected',
          'storage.location.template': {
            'Fn::Join': [
              '',
              [
                's3://',
                { Ref: Match.stringLikeRegexp('^ResultsBucket') },
                '/backtest_results/strategy=${strategy}/sweep_id=${sweep_id}/',
              ],
            ],
          },
        }),
      }),
    });
  });

  it('enforces an engine-v3 workgroup with KMS-encrypted results and the configured cutoff', () => {
    t().hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: 'quant-dev',
      State: 'ENABLED',
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        PublishCloudWatchMetricsEnabled: true,
        BytesScannedCutoffPerQuery: dev.dataLake.athenaBytesScannedCutoff,
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        ResultConfiguration: {
          EncryptionConfiguration: {
            EncryptionOption: 'SSE_KMS',
            KmsKey: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LakeKey'), 'Arn'] },
          },
          OutputLocation: {
            'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('^AthenaResultsBucket') }, '/results/']],
          },
        },
      },
    });
  });

  it('exposes the runtime environment variables runtime code reads', () => {
    const env = stage.dataLake.runtimeEnvironment();
    expect(Object.keys(env).sort()).toEqual(
      [...Object.values(LAKE_BUCKET_ENV), 'ATHENA_WORKGROUP', 'GLUE_DATABASE'].sort(),
    );
    expect(env.GLUE_DATABASE).toBe('quant_dev');
  });

  it('outputs the same names, each described by its variable', () => {
    const outputs = t().findOutputs('*');
    expect(outputs.LakeRawBucket).toEqual({
      Description: 'LAKE_RAW_BUCKET',
      Value: { Ref: expect.stringMatching(/^RawBucket/) },
    });
    expect(outputs.LakeAthenaResultsBucket.Description).toBe('LAKE_ATHENA_RESULTS_BUCKET');
    expect(outputs.GlueDatabase).toEqual({ Description: 'GLUE_DATABASE', Value: 'quant_dev' });
    expect(outputs.AthenaWorkgroup).toEqual({ Description: 'ATHENA_WORKGROUP', Value: 'quant-dev' });
    const described = Object.values(outputs).map((o) => (o as { Description?: string }).Description);
    expect(described).toEqual(expect.arrayContaining(Object.keys(stage.dataLake.runtimeEnvironment())));
  });
});

describe('data-lake stack: grants', () => {
  it('grantQuery allows Athena in the workgroup, Glue reads of the database, the named zones and results only', () => {
    const policies = resourcesOfType(template(probe), 'AWS::IAM::Policy');
    expect(policies).toHaveLength(1);
    const statements = (
      policies[0][1].Properties?.PolicyDocument as {
        Statement: { Action: string | string[]; Resource: unknown }[];
      }
    ).Statement;
    const text = JSON.stringify(statements);
    expect(text).toContain('athena:StartQueryExecution');
    expect(text).toContain(':workgroup/quant-dev');
    expect(text).toContain('glue:GetPartitions');
    expect(text).toContain(':table/quant_dev/*');
    expect(text).toMatch(/CuratedBucket/);
    expect(text).toMatch(/AthenaResultsBucket/);
    expect(text).not.toMatch(/RawBucket|AuditBucket|VendorBucket|ModelsBucket/);
    for (const s of statements) {
      expect([s.Action].flat()).not.toContain('*');
      expect(s.Resource).not.toBe('*');
    }
  });
});

describe('data-lake stack: monitoring and compliance', () => {
  it('alarms on failed Athena queries and bytes scanned, notifying the alarm topic', () => {
    const alarms = resourcesOfType(t(), 'AWS::CloudWatch::Alarm');
    expect(alarms.map(([, a]) => a.Properties?.MetricName).sort()).toEqual([
      'ProcessedBytes',
      'TotalExecutionTime',
    ]);
    for (const [, a] of alarms) {
      expect(a.Properties?.Namespace).toBe('AWS/Athena');
      expect(a.Properties?.AlarmActions).toHaveLength(1);
      expect(JSON.stringify(a.Properties?.AlarmActions)).toContain('AlarmTopic');
    }
  });

  it('has zero unacknowledged cdk-nag AwsSolutions findings (dev and prod)', () => {
    expect(nagViolations(stage.dataLake)).toEqual([]);
    expect(nagViolations(prodStage.dataLake)).toEqual([]);
  });
});
