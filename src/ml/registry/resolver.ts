/**
 * The registry's hook for `ml-signal`'s `model=name@version` parameter
 * (src/ml/inference/resolver.ts): the version's model.onnx and manifest.json are fetched from the
 * registry into a content-addressed local directory (src/ml/model-strategy.ts), once per process.
 * `name@paper|staging|prod` means that environment's current approved version.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Runtime } from '../../aws/clients';
import { ENVIRONMENTS, type Environment } from '../../contract/models';
import { setModelResolver, type ModelRef, type ModelResolver } from '../inference/resolver';
import { materialise, modelCacheDir } from '../model-strategy';
import { InputError } from '../../errors';
import { loadRegisteredModel, type ModelRegistry } from './types';

const isEnvironment = (v: string): v is Environment => (ENVIRONMENTS as readonly string[]).includes(v);

/** The version number a reference names: `3`, or the current approved version of `prod` etc. */
export async function versionOf(
  registry: Pick<ModelRegistry, 'current'>,
  { name, version }: ModelRef,
  field = 'param.model',
): Promise<number> {
  if (isEnvironment(version)) {
    const v = await registry.current(name, version);
    if (v === undefined)
      throw new InputError(
        `${field}: "${name}@${version}": no version of ${name} is approved for ${version} (quant model approve)`,
        field,
      );
    return v;
  }
  if (!/^[1-9]\d{0,8}$/.test(version))
    throw new InputError(
      `${field}: "${name}@${version}": the version must be a whole number >= 1 or one of ${ENVIRONMENTS.join(', ')}`,
      field,
    );
  return Number(version);
}

export function registryModelResolver(registry: ModelRegistry, cacheDir: string): ModelResolver {
  return async (ref) => {
    const v = await versionOf(registry, ref);
    return materialise(await loadRegisteredModel(registry, ref.name, v), cacheDir);
  };
}

/** Lets `--param model=name@version` (backtests, sweeps, quant paper) read this registry. */
export function installRegistryResolver(registry: ModelRegistry, cacheDir: string): void {
  setModelResolver(registryModelResolver(registry, cacheDir));
}

/**
 * What every command and task that runs a strategy calls once: the runtime's registry (the local
 * models bucket, or in AWS SageMaker's model packages with the bucket's files) resolves
 * `model=name@version|@env` in this process. The registry is opened on the first reference only,
 * so a run without one costs nothing. Returns the registry getter (sweeps pin `@env` with it).
 */
export function useModelRegistry(
  runtime: Runtime,
  s3: S3Client,
  /** Read on the first reference (in AWS the variable LAKE_MODELS_BUCKET must then be set). */
  modelsBucket: () => string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): () => Promise<ModelRegistry> {
  let opened: Promise<ModelRegistry> | undefined;
  const registry = (): Promise<ModelRegistry> =>
    (opened ??= import('./index').then(({ registryFor }) => registryFor(runtime, s3, modelsBucket(), env)));
  const cacheDir = modelCacheDir(runtime);
  setModelResolver(async (ref) => registryModelResolver(await registry(), cacheDir)(ref));
  return registry;
}
