import path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import type * as cw from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { LAKE_BUCKET_ENV, LAKE_PREFIXES } from '../../src/contract/lake';
import { STRESS_METRICS } from '../../src/contract/metrics';
import { TRADING_ENV } from '../../src/contract/trading';
import { packageRoot } from '../../src/package-root';
import {
  readSp500,
  resolveScenarios,
  scenariosFileSchema,
  STANDARD_SCENARIOS,
  type ScenariosFile,
} from '../../src/risk/stress-scenarios';
import type { IMonitoring } from '../stacks/monitoring-stack';
import { acknowledgeWildcards } from './acknowledge-wildcards';
import { QuantFunction } from './quant-function';
import { serviceMetric } from './service-metric';
import { allow } from './policy-statements';
import { graph, type PlatformAlarm } from './alarms';

// Found from package.json, not from this file: the CDK app also runs from the build in dist/.
const repoRoot = packageRoot();

export interface DailyStressProps {
  /** The account whose book is stressed. */
  readonly account: string;
  /** The risk table: the account's book (`BOOK#`), limits (`LIMITS#`) and trading state. */
  readonly riskTable: dynamodb.ITable;
  /**
   * The lake: the curated zone holds the returns window the returns job writes
   * (`risk/returns/<account>.json`); the result goes to the write-once audit zone, encrypted with
   * its key (`risk/stress/<account>/<day>.json`).
   */
  readonly lake: {
    readonly buckets: { readonly curated: s3.IBucket; readonly audit: s3.IBucket };
    readonly auditKey: kms.IKey;
  };
  /** Alarms notify its topic and join its dashboard, with a section of widgets. */
  readonly monitoring: IMonitoring;
  /** The time of the returns job (UTC): the stress run starts `delayMinutes` after it. */
  readonly after: { readonly hourUtc: number; readonly minuteUtc: number };
  /**
   * Minutes after the returns job.
   * @default 30
   */
  readonly delayMinutes?: number;
  /**
   * The scenarios, in the shape of `quant risk stress --scenarios` (replays are resolved to their
   * equity shock from the S&P 500 history at synth, so the function needs no data file).
   * @default STANDARD_SCENARIOS (src/risk/stress-scenarios.ts)
   */
  readonly scenarios?: ScenariosFile;
  /**
   * Also run reverse stress (the smallest uniform equity shock breaching the drawdown limit or
   * the VaR budget).
   * @default true
   */
  readonly reverse?: boolean;
  /**
   * Queue for failed invocations (after the rule's retries).
   * @default none: a failed run raises the errors alarm and is re-run by invoking the function
   */
  readonly deadLetterQueue?: sqs.IQueue;
}

/**
 * The daily stress run: an EventBridge rule invokes lambda/risk-stress after the returns job. It
 * reads the book and limits from the risk table and the returns window from the curated zone,
 * writes the result to the audit zone, and publishes the P&L per scenario, the worst P&L and the
 * limits breached as metrics. Its alarms (breaches, failures) and a dashboard section are
 * registered with the monitoring hub.
 */
export class DailyStress extends Construct {
  readonly function: QuantFunction;
  readonly rule: events.Rule;
  /** Limits breached in the last run, summed over the scenarios. */
  readonly breachesMetric: cw.Metric;
  /** The worst scenario's P&L in percent of NAV. */
  readonly worstPnlMetric: cw.Metric;
  /** Any breach in a day's run. */
  readonly breachAlarm: PlatformAlarm;
  /** A failed run. */
  readonly errorsAlarm: PlatformAlarm;
  /** The dashboard rows (also added to the monitoring hub's dashboard). */
  readonly widgets: cw.IWidget[][];

  constructor(scope: Construct, id: string, props: DailyStressProps) {
    super(scope, id);
    const delay = props.delayMinutes ?? 30;
    const { hourUtc, minuteUtc } = props.after;
    if (!Number.isInteger(delay) || delay < 0 || delay > 720)
      throw new Error(`DailyStress.delayMinutes: must be an integer 0-720, got ${delay}`);
    if (!Number.isInteger(hourUtc) || hourUtc < 0 || hourUtc > 23)
      throw new Error(`DailyStress.after.hourUtc: must be an integer 0-23, got ${hourUtc}`);
    if (!Number.isInteger(minuteUtc) || minuteUtc < 0 || minuteUtc > 59)
      throw new Error(`DailyStress.after.minuteUtc: must be an integer 0-59, got ${minuteUtc}`);
    const parsed = scenariosFileSchema.safeParse(props.scenarios ?? STANDARD_SCENARIOS);
    if (!parsed.success)
      throw new Error(`DailyStress.scenarios: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    const scenarios = resolveScenarios(parsed.data, readSp500);
    const start = (hourUtc * 60 + minuteUtc + delay) % (24 * 60);
    const { monitoring } = props;
    const { curated, audit } = props.lake.buckets;

    this.function = new QuantFunction(this, 'Function', {
      entry: path.join(repoRoot, 'lambda/risk-stress/index.ts'),
      logKey: monitoring.logKey,
      logRetentionDays: monitoring.logRetentionDays,
      serviceName: STRESS_METRICS.service,
      metricsNamespace: STRESS_METRICS.namespace,
      memorySize: 1024,
      timeout: Duration.minutes(5),
      // One run a day.
      reservedConcurrentExecutions: 1,
      environment: {
        [TRADING_ENV.riskTable]: props.riskTable.tableName,
        [LAKE_BUCKET_ENV.curated]: curated.bucketName,
        [LAKE_BUCKET_ENV.audit]: audit.bucketName,
      },
      deadLetterQueue: props.deadLetterQueue,
      noDeadLetterQueueReason: props.deadLetterQueue
        ? undefined
        : 'Invoked once a day by its schedule (two retries); a failed run raises the errors alarm and is run again by invoking the function with the rule input, which is all the state it needs.',
      outsideVpcReason:
        'Calls only AWS service APIs (DynamoDB, S3), IAM-authenticated over TLS, and reaches nothing inside the VPC; outside it the function needs no ENIs, NAT or interface endpoints.',
    });
    props.riskTable.grantReadData(this.function);
    curated.grantRead(this.function, `${LAKE_PREFIXES.riskReturns}/${props.account}.json`);
    // Writes only this account's results (one PUT each; no multipart, tagging or retention change).
    const resultPrefix = `${LAKE_PREFIXES.riskStress}/${props.account}`;
    allow(this.function, {
      actions: ['s3:PutObject'],
      resources: [audit.arnForObjects(`${resultPrefix}/*`)],
    });
    props.lake.auditKey.grantEncrypt(this.function);
    acknowledgeWildcards(this, [
      [
        /^Action::s3:(GetObject|GetBucket|List)\*$/,
        'The CDK grant method for reading objects; the resource is the one returns-window object of this account.',
      ],
      [
        /^Resource::.*\/risk\/stress\/[^/]+\/\*$/,
        "This account's daily stress results (one object per day, named by the run's date).",
      ],
      [
        /^Action::kms:(GenerateDataKey|ReEncrypt)\*$/,
        'KMS actions the S3 and DynamoDB grants add for the bucket and table keys (SSE-KMS); the resources are those keys only.',
      ],
      [
        /^Resource::<.*RiskTable.*\.Arn>\/index\/\*$/,
        "The CDK's read grant on the risk table also covers its indexes (it has none); read-only.",
      ],
    ]);

    this.rule = new events.Rule(this, 'Schedule', {
      description: `Stress test of account ${props.account}'s book (quant risk stress), after the returns job`,
      schedule: events.Schedule.cron({ hour: String(Math.floor(start / 60)), minute: String(start % 60) }),
      targets: [
        new targets.LambdaFunction(this.function, {
          event: events.RuleTargetInput.fromObject({
            account: props.account,
            scenarios,
            reverse: props.reverse ?? true,
          }),
          retryAttempts: 2,
          deadLetterQueue: props.deadLetterQueue,
        }),
      ],
    });

    const metric = (name: string, statistic: string): cw.Metric =>
      serviceMetric(STRESS_METRICS, name, { statistic, period: Duration.days(1) });
    this.breachesMetric = metric(STRESS_METRICS.breaches, 'Maximum');
    this.worstPnlMetric = metric(STRESS_METRICS.worstPnlPctNav, 'Minimum');
    this.breachAlarm = monitoring.alarm(this, 'BreachAlarm', {
      description: `The daily stress test of ${props.account} breaches a limit in some scenario (result: s3://<audit bucket>/${resultPrefix}/<day>.json)`,
      metric: this.breachesMetric,
      threshold: 1,
    });
    this.errorsAlarm = monitoring.alarm(this, 'ErrorsAlarm', {
      description: 'The daily stress run failed (see its logs; quant risk stress by hand)',
      metric: this.function.metricErrors({ period: Duration.hours(1), statistic: 'Sum' }),
      threshold: 1,
    });
    this.widgets = [
      [
        graph(`Stress: worst scenario P&L, % of NAV (${props.account})`, [this.worstPnlMetric], {
          width: 12,
        }),
        graph('Stress: limits breached across scenarios', [this.breachesMetric], { width: 6 }),
        this.breachAlarm.graph('Stress breaches', 6),
      ],
    ];
    monitoring.addSection(`Daily stress (${props.account})`, this.widgets);
  }
}
