import path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { BARS, LAKE_BUCKET_ENV, LAKE_PREFIXES } from '../../src/contract/lake';
import { TRADING_METRICS, FUNCTION_SERVICE } from '../../src/contract/metrics';
import { packageRoot } from '../../src/package-root';
import type { IMonitoring } from '../stacks/monitoring-stack';
import { acknowledgeWildcards } from './acknowledge-wildcards';
import { QuantFunction } from './quant-function';
import { TRADING_WILDCARDS } from './trading-core';
import { Area } from './area';
import { allow } from './policy-statements';

export interface ReturnsJobProps {
  /** The account whose window is published (`risk/returns/<account>.json`). */
  readonly account: string;
  readonly symbols: readonly string[];
  /** Daily bars per window. */
  readonly days: number;
  /** Time of the daily run (UTC). */
  readonly hourUtc: number;
  readonly minuteUtc: number;
  /** The curated zone: daily bars in, the window out. */
  readonly curatedBucket: s3.IBucket;
  /** Failed asynchronous runs. */
  readonly deadLetterQueue: sqs.IQueue;
  readonly logKey: kms.IKey;
  readonly logRetentionDays: number;
  readonly monitoring: IMonitoring;
}

/**
 * The returns window of the VaR / correlation rules, refreshed daily (else every order under those
 * limits rejects with returnsWindow once none exists). Pure JS: daily bars are read with hyparquet,
 * so a small Lambda does what `quant risk returns` does. Writes only its account's window; its
 * failures are alarmed.
 */
export class ReturnsJob extends Area {
  readonly function: QuantFunction;

  constructor(scope: Construct, id: string, props: ReturnsJobProps) {
    super(scope, id);
    const curated = props.curatedBucket;
    const fn = new QuantFunction(this, 'RiskReturns', {
      logKey: props.logKey,
      logRetentionDays: props.logRetentionDays,
      metricsNamespace: TRADING_METRICS.namespace,
      entry: path.join(packageRoot(), 'lambda/risk-returns/index.ts'),
      serviceName: FUNCTION_SERVICE.riskReturns,
      memorySize: 1024,
      timeout: Duration.minutes(5),
      environment: { [LAKE_BUCKET_ENV.curated]: curated.bucketName },
      // One run a day.
      reservedConcurrentExecutions: 1,
      deadLetterQueue: props.deadLetterQueue,
      outsideVpcReason:
        'Calls only AWS service APIs (S3), IAM-authenticated over TLS, and reaches nothing inside the VPC; outside it the function needs no ENIs, NAT or interface endpoints.',
    });
    this.function = fn;
    curated.grantRead(fn, `${LAKE_PREFIXES.dailyBars}/*`);
    // The bar reader checks the bars table's pending markers first (src/lake/bars-reader.ts).
    curated.grantRead(fn, `${LAKE_PREFIXES.pending}/${BARS.name}/*`);
    // Writes only this account's window (one PUT; no multipart, tagging or retention).
    const window = `${LAKE_PREFIXES.riskReturns}/${props.account}.json`;
    allow(fn, { actions: ['s3:PutObject'], resources: [curated.arnForObjects(window)] });
    curated.encryptionKey?.grantEncrypt(fn);
    // Lambda hands a failed asynchronous run to the dead-letter queue with this role, and the queue
    // is SSE-KMS: a sender needs the key's GenerateDataKey and Decrypt, or the failed run is lost.
    props.deadLetterQueue.encryptionMasterKey?.grant(fn, 'kms:GenerateDataKey', 'kms:Decrypt');
    const w = TRADING_WILDCARDS;
    acknowledgeWildcards(this, [w.kmsDataKeys, w.curatedReadActions, w.bars]);
    new events.Rule(this, 'RiskReturnsSchedule', {
      description: `Publishes ${window} from daily lake bars (quant risk returns)`,
      schedule: events.Schedule.cron({ hour: String(props.hourUtc), minute: String(props.minuteUtc) }),
      targets: [
        new targets.LambdaFunction(fn, {
          event: events.RuleTargetInput.fromObject({
            account: props.account,
            symbols: props.symbols,
            days: props.days,
          }),
          retryAttempts: 2,
          deadLetterQueue: props.deadLetterQueue,
        }),
      ],
    });
    props.monitoring.alarm(this, 'RiskReturnsErrorsAlarm', {
      description:
        'The daily returns-window job failed: the VaR / correlation window is getting old (see its logs; quant risk returns --aws by hand)',
      metric: fn.metricErrors({ period: Duration.hours(1), statistic: 'Sum' }),
      threshold: 1,
    });
  }
}
