/**
 * The registry in AWS: each version is a SageMaker model package in the group named after the
 * model (its `ModelApprovalStatus` is the version's status, its `ModelPackageVersion` the number),
 * and the artifacts plus the per-environment approved versions live in the models bucket exactly
 * as in the local registry (src/ml/registry/s3-registry.ts): SageMaker has one approval status per
 * package, not one per environment.
 */
import {
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  ListModelPackagesCommand,
  UpdateModelPackageCommand,
  type ModelPackageSummary,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { PENDING_APPROVAL, type Environment, type ModelArtifact } from '../../contract/models';
import { InputError } from '../../errors';
import type { S3ModelRegistry } from './s3-registry';
import { sha256Hex } from './s3-registry';
import {
  checkModelName,
  type ApproveResult,
  type ModelRegistry,
  type ModelVersion,
  type RegisterInput,
  type RegisterResult,
  type RollbackResult,
} from './types';
import { MODEL_FILE } from '../../contract/ml';

/** Every SageMaker call has this timeout. */
const SAGEMAKER_TIMEOUT_MS = 30_000;
const opts = () => ({ abortSignal: AbortSignal.timeout(SAGEMAKER_TIMEOUT_MS) });

/** `arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>` → version. */
export function versionOfArn(arn: string): number {
  const m = /model-package\/[^/]+\/(\d+)$/.exec(arn);
  if (!m) throw new Error(`unexpected model package ARN ${arn}`);
  return Number(m[1]);
}

export class SageMakerModelRegistry implements ModelRegistry {
  readonly kind = 'sagemaker' as const;

  constructor(
    private readonly sagemaker: Pick<SageMakerClient, 'send'>,
    private readonly store: S3ModelRegistry,
  ) {}

  private async packages(modelName: string): Promise<ModelPackageSummary[]> {
    const out: ModelPackageSummary[] = [];
    let token: string | undefined;
    do {
      const page = await this.sagemaker.send(
        new ListModelPackagesCommand({
          ModelPackageGroupName: modelName,
          ModelPackageType: 'Versioned',
          SortBy: 'CreationTime',
          SortOrder: 'Descending',
          MaxResults: 100,
          NextToken: token,
        }),
        opts(),
      );
      out.push(...(page.ModelPackageSummaryList ?? []));
      token = page.NextToken;
    } while (token);
    return out;
  }

  async register(input: RegisterInput): Promise<RegisterResult> {
    const modelName = checkModelName(input.modelName);
    const sha256 = sha256Hex(input.files[MODEL_FILE]);
    const create = () =>
      this.sagemaker.send(
        new CreateModelPackageCommand({
          ModelPackageGroupName: modelName,
          ModelPackageDescription: `${modelName} model.onnx sha256:${sha256}`,
          ModelApprovalStatus: (input.approveFor ?? []).length > 0 ? 'Approved' : PENDING_APPROVAL,
          // Same file, same token: a retried registration does not create a second package.
          ClientToken: sha256.slice(0, 36),
          CustomerMetadataProperties: {
            sha256,
            ...(input.dataHash ? { dataHash: input.dataHash } : {}),
            registeredBy: input.actor,
          },
        }),
        opts(),
      );
    return this.store.register(input, async () => {
      let arn: string | undefined;
      try {
        arn = (await create()).ModelPackageArn;
      } catch (err) {
        // The group is made by the training stack; from a workstation it may not exist yet.
        if (!/does not exist|not found/i.test((err as Error).message)) throw err;
        await this.sagemaker.send(
          new CreateModelPackageGroupCommand({
            ModelPackageGroupName: modelName,
            ModelPackageGroupDescription: `versions of model ${modelName}`,
          }),
          opts(),
        );
        arn = (await create()).ModelPackageArn;
      }
      if (!arn) throw new Error('CreateModelPackage returned no ModelPackageArn');
      return { version: versionOfArn(arn), packageArn: arn };
    });
  }

  async list(modelName?: string): Promise<ModelVersion[]> {
    const mirrored = await this.store.list(modelName);
    const names = modelName ? [modelName] : [...new Set(mirrored.map((v) => v.modelName))];
    const out: ModelVersion[] = [];
    for (const name of names) {
      const byVersion = new Map(mirrored.filter((v) => v.modelName === name).map((v) => [v.version, v]));
      for (const p of await this.packages(name)) {
        const version = p.ModelPackageVersion ?? versionOfArn(p.ModelPackageArn ?? '');
        const m = byVersion.get(version);
        out.push({
          modelName: name,
          version,
          status: p.ModelApprovalStatus ?? PENDING_APPROVAL,
          createdAt: p.CreationTime?.toISOString() ?? m?.createdAt ?? '',
          sha256: m?.sha256 ?? '',
          dataHash: m?.dataHash,
          metrics: m?.metrics ?? {},
          location: m?.location ?? this.store.location(name, version),
          packageArn: p.ModelPackageArn,
          currentFor: m?.currentFor ?? [],
        });
      }
    }
    return out.sort((a, b) => a.modelName.localeCompare(b.modelName) || b.version - a.version);
  }

  async get(modelName: string, version: number): Promise<ModelVersion> {
    const v = (await this.list(checkModelName(modelName))).find((x) => x.version === version);
    if (!v)
      throw new InputError(`model: ${modelName}@${version} is not a package of group ${modelName}`, 'model');
    return v;
  }

  artifact(modelName: string, version: number, file: ModelArtifact): Promise<Uint8Array> {
    return this.store.artifact(modelName, version, file);
  }

  private async setStatus(v: ModelVersion, status: 'Approved' | 'Rejected', description: string) {
    if (!v.packageArn) throw new Error(`${v.modelName}@${v.version}: no model package ARN`);
    await this.sagemaker.send(
      new UpdateModelPackageCommand({
        ModelPackageArn: v.packageArn,
        ModelApprovalStatus: status,
        ApprovalDescription: description.slice(0, 1000),
      }),
      opts(),
    );
  }

  async approve(modelName: string, version: number, env: Environment, actor: string): Promise<ApproveResult> {
    const v = await this.get(modelName, version);
    if (v.status === 'Rejected')
      throw new InputError(`model: ${modelName}@${version} is Rejected and cannot be approved`, 'model');
    if (v.status !== 'Approved') await this.setStatus(v, 'Approved', `approved for ${env} by ${actor}`);
    return this.store.approve(modelName, version, env, actor);
  }

  async reject(modelName: string, version: number, actor: string): Promise<ModelVersion> {
    const v = await this.get(modelName, version);
    if (v.currentFor.length > 0)
      throw new InputError(
        `model: ${modelName}@${version} is current for ${v.currentFor.join(', ')}: roll back first`,
        'model',
      );
    await this.setStatus(v, 'Rejected', `rejected by ${actor}`);
    return this.store.reject(modelName, version, actor);
  }

  rollback(modelName: string, env: Environment, actor: string): Promise<RollbackResult> {
    return this.store.rollback(modelName, env, actor);
  }

  current(modelName: string, env: Environment): Promise<number | undefined> {
    return this.store.current(modelName, env);
  }
}
