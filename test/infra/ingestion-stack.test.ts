import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { dev, prod } from '../../lib/config';
import type { QuantStage } from '../../lib/quant-stage';
import { BARS_EVENT_JOB_ARGS, BARS_UPDATED_EVENT } from '../../src/contract/bars';
import { nagViolations, resourcesOfType, template, testApp } from './helpers';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

let stage: QuantStage;
let prodStage: QuantStage;
let t: Template;
let tp: Template;

beforeAll(() => {
  // Lambda bundling is skipped: these tests look at the template, not at bundle contents.
  const noBundling = { 'aws:cdk:bundling-stacks': [] };
  stage = testApp([dev], noBundling).stages.dev;
  prodStage = testApp([prod], noBundling).stages.prod;
  t = template(stage.ingestion);
  tp = template(prodStage.ingestion);
});

const actions = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const statements = (tt: Template): Statement[] =>
  resourcesOfType(tt, 'AWS::IAM::Policy').flatMap(
    ([, p]) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement,
  );

describe('IngestionStack: cdk-nag and IAM', () => {
  it('has no unacknowledged AwsSolutions findings (dev and prod)', () => {
    expect(nagViolations(stage.ingestion)).toEqual([]);
    expect(nagViolations(prodStage.ingestion)).toEqual([]);
  });

  it('uses Resource "*" only for X-Ray and Glue-namespace metrics', () => {
    const star = statements(t).filter((s) => s.Resource === '*');
    expect(star.length).toBeGreaterThan(0);
    for (const s of star) {
      for (const a of actions(s)) expect(a).toMatch(/^(xray:\w+|cloudwatch:PutMetricData)$/);
      if (actions(s).includes('cloudwatch:PutMetricData')) {
        expect(s.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': 'Glue' } });
      }
    }
    expect(statements(t).flatMap(actions)).not.toContain('*');
    expect(
      statements(t)
        .flatMap(actions)
        .filter((a) => a.endsWith(':*')),
    ).toEqual([]);
  });
});

describe('IngestionStack: raw ticks cannot be deleted for good', () => {
  it('Glue may only add delete markers in the raw zone; version deletes are denied', () => {
    const glue = resourcesOfType(t, 'AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties!.Roles).includes('GlueRole'))
      .flatMap(([, p]) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement);
    const raw = (s: Statement) => JSON.stringify(s.Resource).includes('RawBucket');
    const allowedOnRaw = glue.filter((s) => s.Effect === 'Allow' && raw(s)).flatMap(actions);
    expect(allowedOnRaw).toContain('s3:DeleteObject');
    expect(allowedOnRaw.filter((a) => /^s3:DeleteObject(Version|\*)/.test(a))).toEqual([]);
    const deny = glue.filter((s) => s.Effect === 'Deny' && raw(s));
    expect(deny.flatMap(actions)).toEqual(['s3:DeleteObjectVersion']);
  });
});

describe('IngestionStack: stream and consumer', () => {
  it('stream: on-demand in dev, provisioned shards in prod, KMS with a customer key, retained', () => {
    t.hasResource('AWS::Kinesis::Stream', {
      Properties: {
        StreamModeDetails: { StreamMode: 'ON_DEMAND' },
        StreamEncryption: { EncryptionType: 'KMS', KeyId: Match.anyValue() },
        RetentionPeriodHours: dev.ingestion.retentionHours,
      },
      DeletionPolicy: 'Retain',
    });
    tp.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
      ShardCount: prod.ingestion.shardCount,
    });
    // No hard-coded physical name.
    for (const [, s] of resourcesOfType(t, 'AWS::Kinesis::Stream'))
      expect(s.Properties!.Name).toBeUndefined();
  });

  it('consumer: Node.js 22 on arm64, partial batch responses, DLQ on failure, config batch settings', () => {
    t.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Environment: { Variables: Match.objectLike({ LAKE_RAW_BUCKET: Match.anyValue() }) },
    });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: dev.ingestion.consumerBatchSize,
      MaximumBatchingWindowInSeconds: dev.ingestion.consumerBatchingWindowSeconds,
      StartingPosition: 'TRIM_HORIZON',
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
    t.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: Match.anyValue() });
    tp.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ParallelizationFactor: prod.ingestion.consumerParallelization,
      BatchSize: prod.ingestion.consumerBatchSize,
    });
  });

  it('consumer may write only the ticks and quarantine prefixes of the raw zone', () => {
    const puts = statements(t).filter((s) => actions(s).some((a) => a.startsWith('s3:PutObject')));
    const resources = JSON.stringify(puts.map((s) => s.Resource));
    expect(resources).toMatch(/\/ticks\/\*/);
    expect(resources).toMatch(/\/quarantine\/ticks\/\*/);
    expect(resources).not.toMatch(/RawBucket[^"]*"\]\}\/\*"/);
  });

  it('alarms on iterator age, DLQ messages and Glue job failures (and the news pull: test/infra/news-ingest.test.ts)', () => {
    const alarms = resourcesOfType(t, 'AWS::CloudWatch::Alarm').map(([, a]) => JSON.stringify(a.Properties));
    expect(alarms).toHaveLength(5);
    const find = (re: RegExp): string => alarms.find((a) => re.test(a)) ?? '';
    expect(find(/"MetricName":"IteratorAge"/)).toContain(
      `"Threshold":${dev.ingestion.iteratorAgeAlarmSeconds * 1000}`,
    );
    expect(find(/ApproximateNumberOfMessagesVisible/)).toContain('"Threshold":1');
    expect(find(/"Namespace":"AWS\/Events","MetricName":"TriggeredRules"|TriggeredRules/)).toContain(
      'AWS/Events',
    );
    for (const a of alarms) expect(a).toContain('AlarmActions');
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        source: ['aws.glue'],
        detail: Match.objectLike({ state: ['FAILED', 'TIMEOUT', 'ERROR', 'STOPPED'] }),
      }),
    });
  });
});

describe('IngestionStack: Glue', () => {
  it('three jobs (compaction, 1m and 1d bars) with scripts from assets, encrypted, bookmarks on the bars jobs', () => {
    const jobs = resourcesOfType(t, 'AWS::Glue::Job').map(([, j]) => j.Properties as Record<string, never>);
    expect(jobs).toHaveLength(3);
    for (const j of jobs) {
      expect(j.GlueVersion).toBe('5.0');
      expect(j.SecurityConfiguration).toBeDefined();
      expect(JSON.stringify(j.Command)).toMatch(/"ScriptLocation":.*\.py"/);
      expect(JSON.stringify(j.DefaultArguments)).toMatch(/--extra-files.*\.sql/);
    }
    const args = jobs.map((j) => j.DefaultArguments as Record<string, string>);
    expect(
      args
        .filter((a) => a['--job-bookmark-option'] === 'job-bookmark-enable')
        .map((a) => a['--interval'])
        .sort(),
    ).toEqual(['1d', '1m']);
    t.hasResourceProperties('AWS::Glue::SecurityConfiguration', {
      EncryptionConfiguration: {
        CloudWatchEncryption: { CloudWatchEncryptionMode: 'SSE-KMS' },
        JobBookmarksEncryption: { JobBookmarksEncryptionMode: 'CSE-KMS' },
        S3Encryptions: [{ S3EncryptionMode: 'SSE-KMS' }],
      },
    });
  });

  it('the bars jobs publish BarsUpdated: bus and names from the contract, PutEvents on that bus and source only', () => {
    const bars = resourcesOfType(t, 'AWS::Glue::Job')
      .map(([, j]) => j.Properties!.DefaultArguments as Record<string, string>)
      .filter((a) => a['--interval'] !== undefined);
    expect(bars.map((a) => a['--interval']).sort()).toEqual(['1d', '1m']);
    for (const a of bars)
      expect(a).toMatchObject({
        [BARS_EVENT_JOB_ARGS.bus]: 'default',
        [BARS_EVENT_JOB_ARGS.source]: BARS_UPDATED_EVENT.source,
        [BARS_EVENT_JOB_ARGS.detailType]: BARS_UPDATED_EVENT.detailType,
      });
    const compaction = resourcesOfType(t, 'AWS::Glue::Job')
      .map(([, j]) => j.Properties!.DefaultArguments as Record<string, string>)
      .filter((a) => a['--interval'] === undefined);
    expect(compaction).toHaveLength(1);
    expect(compaction[0][BARS_EVENT_JOB_ARGS.bus]).toBeUndefined();
    const put = resourcesOfType(t, 'AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties!.Roles).includes('GlueRole'))
      .flatMap(([, p]) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement)
      .filter((s) => actions(s).includes('events:PutEvents'));
    expect(put).toHaveLength(1);
    expect(actions(put[0])).toEqual(['events:PutEvents']);
    expect(JSON.stringify(put[0].Resource)).toMatch(/:event-bus\/default"/);
    expect(put[0].Condition).toEqual({ StringEquals: { 'events:source': BARS_UPDATED_EVENT.source } });
  });

  it('a workflow runs compaction daily at the configured hour, then both bar jobs; an on-demand trigger backfills', () => {
    t.resourceCountIs('AWS::Glue::Workflow', 1);
    t.hasResourceProperties('AWS::Glue::Trigger', {
      Type: 'SCHEDULED',
      Schedule: `cron(0 ${dev.ingestion.dailyRunHourUtc} * * ? *)`,
      WorkflowName: Match.anyValue(),
    });
    t.hasResourceProperties('AWS::Glue::Trigger', {
      Type: 'CONDITIONAL',
      Predicate: { Logical: 'AND', Conditions: [Match.objectLike({ State: 'SUCCEEDED' })] },
      Actions: [Match.anyValue(), Match.anyValue()],
    });
    t.hasResourceProperties('AWS::Glue::Trigger', { Type: 'ON_DEMAND' });
  });

  it('adds an Ingestion section to the dashboard', () => {
    const body = JSON.stringify(template(stage.dashboard).toJSON());
    for (const title of [
      '## Ingestion',
      'Ticks stream in',
      'Consumer iterator age',
      'Consumer errors',
      'Ticks written / quarantined',
      'Glue job runs',
    ]) {
      expect(body).toContain(title);
    }
  });
});
