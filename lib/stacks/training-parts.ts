/** Parts of the training stack kept out of lib/stacks/training-stack.ts so it reads as a table of contents. */
import { Duration } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { parseEcrImageUri } from '../config/training';
import type { TrainingConfig } from '../config/types';
import type { SourceTarballAsset, TrainingWorkflowProps } from '../constructs';
import { FEATURE_NAMES, featureSetVersionOf } from '../../src/contract/ml';
import { BARS_UPDATED_EVENT } from '../../src/contract/bars';
import { DEFAULT_RUNNER_BAR_INTERVAL, DRIFT_METRIC } from '../../src/contract/models';
import {
  CHECKPOINT_LOCAL_PATH,
  NEURON_CACHE_SUBDIR,
  TRAINING_METRICS,
  TRAINING_PREFIXES,
  PROTECTED_HYPERPARAMETERS,
  TRAINING_SCRIPT_METRICS,
} from '../../src/contract/training';
import type { IMonitoring } from './monitoring-stack';

/** The features the environment trains on: its `features` hyperparameter, else the whole set (version 1). */
export function trainingFeatures(c: TrainingConfig): string[] {
  return (c.hyperparameters.features ?? FEATURE_NAMES.join(',')).split(',').map((f) => f.trim());
}

/** The SageMaker job of the workflow from the environment's config: container, instance, settings. */
export function trainingJobProps(
  c: TrainingConfig,
  deps: {
    readonly vpc: ec2.IVpc;
    readonly subnets: ec2.SubnetSelection;
    readonly code: SourceTarballAsset;
    readonly volumeKey?: kms.IKey;
    readonly partition: string;
    /** Key and retention of the jobs' log group. */
    readonly logs: { readonly key: kms.IKey; readonly retentionDays: number };
  },
): TrainingWorkflowProps['training'] {
  const k = c.compute;
  const image = parseEcrImageUri(k.imageUri)!;
  const neuron = k.accelerator === 'trainium';
  const version = String(featureSetVersionOf(trainingFeatures(c)));
  return {
    image: {
      uri: k.imageUri,
      repositoryArn: `arn:${deps.partition}:ecr:${image.region}:${image.account}:repository/${image.repository}`,
    },
    instanceType: k.instanceType,
    instanceCount: k.instanceCount,
    devicesPerInstance: k.devicesPerInstance,
    volumeSizeGiB: k.volumeSizeGiB,
    volumeKey: deps.volumeKey,
    code: deps.code,
    outputPrefix: TRAINING_PREFIXES.output,
    checkpointPrefix: TRAINING_PREFIXES.checkpoints,
    checkpointLocalPath: CHECKPOINT_LOCAL_PATH,
    hyperparameters: {
      features: FEATURE_NAMES.join(','),
      feature_set_version: version,
      ...c.hyperparameters,
      // Always the version that computes the configured features (the features step's SQL follows it).
      ...('feature_set_version' in c.hyperparameters ? { feature_set_version: version } : {}),
      horizon: String(c.horizon),
      model_name: c.modelName,
      device: k.accelerator === 'trainium' ? 'neuron' : k.accelerator === 'gpu' ? 'cuda' : 'cpu',
    },
    environment: {
      QUANT_CHECKPOINT_DIR: CHECKPOINT_LOCAL_PATH,
      // The compile cache under the checkpoint directory survives spot restarts (SageMaker syncs it).
      ...(neuron ? { NEURON_COMPILE_CACHE_URL: `${CHECKPOINT_LOCAL_PATH}/${NEURON_CACHE_SUBDIR}` } : {}),
    },
    metricNames: TRAINING_SCRIPT_METRICS,
    protectedHyperparameters: PROTECTED_HYPERPARAMETERS,
    logs: deps.logs,
    useSpot: c.useSpot,
    maxRuntime: Duration.hours(c.maxRuntimeHours),
    maxWait: Duration.hours(c.maxWaitHours),
    retryAttempts: c.retryAttempts,
    vpc: deps.vpc,
    subnets: deps.subnets,
    tuning: c.tuning && {
      ...c.tuning,
      objective: {
        metric: c.tuning.objective,
        type: c.tuning.objective === 'val_ic' ? 'Maximize' : 'Minimize',
      },
    },
  };
}

/** Alarms (failed runs, long jobs, drift, runner errors) and the dashboard section of the model. */
export function addTrainingMonitoring(
  scope: Construct,
  c: TrainingConfig,
  monitoring: IMonitoring,
  refs: { readonly stateMachine: sfn.StateMachine; readonly strategyRunner: lambda.Function },
): void {
  const sm = refs.stateMachine;
  const hour = Duration.hours(1);
  const day = Duration.days(1);
  const dims = { [TRAINING_METRICS.modelNameDimension]: c.modelName };
  const usage = (metricName: string, label: string) =>
    new cw.Metric({
      namespace: TRAINING_METRICS.namespace,
      metricName,
      dimensionsMap: dims,
      statistic: 'Sum',
      period: day,
      label,
    });
  const failures = new cw.MathExpression({
    expression: 'failed + timedout + aborted',
    usingMetrics: {
      failed: sm.metricFailed({ period: hour, statistic: 'Sum' }),
      timedout: sm.metricTimedOut({ period: hour, statistic: 'Sum' }),
      aborted: sm.metricAborted({ period: hour, statistic: 'Sum' }),
    },
    period: hour,
    label: 'failed training runs',
  });
  const trainingSeconds = usage(TRAINING_METRICS.trainingSeconds, 'training s');
  const billableSeconds = usage(TRAINING_METRICS.billableSeconds, 'billable s');
  const savings = new cw.MathExpression({
    expression: 'IF(t > 0, 100 * (1 - b / t), 0)',
    usingMetrics: { t: trainingSeconds, b: billableSeconds },
    period: day,
    label: 'spot savings %',
  });
  const drift = new cw.Metric({
    namespace: DRIFT_METRIC.namespace,
    metricName: DRIFT_METRIC.name,
    dimensionsMap: dims,
    statistic: 'Maximum',
    period: day,
    label: 'largest feature PSI',
  });
  monitoring.alarm(scope, 'TrainingFailedAlarm', {
    description: `A training run of ${c.modelName} failed, timed out or was aborted`,
    metric: failures,
    threshold: 1,
  });
  monitoring.alarm(scope, 'TrainingDurationAlarm', {
    description: `A training job of ${c.modelName} ran longer than ${c.durationAlarmMinutes} minutes`,
    metric: usage(TRAINING_METRICS.trainingSeconds, 'training s').with({ statistic: 'Maximum' }),
    threshold: c.durationAlarmMinutes * 60,
    comparison: '>',
  });
  monitoring.alarm(scope, 'DriftAlarm', {
    description: `A feature of ${c.modelName} drifted: PSI >= ${c.driftPsiAlarm} against its training statistics`,
    metric: drift,
    threshold: c.driftPsiAlarm,
  });
  monitoring.alarm(scope, 'StrategyRunnerErrorsAlarm', {
    description: 'The strategy runner failed (no signals for this bar)',
    metric: refs.strategyRunner.metricErrors({ period: hour, statistic: 'Sum' }),
    threshold: 1,
  });
  monitoring.addSection(`Machine learning: ${c.modelName}`, [
    [
      new cw.GraphWidget({
        title: 'Training runs',
        left: [
          sm.metricStarted({ period: hour, statistic: 'Sum', label: 'started' }),
          sm.metricSucceeded({ period: hour, statistic: 'Sum', label: 'succeeded' }),
          failures,
        ],
        width: 6,
      }),
      new cw.GraphWidget({
        title: 'Training duration (s)',
        left: [trainingSeconds, billableSeconds],
        width: 6,
      }),
      new cw.GraphWidget({ title: 'Spot savings (%)', left: [savings], width: 6 }),
      new cw.GraphWidget({
        title: 'Feature drift (PSI)',
        left: [drift],
        leftAnnotations: [{ value: c.driftPsiAlarm, label: 'alarm' }],
        width: 6,
      }),
    ],
  ]);
}

/** The retrain schedule, the drift check's, and the strategy runner's (a schedule and each BarsUpdated). */
export function addTrainingSchedules(
  scope: Construct,
  c: TrainingConfig,
  refs: {
    readonly stateMachine: sfn.IStateMachine;
    readonly driftCheck: lambda.IFunction;
    readonly strategyRunner: lambda.IFunction;
  },
): void {
  if (c.retrainSchedule) {
    new events.Rule(scope, 'RetrainSchedule', {
      description: `Scheduled retrain of ${c.modelName}`,
      schedule: events.Schedule.expression(c.retrainSchedule),
      targets: [
        new targets.SfnStateMachine(refs.stateMachine, {
          input: events.RuleTargetInput.fromObject({ trigger: 'schedule' }),
        }),
      ],
    });
  }
  new events.Rule(scope, 'DriftSchedule', {
    description: `Drift check of ${c.modelName} (PSI of live features against the training statistics)`,
    schedule: events.Schedule.expression(c.driftSchedule),
    targets: [new targets.LambdaFunction(refs.driftCheck, { retryAttempts: 2 })],
  });
  new events.Rule(scope, 'RunnerSchedule', {
    description: `Strategy runner of the ${c.tradingEnvironment} promotion (after each bar is in the lake)`,
    schedule: events.Schedule.expression(c.runnerSchedule),
    targets: [new targets.LambdaFunction(refs.strategyRunner, { retryAttempts: 2 })],
  });

  // And on each BarsUpdated the bars pipeline publishes to the default bus (src/ingest/bars-events.ts).
  new events.Rule(scope, 'RunnerOnBars', {
    description: `Strategy runner of the ${c.tradingEnvironment} promotion when new bars are in the lake`,
    // Only bars of the runner's interval (the 1m Glue job publishes too).
    eventPattern: {
      source: [BARS_UPDATED_EVENT.source],
      detailType: [BARS_UPDATED_EVENT.detailType],
      detail: { interval: [DEFAULT_RUNNER_BAR_INTERVAL] },
    },
    targets: [new targets.LambdaFunction(refs.strategyRunner, { retryAttempts: 2 })],
  });
}
