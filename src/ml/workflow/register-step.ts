/**
 * Workflow step (d): copies model.onnx, manifest.json and evaluation.json to the registry as the
 * next version. Status: PendingManualApproval, unless the gate passed AND auto-approval is allowed
 * (MODEL_AUTO_APPROVE=true, meant for development accounts and the local demo), in which case the
 * version is Approved for `paper` only; staging and prod always need `quant model approve`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_MODEL_NAME, MODEL_ARTIFACTS, TRAINING_ENV, type ModelArtifact } from '../../contract/models';
import type { ModelRegistry, RegisterResult } from '../registry/types';
import { MANIFEST_FILE } from '../../contract/ml';

export interface RegisterStepInput {
  readonly modelDir: string;
  readonly gatePassed: boolean;
  /** @default MODEL_AUTO_APPROVE === 'true' in the environment */
  readonly autoApprove?: boolean;
  readonly actor: string;
}

export const autoApproveFromEnv = (
  env: Readonly<Record<string, string | undefined>> = process.env,
): boolean => env[TRAINING_ENV.autoApprove] === 'true';

export async function registerStep(
  registry: ModelRegistry,
  input: RegisterStepInput,
): Promise<RegisterResult> {
  const files = Object.fromEntries(
    MODEL_ARTIFACTS.map((f) => [f, new Uint8Array(readFileSync(path.join(input.modelDir, f)))]),
  ) as Record<ModelArtifact, Uint8Array>;
  const manifest = JSON.parse(new TextDecoder().decode(files[MANIFEST_FILE])) as {
    modelName?: string;
    dataHash?: string;
    metrics?: Record<string, number>;
  };
  const metrics: Record<string, number> = {};
  for (const [k, v] of Object.entries(manifest.metrics ?? {}))
    if (typeof v === 'number' && Number.isFinite(v)) metrics[k] = v;
  const auto = input.autoApprove ?? autoApproveFromEnv();
  return registry.register({
    modelName: manifest.modelName ?? DEFAULT_MODEL_NAME,
    files,
    metrics,
    dataHash: manifest.dataHash,
    actor: input.actor,
    approveFor: input.gatePassed && auto ? ['paper'] : [],
  });
}
