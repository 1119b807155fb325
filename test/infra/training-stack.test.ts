import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, dev, prod, staging, validateTrainingConfig } from '../../lib/config';
import type { EnvironmentConfig, TrainingConfig } from '../../lib/config';
import type { QuantStage } from '../../lib/quant-stage';
import { BARS_UPDATED_EVENT } from '../../src/contract/bars';
import { FUNCTION_SERVICE } from '../../src/contract/metrics';
import {
  DEFAULT_RUNNER_BAR_INTERVAL,
  DRIFT_METRIC,
  PENDING_APPROVAL,
  STRATEGY_RUNNER_ENV,
} from '../../src/contract/models';
import {
  PROTECTED_HYPERPARAMETERS,
  SAGEMAKER_TRAINING_LOG_GROUP,
  TRAINING_MACHINE_TAGS,
  TRAINING_METRICS,
  TRAINING_SCRIPT_METRICS,
  TRAINING_STATES,
} from '../../src/contract/training';
import { resolveDefinitionString } from '../../src/local/stepfunctions';
import { FEATURE_NAMES, FEATURE_SET_VERSION, SENTIMENT_FEATURE_SET_VERSION } from '../../src/contract/ml';
import { SENTIMENT_FEATURE } from '../../src/contract/news';
import { featureUnloadSql } from '../../src/ml/features/sql';
import { featureSetOfTags } from '../../src/ml/workflow/remote';
import { intrinsicLiteral } from '../../lib/constructs';
import { nagViolations, resourcesOfType, staleAcknowledgements, template, testApp } from './helpers';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: Json };

/** dev on a CPU instance type without local storage: the variant that takes a volume key. */
const cpuDev: EnvironmentConfig = {
  ...dev,
  training: {
    ...dev.training,
    compute: { ...dev.training.compute, accelerator: 'cpu', instanceType: 'ml.m5.xlarge' },
  },
};

/** dev training on feature set version 2: the configured features include the news sentiment. */
const sentimentDev: EnvironmentConfig = {
  ...dev,
  training: {
    ...dev.training,
    hyperparameters: {
      ...dev.training.hyperparameters,
      features: `ret_1,ret_5,vol_20,${SENTIMENT_FEATURE}`,
      // A stale version in config is replaced by the one that computes the features.
      feature_set_version: '1',
    },
  },
};

const stages: Record<'dev' | 'staging' | 'prod' | 'cpu' | 'sentiment', QuantStage> = {} as never;
let t: Template;
let ts: Template;
const states = (tpl: Template): Record<string, Json> => {
  const [, sm] = resourcesOfType(tpl, 'AWS::StepFunctions::StateMachine')[0];
  return (
    resolveDefinitionString(sm.Properties!.DefinitionString) as unknown as { States: Record<string, Json> }
  ).States;
};
/** The job's hyperparameters without a request: the Prepare state's static and protected layers. */
const configuredHps = (tpl: Template): Record<string, string> => {
  const h = states(tpl)[TRAINING_STATES.prepare].Parameters.hyperparameters;
  return { ...h.static, ...h.protected };
};
const actions = (s: Statement): string[] => [s.Action].flat();
const statements = (tpl: Template, roleMatch?: string): Statement[] =>
  resourcesOfType(tpl, 'AWS::IAM::Policy')
    .filter(([, p]) => !roleMatch || JSON.stringify(p.Properties!.Roles).includes(roleMatch))
    .flatMap(([, p]) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement);

beforeAll(() => {
  stages.dev = testApp([dev]).stages.dev;
  stages.staging = testApp([staging]).stages.staging;
  stages.prod = testApp([prod]).stages.prod;
  stages.cpu = testApp([cpuDev]).stages.dev;
  stages.sentiment = testApp([sentimentDev]).stages.dev;
  // Synthesize every stage first: wildcard acknowledgements are added while validating.
  for (const s of Object.values(stages)) template(s.training);
  t = template(stages.dev.training);
  ts = template(stages.staging.training);
});

describe('TrainingStack: cdk-nag', () => {
  it('has no unacknowledged AwsSolutions findings in any environment', () => {
    for (const s of Object.values(stages)) expect(nagViolations(s.training)).toEqual([]);
  });

  it('acknowledges nothing that is not a finding', () => {
    expect(staleAcknowledgements(stages.staging.training)).toEqual([]);
  });

  it('uses Resource "*" only for actions without resource-level permissions', () => {
    const allowed =
      /^(xray:(PutTraceSegments|PutTelemetryRecords|GetSamplingRules|GetSamplingTargets)|ecr:GetAuthorizationToken|ec2:(CreateNetworkInterface|CreateNetworkInterfacePermission|DeleteNetworkInterface|DeleteNetworkInterfacePermission|DescribeNetworkInterfaces|DescribeVpcs|DescribeDhcpOptions|DescribeSubnets|DescribeSecurityGroups|AssignPrivateIpAddresses|UnassignPrivateIpAddresses)|lakeformation:GetDataAccess|cloudwatch:PutMetricData|logs:(CreateLogDelivery|DeleteLogDelivery|DescribeLogGroups|DescribeResourcePolicies|GetLogDelivery|ListLogDeliveries|PutResourcePolicy|UpdateLogDelivery))$/;
    for (const tpl of [t, ts]) {
      const star = statements(tpl).filter((s) => s.Resource === '*');
      for (const s of star) for (const a of actions(s)) expect(a).toMatch(allowed);
      // Metrics: always limited to a namespace by condition.
      for (const s of star.filter((x) => actions(x).includes('cloudwatch:PutMetricData')))
        expect(JSON.stringify(s.Condition)).toMatch(/cloudwatch:namespace/);
    }
  });
});

describe('TrainingStack: the training job (dev: GPU, one job)', () => {
  let job: Json;
  beforeAll(() => {
    const train = states(t)[TRAINING_STATES.train];
    expect(train.Resource).toBe('arn:aws:states:::sagemaker:createTrainingJob.sync');
    job = train.Parameters;
  });

  it('trains on managed spot with checkpoints per job and a MaxWaitTime of at least the runtime', () => {
    expect(job.EnableManagedSpotTraining).toBe(true);
    expect(job.StoppingCondition).toEqual({
      MaxRuntimeInSeconds: dev.training.maxRuntimeHours * 3600,
      MaxWaitTimeInSeconds: dev.training.maxWaitHours * 3600,
    });
    expect(job.CheckpointConfig.LocalPath).toBe('/opt/ml/checkpoints');
    expect(job.CheckpointConfig['S3Uri.$']).toMatch(
      /^States\.Format\('s3:\/\/local:output:\w*ModelsBucket\w*\/training-checkpoints\/\{\}\/', \$\.run\.jobName\)$/,
    );
  });

  it('runs network-isolated in the isolated subnets with inter-container encryption', () => {
    expect(job.EnableNetworkIsolation).toBe(true);
    expect(job.EnableInterContainerTrafficEncryption).toBe(true);
    expect(job.VpcConfig.Subnets).toHaveLength(dev.network.availabilityZones.length);
    for (const s of job.VpcConfig.Subnets) expect(s).toMatch(/^local:output:\w*isolatedSubnet\d/);
    expect(job.VpcConfig.SecurityGroupIds).toEqual([expect.stringMatching(/TrainingSecurityGroup/)]);
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('SageMaker training'),
      SecurityGroupEgress: Match.arrayWith([
        Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443, IpProtocol: 'tcp' }),
      ]),
    });
  });

  it('encrypts the output with the lake key; g5 (local NVMe) gets no volume key, m5 gets one', () => {
    expect(job.OutputDataConfig.KmsKeyId).toMatch(/^local:output:\w*LakeKey\w*Arn/);
    expect(job.OutputDataConfig.S3OutputPath).toMatch(/ModelsBucket\w*\/training-output\/$/);
    expect(job.ResourceConfig).toEqual({
      InstanceType: 'ml.g5.xlarge',
      InstanceCount: 1,
      VolumeSizeInGB: 50,
    });
    const cpu = states(template(stages.cpu.training))[TRAINING_STATES.train].Parameters;
    expect(cpu.ResourceConfig.VolumeKmsKeyId).toMatch(/^local:TrainingVolumeKey\w+\.Arn$/);
    template(stages.cpu.training).hasResource('AWS::KMS::Key', {
      Properties: Match.objectLike({ EnableKeyRotation: true, Description: 'SageMaker training volumes' }),
      DeletionPolicy: 'Retain',
    });
  });

  it('retries, defines the contract metrics, passes the code as the `code` channel', () => {
    expect(job.RetryStrategy).toEqual({ MaximumRetryAttempts: dev.training.retryAttempts });
    expect(job.AlgorithmSpecification.MetricDefinitions).toEqual(
      TRAINING_SCRIPT_METRICS.map((n) => ({ Name: n, Regex: `metric ${n}=([-+0-9.eE]+)` })),
    );
    expect(job.AlgorithmSpecification.TrainingImage).toBe(dev.training.compute.imageUri);
    const channels = Object.fromEntries(
      (job.InputDataConfig as Json[]).map((c) => [c.ChannelName, c.DataSource.S3DataSource]),
    );
    expect(channels.train['S3Uri.$']).toMatch(/\/models\/features\/\{\}\/', \$\.run\.jobName\)$/);
    expect(channels.code.S3Uri).toMatch(
      /^s3:\/\/cdk-[a-z0-9]+-assets-111111111111-us-east-1\/[0-9a-f]{64}\.gz$/,
    );
    const object = channels.code.S3Uri.split('/').at(-1);
    expect(configuredHps(t)).toMatchObject({
      sagemaker_program: 'train.py',
      sagemaker_submit_directory: `/opt/ml/input/data/code/${object}`,
      device: 'cuda',
      horizon: String(dev.training.horizon),
      model_name: dev.training.modelName,
    });
    // One GPU on one instance: no torchrun.
    expect(configuredHps(t).sagemaker_torch_distributed_enabled).toBeUndefined();
  });

  it("reads the request's hyperparameters; the protected ones and sagemaker_* are merged last", () => {
    const s = states(t);
    expect(s[TRAINING_STATES.readRequest]).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.hyperparameters', IsPresent: true, Next: TRAINING_STATES.prepare }],
      Default: TRAINING_STATES.noRequest,
    });
    const h = s[TRAINING_STATES.prepare].Parameters.hyperparameters;
    expect(h['request.$']).toBe('$.hyperparameters');
    expect(Object.keys(h.protected).sort()).toEqual(
      [
        ...PROTECTED_HYPERPARAMETERS,
        ...Object.keys(h.protected).filter((k) => k.startsWith('sagemaker_')),
      ].sort(),
    );
    expect(Object.keys(h.static).some((k) => k in h.protected)).toBe(false);
    expect(h.static.model).toBe(dev.training.hyperparameters.model);
    expect(job['HyperParameters.$']).toBe(
      'States.JsonMerge(States.JsonMerge($.run.hyperparameters.static, $.run.hyperparameters.request, false), $.run.hyperparameters.protected, false)',
    );
  });

  it("writes the jobs' logs to /aws/sagemaker/TrainingJobs, created here with the log key", () => {
    t.hasResource('AWS::Logs::LogGroup', {
      Properties: Match.objectLike({
        LogGroupName: SAGEMAKER_TRAINING_LOG_GROUP,
        KmsKeyId: Match.anyValue(),
        RetentionInDays: Match.anyValue(),
      }),
      DeletionPolicy: 'Retain',
    });
    const [, group] = resourcesOfType(t, 'AWS::Logs::LogGroup').find(
      ([, g]) => g.Properties!.LogGroupName === SAGEMAKER_TRAINING_LOG_GROUP,
    )!;
    expect(JSON.stringify(group.Properties!.KmsKeyId)).toMatch(/LogKey/);
    const logs = statements(t).find(
      (st) =>
        actions(st).includes('logs:PutLogEvents') &&
        JSON.stringify(st.Resource).includes(SAGEMAKER_TRAINING_LOG_GROUP),
    );
    expect(logs).toBeDefined();
  });
});

describe('TrainingStack: Trainium and tuning (staging)', () => {
  it('tunes with a Bayesian strategy on val_ic, then describes the best job', () => {
    const s = states(ts);
    const tune = s[TRAINING_STATES.train];
    expect(tune.Resource).toBe('arn:aws:states:::sagemaker:createHyperParameterTuningJob.sync');
    const cfg = tune.Parameters.HyperParameterTuningJobConfig;
    expect(cfg.Strategy).toBe('Bayesian');
    expect(cfg.HyperParameterTuningJobObjective).toEqual({ Type: 'Maximize', MetricName: 'val_ic' });
    expect(cfg.ResourceLimits).toEqual({ MaxNumberOfTrainingJobs: 8, MaxParallelTrainingJobs: 2 });
    expect(tune.Next).toBe(TRAINING_STATES.bestJob);
    expect(s[TRAINING_STATES.bestJob].Resource).toBe(
      'arn:aws:states:::aws-sdk:sagemaker:describeTrainingJob',
    );
    const def = tune.Parameters.TrainingJobDefinition;
    expect(def.EnableManagedSpotTraining).toBe(true);
    expect(def.EnableNetworkIsolation).toBe(true);
    expect(def.EnableInterContainerTrafficEncryption).toBe(true);
    expect(configuredHps(ts).lr).toBeUndefined();
    expect(def['StaticHyperParameters.$']).toMatch(
      /^States\.JsonMerge\(States\.JsonMerge\(\$\.run\.hyperparameters\.static/,
    );
  });

  it('runs torchrun over the NeuronCores with the compile cache under the checkpoint path', () => {
    const def = states(ts)[TRAINING_STATES.train].Parameters.TrainingJobDefinition;
    expect(def.AlgorithmSpecification.TrainingImage).toMatch(/pytorch-training-neuronx/);
    expect(def.ResourceConfig.InstanceType).toBe('ml.trn1.2xlarge');
    expect(configuredHps(ts)).toMatchObject({
      device: 'neuron',
      sagemaker_torch_distributed_enabled: 'true',
    });
    expect(def.Environment.NEURON_COMPILE_CACHE_URL).toBe(
      `${def.CheckpointConfig.LocalPath}/neuron-compile-cache`,
    );
  });
});

describe('TrainingStack: least privilege of the state machine', () => {
  const smStatements = (tpl: Template) => statements(tpl, 'WorkflowStateMachineRole');

  it('passes only the SageMaker execution role, only to SageMaker', () => {
    for (const tpl of [t, ts]) {
      const pass = statements(tpl).filter((s) => actions(s).includes('iam:PassRole'));
      expect(pass).toHaveLength(1);
      expect(pass[0].Resource).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/^WorkflowTrainingExecutionRole/), 'Arn'],
      });
      expect(pass[0].Condition).toEqual({
        StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' },
      });
    }
  });

  it('manages only this model’s jobs and the Step Functions rules for them', () => {
    const sm = smStatements(ts);
    const sagemakerStatements = sm.filter((s) => actions(s).some((a) => a.startsWith('sagemaker:')));
    const resources = sagemakerStatements.flatMap((s) => [s.Resource].flat()).map((r) => JSON.stringify(r));
    for (const r of resources)
      expect(r).toMatch(
        /sagemaker:us-east-1:222222222222:(training-job\/ml-signal-\*|hyper-parameter-tuning-job\/ml-signal-\*|model-package\/ml-signal\/\*|model-package-group\/ml-signal)"/,
      );
    const rules = sm.filter((s) => actions(s).includes('events:PutRule')).flatMap((s) => [s.Resource].flat());
    expect(rules.sort()).toEqual([
      'arn:aws:events:us-east-1:222222222222:rule/StepFunctionsGetEventsForSageMakerTrainingJobsRule',
      'arn:aws:events:us-east-1:222222222222:rule/StepFunctionsGetEventsForSageMakerTuningJobsRule',
    ]);
  });
});

describe('TrainingStack: registration, gate and schedules', () => {
  it('has the model package group and registers PendingManualApproval after the gate', () => {
    t.hasResourceProperties('AWS::SageMaker::ModelPackageGroup', { ModelPackageGroupName: 'ml-signal' });
    const s = states(t);
    expect(s[TRAINING_STATES.gate].Choices).toEqual([
      { Variable: '$.evaluation.passed', BooleanEquals: true, Next: TRAINING_STATES.register },
    ]);
    expect(s[TRAINING_STATES.gate].Default).toBe(TRAINING_STATES.rejected);
    const reg = s[TRAINING_STATES.register];
    expect(reg.Resource).toBe('arn:aws:states:::aws-sdk:sagemaker:createModelPackage');
    expect(reg.Parameters).toMatchObject({
      ModelPackageGroupName: 'ml-signal',
      ModelApprovalStatus: PENDING_APPROVAL,
    });
    expect(PENDING_APPROVAL).toBe('PendingManualApproval');
    expect(reg.Next).toBe(TRAINING_STATES.publish);
  });

  it('writes the features with Athena UNLOAD into the run’s prefix of the models bucket', () => {
    const f = states(t)[TRAINING_STATES.features];
    expect(f.Resource).toBe('arn:aws:states:::athena:startQueryExecution.sync');
    expect(f.Parameters['QueryString.$']).toMatch(/^States\.Format\('UNLOAD \(/);
    expect(f.Parameters['QueryString.$']).toMatch(
      /TO \\'s3:\/\/local:output:\w*ModelsBucket\w*\/models\/features\/\{\}\/\\' WITH \(format = \\'JSON\\', compression = \\'GZIP\\'\)', \$\.run\.jobName\)$/,
    );
  });

  it('computes feature set version 1 by default and version 2 (news_sentiment joined) when the config asks for the sentiment', () => {
    const query = (tpl: Template): string =>
      states(tpl)[TRAINING_STATES.features].Parameters['QueryString.$'];
    expect(configuredHps(t).feature_set_version).toBe(String(FEATURE_SET_VERSION));
    expect(query(t)).not.toMatch(/news_sentiment/);
    const tv2 = template(stages.sentiment.training);
    expect(configuredHps(tv2).feature_set_version).toBe(String(SENTIMENT_FEATURE_SET_VERSION));
    expect(configuredHps(tv2).features).toBe(`ret_1,ret_5,vol_20,${SENTIMENT_FEATURE}`);
    // The same statement the generator writes for version 2 (src/ml/features/sql.ts), escaped for States.Format.
    const v2 = featureUnloadSql(
      {
        symbols: dev.training.symbols,
        horizon: dev.training.horizon,
        from: dev.training.fromDate,
        table: 'bars',
        sentiment: true,
      },
      's3://destination-of-this-run/',
    );
    const select = v2.slice(v2.indexOf('\n') + 1, v2.lastIndexOf('\n) TO '));
    expect(query(tv2)).toContain(intrinsicLiteral(select));
    expect(query(tv2)).toMatch(
      /LEFT JOIN \(SELECT symbol, article_id, published_at, comparative FROM news_sentiment WHERE symbol IN/,
    );
    expect(nagViolations(stages.sentiment.training)).toEqual([]);
  });

  it('tags the state machine (only) with the feature set its features step computes', () => {
    const tagsOf = (tpl: Template) =>
      resourcesOfType(tpl, 'AWS::StepFunctions::StateMachine')[0][1].Properties!.Tags as {
        Key: string;
        Value: string;
      }[];
    const featureTags = (tpl: Template) => tagsOf(tpl).filter((tag) => tag.Key.startsWith('quant:'));
    // Space-separated: Step Functions tag values allow no commas.
    expect(featureTags(t)).toEqual([
      { Key: TRAINING_MACHINE_TAGS.featureSetVersion, Value: '1' },
      { Key: TRAINING_MACHINE_TAGS.features, Value: FEATURE_NAMES.join(' ') },
    ]);
    // The features file of version 2 has every feature and the sentiment, whatever subset config trains.
    expect(featureTags(template(stages.sentiment.training))).toEqual([
      { Key: TRAINING_MACHINE_TAGS.featureSetVersion, Value: '2' },
      { Key: TRAINING_MACHINE_TAGS.features, Value: [...FEATURE_NAMES, SENTIMENT_FEATURE].join(' ') },
    ]);
    // What quant train --remote reads back from them.
    expect(featureSetOfTags(featureTags(t).map((tag) => ({ key: tag.Key, value: tag.Value })))).toEqual({
      version: FEATURE_SET_VERSION,
      features: [...FEATURE_NAMES],
    });
    const roles = resourcesOfType(t, 'AWS::IAM::Role').filter(([id]) => id.includes('Workflow'));
    expect(roles.length).toBeGreaterThan(0);
    for (const [, role] of roles)
      expect(JSON.stringify(role.Properties!.Tags ?? [])).not.toMatch(/quant:feature/);
  });

  it('retrains, checks drift and runs the strategy on schedules from config', () => {
    for (const expr of [
      dev.training.retrainSchedule,
      dev.training.driftSchedule,
      dev.training.runnerSchedule,
    ])
      t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: expr, State: 'ENABLED' });
  });
});

describe('TrainingStack: strategy runner', () => {
  it("runs on each BarsUpdated event of the bars pipeline (default bus) of the runner's interval only", () => {
    const [, rule] = resourcesOfType(t, 'AWS::Events::Rule').find(
      ([, r]) => (r.Properties!.EventPattern as Json | undefined)?.source?.[0] === BARS_UPDATED_EVENT.source,
    )!;
    expect(rule.Properties!.EventPattern).toEqual({
      source: [BARS_UPDATED_EVENT.source],
      'detail-type': [BARS_UPDATED_EVENT.detailType],
      // The 1m Glue job publishes too: a 1d runner ignores it.
      detail: { interval: [DEFAULT_RUNNER_BAR_INTERVAL] },
    });
    expect(DEFAULT_RUNNER_BAR_INTERVAL).toBe('1d');
    expect(rule.Properties!.EventBusName).toBeUndefined();
    expect(JSON.stringify(rule.Properties!.Targets)).toMatch(/StrategyRunner/);
  });

  it('may only put events on the trading bus and read the models bucket', () => {
    const runner = statements(t, 'StrategyRunnerRole');
    const put = runner.filter((s) => actions(s).includes('events:PutEvents'));
    expect(put).toHaveLength(1);
    expect(JSON.stringify(put[0].Resource)).toMatch(/OrderEvents/);
    const writes = runner.flatMap(actions).filter((a) => /^s3:(Put|Delete)|^events:(?!PutEvents)/.test(a));
    expect(writes).toEqual([]);
  });

  it('reads only the bars, the news sentiment and their pending markers from the curated zone', () => {
    const reads = statements(t, 'StrategyRunnerRole').filter((s) =>
      actions(s).some((a) => a.startsWith('s3:GetObject')),
    );
    const curated = reads
      .flatMap((s) => [s.Resource].flat())
      .map((r) => JSON.stringify(r))
      .filter((r) => r.includes('CuratedBucket'));
    expect(curated.flatMap((r) => /"\/([^"]*)"\]/.exec(r)?.[1] ?? []).sort()).toEqual([
      '_lake/pending/bars/*',
      '_lake/pending/news_sentiment/*',
      'bars/*',
      'news_sentiment/*',
    ]);
    // Objects only under those prefixes (the bucket itself appears for listing).
    expect(curated.filter((r) => !/"\/[^"]*"\]/.test(r)).every((r) => !r.includes('/*'))).toBe(true);
  });

  it('gets its environment from the contract names', () => {
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [STRATEGY_RUNNER_ENV.environment]: 'paper',
          [STRATEGY_RUNNER_ENV.account]: dev.trading.account,
          [STRATEGY_RUNNER_ENV.symbols]: dev.training.symbols.join(','),
        }),
      },
      ReservedConcurrentExecutions: 1,
    });
  });

  it('takes its Powertools service name from the contract, as its handler does', () => {
    const [, runner] = resourcesOfType(t, 'AWS::Lambda::Function').find(
      ([, f]) =>
        (f.Properties!.Environment as Json)?.Variables?.[STRATEGY_RUNNER_ENV.signalBus] !== undefined,
    )!;
    expect((runner.Properties!.Environment as Json).Variables.POWERTOOLS_SERVICE_NAME).toBe(
      FUNCTION_SERVICE.strategyRunner,
    );
  });
});

describe('TrainingStack: alarms and dashboard', () => {
  it('alarms on failed runs, long jobs, drift and runner errors', () => {
    const alarms = resourcesOfType(t, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties!);
    // The metric of a single-metric alarm, in either of the two forms CloudFormation accepts.
    const metricOf = (a: Json) =>
      a.MetricName
        ? { name: a.MetricName, namespace: a.Namespace, stat: a.Statistic }
        : {
            name: a.Metrics?.[0]?.MetricStat?.Metric?.MetricName,
            namespace: a.Metrics?.[0]?.MetricStat?.Metric?.Namespace,
            stat: a.Metrics?.[0]?.MetricStat?.Stat,
          };
    const byMetric = (name: string) => alarms.filter((a) => metricOf(a).name === name);
    expect(byMetric(DRIFT_METRIC.name)).toHaveLength(1);
    expect(metricOf(byMetric(DRIFT_METRIC.name)[0])).toMatchObject({
      namespace: DRIFT_METRIC.namespace,
      stat: 'Maximum',
    });
    expect(byMetric(DRIFT_METRIC.name)[0].Threshold).toBe(dev.training.driftPsiAlarm);
    const duration = byMetric(TRAINING_METRICS.trainingSeconds);
    expect(duration).toHaveLength(1);
    expect(metricOf(duration[0])).toMatchObject({ namespace: TRAINING_METRICS.namespace, stat: 'Maximum' });
    expect(duration[0].Threshold).toBe(dev.training.durationAlarmMinutes * 60);
    expect(alarms.some((a) => JSON.stringify(a.Metrics ?? '').includes('failed + timedout + aborted'))).toBe(
      true,
    );
    expect(byMetric('Errors')).toHaveLength(1);
    for (const a of alarms) expect(a.AlarmActions).toHaveLength(1);
  });
});

describe('training config validation', () => {
  const bad =
    (patch: Partial<TrainingConfig>, region = 'us-east-1') =>
    () =>
      validateTrainingConfig({ ...dev.training, ...patch }, region);

  it('names the field and the problem', () => {
    expect(bad({ modelName: 'ML_Signal' })).toThrow(/^training\.modelName: lowercase/);
    expect(bad({ maxWaitHours: 1 })).toThrow('training.maxWaitHours: must be at least maxRuntimeHours (2)');
    expect(bad({ compute: { ...dev.training.compute, instanceType: 'ml.trn1.2xlarge' } })).toThrow(
      'training.compute.instanceType: ml.trn1.2xlarge is not a gpu instance type',
    );
    expect(bad({}, 'eu-west-1')).toThrow(
      /^training\.compute\.imageUri: SageMaker pulls images from its own region/,
    );
    expect(
      bad({ compute: { ...staging.training.compute, imageUri: dev.training.compute.imageUri } }),
    ).toThrow(/training\.compute\.imageUri: a trainium job needs a Neuron/);
    expect(bad({ retrainSchedule: 'every sunday' })).toThrow(
      /^training\.retrainSchedule: expected an EventBridge/,
    );
    expect(bad({ hyperparameters: { sagemaker_program: 'x.py' } })).toThrow(
      /training\.hyperparameters\.sagemaker_program/,
    );
    expect(bad({ symbols: ['SPY', 'bad symbol'] })).toThrow(/^training\.symbols\[1\]/);
    expect(bad({ hyperparameters: { features: 'ret_1,news_sentiment' } })).toThrow(
      /^training\.hyperparameters\.features: unknown feature "news_sentiment" \(known: ret_1, .*news_sentiment_1d\)/,
    );
    expect(bad({ horizon: 0 })).toThrow(ConfigError);
  });

  it('accepts the three environments', () => {
    for (const e of [dev, staging, prod])
      expect(() => validateTrainingConfig(e.training, e.region)).not.toThrow();
  });
});
