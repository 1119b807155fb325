import type { Duration } from 'aws-cdk-lib';
import { Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { SAGEMAKER_TRAINING_LOG_GROUP } from '../../src/contract/training';
import { EncryptedLogGroup } from './encrypted-log-group';
import { acknowledgeWildcards } from './acknowledge-wildcards';
import type { SourceTarballAsset } from './source-tarball-asset';
import { allow } from './policy-statements';

/** Characters with a meaning inside an intrinsic function's string literal are escaped with `\`. */
export function intrinsicLiteral(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\{/g, '\\{').replace(/\}/g, '\\}');
}

/** Bayesian tuning of `lr` (log scale) and `hidden` around the training job. */
export interface TrainingTuning {
  readonly objective: { readonly metric: string; readonly type: 'Maximize' | 'Minimize' };
  readonly maxJobs: number;
  readonly maxParallelJobs: number;
  readonly learningRate: readonly [number, number];
  readonly hidden: readonly [number, number];
}

export interface SageMakerTrainingJobProps {
  /** Name of the Task state. */
  readonly stateName: string;
  /** Training job names start with `<prefix>-` (IAM is scoped to them); at most 23 characters. */
  readonly jobNamePrefix: string;
  /** JSONPath of the job name in the state input (it must start with `<jobNamePrefix>-`). */
  readonly jobNamePath: string;
  /** JSONPath of the `train` channel's S3 prefix (`s3://...`) in the state input. */
  readonly trainDataUriPath: string;
  /** Training image (ECR URI) and the repository it is pulled from. */
  readonly image: { readonly uri: string; readonly repositoryArn: string };
  readonly instanceType: string;
  /** @default 1 */
  readonly instanceCount?: number;
  /** Processes per instance under torchrun (GPUs or NeuronCores); 1 and one instance = plain python. @default 1 */
  readonly devicesPerInstance?: number;
  /** @default 30 */
  readonly volumeSizeGiB?: number;
  /**
   * Key of the training volume. SageMaker rejects one for instance types with local NVMe storage
   * (hardware-encrypted): leave it out for those.
   * @default none (only for local-storage instance types)
   */
  readonly volumeKey?: kms.IKey;
  /** The training code (`train.py` at its root), passed as input channel `code`. */
  readonly code: SourceTarballAsset;
  /** @default 'train.py' */
  readonly entryPoint?: string;
  /** Bucket of the training data, output and checkpoints, and its key. */
  readonly bucket: s3.IBucket;
  readonly bucketKey: kms.IKey;
  /** Prefixes (no slashes at the ends) in `bucket`. */
  readonly trainDataPrefix: string;
  readonly outputPrefix: string;
  readonly checkpointPrefix: string;
  /** @default '/opt/ml/checkpoints' */
  readonly checkpointLocalPath?: string;
  /** Static hyperparameters (strings). */
  readonly hyperparameters?: Readonly<Record<string, string>>;
  /**
   * JSONPath of the object `hyperparameterInput(requestPath)` returns, placed in the state input by
   * an earlier state: a run's own hyperparameters (strings, e.g. the execution's request) then
   * override the static ones, except `protectedHyperparameters`.
   * @default none: the static hyperparameters only
   */
  readonly hyperparametersPath?: string;
  /**
   * Static hyperparameters a run may not override (what the data and the container were built
   * for); `sagemaker_*` are always protected.
   * @default []
   */
  readonly protectedHyperparameters?: readonly string[];
  /**
   * Key and retention of the log group SageMaker writes the jobs' logs to. SageMaker has no setting
   * for the log group or its key: it writes to `/aws/sagemaker/TrainingJobs` of the account, so that
   * group is created here, encrypted, before any job runs (an account that already has it must
   * import it into the stack or delete it first).
   * @default none: SageMaker creates the group on first use, without a customer-managed key
   */
  readonly logs?: { readonly key: kms.IKey; readonly retentionDays: number };
  /** Container environment. @default {} */
  readonly environment?: Readonly<Record<string, string>>;
  /** Metrics printed as `metric <name>=<float>`. */
  readonly metricNames: readonly string[];
  /** @default true */
  readonly useSpot?: boolean;
  readonly maxRuntime: Duration;
  /** Spot only; at least maxRuntime. @default maxRuntime */
  readonly maxWait?: Duration;
  /** @default 2 */
  readonly retryAttempts?: number;
  readonly vpc: ec2.IVpc;
  /** @default the VPC's isolated subnets */
  readonly subnets?: ec2.SubnetSelection;
  /** @default none: one training job */
  readonly tuning?: TrainingTuning;
  /**
   * Name of the state that describes the best job of a tuning run.
   * @default 'Describe best job'
   */
  readonly bestJobStateName?: string;
  /** Where the state puts `{ jobName, modelArtifacts, trainingSeconds, billableSeconds }`. */
  readonly resultPath: string;
}

/**
 * A SageMaker training job as a Step Functions `.sync` task, with what the CDK task lacks: managed spot
 * with checkpoints and MaxWaitTime, a retry strategy, network isolation in a VPC, inter-container
 * encryption, KMS on volume and output, metric definitions. With `tuning` it is a Bayesian
 * hyperparameter tuning job followed by a state that describes the best training job.
 *
 * It owns the execution role SageMaker assumes (read the data and code, write output and checkpoints,
 * its logs and metrics) and the security group; `grantStart` gives a state machine exactly the
 * actions the `.sync` integration needs and PassRole on this role only, for SageMaker only.
 */
export class SageMakerTrainingJob extends Construct {
  readonly role: iam.Role;
  readonly securityGroup: ec2.SecurityGroup;
  /** First and last state of the fragment (the same state without tuning). */
  readonly startState: sfn.CustomState;
  readonly endState: sfn.CustomState;
  /** The CreateTrainingJob / CreateHyperParameterTuningJob parameters (for tests and the local runner). */
  readonly jobDefinition: Record<string, unknown>;
  /** The encrypted log group of the jobs (with `logs`). */
  readonly logGroup?: logs.LogGroup;
  private hpLayers = { static: {} as Record<string, string>, protected: {} as Record<string, string> };
  private readonly props: SageMakerTrainingJobProps;

  constructor(scope: Construct, id: string, props: SageMakerTrainingJobProps) {
    super(scope, id);
    this.props = props;
    const stack = Stack.of(this);
    const { bucket } = props;
    if (props.jobNamePrefix.length > 23)
      throw new Error('SageMakerTrainingJob: jobNamePrefix longer than 23');
    const useSpot = props.useSpot ?? true;
    const maxWait = props.maxWait ?? props.maxRuntime;
    if (useSpot && maxWait.toSeconds() < props.maxRuntime.toSeconds())
      throw new Error('SageMakerTrainingJob: maxWait must be at least maxRuntime');
    const count = props.instanceCount ?? 1;
    const devices = props.devicesPerInstance ?? 1;
    const checkpointLocal = props.checkpointLocalPath ?? '/opt/ml/checkpoints';

    this.role = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'SageMaker training jobs of the training workflow',
    });
    bucket.grantRead(this.role, `${props.trainDataPrefix}/*`);
    bucket.grantReadWrite(this.role, `${props.checkpointPrefix}/*`);
    bucket.grantPut(this.role, `${props.outputPrefix}/*`);
    props.bucketKey.grantEncryptDecrypt(this.role);
    props.volumeKey?.grantEncryptDecrypt(this.role);
    props.code.grantRead(this.role);
    if (props.logs)
      this.logGroup = new EncryptedLogGroup(this, 'JobLogs', {
        logGroupName: SAGEMAKER_TRAINING_LOG_GROUP,
        encryptionKey: props.logs.key,
        retentionDays: props.logs.retentionDays,
      });
    // SageMaker writes the job's logs to this log group (it creates it on first use without `logs`).
    allow(
      this.role,
      {
        actions: [
          'logs:CreateLogGroup',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          'logs:DescribeLogStreams',
        ],
        resources: [
          `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:${SAGEMAKER_TRAINING_LOG_GROUP}:*`,
        ],
      },
      {
        actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
        resources: [props.image.repositoryArn],
      },
    );
    // No resource-level permissions for these: ECR's token, SageMaker's metric publishing (limited to
    // its namespace by condition) and the ENIs SageMaker creates in the VPC.
    const unscoped = new iam.Policy(this, 'UnscopedActions', {
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }),
        new iam.PolicyStatement({
          actions: ['cloudwatch:PutMetricData'],
          resources: ['*'],
          conditions: { StringLike: { 'cloudwatch:namespace': '/aws/sagemaker/*' } },
        }),
        // Creating and deleting interfaces (and their permissions) stays in this account and region.
        new iam.PolicyStatement({
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:CreateNetworkInterfacePermission',
            'ec2:DeleteNetworkInterface',
            'ec2:DeleteNetworkInterfacePermission',
          ],
          resources: [`arn:${stack.partition}:ec2:${stack.region}:${stack.account}:*/*`],
        }),
        new iam.PolicyStatement({
          actions: [
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeVpcs',
            'ec2:DescribeDhcpOptions',
            'ec2:DescribeSubnets',
            'ec2:DescribeSecurityGroups',
          ],
          resources: ['*'],
        }),
      ],
    });
    Validations.of(unscoped).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken, cloudwatch:PutMetricData (limited to the /aws/sagemaker/* namespaces by condition) and the EC2 Describe actions SageMaker needs in a VPC do not support resource-level permissions.',
    });
    acknowledgeWildcards(unscoped, [
      [
        /^Resource::arn:[^:]+:ec2:[^:]+:[^:]+:\*\/\*$/,
        "SageMaker creates and deletes the job's network interfaces in the subnets and security group of its VPC config (ids known only then); limited to this account and region.",
      ],
    ]);

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description:
        'SageMaker training: traffic between the job instances, HTTPS to S3 through the gateway endpoint',
      allowAllOutbound: false,
    });
    this.securityGroup.addIngressRule(
      this.securityGroup,
      ec2.Port.allTraffic(),
      'Between training instances',
    );
    this.securityGroup.addEgressRule(this.securityGroup, ec2.Port.allTraffic(), 'Between training instances');
    Validations.of(this.securityGroup).acknowledge({
      id: 'NIST.800.53.R5-EC2RestrictedCommonPorts',
      reason:
        "Self-referencing rule: only the instances of this job's own security group reach each other, on every port distributed training uses between them (inter-container traffic encrypted); nothing else is admitted.",
    });
    this.securityGroup.addEgressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(443),
      'HTTPS to the S3 gateway endpoint',
    );
    const subnetIds = props.vpc.selectSubnets(
      props.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    ).subnetIds;

    const s3Uri = (prefix: string) => `s3://${bucket.bucketName}/${prefix}/`;
    const hyperparameters: Record<string, string> = {
      ...props.hyperparameters,
      sagemaker_program: props.entryPoint ?? 'train.py',
      // Network isolation: the container cannot fetch the code, so it arrives as the `code` channel.
      sagemaker_submit_directory: `/opt/ml/input/data/code/${props.code.asset.s3ObjectKey}`,
      sagemaker_region: stack.region,
      sagemaker_container_log_level: '20',
    };
    if (count * devices > 1) hyperparameters.sagemaker_torch_distributed_enabled = 'true';
    // A run's own hyperparameters: static ones, then the run's, then the protected ones again.
    const fixedKeys = new Set(props.protectedHyperparameters ?? []);
    const pick = (fixed: boolean, hps: Record<string, string>) =>
      Object.fromEntries(
        Object.entries(hps).filter(([k]) => (fixedKeys.has(k) || k.startsWith('sagemaker_')) === fixed),
      );
    const layered = (key: string, hps: Record<string, string>) => {
      const p = props.hyperparametersPath;
      if (!p) return { [key]: hps };
      this.hpLayers = { static: pick(false, hps), protected: pick(true, hps) };
      return {
        [`${key}.$`]: `States.JsonMerge(States.JsonMerge(${p}.static, ${p}.request, false), ${p}.protected, false)`,
      };
    };
    const channel = (name: string, uri: Record<string, string>) => ({
      ChannelName: name,
      DataSource: {
        S3DataSource: { S3DataType: 'S3Prefix', ...uri, S3DataDistributionType: 'FullyReplicated' },
      },
      InputMode: 'File',
    });
    const common = {
      RoleArn: this.role.roleArn,
      InputDataConfig: [
        channel('train', { 'S3Uri.$': props.trainDataUriPath }),
        channel('code', { S3Uri: props.code.s3ObjectUrl }),
      ],
      OutputDataConfig: { S3OutputPath: s3Uri(props.outputPrefix), KmsKeyId: props.bucketKey.keyArn },
      ResourceConfig: {
        InstanceType: props.instanceType,
        InstanceCount: count,
        VolumeSizeInGB: props.volumeSizeGiB ?? 30,
        ...(props.volumeKey ? { VolumeKmsKeyId: props.volumeKey.keyArn } : {}),
      },
      StoppingCondition: {
        MaxRuntimeInSeconds: props.maxRuntime.toSeconds(),
        ...(useSpot ? { MaxWaitTimeInSeconds: maxWait.toSeconds() } : {}),
      },
      EnableManagedSpotTraining: useSpot,
      VpcConfig: { SecurityGroupIds: [this.securityGroup.securityGroupId], Subnets: subnetIds },
      EnableNetworkIsolation: true,
      EnableInterContainerTrafficEncryption: true,
      RetryStrategy: { MaximumRetryAttempts: props.retryAttempts ?? 2 },
      Environment: { ...props.environment },
    };
    const algorithm = {
      TrainingImage: props.image.uri,
      TrainingInputMode: 'File',
      MetricDefinitions: props.metricNames.map((name) => ({
        Name: name,
        Regex: `metric ${name}=([-+0-9.eE]+)`,
      })),
    };
    const resultSelector = {
      'jobName.$': '$.TrainingJobName',
      'modelArtifacts.$': '$.ModelArtifacts.S3ModelArtifacts',
      'trainingSeconds.$': '$.TrainingTimeInSeconds',
      'billableSeconds.$': '$.BillableTimeInSeconds',
    };
    const checkpoints = {
      // One prefix per job: a restarted spot job resumes from its own checkpoints only.
      'S3Uri.$': `States.Format('${s3Uri(props.checkpointPrefix)}{}/', ${props.jobNamePath})`,
      LocalPath: checkpointLocal,
    };
    const task = (
      stateName: string,
      resource: string,
      parameters: Record<string, unknown>,
      selector: Record<string, string>,
    ) =>
      new sfn.CustomState(this, stateName, {
        stateJson: {
          Type: 'Task',
          Resource: `arn:${stack.partition}:states:::${resource}`,
          Parameters: parameters,
          ResultSelector: selector,
          ResultPath: props.resultPath,
        },
      });
    if (!props.tuning) {
      this.jobDefinition = {
        'TrainingJobName.$': props.jobNamePath,
        AlgorithmSpecification: { ...algorithm, EnableSageMakerMetricsTimeSeries: true },
        ...layered('HyperParameters', hyperparameters),
        ...common,
        CheckpointConfig: checkpoints,
      };
      const state = task(
        props.stateName,
        'sagemaker:createTrainingJob.sync',
        this.jobDefinition,
        resultSelector,
      );
      this.startState = state;
      this.endState = state;
      return;
    }
    const t = props.tuning;
    const staticHps = { ...hyperparameters };
    delete staticHps.lr;
    delete staticHps.hidden;
    this.jobDefinition = {
      'HyperParameterTuningJobName.$': props.jobNamePath,
      HyperParameterTuningJobConfig: {
        Strategy: 'Bayesian',
        HyperParameterTuningJobObjective: { Type: t.objective.type, MetricName: t.objective.metric },
        ResourceLimits: { MaxNumberOfTrainingJobs: t.maxJobs, MaxParallelTrainingJobs: t.maxParallelJobs },
        ParameterRanges: {
          ContinuousParameterRanges: [
            {
              Name: 'lr',
              MinValue: String(t.learningRate[0]),
              MaxValue: String(t.learningRate[1]),
              ScalingType: 'Logarithmic',
            },
          ],
          IntegerParameterRanges: [
            {
              Name: 'hidden',
              MinValue: String(t.hidden[0]),
              MaxValue: String(t.hidden[1]),
              ScalingType: 'Auto',
            },
          ],
        },
        TrainingJobEarlyStoppingType: 'Off',
      },
      TrainingJobDefinition: {
        AlgorithmSpecification: algorithm,
        ...layered('StaticHyperParameters', staticHps),
        ...common,
        CheckpointConfig: checkpoints,
      },
    };
    const tune = task(props.stateName, 'sagemaker:createHyperParameterTuningJob.sync', this.jobDefinition, {
      'bestJob.$': '$.BestTrainingJob.TrainingJobName',
    });
    const best = task(
      props.bestJobStateName ?? 'Describe best job',
      'aws-sdk:sagemaker:describeTrainingJob',
      { 'TrainingJobName.$': `${props.resultPath}.bestJob` },
      resultSelector,
    );
    tune.next(best);
    this.startState = tune;
    this.endState = best;
  }

  /**
   * What a state before the job puts at `hyperparametersPath`: the static hyperparameters a run may
   * override, the run's own (`requestPath`, an object of strings) and the protected ones.
   */
  hyperparameterInput(requestPath: string): Record<string, unknown> {
    return { static: this.hpLayers.static, 'request.$': requestPath, protected: this.hpLayers.protected };
  }

  /**
   * Lets `grantee` (a state machine) run the job through the `.sync` integration: create, describe,
   * stop and tag jobs named `<jobNamePrefix>-*`, manage the managed EventBridge rule Step Functions
   * uses to follow them, and pass this role to SageMaker only.
   */
  grantStart(grantee: iam.IGrantable): void {
    const stack = Stack.of(this);
    const arn = (resource: string) =>
      `arn:${stack.partition}:sagemaker:${stack.region}:${stack.account}:${resource}/${this.props.jobNamePrefix}-*`;
    // The managed EventBridge rule Step Functions uses to follow jobs of one kind.
    const rule = (kind: string) =>
      new iam.PolicyStatement({
        actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        resources: [
          `arn:${stack.partition}:events:${stack.region}:${stack.account}:rule/StepFunctionsGetEventsForSageMaker${kind}JobsRule`,
        ],
      });
    const statements = [
      new iam.PolicyStatement({
        actions: [
          'sagemaker:CreateTrainingJob',
          'sagemaker:DescribeTrainingJob',
          'sagemaker:StopTrainingJob',
          'sagemaker:AddTags',
        ],
        resources: [arn('training-job')],
      }),
      rule('Training'),
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.role.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      }),
    ];
    if (this.props.tuning) {
      statements.push(
        new iam.PolicyStatement({
          actions: [
            'sagemaker:CreateHyperParameterTuningJob',
            'sagemaker:DescribeHyperParameterTuningJob',
            'sagemaker:StopHyperParameterTuningJob',
            'sagemaker:ListTrainingJobsForHyperParameterTuningJob',
            'sagemaker:AddTags',
          ],
          resources: [arn('hyper-parameter-tuning-job')],
        }),
        rule('Tuning'),
      );
    }
    for (const s of statements) grantee.grantPrincipal.addToPrincipalPolicy(s);
  }
}
