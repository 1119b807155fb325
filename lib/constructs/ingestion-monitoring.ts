import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import type * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { INGEST_METRICS } from '../../src/contract/metrics';
import type { IMonitoring } from '../stacks/monitoring-stack';
import { Area } from './area';
import { EncryptedQueue } from './encrypted-queue';
import { eventBridgeKeyStatement } from './quant-key';
import type { NewsIngest } from './news-ingest';
import type { TickStream } from './tick-stream';
import { serviceMetric } from './service-metric';
import { graph } from './alarms';

export interface IngestionMonitoringProps {
  /** Where the alarms and the dashboard section go. */
  readonly monitoring: IMonitoring;
  /** The stream and its consumer. */
  readonly ticks: Pick<TickStream, 'stream' | 'consumer' | 'deadLetterQueue'>;
  /** Key of the queue that records Glue run outcomes (EventBridge may use it). */
  readonly streamKey: kms.IKey;
  /** The Glue jobs whose runs are counted. */
  readonly jobs: Readonly<Record<string, glue.CfnJob>>;
  /** The news pull (its failures and rejected keys alarm). */
  readonly news: Pick<NewsIngest, 'errorsMetric' | 'authFailuresMetric'>;
  /**
   * Alarm when the consumer's iterator age stays above this for five minutes.
   * @default 60
   */
  readonly iteratorAgeAlarmSeconds?: number;
}

/**
 * Alarms (consumer behind, dead-lettered batches, failed Glue runs, failed news pulls) and the
 * ingestion dashboard section. Glue run outcomes come as events; two rules matching them give
 * countable metrics and deliver to a KMS-encrypted queue, for inspection.
 */
export class IngestionMonitoring extends Area {
  constructor(scope: Construct, id: string, props: IngestionMonitoringProps) {
    super(scope, id);
    const period = Duration.minutes(5);
    const { monitoring, streamKey } = props;
    const { stream, consumer, deadLetterQueue } = props.ticks;
    const jobNames = Object.values(props.jobs).map((j) => j.ref);
    // Glue run outcomes come as events; rules matching them give countable metrics (TriggeredRules).
    const runEvents = new EncryptedQueue(this, 'GlueRunEvents', {
      encryptionKey: streamKey,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    streamKey.addToResourcePolicy(eventBridgeKeyStatement(Stack.of(this), 'AllowEventBridgeRules'));
    const rule = (idName: string, states: string[]): events.Rule =>
      new events.Rule(this, idName, {
        description: `Glue ingestion job runs ending in ${states.join('/')}`,
        eventPattern: {
          source: ['aws.glue'],
          detailType: ['Glue Job State Change'],
          detail: { jobName: jobNames, state: states },
        },
        // Not targets.SqsQueue: with a customer-managed key it grants events.amazonaws.com the queue
        // and the key on aws:SourceAccount alone. Here the queue policy names these two rules and
        // the key statement (above) only rules of this account and region.
        targets: [{ bind: () => ({ arn: runEvents.queueArn, targetResource: runEvents }) }],
      });
    const failed = rule('GlueJobFailedRule', ['FAILED', 'TIMEOUT', 'ERROR', 'STOPPED']);
    const succeeded = rule('GlueJobSucceededRule', ['SUCCEEDED']);
    runEvents.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
        resources: [runEvents.queueArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
          ArnEquals: { 'aws:SourceArn': [failed.ruleArn, succeeded.ruleArn] },
        },
      }),
    );
    const triggered = (r: events.Rule, label: string): cw.Metric =>
      new cw.Metric({
        namespace: 'AWS/Events',
        metricName: 'TriggeredRules',
        dimensionsMap: { RuleName: r.ruleName },
        statistic: 'Sum',
        period,
        label,
      });
    const custom = (metricName: string, label: string): cw.Metric =>
      serviceMetric(INGEST_METRICS, metricName, { statistic: 'Sum', period, label });

    monitoring.alarm(this, 'IteratorAgeAlarm', {
      description: 'The ingestion consumer is falling behind the ticks stream',
      metric: consumer.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1) }),
      threshold: (props.iteratorAgeAlarmSeconds ?? 60) * 1000,
      evaluationPeriods: 5,
      comparison: '>',
    });
    monitoring.alarm(this, 'DlqAlarm', {
      description: 'Ingestion batches gave up after all retries and went to the DLQ',
      metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
      threshold: 1,
    });
    monitoring.alarm(this, 'NewsIngestFailedAlarm', {
      description:
        'The scheduled news pull failed (vendor down after retries, lake write, or a rejected key)',
      metric: props.news.errorsMetric,
      threshold: 1,
    });
    monitoring.alarm(this, 'NewsApiKeyRejectedAlarm', {
      description:
        'The news vendor rejected the API key (expired or revoked): put a valid key in the news secret',
      metric: props.news.authFailuresMetric,
      threshold: 1,
    });
    monitoring.alarm(this, 'GlueJobFailedAlarm', {
      description: 'A Glue compaction or bars job run failed, timed out or was stopped',
      metric: triggered(failed, 'failed runs'),
      threshold: 1,
    });
    monitoring.addSection('Ingestion', [
      [
        graph(
          'Ticks stream in',
          [stream.metricIncomingRecords({ period, statistic: 'Sum', label: 'records' })],
          { right: [stream.metricIncomingBytes({ period, statistic: 'Sum', label: 'bytes' })] },
        ),
        graph('Consumer iterator age (ms)', [
          consumer.metric('IteratorAge', { statistic: 'Maximum', period, label: 'max' }),
        ]),
        graph('Consumer errors', [
          consumer.metricErrors({ period, statistic: 'Sum', label: 'invocation errors' }),
          custom(INGEST_METRICS.batchWriteFailures, 'batches not stored'),
        ]),
      ],
      [
        graph('Ticks written / quarantined', [custom(INGEST_METRICS.ticksWritten, 'written')], {
          right: [custom(INGEST_METRICS.ticksQuarantined, 'quarantined')],
          width: 12,
        }),
        graph('Glue job runs', [triggered(succeeded, 'succeeded'), triggered(failed, 'failed')], {
          width: 12,
        }),
      ],
    ]);
    this.node.addValidation({
      validate: () => {
        for (const c of this.node.findAll()) {
          if (c instanceof sqs.CfnQueue && c.node.path.includes('GlueRunEvents')) {
            Validations.of(c).acknowledge({
              id: 'AwsSolutions-SQS3',
              reason:
                'A record of Glue run outcomes for inspection; losing one only loses a copy of a Glue event.',
            });
          }
        }
        return [];
      },
    });
  }
}
