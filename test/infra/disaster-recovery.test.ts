import { Validations } from 'aws-cdk-lib';
import type { Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { dev, prod, staging, validateDisasterRecoveryConfig, type EnvironmentConfig } from '../../lib/config';
import type { QuantStage } from '../../lib/quant-stage';
import { resourcesOfType, template, testApp } from './helpers';

let p: QuantStage;
let s: QuantStage;
let d: QuantStage;
let prodWithoutDr: QuantStage;

beforeAll(() => {
  p = testApp([prod]).stages.prod;
  s = testApp([staging]).stages.staging;
  d = testApp([dev]).stages.dev;
  const { disasterRecovery: _, ...rest } = prod;
  prodWithoutDr = testApp([rest as EnvironmentConfig]).stages.prod;
  // Synthesize first: wildcard acknowledgements are recorded while validating (acknowledgeWildcards).
  for (const st of [p, s])
    for (const x of [st.disasterRecovery!, st.disasterRecoveryRegion!, st.dataLake, st.trading]) template(x);
});

type Finding = { rule: string; path: string };

/** Findings of both packs in `scope`; with `raw`, as if nothing were acknowledged. */
function findings(scope: IConstruct, raw = false): Finding[] {
  return [new AwsSolutionsChecks(scope), new NIST80053R5Checks(scope)].flatMap((pack) => {
    if (raw) (pack as unknown as { isAcknowledged: () => boolean }).isAcknowledged = () => false;
    return pack
      .validateScope(scope)
      .violations.flatMap((v) =>
        v.violatingResources.map((r) => ({ rule: v.ruleName, path: r.constructPath ?? '' })),
      );
  });
}

/** Acknowledgements (both packs) on constructs under `prefixes` that acknowledge nothing. */
function staleAcks(stack: Stack, prefixes: readonly string[]): Finding[] {
  const raw = findings(stack, true);
  const out: Finding[] = [];
  for (const c of stack.node.findAll()) {
    if (!prefixes.some((x) => c.node.path.startsWith(x))) continue;
    for (const e of c.node.metadata) {
      if (e.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY || !e.data) continue;
      for (const key of Object.keys(e.data as Record<string, string>)) {
        const rule = key.replace(/^annotation::/i, '');
        if (
          !raw.some(
            (f) => f.rule === rule && (f.path === c.node.path || f.path.startsWith(`${c.node.path}/`)),
          )
        )
          out.push({ rule, path: c.node.path });
      }
    }
  }
  return out;
}

const props = (t: Template, type: string) => resourcesOfType(t, type).map(([, r]) => r.Properties!);

describe('disaster recovery: which environments', () => {
  it('prod and staging replicate to their DR region; dev has none of it', () => {
    expect(p.disasterRecoveryRegion!.region).toBe('ap-southeast-2');
    expect(p.disasterRecovery!.region).toBe('ap-southeast-1');
    expect(s.disasterRecoveryRegion!.region).toBe('us-west-2');
    expect(d.disasterRecoveryRegion).toBeUndefined();
    expect(d.disasterRecovery).toBeUndefined();
    expect(props(template(d.trading), 'AWS::DynamoDB::Table').map((x) => x.StreamSpecification)).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    // Stateful: termination protection in prod.
    expect(p.disasterRecoveryRegion!.terminationProtection).toBe(true);
    expect(p.disasterRecovery!.terminationProtection).toBe(true);
  });

  it('the replicas are deployed before the stacks whose rules name them', () => {
    expect(p.dataLake.dependencies).toContain(p.disasterRecoveryRegion);
    expect(p.disasterRecovery!.dependencies).toContain(p.disasterRecoveryRegion);
  });
});

describe('disaster recovery: security (AwsSolutions and NIST 800-53 R5)', () => {
  it('the DR stacks have no unacknowledged finding of either pack (prod and staging)', () => {
    for (const st of [p, s]) {
      expect(findings(st.disasterRecoveryRegion!)).toEqual([]);
      expect(findings(st.disasterRecovery!)).toEqual([]);
    }
  });

  it('the lake replication and the streamed trading tables add no finding to their stacks', () => {
    for (const st of [p, s]) {
      const mine = (f: Finding) =>
        f.path.includes('/DrReplication/') || /\/(Risk|Orders|Idempotency)Table\//.test(f.path);
      expect(findings(st.dataLake).filter(mine)).toEqual([]);
      expect(findings(st.trading).filter(mine)).toEqual([]);
    }
  });

  it('every acknowledgement of the DR constructs acknowledges a real finding', () => {
    for (const st of [p, s]) {
      template(st.disasterRecoveryRegion!);
      template(st.disasterRecovery!);
      template(st.dataLake);
      expect(staleAcks(st.disasterRecoveryRegion!, [st.disasterRecoveryRegion!.node.path])).toEqual([]);
      expect(staleAcks(st.disasterRecovery!, [st.disasterRecovery!.node.path])).toEqual([]);
      expect(staleAcks(st.dataLake, [`${st.dataLake.node.path}/DrReplication`])).toEqual([]);
    }
  });

  it('no IAM statement of the DR stacks allows an action on Resource "*" except dynamodb:ListStreams and X-Ray', () => {
    for (const stack of [p.disasterRecovery!, p.disasterRecoveryRegion!, p.dataLake]) {
      for (const pol of props(template(stack), 'AWS::IAM::Policy')) {
        for (const st of (
          pol.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }
        ).Statement) {
          const resources = Array.isArray(st.Resource) ? st.Resource : [st.Resource];
          if (!resources.includes('*')) continue;
          for (const a of Array.isArray(st.Action) ? st.Action : [st.Action])
            expect(a).toMatch(/^(dynamodb:ListStreams|xray:\w+|ec2:\w+)$/);
        }
      }
    }
  });
});

describe('disaster recovery: AWS Backup', () => {
  it('locks both vaults: prod in compliance mode (3-day grace), 30 days to 7 years', () => {
    for (const stack of [p.disasterRecovery!, p.disasterRecoveryRegion!]) {
      template(stack).hasResourceProperties('AWS::Backup::BackupVault', {
        BackupVaultName: 'quant-prod-backup',
        EncryptionKeyArn: Match.anyValue(),
        LockConfiguration: { MinRetentionDays: 30, MaxRetentionDays: 7 * 365 + 2, ChangeableForDays: 3 },
      });
      template(stack).hasResource('AWS::Backup::BackupVault', { DeletionPolicy: 'Retain' });
    }
    // Staging: governance mode (no grace period means the lock is never immutable).
    const lock = props(template(s.disasterRecovery!), 'AWS::Backup::BackupVault')[0].LockConfiguration;
    expect(lock).toEqual({ MinRetentionDays: 30 });
  });

  it('prod: daily kept 30 days and monthly kept 7 years, each copied to the DR vault', () => {
    const plan = props(template(p.disasterRecovery!), 'AWS::Backup::BackupPlan')[0].BackupPlan as {
      BackupPlanRule: Record<string, unknown>[];
    };
    const drVault = 'arn:aws:backup:ap-southeast-2:333333333333:backup-vault:quant-prod-backup';
    expect(plan.BackupPlanRule).toEqual([
      expect.objectContaining({
        RuleName: 'Daily',
        ScheduleExpression: 'cron(0 18 * * ? *)',
        Lifecycle: { DeleteAfterDays: 30 },
        CopyActions: [{ DestinationBackupVaultArn: drVault, Lifecycle: { DeleteAfterDays: 30 } }],
      }),
      expect.objectContaining({
        RuleName: 'Monthly',
        ScheduleExpression: 'cron(0 18 1 * ? *)',
        Lifecycle: { DeleteAfterDays: 2557 },
        CopyActions: [{ DestinationBackupVaultArn: drVault, Lifecycle: { DeleteAfterDays: 2557 } }],
      }),
    ]);
    const stagingPlan = props(template(s.disasterRecovery!), 'AWS::Backup::BackupPlan')[0].BackupPlan as {
      BackupPlanRule: { RuleName: string }[];
    };
    expect(stagingPlan.BackupPlanRule.map((r) => r.RuleName)).toEqual(['Daily']);
  });

  it('selects the three trading tables and six lake buckets (not Athena results or access logs)', () => {
    const sel = props(template(p.disasterRecovery!), 'AWS::Backup::BackupSelection')[0].BackupSelection as {
      Resources: unknown[];
    };
    expect(sel.Resources).toHaveLength(9);
    const text = JSON.stringify(sel.Resources);
    for (const id of [
      'RiskTable',
      'OrdersTable',
      'IdempotencyTable',
      'RawBucket',
      'CuratedBucket',
      'VendorBucket',
      'ResultsBucket',
      'ModelsBucket',
      'AuditBucket',
    ])
      expect(text).toContain(id);
    expect(text).not.toMatch(/AthenaResults|AccessLogs/);
  });
});

describe('disaster recovery: S3 replication', () => {
  const zones = ['Raw', 'Curated', 'Vendor', 'Models', 'Audit'];

  it('replicates raw, curated, vendor, models and audit with KMS, RTC and metrics in prod', () => {
    const buckets = resourcesOfType(template(p.dataLake), 'AWS::S3::Bucket');
    for (const z of zones) {
      const [, b] = buckets.find(([id]) => id.startsWith(`${z}Bucket`))!;
      const key = z === 'Audit' ? 'audit' : 'lake';
      expect(b.Properties!.ReplicationConfiguration).toMatchObject({
        Rules: [
          {
            Id: 'dr-ap-southeast-2',
            Status: 'Enabled',
            DeleteMarkerReplication: { Status: 'Enabled' },
            SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
            Destination: {
              Bucket: `arn:aws:s3:::quant-prod-${z.toLowerCase()}-dr-333333333333-ap-southeast-2`,
              EncryptionConfiguration: {
                ReplicaKmsKeyID: `arn:aws:kms:ap-southeast-2:333333333333:alias/quant-prod-dr-${key}`,
              },
              ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } },
              Metrics: { Status: 'Enabled', EventThreshold: { Minutes: 15 } },
            },
          },
        ],
      });
    }
    for (const z of ['Results', 'AthenaResults']) {
      const [, b] = buckets.find(([id]) => id.startsWith(`${z}Bucket`))!;
      expect(b.Properties!.ReplicationConfiguration).toBeUndefined();
    }
    // Staging: replication without Replication Time Control.
    const raw = resourcesOfType(template(s.dataLake), 'AWS::S3::Bucket').find(([id]) =>
      id.startsWith('RawBucket'),
    )!;
    expect(JSON.stringify(raw[1].Properties!.ReplicationConfiguration)).not.toContain('ReplicationTime');
  });

  it('the replica buckets exist under those names in the DR region; the audit replica keeps compliance-mode Object Lock', () => {
    const t = template(p.disasterRecoveryRegion!);
    for (const z of zones)
      t.hasResourceProperties('AWS::S3::Bucket', {
        BucketName: `quant-prod-${z.toLowerCase()}-dr-333333333333-ap-southeast-2`,
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            Match.objectLike({
              ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }),
            }),
          ],
        },
      });
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'quant-prod-audit-dr-333333333333-ap-southeast-2',
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 7 * 365 + 2 } },
      },
    });
    for (const purpose of ['lake', 'audit', 'trading', 'backup'])
      t.hasResourceProperties('AWS::KMS::Alias', { AliasName: `alias/quant-prod-dr-${purpose}` });
    t.resourceCountIs('AWS::KMS::Key', 4);
    t.allResourcesProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('the replication role writes only to the replicas, with the replica keys named by alias', () => {
    const [pol] = props(template(p.dataLake), 'AWS::IAM::Policy').filter((x) =>
      JSON.stringify(x.Roles).includes('DrReplication'),
    );
    const sts = (
      pol.PolicyDocument as { Statement: { Action: string[]; Resource: unknown; Condition?: unknown }[] }
    ).Statement;
    const write = sts.find((x) => x.Action.includes('s3:ReplicateObject'))!;
    expect([...(write.Resource as string[])].sort()).toEqual(
      zones.map((z) => `arn:aws:s3:::quant-prod-${z.toLowerCase()}-dr-333333333333-ap-southeast-2/*`).sort(),
    );
    const enc = sts.find((x) => x.Action.includes('kms:Encrypt'))!;
    expect(enc.Condition).toEqual({
      StringEquals: { 'kms:ViaService': 's3.ap-southeast-2.amazonaws.com' },
      'ForAnyValue:StringEquals': {
        'kms:ResourceAliases': ['alias/quant-prod-dr-lake', 'alias/quant-prod-dr-audit'],
      },
    });
  });
});

describe('disaster recovery: trading state at RPO 1 minute', () => {
  it('streams the trading tables and replicates them to same-schema replicas in the DR region', () => {
    for (const x of props(template(p.trading), 'AWS::DynamoDB::Table'))
      expect(x.StreamSpecification).toEqual({ StreamViewType: 'NEW_AND_OLD_IMAGES' });
    const t = template(p.disasterRecoveryRegion!);
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'quant-prod-dr-risk',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: Match.objectLike({ SSEEnabled: true, SSEType: 'KMS' }),
    });
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'quant-prod-dr-orders',
      KeySchema: [{ AttributeName: 'orderId', KeyType: 'HASH' }],
    });
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'quant-prod-dr-idempotency',
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
    });
    const h = template(p.disasterRecovery!);
    h.resourceCountIs('AWS::Lambda::EventSourceMapping', 3);
    h.allResourcesProperties('AWS::Lambda::EventSourceMapping', {
      StartingPosition: 'TRIM_HORIZON',
      MaximumRetryAttempts: -1,
      MaximumRecordAgeInSeconds: 86400,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ParallelizationFactor: 1,
    });
    h.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 20,
      Environment: {
        Variables: Match.objectLike({ DR_REGION: 'ap-southeast-2', DR_TABLE_MAP: Match.anyValue() }),
      },
    });
  });

  it('alarms at 30 s of replica lag (half the RPO) and on S3 replication latency, shown on the dashboard', () => {
    const h = template(p.disasterRecovery!);
    h.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'IteratorAge',
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 30_000,
      AlarmActions: [Match.anyValue()],
    });
    h.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 900,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'MAX([z0,z1,z2,z3,z4])' }),
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ Namespace: 'AWS/S3', MetricName: 'ReplicationLatency' }),
          }),
        }),
      ]),
    });
    const body = JSON.stringify(template(p.dashboard).toJSON());
    expect(body).toContain('## Disaster recovery');
    expect(body).toContain('RPO 1 minute');
  });
});

describe('disaster recovery: stateful logical ids do not change', () => {
  it('tables, buckets and keys of Trading and DataLake keep their logical ids and types with DR on', () => {
    const stateful =
      /^AWS::(DynamoDB::Table|DynamoDB::GlobalTable|S3::Bucket|KMS::Key|Kinesis::Stream|SQS::Queue)$/;
    const ids = (stack: Stack) =>
      Object.entries(template(stack).toJSON().Resources as Record<string, { Type: string }>)
        .filter(([, r]) => stateful.test(r.Type))
        .map(([id, r]) => `${id} ${r.Type}`)
        .sort();
    expect(ids(p.trading)).toEqual(ids(prodWithoutDr.trading));
    expect(ids(p.dataLake)).toEqual(ids(prodWithoutDr.dataLake));
    expect(ids(p.trading).filter((x) => x.includes('DynamoDB::Table'))).toHaveLength(3);
  });
});

describe('disaster recovery: config', () => {
  const dr = prod.disasterRecovery!;
  it('names the field that is wrong', () => {
    expect(() =>
      validateDisasterRecoveryConfig({ ...dr, drRegion: 'ap-southeast-1' }, 'ap-southeast-1'),
    ).toThrow('disasterRecovery.drRegion: must differ from the home region (ap-southeast-1)');
    expect(() => validateDisasterRecoveryConfig({ ...dr, drRegion: 'mars' }, 'ap-southeast-1')).toThrow(
      /disasterRecovery\.drRegion: expected a region/,
    );
    expect(() =>
      validateDisasterRecoveryConfig(
        { ...dr, backup: { ...dr.backup, monthlyRetentionDays: 10 } },
        'ap-southeast-1',
      ),
    ).toThrow(
      /disasterRecovery\.backup\.monthlyRetentionDays: must be 0 or longer than dailyRetentionDays \(30\)/,
    );
    expect(() =>
      validateDisasterRecoveryConfig(
        { ...dr, backup: { ...dr.backup, lockChangeableForDays: 1 } },
        'ap-southeast-1',
      ),
    ).toThrow(/disasterRecovery\.backup\.lockChangeableForDays: must be an integer 3-36500, got 1/);
    expect(() => testApp([{ ...prod, disasterRecovery: { ...dr, drRegion: prod.region } }])).toThrow(
      /disasterRecovery\.drRegion: must differ/,
    );
  });
});
