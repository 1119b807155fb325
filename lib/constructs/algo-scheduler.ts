import path from 'node:path';
import { CfnOutput, Duration } from 'aws-cdk-lib';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { BARS, LAKE_BUCKET_ENV, LAKE_PREFIXES } from '../../src/contract/lake';
import { packageRoot } from '../../src/package-root';
import type { BrokerAccess } from './broker-access';
import { EncryptedLogGroup } from './encrypted-log-group';
import { QuantFunction } from './quant-function';
import { acknowledgeWildcards } from './acknowledge-wildcards';
import {
  acknowledgeDormant,
  grantOrderRecords,
  grantTradingEvents,
  TRADING_WILDCARDS,
  tradingEnvironment,
  tradingFunctionDefaults,
  type TradingCore,
} from './trading-core';
import { orderPathKeys } from './trading-tables';
import { Area } from './area';
import { FUNCTION_SERVICE } from '../../src/contract/metrics';

/** What the order path's functions (execution, algo-child) share. */
export interface OrderPathProps {
  readonly core: TradingCore;
  /** Environment of the order path (tables, broker settings, curated bucket). */
  readonly environment: Readonly<Record<string, string>>;
  readonly broker: BrokerAccess;
  /** The curated zone: returns windows (VaR, correlation) and 1-minute bars (quotes, VWAP curves). */
  readonly curatedBucket: s3.IBucket;
  /** Cap on concurrent broker calls (reserved concurrency). */
  readonly concurrency: number;
  /**
   * A warm standby: reserved concurrency 0, so nothing runs until failover lifts it
   * (docs/disaster-recovery.md).
   * @default false (trading)
   */
  readonly dormant?: boolean;
}

/**
 * The order path's props with its environment: the trading functions', the broker's, and the curated
 * bucket (VaR and correlation limits read the returns windows there, children their quotes).
 */
export function orderPathOf(p: Omit<OrderPathProps, 'environment'>): OrderPathProps {
  const curated = { [LAKE_BUCKET_ENV.curated]: p.curatedBucket.bucketName };
  return { ...p, environment: { ...tradingEnvironment(p.core), ...p.broker.environment, ...curated } };
}

/** Read access of an order-path function to the curated zone's returns windows and 1-minute bars. */
export function grantOrderPathReads(curated: s3.IBucket, fn: QuantFunction): void {
  curated.grantRead(fn, `${LAKE_PREFIXES.riskReturns}/*`);
  // Children are priced at the latest 1-minute bar; VWAP curves come from past ones.
  curated.grantRead(fn, `${LAKE_PREFIXES.minuteBars}/*`);
  // The bar reader reads the bars table's pending markers so that no quote comes from part of an
  // import (src/lake/bars-reader.ts); without this an import in progress denies every read.
  curated.grantRead(fn, `${LAKE_PREFIXES.pending}/${BARS.name}/*`);
}

/**
 * Algorithm parents (TWAP/VWAP/POV, src/trading/algos.ts): one Standard state machine execution per
 * parent, named after it, waits until each child's time and submits it through the algo-child
 * function, the same risk and broker path as a plain order. `quant algo cancel --aws` stops a
 * parent's execution (the output `AlgoStateMachineArn`).
 */
export class AlgoScheduler extends Area {
  /** Submits one child of an algorithm parent (the state machine's task). */
  readonly algoChild: QuantFunction;
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: OrderPathProps) {
    super(scope, id);
    const { core } = props;
    this.algoChild = new QuantFunction(this, 'AlgoChild', {
      ...tradingFunctionDefaults(core),
      entry: path.join(packageRoot(), 'lambda/algo-child/index.ts'),
      serviceName: FUNCTION_SERVICE.algoChild,
      memorySize: 1024,
      timeout: Duration.seconds(60),
      environment: { ...props.environment },
      // The same cap on broker calls as the execution function.
      reservedConcurrentExecutions: props.dormant ? 0 : props.concurrency,
      noDeadLetterQueueReason:
        'Invoked only synchronously by the algo state machine, which retries each child (idempotent per parent and slice); a DLQ receives only failed asynchronous invocations.',
      ...props.broker.network,
    });
    if (props.dormant) acknowledgeDormant(this.algoChild);
    core.tables.grantRiskWrites(this.algoChild, orderPathKeys(core.account));
    grantOrderRecords(core.tables, this.algoChild);
    props.broker.grantRead(this.algoChild);

    const releaseChild = new tasks.LambdaInvoke(this, 'Submit child', {
      lambdaFunction: this.algoChild,
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
    });
    // A child is idempotent per (parent, slice): retrying a failed or timed-out task is safe.
    releaseChild.addRetry({
      errors: [sfn.Errors.TASKS_FAILED, sfn.Errors.TIMEOUT],
      interval: Duration.seconds(2),
      maxAttempts: 5,
      backoffRate: 2,
      jitterStrategy: sfn.JitterType.FULL,
    });
    const children = new sfn.Map(this, 'Children', {
      itemsPath: sfn.JsonPath.stringAt('$.children'),
      // One at a time, in time order: each child's check sees the fills of the ones before it.
      maxConcurrency: 1,
      resultPath: sfn.JsonPath.DISCARD,
    });
    children.itemProcessor(
      new sfn.Wait(this, 'Until child time', { time: sfn.WaitTime.timestampPath('$.at') }).next(releaseChild),
    );
    const logs = EncryptedLogGroup.of(this, 'AlgoStateMachineLogs', core);
    this.stateMachine = new sfn.StateMachine(this, 'AlgoStateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(children),
      stateMachineType: sfn.StateMachineType.STANDARD,
      // Longest algorithm (7 days, src/trading/algos.ts) plus a day of retries and late starts.
      timeout: Duration.days(8),
      tracingEnabled: true,
      logs: { destination: logs, level: sfn.LogLevel.ALL, includeExecutionData: false },
      comment:
        'Algorithm parent (TWAP/VWAP/POV): wait until each child time, submit it through risk and broker',
    });
    new CfnOutput(this, 'AlgoStateMachineArn', { value: this.stateMachine.stateMachineArn });
    grantOrderPathReads(props.curatedBucket, this.algoChild);
    grantTradingEvents(core, this.algoChild);
    const w = TRADING_WILDCARDS;
    acknowledgeWildcards(this, [
      w.kmsDataKeys,
      w.curatedReadActions,
      w.returnsWindows,
      w.bars,
      [
        /^Resource::<\w*AlgoChild[0-9A-F]{8}\.Arn>:\*$/,
        'Step Functions invokes the algo-child function by any version or alias of the same function.',
      ],
      [
        /^Resource::\*$/,
        'X-Ray tracing and CloudWatch Logs vended-log delivery of the algo state machine have no resource-level permissions (the stack test pins this list).',
      ],
    ]);
  }
}
