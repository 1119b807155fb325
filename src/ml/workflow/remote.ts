/**
 * `quant train --remote`: checks a request's features against what the deployed training state
 * machine computes (its tags), then starts it (StartExecution).
 */
import { ListTagsForResourceCommand, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { featureSetVersionOf, OPTIONAL_FEATURES } from '../../contract/ml';
import { TRAINING_ENV } from '../../contract/models';
import { featuresOfTag, TRAINING_MACHINE_TAGS } from '../../contract/training';
import { InputError } from '../../errors';

/** Longest wait for one Step Functions call, all attempts included. */
const CALL_TIMEOUT_MS = 30_000;

/**
 * The state machine's input: its `hyperparameters` override the job's configured ones (model,
 * epochs, features, data_from / data_to: the training window) except the protected ones
 * (src/contract/training.ts PROTECTED_HYPERPARAMETERS). SageMaker takes strings only.
 */
export interface RemoteTrainingInput {
  readonly requestedBy: string;
  readonly hyperparameters?: Readonly<Record<string, string | number>>;
}

export interface RemoteTrainingStarted {
  readonly executionArn: string;
  readonly startDate: string;
  readonly name: string;
}

const ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/;

export function stateMachineArnOf(
  explicit: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  const arn = explicit ?? env[TRAINING_ENV.stateMachineArn];
  if (!arn)
    throw new InputError(
      `--state-machine: no training state machine: give --state-machine ARN or set ${TRAINING_ENV.stateMachineArn} (the training stack's output)`,
      '--state-machine',
    );
  if (!ARN.test(arn))
    throw new InputError(`--state-machine: "${arn}" is not a state machine ARN`, '--state-machine');
  return arn;
}

/** The feature set the deployed features step computes: the state machine's tags. */
export interface DeployedFeatureSet {
  readonly version: number;
  readonly features: readonly string[];
}

/**
 * The feature set of the state machine's tags (TRAINING_MACHINE_TAGS); undefined when it carries
 * neither tag (a training stack deployed before it wrote them).
 */
export function featureSetOfTags(
  tags: readonly { readonly key?: string; readonly value?: string }[],
): DeployedFeatureSet | undefined {
  const tag = (key: string) => tags.find((t) => t.key === key)?.value;
  const version = tag(TRAINING_MACHINE_TAGS.featureSetVersion);
  const features = tag(TRAINING_MACHINE_TAGS.features);
  if (version === undefined && features === undefined) return undefined;
  const v = Number(version);
  const list = featuresOfTag(features ?? '');
  if (!Number.isInteger(v) || v < 1 || list.length === 0)
    throw new InputError(
      `--state-machine: its tags ${TRAINING_MACHINE_TAGS.featureSetVersion}="${version ?? ''}" and ${TRAINING_MACHINE_TAGS.features}="${features ?? ''}" do not name a feature set (the training stack writes them; redeploy it)`,
      '--state-machine',
    );
  return { version: v, features: list };
}

/** Reads the deployed machine's feature set (ListTagsForResource, 30 s timeout). */
export async function deployedFeatureSet(
  sfn: Pick<SFNClient, 'send'>,
  stateMachineArn: string,
): Promise<DeployedFeatureSet | undefined> {
  try {
    const r = await sfn.send(new ListTagsForResourceCommand({ resourceArn: stateMachineArn }), {
      abortSignal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
    return featureSetOfTags(r.tags ?? []);
  } catch (e) {
    if ((e as Error).name === 'ResourceNotFound')
      throw new InputError(`--state-machine: no state machine ${stateMachineArn}`, '--state-machine');
    throw e;
  }
}

/**
 * Refuses (exit 2, naming --features) a request the deployed machine cannot train: features of
 * another feature set version than its features step computes, or features it does not compute.
 * A machine without the tags cannot be checked, so it is refused too (train without --features,
 * which trains what it is configured with, or redeploy): guessing version 1 would let a request
 * through that a version 2 machine cannot train.
 */
export function checkRemoteFeatures(
  requested: readonly string[],
  deployed: DeployedFeatureSet | undefined,
): void {
  const t = TRAINING_MACHINE_TAGS;
  if (!deployed)
    throw new InputError(
      `--features: the training state machine carries no ${t.featureSetVersion} / ${t.features} tags (deployed before they existed), so the features it computes are unknown: redeploy the training stack, or drop --features to train the features it is configured with`,
      '--features',
    );
  const what = `the deployed state machine computes feature set version ${deployed.version} (${deployed.features.join(', ')})`;
  const version = featureSetVersionOf(requested);
  const optional: readonly string[] = OPTIONAL_FEATURES;
  if (version !== deployed.version) {
    const extra = requested.filter((f) => optional.includes(f) && !deployed.features.includes(f));
    const absent = deployed.features.filter((f) => optional.includes(f) && !requested.includes(f));
    throw new InputError(
      `--features: ${requested.join(', ')} is feature set version ${version}, but ${what}: ` +
        (extra.length > 0
          ? `${extra.join(', ')} trains in AWS once the stage's config training.hyperparameters.features lists it and the training stack is deployed; until then train it with --local`
          : `list ${absent.join(', ')} too, or drop --features to train what is deployed`),
      '--features',
    );
  }
  const missing = requested.filter((f) => !deployed.features.includes(f));
  if (missing.length > 0)
    throw new InputError(`--features: ${missing.join(', ')} not computed: ${what}`, '--features');
}

/**
 * Starts one execution (30 s timeout); the name is unique per call. A request that names its
 * features is first checked against the deployed machine's feature set (checkRemoteFeatures).
 */
export async function startRemoteTraining(
  sfn: Pick<SFNClient, 'send'>,
  stateMachineArn: string,
  input: RemoteTrainingInput,
  now = new Date(),
): Promise<RemoteTrainingStarted> {
  const features = input.hyperparameters?.features;
  if (features !== undefined)
    checkRemoteFeatures(String(features).split(','), await deployedFeatureSet(sfn, stateMachineArn));
  const name = `cli-${now.toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${Math.random().toString(16).slice(2, 8)}`;
  const r = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn,
      name,
      input: JSON.stringify({
        ...input,
        hyperparameters: Object.fromEntries(
          Object.entries(input.hyperparameters ?? {}).map(([k, v]) => [k, String(v)]),
        ),
      }),
    }),
    { abortSignal: AbortSignal.timeout(CALL_TIMEOUT_MS) },
  );
  if (!r.executionArn) throw new Error('StartExecution returned no executionArn');
  return { executionArn: r.executionArn, startDate: (r.startDate ?? now).toISOString(), name };
}
