/**
 * The registry's hook for `ml-signal`'s `model=name@version` parameter
 * (src/ml/inference/resolver.ts): the version's model.onnx and manifest.json are fetched from the
 * registry into a content-addressed local directory (src/ml/model-strategy.ts), once per process.
 */
import { setModelResolver, type ModelResolver } from '../inference/resolver';
import { materialise } from '../model-strategy';
import { InputError } from '../../errors';
import type { ModelRegistry } from './types';

export function registryModelResolver(registry: ModelRegistry, cacheDir: string): ModelResolver {
  return async ({ name, version }) => {
    if (!/^[1-9]\d{0,8}$/.test(version))
      throw new InputError(
        `param.model: "${name}@${version}": the version must be a whole number >= 1`,
        'param.model',
      );
    const v = Number(version);
    const [onnx, manifest] = await Promise.all([
      registry.artifact(name, v, 'model.onnx'),
      registry.artifact(name, v, 'manifest.json'),
    ]);
    return materialise(
      { name, version: v, onnx, manifest: JSON.parse(new TextDecoder().decode(manifest)) },
      cacheDir,
    );
  };
}

/** Lets `--param model=name@version` (backtests, sweeps, quant paper) read this registry. */
export function installRegistryResolver(registry: ModelRegistry, cacheDir: string): void {
  setModelResolver(registryModelResolver(registry, cacheDir));
}
