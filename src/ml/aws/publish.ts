/**
 * Training workflow in AWS, last step: the model package SageMaker numbered is stored under the same
 * version in the models bucket's registry (model.onnx, manifest.json, evaluation.json), pending approval.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3ModelRegistry } from '../registry/s3-registry';
import { versionOfArn } from '../registry/sagemaker-registry';
import type { RegisterResult } from '../registry/types';
import { fetchModelArtifacts } from './model-artifacts';
import { MANIFEST_FILE } from '../../contract/ml';

export interface PublishInput {
  readonly modelName: string;
  readonly jobName: string;
  /** `s3://.../model.tar.gz` of the training job. */
  readonly modelArtifacts: string;
  readonly modelPackageArn: string;
}

export interface PublishResult {
  readonly version: number;
  readonly location: string;
  /** False when the same model.onnx was registered before (that version is kept). */
  readonly created: boolean;
}

/** Copies the job's files into the registry under the model package's version. */
export async function publishTrainedModel(
  deps: { readonly s3: Pick<S3Client, 'send'>; readonly store: S3ModelRegistry },
  input: PublishInput,
): Promise<PublishResult> {
  const version = versionOfArn(input.modelPackageArn);
  const files = await fetchModelArtifacts(deps.s3, input.modelArtifacts);
  const manifest = JSON.parse(Buffer.from(files[MANIFEST_FILE]).toString('utf8')) as {
    metrics?: Record<string, number>;
    dataHash?: string;
  };
  const r: RegisterResult = await deps.store.register(
    {
      modelName: input.modelName,
      files,
      metrics: manifest.metrics,
      dataHash: manifest.dataHash,
      actor: `training-workflow:${input.jobName}`,
    },
    async () => ({ version, packageArn: input.modelPackageArn }),
  );
  return { version: r.version.version, location: r.version.location, created: r.created };
}
