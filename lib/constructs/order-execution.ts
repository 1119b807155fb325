import path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import type * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { TRADING_ENV, TRADING_SIGNAL_DETAIL_TYPE, TRADING_SIGNAL_SOURCE } from '../../src/contract/trading';
import { packageRoot } from '../../src/package-root';
import type { IMonitoring } from '../stacks/monitoring-stack';
import { grantOrderPathReads, type OrderPathProps } from './algo-scheduler';
import { QuantFunction } from './quant-function';
import { acknowledgeWildcards } from './acknowledge-wildcards';
import {
  acknowledgeDormant,
  grantOrderRecords,
  grantTradingEvents,
  TRADING_WILDCARDS,
  tradingFunctionDefaults,
} from './trading-core';
import { orderPathKeys } from './trading-tables';
import { Area } from './area';
import { FUNCTION_SERVICE } from '../../src/contract/metrics';

export interface OrderExecutionProps extends OrderPathProps {
  /** Signals in (Kinesis; the bus's signals come through a rule). */
  readonly signals: kinesis.IStream;
  /** Where algorithm parents are started. */
  readonly algoStateMachine: sfn.IStateMachine;
  /** Execution errors in 5 minutes that raise `errorAlarm` (which trips the kill switch). */
  readonly errorAlarmThreshold: number;
  readonly monitoring: IMonitoring;
  /**
   * Minutes between reconciliations of UNKNOWN and working orders with the broker.
   * @default 5
   */
  readonly reconcileMinutes?: number;
  /**
   * A warm standby (lib/stacks/disaster-recovery-standby-stack.ts): reserved concurrency 0 (nothing
   * can invoke the function), the stream mapping and both rules disabled. Failover lifts all of it
   * (docs/disaster-recovery.md).
   * @default false (trading)
   */
  readonly dormant?: boolean;
}

/**
 * The execution function: signals from the Kinesis stream and from the order bus (only the
 * strategies' source and detail type), risk checks, orders to the broker, algorithm parents to the
 * algo state machine; a schedule reconciles orders a broker timeout left UNKNOWN. Failures land on
 * the dead-letter queue, which is alarmed, as are the function's errors.
 */
export class OrderExecution extends Area {
  readonly function: QuantFunction;
  /** Execution errors: meant to trip the kill switch (`KillSwitch.haltOn`). */
  readonly errorAlarm: cw.Alarm;
  /** Messages visible on the dead-letter queue (1-minute maximum). */
  readonly deadLetterDepth: cw.Metric;
  /** Signals from the bus to the function. */
  readonly signalRule: events.Rule;
  /** The reconciliation schedule. */
  readonly reconcileRule: events.Rule;
  /** The mapping of the signals stream onto the function. */
  readonly signalsSource: sources.KinesisEventSource;

  constructor(scope: Construct, id: string, props: OrderExecutionProps) {
    super(scope, id);
    const { core, monitoring } = props;
    // The key is left out unless dormant: CDK records which props were given in the template's
    // metadata, so a trading deployment's template stays unchanged.
    const disabled = props.dormant ? { enabled: false } : {};
    const fn = new QuantFunction(this, 'Execution', {
      ...tradingFunctionDefaults(core),
      entry: path.join(packageRoot(), 'lambda/execution/index.ts'),
      serviceName: FUNCTION_SERVICE.execution,
      memorySize: 1024,
      timeout: Duration.seconds(60),
      reservedConcurrentExecutions: props.dormant ? 0 : props.concurrency,
      environment: {
        ...props.environment,
        [TRADING_ENV.algoStateMachineArn]: props.algoStateMachine.stateMachineArn,
      },
      // Signals and reconciliations that still fail after Lambda's retries (asynchronous
      // invocations from the bus and the schedule) land with the poison signals, alarmed.
      deadLetterQueue: core.deadLetterQueue,
      ...props.broker.network,
    });
    this.function = fn;
    props.algoStateMachine.grantStartExecution(fn);
    core.tables.grantRiskWrites(fn, orderPathKeys(core.account));
    grantOrderRecords(core.tables, fn, { reconcile: true });
    core.tables.idempotency.grantReadWriteData(fn);
    core.deadLetterQueue.grantSendMessages(fn);
    props.broker.grantRead(fn);
    this.signalsSource = new sources.KinesisEventSource(props.signals, {
      ...disabled,
      startingPosition: lambda.StartingPosition.LATEST,
      batchSize: 100,
      reportBatchItemFailures: true,
      retryAttempts: 5,
      bisectBatchOnError: true,
      maxRecordAge: Duration.hours(1),
      onFailure: new sources.SqsDlq(core.deadLetterQueue),
    });
    fn.addEventSource(this.signalsSource);
    this.signalRule = new events.Rule(this, 'SignalRule', {
      ...disabled,
      eventBus: core.bus,
      description: 'Trading signals sent to the bus go to the execution function',
      // Only the strategies' source (src/contract/trading.ts): order events on the same bus, or a
      // signal from any other publisher, never reach execution.
      eventPattern: { source: [TRADING_SIGNAL_SOURCE], detailType: [TRADING_SIGNAL_DETAIL_TYPE] },
      targets: [new targets.LambdaFunction(fn, { deadLetterQueue: core.deadLetterQueue, retryAttempts: 4 })],
    });
    // Orders left UNKNOWN by a broker timeout (or still working) are resolved by asking the broker.
    this.reconcileRule = new events.Rule(this, 'ReconcileSchedule', {
      ...disabled,
      description: 'Reconciles UNKNOWN and working orders with the broker (never resubmits)',
      schedule: events.Schedule.rate(Duration.minutes(props.reconcileMinutes ?? 5)),
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 2 })],
    });
    if (props.dormant) acknowledgeDormant(fn);
    grantOrderPathReads(props.curatedBucket, fn);
    grantTradingEvents(core, fn);
    const w = TRADING_WILDCARDS;
    acknowledgeWildcards(this, [w.kmsDataKeys, w.curatedReadActions, w.returnsWindows, w.bars]);

    this.errorAlarm = monitoring.alarm(this, 'ExecutionErrorsAlarm', {
      description: 'Execution function errors: trips the kill switch (trading HALTED)',
      metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: props.errorAlarmThreshold,
    });
    this.deadLetterDepth = core.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(1),
      statistic: 'Maximum',
    });
    monitoring.alarm(this, 'DlqNotEmptyAlarm', {
      description: 'Signals in the execution dead-letter queue (each carries its reason)',
      metric: this.deadLetterDepth,
      threshold: 1,
    });
  }
}
