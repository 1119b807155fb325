/**
 * The NewsIngest construct on its own (template and cdk-nag), and as the IngestionStack composes it
 * (its two alarms, and the Glue table of news_sentiment in the data-lake stack, from the one
 * definition in src/contract/news.ts).
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { dev } from '../../lib/config';
import { NewsIngest, QuantKey, SecureBucket } from '../../lib/constructs';
import type { QuantStage } from '../../lib/quant-stage';
import { NEWS_INGEST_ENV, NEWS_METRICS, NEWS_SENTIMENT_TABLE } from '../../src/contract/news';
import { GLUE_TYPE } from '../../src/contract/lake';
import { cdkJsonContext, nagViolations, resourcesOfType, SKIP_BUNDLING, template, testApp } from './helpers';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };
const actions = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);

function build(): { stack: Stack; t: Template } {
  const stack = new Stack(new App({ context: { ...cdkJsonContext(), ...SKIP_BUNDLING } }), 'T', {
    env: { account: '111111111111', region: 'us-east-1' },
  });
  const key = new QuantKey(stack, 'Key', { description: 'test' });
  const logs = new SecureBucket(stack, 'Logs', { encryption: 's3-managed' });
  const bucket = new SecureBucket(stack, 'Curated', { encryptionKey: key, accessLogsBucket: logs });
  new NewsIngest(stack, 'News', { bucket, secretKey: key, logKey: key, logRetentionDays: 30 });
  return { stack, t: Template.fromStack(stack) };
}

describe('NewsIngest', () => {
  const { stack, t } = build();

  it('has no unacknowledged AwsSolutions findings', () => {
    expect(nagViolations(stack)).toEqual([]);
  });

  it('runs the handler hourly over the last 48 h, one at a time, with the secret and bucket in its environment', () => {
    t.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 1,
      Environment: {
        Variables: Match.objectLike({
          [NEWS_INGEST_ENV.apiUrl]: 'https://api.polygon.io',
          [NEWS_INGEST_ENV.secretArn]: { Ref: Match.stringLikeRegexp('^NewsApiKey') },
          LAKE_CURATED_BUCKET: { Ref: Match.stringLikeRegexp('^Curated') },
        }),
      },
    });
    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      Targets: [
        Match.objectLike({
          Input: JSON.stringify({ lookbackHours: 48 }),
          RetryPolicy: { MaximumRetryAttempts: 2 },
        }),
      ],
    });
    t.hasResourceProperties('AWS::SecretsManager::Secret', { KmsKeyId: Match.anyValue() });
  });

  it('may write only the news_sentiment prefix and its pending markers, and read its own secret', () => {
    const st = resourcesOfType(t, 'AWS::IAM::Policy').flatMap(
      ([, p]) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement,
    );
    const writes = st.filter((s) => actions(s).some((a) => /^s3:(Put|Delete)/.test(a)));
    expect(writes.length).toBeGreaterThan(0);
    for (const s of writes) {
      const text = JSON.stringify(s.Resource);
      expect(text).not.toBe('"*"');
      expect(text).toMatch(
        new RegExp(`/(${NEWS_SENTIMENT_TABLE.prefix}|_lake/pending/${NEWS_SENTIMENT_TABLE.name})/\\*`),
      );
    }
    for (const s of st)
      if (s.Resource === '*') expect(actions(s).every((a) => a.startsWith('xray:'))).toBe(true);
    const secretRead = st.find((s) => actions(s).includes('secretsmanager:GetSecretValue'));
    expect(JSON.stringify(secretRead?.Resource)).toMatch(/NewsApiKey/);
  });

  it('exposes failures and rejected keys as metrics', () => {
    const c = stack.node.findAll().find((x): x is NewsIngest => x instanceof NewsIngest)!;
    expect(c.authFailuresMetric.metricName).toBe(NEWS_METRICS.authFailures);
    expect(c.authFailuresMetric.dimensions).toEqual({ service: NEWS_METRICS.service });
    expect(c.errorsMetric.metricName).toBe('Errors');
  });

  it('refuses a lookback outside 1-720 hours', () => {
    const s = new Stack(new App({ context: SKIP_BUNDLING }), 'U');
    const key = new QuantKey(s, 'K', { description: 'k' });
    expect(
      () =>
        new NewsIngest(s, 'N', {
          bucket: new SecureBucket(s, 'B', { encryptionKey: key }),
          secretKey: key,
          logKey: key,
          logRetentionDays: 30,
          lookbackHours: 0,
        }),
    ).toThrow(/lookbackHours/);
  });
});

describe('news in the stage', () => {
  let stage: QuantStage;
  beforeAll(() => {
    stage = testApp([dev]).stages.dev;
  });

  it('alarms on failed pulls and on a rejected key', () => {
    const t = template(stage.ingestion);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Threshold: 1,
      AlarmDescription: Match.stringLikeRegexp('news pull failed'),
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: NEWS_METRICS.authFailures,
      Namespace: NEWS_METRICS.namespace,
      Dimensions: [{ Name: 'service', Value: NEWS_METRICS.service }],
      Threshold: 1,
      AlarmActions: Match.anyValue(),
    });
  });

  it('has the Glue table of news_sentiment, partitioned by dt and symbol', () => {
    template(stage.dataLake).hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: NEWS_SENTIMENT_TABLE.name,
        PartitionKeys: [
          { Name: 'dt', Type: 'date' },
          { Name: 'symbol', Type: 'string' },
        ],
        StorageDescriptor: Match.objectLike({
          Columns: NEWS_SENTIMENT_TABLE.columns.map((c) => ({
            Name: c.name,
            Type: GLUE_TYPE[c.type],
          })),
        }),
      }),
    });
  });
});
