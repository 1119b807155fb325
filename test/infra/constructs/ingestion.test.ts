import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { BarsPipeline, IngestionMonitoring, NewsIngest, TickStream } from '../../../lib/constructs';
import { nagViolations, resourcesOfType } from '../helpers';
import { constructFixture, type ConstructFixture } from './fixture';

let f: ConstructFixture;
let t: Template;
beforeAll(() => {
  f = constructFixture();
  const { buckets } = f.zones;
  const logs = { logKey: f.monitoring.logKey, logRetentionDays: 30 };
  const ticks = new TickStream(f.stack, 'Stream', { rawBucket: buckets.raw, ...logs });
  const bars = new BarsPipeline(f.stack, 'Bars', {
    rawBucket: buckets.raw,
    curatedBucket: buckets.curated,
    lakeKey: f.zones.lakeKey,
    logKey: f.monitoring.logKey,
  });
  const news = new NewsIngest(f.stack, 'News', { bucket: buckets.curated, ...logs });
  new IngestionMonitoring(f.stack, 'Monitoring', {
    monitoring: f.monitoring,
    ticks,
    streamKey: ticks.key,
    jobs: bars.jobs,
    news,
  });
  t = Template.fromStack(f.stack);
});

describe('TickStream', () => {
  it('an on-demand stream (by default) with a customer-managed key, retained with its dead-letter queue', () => {
    const [[, stream]] = resourcesOfType(t, 'AWS::Kinesis::Stream');
    expect(stream.DeletionPolicy).toBe('Retain');
    expect(stream.Properties!.StreamModeDetails).toEqual({ StreamMode: 'ON_DEMAND' });
    expect(stream.Properties!.StreamEncryption).toMatchObject({ EncryptionType: 'KMS' });
    const dlq = resourcesOfType(t, 'AWS::SQS::Queue').find(([id]) => id.startsWith('ConsumerDlq'))!;
    expect(dlq[1].DeletionPolicy).toBe('Retain');
  });

  it('the mapping reports item failures, retries, then sends to the DLQ; its id is as without the area', () => {
    const [[id, mapping]] = resourcesOfType(t, 'AWS::Lambda::EventSourceMapping');
    expect(id).toMatch(/^ConsumerKinesisEventSourcetestUnderTestTicks[0-9A-F]{8}[0-9A-F]{8}$/);
    expect(mapping.Properties).toMatchObject({
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRetryAttempts: 10,
      DestinationConfig: { OnFailure: { Destination: expect.anything() } },
    });
  });
});

describe('BarsPipeline', () => {
  it('three Glue 5 jobs under one security configuration, run daily by a workflow (compaction, then bars)', () => {
    const jobs = resourcesOfType(t, 'AWS::Glue::Job');
    expect(jobs.map(([id]) => id).sort()).toEqual(['Bars1dJob', 'Bars1mJob', 'CompactionJob']);
    for (const [, j] of jobs) {
      expect(j.Properties).toMatchObject({
        GlueVersion: '5.0',
        SecurityConfiguration: { Ref: 'GlueSecurity' },
      });
    }
    t.hasResourceProperties('AWS::Glue::Trigger', { Type: 'SCHEDULED', Schedule: 'cron(0 2 * * ? *)' });
  });

  it('the Glue role may not delete object versions of the raw zone', () => {
    const [, policy] = resourcesOfType(t, 'AWS::IAM::Policy').find(([id]) =>
      id.startsWith('GlueRoleDefaultPolicy'),
    )!;
    const statements = (policy.Properties!.PolicyDocument as { Statement: Array<Record<string, unknown>> })
      .Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Action: 's3:DeleteObjectVersion' }),
    );
  });
});

describe('IngestionMonitoring', () => {
  it('alarms: iterator age, DLQ, failed Glue runs, failed news pulls, rejected news key', () => {
    expect(
      resourcesOfType(t, 'AWS::CloudWatch::Alarm')
        .map(([id]) => id.replace(/[0-9A-F]{8}$/, ''))
        .sort(),
    ).toEqual([
      'DlqAlarm',
      'GlueJobFailedAlarm',
      'IteratorAgeAlarm',
      'NewsApiKeyRejectedAlarm',
      'NewsIngestFailedAlarm',
    ]);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'IteratorAge', Threshold: 60_000 });
  });
});

describe('ingestion areas: cdk-nag', () => {
  it('have no unacknowledged cdk-nag findings (AwsSolutions, NIST 800-53 R5)', () => {
    expect(nagViolations(f.stack)).toEqual([]);
    expect(nagViolations(f.stack, 'NIST.800.53.R5')).toEqual([]);
  });
});
