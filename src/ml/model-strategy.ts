/**
 * Model strategies for the strategy runner and the evaluation step: a registered (or candidate)
 * model's files are written to a content-addressed directory (`<dataDir>/ml/models/<sha256>/`
 * locally, the temporary directory in a Lambda) and bound to the `ml-signal` strategy
 * (src/backtest/strategies/ml-signal.ts) through its `model` parameter; its `prepare` step loads
 * the ONNX session once.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Runtime } from '../aws/clients';
import { parseStrategyParams, prepareStrategy } from '../backtest/strategies';
import { barStrategy, type LoadedModel, type ModelStrategyFactory } from '../strategy-runner/runner';
import { modelInputNeeds } from './signal';
import { MANIFEST_FILE, MODEL_FILE } from '../contract/ml';

export function modelCacheDir(runtime: Runtime): string {
  return runtime.mode === 'local'
    ? path.join(runtime.dataDir, 'ml', 'models')
    : path.join(os.tmpdir(), 'quant-models');
}

/** The model's files in a directory named by their hash (written once, atomically). */
export function materialise(model: LoadedModel, root: string): string {
  const manifest = `${JSON.stringify(model.manifest, null, 2)}\n`;
  const sha = createHash('sha256').update(model.onnx).update(manifest).digest('hex');
  const dir = path.join(root, sha.slice(0, 32));
  if (existsSync(path.join(dir, MANIFEST_FILE))) return dir;
  const tmp = `${dir}.${process.pid}.${Math.random().toString(16).slice(2)}.tmp`;
  mkdirSync(tmp, { recursive: true });
  writeFileSync(path.join(tmp, MODEL_FILE), model.onnx);
  writeFileSync(path.join(tmp, MANIFEST_FILE), manifest);
  try {
    renameSync(tmp, dir);
  } catch (err) {
    // Another process materialised the same files first.
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(path.join(dir, MANIFEST_FILE))) throw err;
  }
  return dir;
}

export function modelStrategyFor(runtime: Runtime): ModelStrategyFactory {
  const root = modelCacheDir(runtime);
  return async (strategy, model, raw) => {
    const dir = materialise(model, root);
    const params = parseStrategyParams(strategy, { ...raw, model: dir });
    await prepareStrategy(strategy, params);
    // The runner reads what the model needs beyond bars (src/ml/model-inputs.ts).
    return barStrategy(strategy, params, modelInputNeeds([params])[0]?.features);
  };
}
