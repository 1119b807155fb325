/** The model registry's shapes, shared by the S3 (local and AWS) and SageMaker implementations. */
import { InputError } from '../../errors';
import {
  DEFAULT_MODEL_NAME,
  ENVIRONMENTS,
  type ApprovalStatus,
  type Environment,
  type ModelArtifact,
} from '../../contract/models';
import { MANIFEST_FILE, MODEL_FILE } from '../../contract/ml';
import type { LoadedModel } from '../../strategy-runner/runner';

export interface ModelVersion {
  readonly modelName: string;
  readonly version: number;
  readonly status: ApprovalStatus;
  /** ISO time of registration. */
  readonly createdAt: string;
  /** sha256 of model.onnx (hex): the same file registered twice is one version. */
  readonly sha256: string;
  /** The training data's hash from the manifest. */
  readonly dataHash?: string;
  /** Held-out metrics from the manifest and the evaluation gate's verdict. */
  readonly metrics: Readonly<Record<string, number>>;
  /** `s3://bucket/models/<name>/<version>/` */
  readonly location: string;
  /** SageMaker model package ARN (SageMaker registry only). */
  readonly packageArn?: string;
  /** Environments whose current version this is. */
  readonly currentFor: readonly Environment[];
}

export interface EnvironmentPointer {
  /** The version the environment trades now (the last of `history`). */
  readonly current: number;
  /** Versions approved for the environment, oldest first; rollback drops the last. */
  readonly history: readonly number[];
}

export interface RegisterInput {
  readonly modelName: string;
  readonly files: Readonly<Record<ModelArtifact, Uint8Array>>;
  readonly metrics?: Readonly<Record<string, number>>;
  readonly dataHash?: string;
  /** Who registers (an audit actor). */
  readonly actor: string;
  /** Approve for these environments at once (the gate passed and auto-approval is allowed). */
  readonly approveFor?: readonly Environment[];
}

export interface RegisterResult {
  readonly version: ModelVersion;
  /** False when the same model.onnx was already registered (that version is returned). */
  readonly created: boolean;
}

export interface ApproveResult {
  readonly modelName: string;
  readonly version: number;
  readonly env: Environment;
  /** The version the environment traded before (undefined: none). */
  readonly previous?: number;
  readonly changed: boolean;
}

export interface RollbackResult {
  readonly modelName: string;
  readonly env: Environment;
  readonly from: number;
  readonly to: number;
}

export interface ModelRegistry {
  /** Where versions are kept (for messages). */
  readonly kind: 's3' | 'sagemaker';
  register(input: RegisterInput): Promise<RegisterResult>;
  /** Every version of a model (or of every model), newest first. */
  list(modelName?: string): Promise<ModelVersion[]>;
  /** One version; InputError when it does not exist. */
  get(modelName: string, version: number): Promise<ModelVersion>;
  /** A version's artifact bytes. */
  artifact(modelName: string, version: number, file: ModelArtifact): Promise<Uint8Array>;
  /** Approves a version and makes it the environment's current one. */
  approve(modelName: string, version: number, env: Environment, actor: string): Promise<ApproveResult>;
  reject(modelName: string, version: number, actor: string): Promise<ModelVersion>;
  /** The previous approved version becomes the environment's current one. */
  rollback(modelName: string, env: Environment, actor: string): Promise<RollbackResult>;
  /** The environment's current version (undefined: none approved). */
  current(modelName: string, env: Environment): Promise<number | undefined>;
}

const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})$/;

/** Model names double as SageMaker model package group names (letters, digits, hyphens). */
export function checkModelName(name: string, field = 'model'): string {
  if (!NAME.test(name))
    throw new InputError(
      `${field}: "${name}" is not a valid model name (letters, digits and hyphens, at most 63)`,
      field,
    );
  return name;
}

export function parseEnvironment(v: string | undefined, field = '--env'): Environment {
  if (v === undefined) throw new InputError(`${field}: required (one of ${ENVIRONMENTS.join(', ')})`, field);
  if (!(ENVIRONMENTS as readonly string[]).includes(v))
    throw new InputError(`${field}: "${v}" is not one of ${ENVIRONMENTS.join(', ')}`, field);
  return v as Environment;
}

/** `name@version`, or a bare version of the default model. */
export function parseModelRef(ref: string, field = 'model'): { modelName: string; version: number } {
  const at = ref.lastIndexOf('@');
  const name = at >= 0 ? ref.slice(0, at) : DEFAULT_MODEL_NAME;
  const v = at >= 0 ? ref.slice(at + 1) : ref;
  if (!/^[1-9]\d{0,8}$/.test(v))
    throw new InputError(
      `${field}: "${ref}" needs a version, a whole number >= 1 (name@version or version)`,
      field,
    );
  return { modelName: checkModelName(name, field), version: Number(v) };
}

/** A registered version's model.onnx and manifest.json. */
export async function loadRegisteredModel(
  registry: Pick<ModelRegistry, 'artifact'>,
  name: string,
  version: number,
): Promise<LoadedModel> {
  const [onnx, manifest] = await Promise.all([
    registry.artifact(name, version, MODEL_FILE),
    registry.artifact(name, version, MANIFEST_FILE),
  ]);
  return { name, version, onnx, manifest: JSON.parse(new TextDecoder().decode(manifest)) };
}
