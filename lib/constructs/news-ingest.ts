import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { LAKE_PREFIXES } from '../../src/contract/lake';
import { NEWS_INGEST_ENV, NEWS_METRICS, NEWS_SENTIMENT_TABLE } from '../../src/contract/news';
import { acknowledgeWildcards } from './acknowledge-wildcards';
import { QuantFunction } from './quant-function';
import { QuantKey } from './quant-key';
import { serviceMetric } from './service-metric';

/** Where the lake writer's pending markers of the table live (src/lake/commit.ts). */
const PENDING_PREFIX = `${LAKE_PREFIXES.pending}/${NEWS_SENTIMENT_TABLE.name}`;

export interface NewsIngestProps {
  /** The bucket of the lake zone `news_sentiment` lives in (curated). */
  readonly bucket: s3.IBucket;
  /**
   * Key that encrypts the API key's secret (its policy is given to the function: keep it in the
   * function's stack).
   * @default a new key
   */
  readonly secretKey?: kms.IKey;
  /** Key of the function's log group. */
  readonly logKey: kms.IKey;
  readonly logRetentionDays: number;
  /**
   * News API base URL (Polygon's /v2/reference/news shape).
   * @default 'https://api.polygon.io'
   */
  readonly apiUrl?: string;
  /**
   * How often the pull runs.
   * @default Duration.hours(1)
   */
  readonly schedule?: Duration;
  /**
   * Hours of news each run asks for (overlapping runs cost nothing: rows are de-duplicated by article id).
   * @default 48
   */
  readonly lookbackHours?: number;
  /**
   * Only these symbols.
   * @default every symbol the articles name
   */
  readonly symbols?: readonly string[];
}

/**
 * The scheduled news pull: an EventBridge rule invokes lambda/news-ingest, which reads the API key
 * from a Secrets Manager secret (set after deploy; the vendor issues and rotates it) and writes
 * `news_sentiment` in the lake. The role may read that table and the secret, write only the table's
 * prefix and its pending markers. Failures and rejected keys are exposed as metrics for alarms.
 */
export class NewsIngest extends Construct {
  readonly function: QuantFunction;
  readonly secret: Secret;
  readonly rule: events.Rule;
  /** Failed invocations (errors, timeouts). */
  readonly errorsMetric: cw.Metric;
  /** Runs whose key the vendor rejected (expired, revoked). */
  readonly authFailuresMetric: cw.Metric;

  constructor(scope: Construct, id: string, props: NewsIngestProps) {
    super(scope, id);
    const lookback = props.lookbackHours ?? 48;
    if (!Number.isInteger(lookback) || lookback < 1 || lookback > 720)
      throw new Error(`NewsIngest.lookbackHours: must be an integer 1-720, got ${lookback}`);
    const schedule = props.schedule ?? Duration.hours(1);
    if (schedule.toMinutes() < 1) throw new Error('NewsIngest.schedule: at least one minute');

    this.secret = new Secret(this, 'ApiKey', {
      description: 'News API key (the key as the secret string; set after deploy)',
      encryptionKey:
        props.secretKey ?? new QuantKey(this, 'SecretKey', { description: 'News API key secret' }),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const id of ['AwsSolutions-SMG4', 'NIST.800.53.R5-SecretsManagerRotationEnabled']) {
      Validations.of(this.secret).acknowledge({
        id,
        reason:
          'The news vendor issues and rotates this key in its own console; there is no rotation Lambda for a third-party key. An expired key raises the auth-failures alarm.',
      });
    }

    this.function = new QuantFunction(this, 'Function', {
      lambda: 'news-ingest',
      logKey: props.logKey,
      logRetentionDays: props.logRetentionDays,
      serviceName: NEWS_METRICS.service,
      metricsNamespace: NEWS_METRICS.namespace,
      memorySize: 1024,
      timeout: Duration.minutes(5),
      // One pull at a time: the vendor's rate limit is per key.
      reservedConcurrentExecutions: 1,
      noDeadLetterQueueReason:
        'A failed scheduled pull needs no replay: the next run asks for the last lookbackHours again (overlapping windows, de-duplicated by article id), and the Errors alarm reports failures.',
      outsideVpcReason:
        "Calls only the news vendor's public HTTPS API and AWS service APIs (S3, Secrets Manager), IAM-authenticated over TLS, and reaches nothing inside the VPC.",
      environment: {
        [NEWS_INGEST_ENV.apiUrl]: props.apiUrl ?? 'https://api.polygon.io',
        [NEWS_INGEST_ENV.secretArn]: this.secret.secretArn,
        LAKE_CURATED_BUCKET: props.bucket.bucketName,
      },
    });
    this.secret.grantRead(this.function);
    const table = `${NEWS_SENTIMENT_TABLE.prefix}/*`;
    props.bucket.grantRead(this.function, table);
    props.bucket.grantPut(this.function, table);
    props.bucket.grantPut(this.function, `${PENDING_PREFIX}/*`);
    props.bucket.grantDelete(this.function, `${PENDING_PREFIX}/*`);
    acknowledgeWildcards(this, [
      [
        /^Action::s3:(GetObject|GetBucket|List|PutObject|DeleteObject|Abort)\*$/,
        'The CDK grant methods for reading, writing and deleting objects; the resources are limited to the news_sentiment prefix and its pending markers.',
      ],
      [
        /^Resource::.*\/(news_sentiment|_lake\/pending\/news_sentiment)\/\*$/,
        'Objects of the news_sentiment table (one per dt/symbol partition, not known at deploy) and its pending markers.',
      ],
      [
        /^Action::kms:(GenerateDataKey|ReEncrypt)\*$/,
        'KMS actions the S3 grants add for the lake key (SSE-KMS objects); the resource is that key only.',
      ],
    ]);

    this.rule = new events.Rule(this, 'Schedule', {
      description: `Pull the last ${lookback} h of news into ${NEWS_SENTIMENT_TABLE.name}`,
      schedule: events.Schedule.rate(schedule),
      targets: [
        new targets.LambdaFunction(this.function, {
          event: events.RuleTargetInput.fromObject({
            lookbackHours: lookback,
            ...(props.symbols ? { symbols: props.symbols } : {}),
          }),
          retryAttempts: 2,
        }),
      ],
    });

    const period = Duration.minutes(Math.max(5, schedule.toMinutes()));
    this.errorsMetric = this.function.metricErrors({ period, statistic: 'Sum' });
    this.authFailuresMetric = serviceMetric(NEWS_METRICS, NEWS_METRICS.authFailures, {
      statistic: 'Sum',
      period,
    });
  }
}
