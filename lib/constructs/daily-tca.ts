import { Duration } from 'aws-cdk-lib';
import type * as cw from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { TCA_JOB_ENV } from '../../src/contract/functions';
import { BARS, LAKE_PREFIXES } from '../../src/contract/lake';
import { TCA_METRICS } from '../../src/contract/metrics';
import { TCA_TABLE } from '../../src/contract/tca';
import type { IMonitoring } from '../stacks/monitoring-stack';
import { acknowledgeWildcards } from './acknowledge-wildcards';
import { QuantFunction } from './quant-function';
import { serviceMetric } from './service-metric';
import { allow } from './policy-statements';
import { graph, type PlatformAlarm } from './alarms';

export interface DailyTcaProps {
  /** The account whose parent orders are analysed. */
  readonly account: string;
  /** The orders table (parents and children, as the execution path keeps them). */
  readonly ordersTable: dynamodb.ITable;
  /**
   * The lake: the curated zone's 1-minute and daily bars (arrival, interval VWAP, σ and ADV) and the
   * results zone, where the `tca` table lives (src/contract/tca.ts).
   */
  readonly lake: { readonly buckets: { readonly curated: s3.IBucket; readonly results: s3.IBucket } };
  /** The failure alarm notifies its topic; a dashboard section is added. */
  readonly monitoring: IMonitoring;
  /**
   * When it runs (UTC), Monday to Friday: after the close, once the day's 1-minute bars are in the lake.
   * @default 22:30 UTC (after the 16:00 New York close in winter and in summer)
   */
  readonly at?: { readonly hourUtc: number; readonly minuteUtc: number };
  /**
   * Queue for failed invocations (after the rule's retries).
   * @default none: a failed run raises the errors alarm and is re-run by invoking the function
   */
  readonly deadLetterQueue?: sqs.IQueue;
}

/**
 * The daily transaction cost analysis of live (or staging) orders: an EventBridge rule invokes
 * lambda/tca after the close with `{account, time}`; it analyses the day's finished parent orders
 * from the orders table and the lake's bars (src/trading/tca-job.ts, what `quant tca record --day`
 * runs) and merges one Parquet object per day into the `tca` table of the results zone, which
 * Athena reads through the lake catalog's Glue table and `quant tca` reads directly. It may read
 * the orders table and the bars and write only this account's `tca` partitions.
 */
export class DailyTca extends Construct {
  readonly function: QuantFunction;
  readonly rule: events.Rule;
  /** Decision-notional-weighted implementation shortfall of each day's parents, bps. */
  readonly shortfallMetric: cw.Metric;
  /** Parents analysed per day. */
  readonly parentsMetric: cw.Metric;
  /** A failed run. */
  readonly errorsAlarm: PlatformAlarm;
  readonly widgets: cw.IWidget[][];

  constructor(scope: Construct, id: string, props: DailyTcaProps) {
    super(scope, id);
    const { hourUtc, minuteUtc } = props.at ?? { hourUtc: 22, minuteUtc: 30 };
    if (!Number.isInteger(hourUtc) || hourUtc < 0 || hourUtc > 23)
      throw new Error(`DailyTca.at.hourUtc: must be an integer 0-23, got ${hourUtc}`);
    if (!Number.isInteger(minuteUtc) || minuteUtc < 0 || minuteUtc > 59)
      throw new Error(`DailyTca.at.minuteUtc: must be an integer 0-59, got ${minuteUtc}`);
    const { monitoring, account } = props;
    const { curated, results } = props.lake.buckets;

    this.function = new QuantFunction(this, 'Function', {
      lambda: 'tca',
      logKey: monitoring.logKey,
      logRetentionDays: monitoring.logRetentionDays,
      serviceName: TCA_METRICS.service,
      metricsNamespace: TCA_METRICS.namespace,
      memorySize: 1024,
      timeout: Duration.minutes(5),
      // One run a day.
      reservedConcurrentExecutions: 1,
      environment: {
        [TCA_JOB_ENV.ordersTable.name]: props.ordersTable.tableName,
        [TCA_JOB_ENV.curatedBucket.name]: curated.bucketName,
        [TCA_JOB_ENV.resultsBucket.name]: results.bucketName,
      },
      deadLetterQueue: props.deadLetterQueue,
      noDeadLetterQueueReason: props.deadLetterQueue
        ? undefined
        : 'Invoked once a day by its schedule (two retries); a failed run raises the errors alarm and is run again by invoking the function with {account, day}, which is all the state it needs (a re-run replaces the rows of the day).',
      outsideVpcReason:
        'Calls only AWS service APIs (DynamoDB, S3), IAM-authenticated over TLS, and reaches nothing inside the VPC; outside it the function needs no ENIs, NAT or interface endpoints.',
    });
    const fn = this.function;
    // The account's orders (a filtered scan); no writes.
    props.ordersTable.grantReadData(fn);
    // 1-minute bars (arrival, end price, interval VWAP), daily bars (σ, ADV), and the bars'
    // pending markers (a read waits for an import that is still committing).
    curated.grantRead(fn, `${LAKE_PREFIXES.minuteBars}/*`);
    curated.grantRead(fn, `${LAKE_PREFIXES.dailyBars}/*`);
    curated.grantRead(fn, `${LAKE_PREFIXES.pending}/${BARS.name}/*`);
    // The account's tca partitions: read (the merge reads the day's object) and one conditional
    // PUT per day. Listing the bucket makes a first day's missing object a 404, not a 403.
    const tcaPrefix = `${TCA_TABLE.prefix}/account=${account}`;
    results.grantRead(fn, `${tcaPrefix}/*`);
    allow(fn, {
      actions: ['s3:PutObject'],
      resources: [results.arnForObjects(`${tcaPrefix}/*`)],
    });
    results.encryptionKey?.grantEncrypt(fn);
    acknowledgeWildcards(this, [
      [
        /^Action::s3:(GetObject|GetBucket|List)\*$/,
        "CDK read grant action groups: the object actions are limited to the bars prefixes, the bars' pending markers and this account's tca partitions; the bucket actions (listing) apply to the curated and results buckets.",
      ],
      [
        (f: string) =>
          [LAKE_PREFIXES.minuteBars, LAKE_PREFIXES.dailyBars, `${LAKE_PREFIXES.pending}/${BARS.name}`].some(
            (p) => f.endsWith(`/${p}/*`),
          ),
        'Read-only: the 1-minute and daily bars (one partition per symbol and year) and the pending markers of bar imports.',
      ],
      [
        (f: string) => f.endsWith(`/${tcaPrefix}/*`),
        "This account's tca partitions (one object per decision day, named by the day).",
      ],
      [
        /^Action::kms:(GenerateDataKey|ReEncrypt)\*$/,
        'KMS actions the S3 and DynamoDB grants add for the bucket and table keys (SSE-KMS); the resources are those keys only.',
      ],
      [
        /^Resource::<.*OrdersTable.*\.Arn>\/index\/\*$/,
        "The CDK's read grant on the orders table also covers its indexes; read-only.",
      ],
    ]);

    this.rule = new events.Rule(this, 'Schedule', {
      description: `Transaction cost analysis of account ${account}'s parent orders of the day (quant tca record --day), after the close`,
      schedule: events.Schedule.cron({
        weekDay: 'MON-FRI',
        hour: String(hourUtc),
        minute: String(minuteUtc),
      }),
      targets: [
        new targets.LambdaFunction(fn, {
          // The firing time names the day: a retry of the same event redoes the same day.
          event: events.RuleTargetInput.fromObject({ account, time: events.EventField.time }),
          retryAttempts: 2,
          deadLetterQueue: props.deadLetterQueue,
        }),
      ],
    });

    const metric = (name: string, statistic: string): cw.Metric =>
      serviceMetric(TCA_METRICS, name, { statistic, period: Duration.days(1) });
    this.shortfallMetric = metric(TCA_METRICS.shortfallBps, 'Average');
    this.parentsMetric = metric(TCA_METRICS.parents, 'Sum');
    this.errorsAlarm = monitoring.alarm(this, 'ErrorsAlarm', {
      description: `The daily TCA run of ${account} failed (see its logs; re-run with {"account": "${account}", "day": "YYYY-MM-DD"} or quant tca record --day)`,
      metric: fn.metricErrors({ period: Duration.hours(1), statistic: 'Sum' }),
      threshold: 1,
    });
    this.widgets = [
      [
        graph(
          `TCA: implementation shortfall of the day's parents, bps (${account})`,
          [this.shortfallMetric],
          { width: 12 },
        ),
        graph(
          'TCA: parents analysed / still working',
          [this.parentsMetric, metric(TCA_METRICS.unfinished, 'Sum')],
          { width: 6 },
        ),
        this.errorsAlarm.graph('TCA run failures', 6),
      ],
    ];
    monitoring.addSection(`Daily TCA (${account})`, this.widgets);
  }
}
