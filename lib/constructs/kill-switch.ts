import path from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import type * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { packageRoot } from '../../src/package-root';
import type { IMonitoring } from '../stacks/monitoring-stack';
import { EncryptedQueue } from './encrypted-queue';
import { QuantFunction } from './quant-function';
import { acknowledgeWildcards } from './acknowledge-wildcards';
import {
  acknowledgeDormant,
  grantTradingEvents,
  TRADING_WILDCARDS,
  tradingEnvironment,
  tradingFunctionDefaults,
  type TradingCore,
} from './trading-core';
import { accountStateKey } from './trading-tables';
import { Area } from './area';
import { FUNCTION_SERVICE } from '../../src/contract/metrics';
import { ALARM_STATE_CHANGE } from '../../src/contract/trading';

export interface KillSwitchProps {
  readonly core: TradingCore;
  readonly monitoring: IMonitoring;
  /**
   * Reserved concurrency: a halt is never throttled because other functions used up the account's
   * concurrency.
   * @default 2
   */
  readonly concurrency?: number;
  /**
   * A warm standby: reserved concurrency 0 and `haltOn`'s rule disabled, so it writes nothing (the
   * replicator owns the replica tables) until failover lifts both (docs/disaster-recovery.md).
   * @default false (live)
   */
  readonly dormant?: boolean;
}

/**
 * The kill switch: alarms given to `haltOn` entering ALARM set the account HALTED. It cannot fail
 * silently: reserved concurrency, outside the VPC (no ENI, NAT or endpoint to depend on), failed
 * asynchronous invocations on an encrypted on-failure queue, and alarms on both its errors and
 * that queue. Its role writes only the account-wide state key.
 */
export class KillSwitch extends Area {
  readonly function: QuantFunction;
  /** On-failure destination of the asynchronous invocations (alarmed). */
  readonly failures: sqs.Queue;
  private readonly deadLetterQueue: sqs.IQueue;
  private readonly dormant: boolean;

  constructor(scope: Construct, id: string, props: KillSwitchProps) {
    super(scope, id);
    const { core, monitoring } = props;
    this.deadLetterQueue = core.deadLetterQueue;
    this.dormant = props.dormant ?? false;
    const fn = new QuantFunction(this, 'KillSwitch', {
      ...tradingFunctionDefaults(core),
      entry: path.join(packageRoot(), 'lambda/kill-switch/index.ts'),
      serviceName: FUNCTION_SERVICE.killSwitch,
      environment: tradingEnvironment(core),
      reservedConcurrentExecutions: this.dormant ? 0 : (props.concurrency ?? 2),
      noDeadLetterQueueReason:
        'Failed asynchronous invocations go to its on-failure destination KillSwitchFailures (KillSwitchFailuresAlarm), which records the error as well as the event, unlike a DLQ.',
      outsideVpcReason:
        'Kept outside the VPC on purpose: a halt must not depend on ENIs, NAT gateways or endpoints. It calls only AWS service APIs (DynamoDB, Firehose, EventBridge), IAM-authenticated over TLS.',
    });
    this.function = fn;
    if (this.dormant) acknowledgeDormant(fn);
    // It applies `escalate` events, which can only make a state more restrictive (transition in
    // src/risk/state.ts); `resume` is the operator path (quant risk resume), run with the
    // operator's credentials, not this role.
    core.tables.grantRiskWrites(fn, [accountStateKey(core.account)]);
    // EventBridge invokes it asynchronously: a halt that still fails after Lambda's retries lands
    // here (with the event and the error) and pages, instead of being dropped.
    this.failures = new EncryptedQueue(this, 'KillSwitchFailures', { encryptionKey: core.key });
    Validations.of(this.failures).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the on-failure destination of the kill switch (failed halts with their error); any message raises KillSwitchFailuresAlarm.',
    });
    fn.configureAsyncInvoke({
      onFailure: new destinations.SqsDestination(this.failures),
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
    });
    grantTradingEvents(core, fn);
    acknowledgeWildcards(this, [TRADING_WILDCARDS.kmsDataKeys]);

    monitoring.alarm(this, 'KillSwitchErrorsAlarm', {
      description:
        'The kill switch failed to handle an alarm: trading may NOT be halted (halt by hand: quant risk halt)',
      metric: fn.metricErrors({ period: Duration.minutes(1), statistic: 'Sum' }),
      threshold: 1,
    });
    monitoring.alarm(this, 'KillSwitchFailuresAlarm', {
      description:
        'A halt failed after all retries (kill-switch failure queue): trading is NOT halted; halt by hand (quant risk halt)',
      metric: this.failures.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: 0,
      comparison: '>',
    });
  }

  /** Sets trading HALTED when any of `alarms` enters ALARM (undelivered events: dead-letter queue). */
  haltOn(alarms: readonly cw.IAlarm[]): events.Rule {
    return new events.Rule(this, 'KillSwitchRule', {
      // Given only when dormant (CDK records given props in the template's metadata).
      ...(this.dormant ? { enabled: false } : {}),
      description:
        'Kill-switch alarms (execution errors, drawdown, daily loss) entering ALARM set trading HALTED',
      eventPattern: {
        source: [ALARM_STATE_CHANGE.source],
        detailType: [ALARM_STATE_CHANGE.detailType],
        resources: alarms.map((a) => a.alarmArn),
        detail: { state: { value: [ALARM_STATE_CHANGE.alarm] } },
      },
      targets: [
        new targets.LambdaFunction(this.function, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 8,
        }),
      ],
    });
  }
}
