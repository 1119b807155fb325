import { Duration, Stack, Tags } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { PENDING_APPROVAL } from '../../src/contract/models';
import { featuresTagValue, TRAINING_MACHINE_TAGS, TRAINING_METRICS } from '../../src/contract/training';
import { EncryptedLogGroup } from './encrypted-log-group';
import { athenaQueryState } from './athena-query-state';
import type { SageMakerTrainingJob, SageMakerTrainingJobProps } from './sagemaker-training-job';
import { intrinsicLiteral, SageMakerTrainingJob as TrainingJob } from './sagemaker-training-job';
import { allow, putMetricData } from './policy-statements';

/** State names of the workflow (the local runner binds Task states by name). */
export interface TrainingWorkflowStateNames {
  /** Choice: does the input carry `hyperparameters`? */
  readonly readRequest: string;
  /** Pass: an input without them gets an empty set. */
  readonly noRequest: string;
  readonly prepare: string;
  readonly features: string;
  readonly train: string;
  readonly bestJob: string;
  readonly recordUsage: string;
  readonly evaluate: string;
  readonly gate: string;
  readonly rejected: string;
  readonly register: string;
  readonly publish: string;
  readonly done: string;
}

export interface TrainingWorkflowProps {
  readonly stateNames: TrainingWorkflowStateNames;
  /** Model name: the model package group, the job-name prefix (`<modelName>-<8 hex>`). */
  readonly modelName: string;
  /**
   * The features statement (Athena UNLOAD) with `destinationMarker` where the run's destination
   * (`s3://<bucket>/<featuresPrefix>/<jobName>/`) goes.
   */
  readonly featuresSql: string;
  readonly destinationMarker: string;
  /**
   * What `featuresSql` computes: its feature set version and feature columns. Tagged on the state
   * machine (TRAINING_MACHINE_TAGS) so that `quant train --remote` checks a request against it.
   */
  readonly featureSet: { readonly version: number; readonly features: readonly string[] };
  /** Glue database and Athena workgroup of the lake; `grantQuery` lets a principal query them. */
  readonly databaseName: string;
  readonly workgroupName: string;
  readonly grantQuery: (grantee: iam.IGrantable) => void;
  /** The models bucket (features, training output, checkpoints) and its key. */
  readonly bucket: s3.IBucket;
  readonly bucketKey: kms.IKey;
  readonly featuresPrefix: string;
  /** The training job (or tuning job), without the names and paths this construct sets. */
  readonly training: Omit<
    SageMakerTrainingJobProps,
    | 'stateName'
    | 'bestJobStateName'
    | 'jobNamePrefix'
    | 'jobNamePath'
    | 'trainDataUriPath'
    | 'bucket'
    | 'bucketKey'
    | 'trainDataPrefix'
    | 'resultPath'
    | 'hyperparametersPath'
  >;
  /** Lambda that backtests the candidate against the champion; returns `{ passed, ... }`. */
  readonly evaluateFunction: lambda.IFunction;
  /** Lambda that copies the registered model's files to the models bucket. */
  readonly publishFunction: lambda.IFunction;
  /** Namespace of the training usage metrics and their names. */
  readonly usageMetrics: {
    readonly namespace: string;
    readonly trainingSeconds: string;
    readonly billableSeconds: string;
  };
  readonly logKey: kms.IKey;
  readonly logRetentionDays: number;
  /** @default 24 hours */
  readonly timeout?: Duration;
}

export { intrinsicLiteral };

/**
 * The training workflow as a Standard state machine: features by Athena UNLOAD into a per-run prefix,
 * the SageMaker training (or tuning) job on them, the job's usage as metrics, an evaluation against the
 * champion, a gate, and on success a model package (PendingManualApproval) whose files are published to
 * the models bucket. The state machine's role gets exactly what each step needs.
 */
export class TrainingWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly trainingJob: SageMakerTrainingJob;

  constructor(scope: Construct, id: string, props: TrainingWorkflowProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const n = props.stateNames;
    const { bucket } = props;
    const jobName = `States.Format('${props.modelName}-{}', States.ArrayGetItem(States.StringSplit(States.UUID(), '-'), 0))`;

    const destination = `s3://${bucket.bucketName}/${props.featuresPrefix}/{}/`;
    if (!props.featuresSql.includes(props.destinationMarker))
      throw new Error('TrainingWorkflow: featuresSql does not contain the destination marker');
    const query = intrinsicLiteral(props.featuresSql)
      .split(intrinsicLiteral(props.destinationMarker))
      .join(destination);
    const features = athenaQueryState(this, n.features, {
      queryStringPath: `States.Format('${query}', $.run.jobName)`,
      databaseName: props.databaseName,
      workgroupName: props.workgroupName,
      resultPath: '$.features',
    });

    this.trainingJob = new TrainingJob(this, 'Training', {
      ...props.training,
      stateName: n.train,
      bestJobStateName: n.bestJob,
      jobNamePrefix: props.modelName,
      jobNamePath: '$.run.jobName',
      hyperparametersPath: '$.run.hyperparameters',
      trainDataUriPath: `States.Format('s3://${bucket.bucketName}/${props.featuresPrefix}/{}/', $.run.jobName)`,
      bucket,
      bucketKey: props.bucketKey,
      trainDataPrefix: props.featuresPrefix,
      resultPath: '$.training',
    });

    // The execution's request (`quant train --remote`: `{ requestedBy, hyperparameters }`): its
    // hyperparameters override the job's static ones (SageMakerTrainingJob); none is an empty set.
    const prepare = new sfn.Pass(this, n.prepare, {
      parameters: {
        'jobName.$': jobName,
        hyperparameters: this.trainingJob.hyperparameterInput('$.hyperparameters'),
      },
      resultPath: '$.run',
    });
    const readRequest = new sfn.Choice(this, n.readRequest)
      .when(sfn.Condition.isPresent('$.hyperparameters'), prepare)
      .otherwise(
        new sfn.Pass(this, n.noRequest, {
          result: sfn.Result.fromObject({}),
          resultPath: '$.hyperparameters',
        }).next(prepare),
      );

    const m = props.usageMetrics;
    const usage = (name: string, path: string) => ({
      MetricName: name,
      Dimensions: [{ Name: TRAINING_METRICS.modelNameDimension, Value: props.modelName }],
      'Value.$': path,
      Unit: 'Seconds',
    });
    const recordUsage = new sfn.CustomState(this, n.recordUsage, {
      stateJson: {
        Type: 'Task',
        Resource: `arn:${stack.partition}:states:::aws-sdk:cloudwatch:putMetricData`,
        Parameters: {
          Namespace: m.namespace,
          MetricData: [
            usage(m.trainingSeconds, '$.training.trainingSeconds'),
            usage(m.billableSeconds, '$.training.billableSeconds'),
          ],
        },
        ResultPath: null,
        Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 5, MaxAttempts: 3, BackoffRate: 2 }],
      },
    });

    // Evaluation and publication are told the model, the run and its artifacts.
    const invoke = (stateName: string, fn: lambda.IFunction, resultPath: string, more = {}) =>
      new tasks.LambdaInvoke(this, stateName, {
        lambdaFunction: fn,
        payloadResponseOnly: true,
        retryOnServiceExceptions: true,
        payload: sfn.TaskInput.fromObject({
          modelName: props.modelName,
          jobName: sfn.JsonPath.stringAt('$.run.jobName'),
          modelArtifacts: sfn.JsonPath.stringAt('$.training.modelArtifacts'),
          ...more,
        }),
        resultPath,
      });
    const evaluate = invoke(n.evaluate, props.evaluateFunction, '$.evaluation');

    const imageUri = props.training.image.uri;
    const register = new sfn.CustomState(this, n.register, {
      stateJson: {
        Type: 'Task',
        Resource: `arn:${stack.partition}:states:::aws-sdk:sagemaker:createModelPackage`,
        Parameters: {
          ModelPackageGroupName: props.modelName,
          ModelApprovalStatus: PENDING_APPROVAL,
          'ModelPackageDescription.$': "States.Format('Trained by {}', $.run.jobName)",
          InferenceSpecification: {
            Containers: [{ Image: imageUri, 'ModelDataUrl.$': '$.training.modelArtifacts' }],
            SupportedContentTypes: ['application/json'],
            SupportedResponseMIMETypes: ['application/json'],
          },
          CustomerMetadataProperties: { 'trainingJob.$': '$.run.jobName' },
        },
        ResultSelector: { 'arn.$': '$.ModelPackageArn' },
        ResultPath: '$.modelPackage',
      },
    });
    const publish = invoke(n.publish, props.publishFunction, '$.published', {
      modelPackageArn: sfn.JsonPath.stringAt('$.modelPackage.arn'),
    });
    const gate = new sfn.Choice(this, n.gate)
      .when(
        sfn.Condition.booleanEquals('$.evaluation.passed', true),
        register.next(publish).next(new sfn.Succeed(this, n.done)),
      )
      .otherwise(new sfn.Succeed(this, n.rejected, { comment: 'The candidate did not beat the champion' }));

    prepare.next(features).next(this.trainingJob.startState);
    const definition = readRequest;
    this.trainingJob.endState.next(recordUsage).next(evaluate).next(gate);

    const logs = EncryptedLogGroup.of(this, 'Logs', props);
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: props.timeout ?? Duration.hours(24),
      tracingEnabled: true,
      logs: { destination: logs, level: sfn.LogLevel.ALL, includeExecutionData: false },
      comment: 'Model training: features (Athena UNLOAD), SageMaker training, evaluation, gate, registration',
    });
    // The state machine only: its role needs no such tags.
    const tags = {
      [TRAINING_MACHINE_TAGS.featureSetVersion]: String(props.featureSet.version),
      [TRAINING_MACHINE_TAGS.features]: featuresTagValue(props.featureSet.features),
    };
    for (const [key, value] of Object.entries(tags)) {
      if (!/^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,256}$/u.test(value))
        throw new Error(`TrainingWorkflow: tag ${key} "${value}" is not a Step Functions tag value`);
      Tags.of(this.stateMachine).add(key, value, {
        includeResourceTypes: ['AWS::StepFunctions::StateMachine'],
      });
    }
    const role = this.stateMachine;

    // Features: Athena reads the lake with the caller's permissions and UNLOAD writes the run's prefix.
    props.grantQuery(role);
    bucket.grantPut(role, `${props.featuresPrefix}/*`);
    props.bucketKey.grantEncryptDecrypt(role);
    this.trainingJob.grantStart(role);
    const group = (resource: string) =>
      `arn:${stack.partition}:sagemaker:${stack.region}:${stack.account}:${resource}`;
    allow(role, putMetricData(m.namespace), {
      actions: ['sagemaker:CreateModelPackage', 'sagemaker:AddTags'],
      resources: [
        group(`model-package/${props.modelName}/*`),
        group(`model-package-group/${props.modelName}`),
      ],
    });
    // CreateModelPackage checks that the caller can read the model artifacts it registers.
    bucket.grantRead(role, `${props.training.outputPrefix}/*`);
  }
}
