/**
 * The training state machine, locally: the definition `cdk synth` produces for TrainingStack (dev),
 * run by the local Step Functions runner with each Task state bound to what AWS would do, here:
 *   Compute features (athena UNLOAD .sync)     -> the statement's SELECT on DuckDB, written as the
 *                                                 job's `train` channel (a CSV)
 *   Train model (sagemaker createTrainingJob)  -> training/train.py as a child process on CPU with
 *                                                 the container contract's variables and dirs under
 *                                                 <dataDir>/ml/jobs/<job>/, then its model.tar.gz
 *                                                 put in the local models bucket like SageMaker does
 *   Record training usage (cloudwatch)         -> recorded and returned
 *   Evaluate candidate / Publish model files   -> the Lambdas' functions (src/ml/aws/)
 *   Register model package (createModelPackage)-> the next version number of the local registry
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createClients, type AwsClients, type Runtime } from '../aws/clients';
import { loadPanel } from '../backtest/load';
import { TRAINING_PREFIXES, TRAINING_STATES, type TrainingEvaluation } from '../contract/training';
import { InputError } from '../errors';
import { createQueryEngine, lakeBuckets } from '../lake';
import { loadSynthesizedDefinition } from '../local/definitions';
import { runLocalStateMachine, StatesError, type Json, type LocalTaskHandler } from '../local/stepfunctions';
import { evaluateCandidate } from './aws/evaluate';
import { writeTarball } from './aws/model-artifacts';
import { publishTrainedModel, type PublishResult } from './aws/publish';
import { featuresCsv } from './features/file';
import { SENTIMENT_FEATURE } from '../contract/news';
import { waitForNewsOnEngine } from '../news/pending';
import { S3NewsReader } from '../news/reader';
import { NEWS_SENTIMENT } from '../contract/lake';
import { PENDING_APPROVAL } from '../contract/models';
import { modelStrategyFor } from './model-strategy';
import { S3ModelRegistry } from './registry/s3-registry';
import type { GateConfig } from './workflow/evaluate-step';
import { jobPaths } from './workflow/job';
import { runTrainingStep, type TrainStepOutput } from './workflow/train-step';

/** `UNLOAD (<select>) TO '<dest>' WITH (...)` → its parts (the shape src/ml/features/sql.ts writes). */
export function parseUnload(sql: string): { select: string; destination: string } {
  const m = /^UNLOAD \(\n([\s\S]+)\n\) TO '([^']+)' WITH \(format = 'JSON', compression = 'GZIP'\)$/.exec(
    sql,
  );
  if (!m)
    throw new StatesError('Athena.InvalidRequestException', 'not an UNLOAD statement of the features step');
  return { select: m[1], destination: m[2] };
}

/** The Athena statement's SELECT in DuckDB: Athena renders ts as ISO text, DuckDB keeps the timestamp. */
export const athenaSelectToDuckDb = (select: string): string =>
  select.replace(/\bto_iso8601\(ts\) AS ts\b/, 'ts AS ts');

interface CreateTrainingJob {
  TrainingJobName: string;
  HyperParameters: Record<string, string>;
  InputDataConfig: { ChannelName: string; DataSource: { S3DataSource: { S3Uri: string } } }[];
  OutputDataConfig: { S3OutputPath: string };
  EnableManagedSpotTraining?: boolean;
  CheckpointConfig?: { S3Uri: string };
}

export interface LocalTrainingMachineOptions {
  readonly runtime: Extract<Runtime, { mode: 'local' }>;
  /** Data directory of the local jobs (`<dataDir>/ml/jobs/<job>/`). */
  readonly dataDir: string;
  /** @default created from the runtime */
  readonly clients?: AwsClients;
  /** @default synthesized from lib/ (TrainingStack of `env`) */
  readonly definition?: object;
  /** @default 'dev' */
  readonly env?: string;
  /** Hyperparameters that replace the definition's (e.g. fewer epochs); the device is always cpu. */
  readonly hyperparameters?: Readonly<Record<string, string>>;
  readonly gate?: Partial<GateConfig>;
  /**
   * The Python that runs training/train.py (it needs torch and onnx; the script's own error says
   * which module is missing). @default $QUANT_PYTHON or /usr/bin/python3
   */
  readonly python?: string;
  readonly onLine?: (line: string) => void;
  readonly onEvent?: (event: { type: string; state?: { name: string } }) => void;
}

export interface LocalTrainingMachineResult {
  readonly output: Json;
  readonly jobName: string;
  readonly featureRows: number;
  readonly training: TrainStepOutput;
  readonly evaluation: TrainingEvaluation;
  /** Absent when the gate refused the candidate. */
  readonly published?: PublishResult;
  readonly metrics: ReadonlyArray<{ name: string; value: number }>;
}

/** Runs the synthesized training state machine on the local cloud, end to end. */
export async function runTrainingStateMachineLocally(
  opts: LocalTrainingMachineOptions,
): Promise<LocalTrainingMachineResult> {
  const runtime = opts.runtime;
  const clients = opts.clients ?? createClients(runtime);
  const modelsBucket = lakeBuckets(runtime).models;
  const store = new S3ModelRegistry(clients.s3, modelsBucket);
  const definition =
    opts.definition ?? (await loadSynthesizedDefinition({ env: opts.env ?? 'dev', stack: 'Training' }));
  const S = TRAINING_STATES;
  let featureRows = 0;
  let training: TrainStepOutput | undefined;
  let evaluation: TrainingEvaluation | undefined;
  let published: PublishResult | undefined;
  const metrics: { name: string; value: number }[] = [];
  let symbols: string[] = [];

  const bindings: Record<string, LocalTaskHandler> = {
    [S.features]: async (input) => {
      const { select, destination } = parseUnload(String((input as { QueryString?: string }).QueryString));
      symbols = [...(/symbol IN \(([^)]*)\)/.exec(select)?.[1] ?? '').matchAll(/'([^']+)'/g)].map(
        (m) => m[1],
      );
      const job = jobPaths(opts.dataDir, destination.replace(/\/$/, '').split('/').at(-1)!);
      const engine = await createQueryEngine(runtime);
      // Feature set version 2's statement joins news_sentiment: no feature from part of a news pull.
      const sentiment = select.includes(SENTIMENT_FEATURE);
      try {
        if (sentiment) await waitForNewsOnEngine(engine, { symbols });
        const rows = await engine.query(athenaSelectToDuckDb(select));
        if (rows.length === 0)
          throw new StatesError('States.TaskFailed', `features: no bars for ${symbols.join(', ')}`);
        featureRows = rows.length;
        // UNLOAD needs an empty destination: start the channel afresh, write aside and rename.
        rmSync(job.train, { recursive: true, force: true });
        await mkdir(job.train, { recursive: true });
        const file = path.join(job.train, 'features.csv');
        await writeFile(`${file}.tmp`, featuresCsv(rows, { sentiment }));
        await rename(`${file}.tmp`, file);
      } finally {
        await engine.close();
      }
      return { QueryExecution: { QueryExecutionId: job.name, Status: { State: 'SUCCEEDED' } } };
    },
    [S.train]: async (input) => {
      const p = input as unknown as CreateTrainingJob;
      const job = jobPaths(opts.dataDir, p.TrainingJobName);
      const train = p.InputDataConfig.find((c) => c.ChannelName === 'train')?.DataSource.S3DataSource.S3Uri;
      if (!train?.endsWith(`/${TRAINING_PREFIXES.features}/${job.name}/`))
        throw new StatesError(
          'SageMaker.ValidationException',
          `train channel ${train} is not this job's features`,
        );
      // SageMaker's own hyperparameters configure its container; the script gets the rest.
      const hps = Object.fromEntries(
        Object.entries(p.HyperParameters).filter(([k]) => !k.startsWith('sagemaker_')),
      );
      training = await runTrainingStep({
        job,
        python: opts.python,
        hyperparameters: { ...hps, ...opts.hyperparameters, device: 'cpu' },
        onLine: opts.onLine,
      });
      // Like SageMaker: <S3OutputPath><job>/output/model.tar.gz of everything in SM_MODEL_DIR.
      const key = `${TRAINING_PREFIXES.output}/${job.name}/output/model.tar.gz`;
      const files = readdirSync(training.modelDir).sort();
      const body = writeTarball(
        files.map((name) => ({ name, data: readFileSync(path.join(training!.modelDir, name)) })),
      );
      await clients.s3.send(new PutObjectCommand({ Bucket: modelsBucket, Key: key, Body: body }));
      const seconds = Math.max(1, Math.round(training.seconds));
      return {
        TrainingJobName: job.name,
        TrainingJobStatus: 'Completed',
        ModelArtifacts: { S3ModelArtifacts: `s3://${modelsBucket}/${key}` },
        TrainingTimeInSeconds: seconds,
        // On-demand locally: billed = trained.
        BillableTimeInSeconds: seconds,
        FinalMetricDataList: Object.entries(training.metrics).map(([MetricName, Value]) => ({
          MetricName,
          Value,
        })),
      };
    },
    [S.recordUsage]: (input) => {
      for (const d of (input as { MetricData: { MetricName: string; Value: number }[] }).MetricData)
        metrics.push({ name: d.MetricName, value: d.Value });
      return {};
    },
    [S.evaluate]: async (input) => {
      evaluation = await evaluateCandidate(
        {
          s3: clients.s3,
          registry: store,
          modelStrategy: modelStrategyFor(runtime),
          // As the evaluate Lambda: a version 2 candidate scores on the lake's news sentiment.
          news: new S3NewsReader(clients.s3, lakeBuckets(runtime)[NEWS_SENTIMENT.zone]),
          gate: opts.gate ?? {},
          panel: () =>
            loadPanel(
              symbols.map((s) => `lake:${s}`),
              { runtime, align: 'intersect' },
            ),
        },
        input as never,
      );
      return evaluation as unknown as Json;
    },
    [S.register]: async (input) => {
      const p = input as { ModelPackageGroupName: string; ModelApprovalStatus: string };
      if (p.ModelApprovalStatus !== PENDING_APPROVAL)
        throw new StatesError('SageMaker.ValidationException', `unexpected status ${p.ModelApprovalStatus}`);
      // SageMaker numbers versions of a group 1, 2, ...: the local registry's next number.
      const index = await store.index(p.ModelPackageGroupName);
      const version = index.versions.reduce((m, v) => Math.max(m, v.version), 0) + 1;
      return {
        ModelPackageArn: `arn:aws:sagemaker:local:000000000000:model-package/${p.ModelPackageGroupName}/${version}`,
      };
    },
    [S.publish]: async (input) => {
      published = await publishTrainedModel({ s3: clients.s3, store }, input as never);
      return published as unknown as Json;
    },
  };

  try {
    const result = await runLocalStateMachine({
      definition: definition as never,
      input: { trigger: 'local' },
      resolveTask: (info) => bindings[info.stateName],
      onEvent: opts.onEvent,
    });
    if (!training || !evaluation) throw new Error('the state machine ended before training and evaluation');
    const jobName = (result.output as { run: { jobName: string } }).run.jobName;
    return { output: result.output, jobName, featureRows, training, evaluation, published, metrics };
  } catch (err) {
    if (err instanceof StatesError && err.name === 'InputError')
      throw new InputError(err.message, 'training');
    throw err;
  } finally {
    if (!opts.clients) clients.destroy();
  }
}
