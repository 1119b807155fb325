/**
 * The model registry in the models bucket (locally `quant-models` on the local S3 server): each
 * version's artifacts under `models/<name>/<version>/`, and one index per model
 * (`models/<name>/registry.json`) with every version's status and each environment's approved
 * versions. A version number is claimed by creating its model.onnx with `If-None-Match: *`; the
 * index is only ever written conditionally (src/ml/registry/s3-index.ts), so concurrent commands
 * never lose each other's changes.
 */
import { createHash } from 'node:crypto';
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  ENVIRONMENTS,
  MODELS_PREFIX,
  modelArtifactKey,
  modelIndexKey,
  PENDING_APPROVAL,
  type Environment,
  type ModelArtifact,
} from '../../contract/models';
import { InputError } from '../../errors';
import { getBytes, putIfAbsent, readJson, timeout, updateJson } from './s3-index';
import {
  checkModelName,
  type ApproveResult,
  type EnvironmentPointer,
  type ModelRegistry,
  type ModelVersion,
  type RegisterInput,
  type RegisterResult,
  type RollbackResult,
} from './types';
import { EVALUATION_FILE, MANIFEST_FILE, MODEL_FILE } from '../../contract/ml';

export interface IndexEntry extends Omit<ModelVersion, 'modelName' | 'location' | 'currentFor'> {
  /** Who changed the status last, and when. */
  readonly statusBy?: string;
  readonly statusAt?: string;
}

export interface RegistryIndex {
  readonly schemaVersion: 1;
  readonly modelName: string;
  readonly versions: readonly IndexEntry[];
  readonly environments: Partial<Record<Environment, EnvironmentPointer>>;
}

const CONTENT_TYPES: Record<ModelArtifact, string> = {
  [MODEL_FILE]: 'application/octet-stream',
  [MANIFEST_FILE]: 'application/json',
  [EVALUATION_FILE]: 'application/json',
};

export const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

const emptyIndex = (modelName: string): RegistryIndex => ({
  schemaVersion: 1,
  modelName,
  versions: [],
  environments: {},
});

export interface S3RegistryOptions {
  /** @default Date.now */
  readonly now?: () => number;
}

export class S3ModelRegistry implements ModelRegistry {
  readonly kind: 's3' | 'sagemaker' = 's3';
  private readonly now: () => number;

  constructor(
    readonly s3: S3Client,
    readonly bucket: string,
    opts: S3RegistryOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  location(modelName: string, version: number): string {
    return `s3://${this.bucket}/${MODELS_PREFIX}${modelName}/${version}/`;
  }

  async index(modelName: string): Promise<RegistryIndex> {
    return (
      (await readJson<RegistryIndex>(this.s3, this.bucket, modelIndexKey(modelName)))?.value ??
      emptyIndex(modelName)
    );
  }

  private view(index: RegistryIndex, e: IndexEntry): ModelVersion {
    return {
      modelName: index.modelName,
      version: e.version,
      status: e.status,
      createdAt: e.createdAt,
      sha256: e.sha256,
      dataHash: e.dataHash,
      metrics: e.metrics,
      location: this.location(index.modelName, e.version),
      packageArn: e.packageArn,
      currentFor: ENVIRONMENTS.filter((env) => index.environments[env]?.current === e.version),
    };
  }

  /** Update the index of a model conditionally (see updateJson). */
  updateIndex<R>(modelName: string, change: (index: RegistryIndex) => { next?: RegistryIndex; result: R }) {
    return updateJson<RegistryIndex, R>(this.s3, this.bucket, modelIndexKey(modelName), (cur) => {
      const r = change(cur ?? emptyIndex(modelName));
      return r.next ? { next: r.next, result: r.result } : { result: r.result };
    });
  }

  /**
   * Registers the files under a newly claimed version. `allocate` (the SageMaker registry) numbers
   * the version elsewhere, after the duplicate check; without it the next free number is claimed.
   */
  async register(
    input: RegisterInput,
    allocate?: () => Promise<{ version: number; packageArn?: string }>,
  ): Promise<RegisterResult> {
    const modelName = checkModelName(input.modelName);
    const sha256 = sha256Hex(input.files[MODEL_FILE]);
    const before = await this.index(modelName);
    const same = before.versions.find((v) => v.sha256 === sha256);
    if (same) return { version: this.view(before, same), created: false };
    const claim = (v: number) =>
      putIfAbsent(
        this.s3,
        this.bucket,
        modelArtifactKey(modelName, v, MODEL_FILE),
        input.files[MODEL_FILE],
        CONTENT_TYPES[MODEL_FILE],
      );
    let version: number;
    let packageArn: string | undefined;
    if (allocate) {
      ({ version, packageArn } = await allocate());
      if (!(await claim(version)))
        throw new Error(
          `${this.location(modelName, version)}model.onnx: exists already (registry out of step)`,
        );
    } else {
      // The first writer of a number's model.onnx owns it (a crashed register leaves an orphan
      // directory that is never reused and never listed).
      version = before.versions.reduce((m, v) => Math.max(m, v.version), 0) + 1;
      while (!(await claim(version))) version++;
    }
    for (const file of [MANIFEST_FILE, EVALUATION_FILE] as const) {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: modelArtifactKey(modelName, version, file),
          Body: input.files[file],
          ContentType: CONTENT_TYPES[file],
        }),
        timeout(),
      );
    }
    const at = new Date(this.now()).toISOString();
    const approveFor = input.approveFor ?? [];
    return this.updateIndex(modelName, (index) => {
      const entry: IndexEntry = {
        version,
        status: approveFor.length > 0 ? 'Approved' : PENDING_APPROVAL,
        createdAt: at,
        sha256,
        ...(input.dataHash ? { dataHash: input.dataHash } : {}),
        metrics: input.metrics ?? {},
        ...(packageArn ? { packageArn } : {}),
        statusBy: input.actor,
        statusAt: at,
      };
      const environments = { ...index.environments };
      for (const env of approveFor) environments[env] = pushApproved(environments[env], version);
      const next: RegistryIndex = {
        ...index,
        versions: [...index.versions.filter((v) => v.version !== version), entry].sort(
          (a, b) => a.version - b.version,
        ),
        environments,
      };
      return { next, result: { version: this.view(next, entry), created: true } };
    });
  }

  async list(modelName?: string): Promise<ModelVersion[]> {
    const names = modelName ? [checkModelName(modelName)] : await this.modelNames();
    const out: ModelVersion[] = [];
    for (const name of names) {
      const index = await this.index(name);
      for (const e of index.versions) out.push(this.view(index, e));
    }
    return out.sort((a, b) => a.modelName.localeCompare(b.modelName) || b.version - a.version);
  }

  private async modelNames(): Promise<string[]> {
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: MODELS_PREFIX,
          Delimiter: '/',
          ContinuationToken: token,
        }),
        timeout(),
      );
      for (const p of page.CommonPrefixes ?? []) {
        const name = p.Prefix?.slice(MODELS_PREFIX.length).replace(/\/$/, '');
        if (name) names.push(name);
      }
      token = page.NextContinuationToken;
    } while (token);
    return names.sort();
  }

  async get(modelName: string, version: number): Promise<ModelVersion> {
    const index = await this.index(checkModelName(modelName));
    return this.view(index, entryOf(index, version));
  }

  async artifact(modelName: string, version: number, file: ModelArtifact): Promise<Uint8Array> {
    await this.get(modelName, version);
    const b = await getBytes(this.s3, this.bucket, modelArtifactKey(modelName, version, file));
    if (!b) throw new Error(`${this.location(modelName, version)}${file}: missing`);
    return b;
  }

  async approve(modelName: string, version: number, env: Environment, actor: string): Promise<ApproveResult> {
    const at = new Date(this.now()).toISOString();
    return this.updateIndex<ApproveResult>(checkModelName(modelName), (index) => {
      const e = entryOf(index, version);
      if (e.status === 'Rejected')
        throw new InputError(`model: ${modelName}@${version} is Rejected and cannot be approved`, 'model');
      const pointer = index.environments[env];
      const previous = pointer?.current;
      if (previous === version && e.status === 'Approved')
        return { result: { modelName, version, env, previous, changed: false } };
      const next: RegistryIndex = {
        ...index,
        versions: index.versions.map((v) =>
          v.version === version ? { ...v, status: 'Approved', statusBy: actor, statusAt: at } : v,
        ),
        environments: {
          ...index.environments,
          [env]: previous === version ? pointer : pushApproved(pointer, version),
        },
      };
      return { next, result: { modelName, version, env, previous, changed: true } };
    });
  }

  async reject(modelName: string, version: number, actor: string): Promise<ModelVersion> {
    const at = new Date(this.now()).toISOString();
    return this.updateIndex(checkModelName(modelName), (index) => {
      const e = entryOf(index, version);
      const using = ENVIRONMENTS.filter((env) => index.environments[env]?.current === version);
      if (using.length > 0)
        throw new InputError(
          `model: ${modelName}@${version} is current for ${using.join(', ')}: roll back first`,
          'model',
        );
      const entry: IndexEntry = { ...e, status: 'Rejected', statusBy: actor, statusAt: at };
      const next = { ...index, versions: index.versions.map((v) => (v.version === version ? entry : v)) };
      return { next, result: this.view(next, entry) };
    });
  }

  async rollback(modelName: string, env: Environment, _actor: string): Promise<RollbackResult> {
    return this.updateIndex(checkModelName(modelName), (index) => {
      const p = index.environments[env];
      if (!p) throw new InputError(`--env: ${modelName} has no approved version for ${env}`, '--env');
      if (p.history.length < 2)
        throw new InputError(
          `--env: ${modelName} has no earlier approved version for ${env} to roll back to (current ${p.current})`,
          '--env',
        );
      const history = p.history.slice(0, -1);
      const to = history[history.length - 1];
      const next: RegistryIndex = {
        ...index,
        environments: { ...index.environments, [env]: { current: to, history } },
      };
      return { next, result: { modelName, env, from: p.current, to } };
    });
  }

  async current(modelName: string, env: Environment): Promise<number | undefined> {
    return (await this.index(checkModelName(modelName))).environments[env]?.current;
  }
}

function pushApproved(p: EnvironmentPointer | undefined, version: number): EnvironmentPointer {
  return { current: version, history: [...(p?.history ?? []), version] };
}

function entryOf(index: RegistryIndex, version: number): IndexEntry {
  const e = index.versions.find((v) => v.version === version);
  if (!e) {
    const known = index.versions.map((v) => v.version).join(', ') || 'none';
    throw new InputError(
      `model: ${index.modelName}@${version} is not registered (versions: ${known})`,
      'model',
    );
  }
  return e;
}
