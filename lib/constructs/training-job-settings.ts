/** The SageMaker job of the training workflow (lib/constructs/training-workflow.ts) from an environment's config. */
import { Duration } from 'aws-cdk-lib';
import { parseEcrImageUri } from '../config/schema';
import { trainingFeatures } from '../config/training';
import type { TrainingConfig } from '../config/types';
import { FEATURE_NAMES, featureSetVersionOf } from '../../src/contract/ml';
import {
  CHECKPOINT_LOCAL_PATH,
  NEURON_CACHE_SUBDIR,
  TRAINING_PREFIXES,
  PROTECTED_HYPERPARAMETERS,
  TRAINING_SCRIPT_METRICS,
} from '../../src/contract/training';
import type { TrainingWorkflowProps } from './training-workflow';

type TrainingJob = TrainingWorkflowProps['training'];

/** Container, instance and settings of the job; the network, code, volume key and logs come from the stack. */
export function trainingJobSettings(
  c: TrainingConfig,
  deps: Pick<TrainingJob, 'vpc' | 'subnets' | 'code' | 'volumeKey' | 'logs'> & { readonly partition: string },
): TrainingJob {
  const { partition, ...stackParts } = deps;
  const k = c.compute;
  const image = parseEcrImageUri(k.imageUri)!;
  const neuron = k.accelerator === 'trainium';
  const version = String(featureSetVersionOf(trainingFeatures(c)));
  return {
    ...stackParts,
    image: {
      uri: k.imageUri,
      repositoryArn: `arn:${partition}:ecr:${image.region}:${image.account}:repository/${image.repository}`,
    },
    instanceType: k.instanceType,
    instanceCount: k.instanceCount,
    devicesPerInstance: k.devicesPerInstance,
    volumeSizeGiB: k.volumeSizeGiB,
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
      device: neuron ? 'neuron' : k.accelerator === 'gpu' ? 'cuda' : 'cpu',
    },
    environment: {
      QUANT_CHECKPOINT_DIR: CHECKPOINT_LOCAL_PATH,
      // The compile cache under the checkpoint directory survives spot restarts (SageMaker syncs it).
      ...(neuron ? { NEURON_COMPILE_CACHE_URL: `${CHECKPOINT_LOCAL_PATH}/${NEURON_CACHE_SUBDIR}` } : {}),
    },
    metricNames: TRAINING_SCRIPT_METRICS,
    protectedHyperparameters: PROTECTED_HYPERPARAMETERS,
    useSpot: c.useSpot,
    maxRuntime: Duration.hours(c.maxRuntimeHours),
    maxWait: Duration.hours(c.maxWaitHours),
    retryAttempts: c.retryAttempts,
    tuning: c.tuning && {
      ...c.tuning,
      objective: {
        metric: c.tuning.objective,
        type: c.tuning.objective === 'val_ic' ? 'Maximize' : 'Minimize',
      },
    },
  };
}
