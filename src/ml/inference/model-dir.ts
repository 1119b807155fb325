/**
 * A model directory (training output or a registry version): `model.onnx` and `manifest.json`
 * (layout in src/contract/ml.ts). Reading checks the manifest against the feature set and the
 * graph's input against the manifest, so a mismatched model fails before any position or order.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import {
  FEATURE_SET_VERSION,
  featureSetVersionOf,
  MANIFEST_FILE,
  MANIFEST_SCHEMA_VERSION,
  MODEL_FILE,
  type ModelFeature,
} from '../../contract/ml';
import { describeZodIssues, InputError } from '../../errors';
import { checkFeatureNames } from '../features/compute';
import { readModelFile, type TensorInfo } from './session';

/** The fields of manifest.json this code relies on (others are kept as they are). */
export const manifestSchema = z.looseObject({
  schemaVersion: z.literal(MANIFEST_SCHEMA_VERSION),
  modelName: z.string().min(1),
  architecture: z.string().min(1),
  target: z.enum(['return', 'sign']),
  horizon: z.number().int().min(1),
  window: z.number().int().min(1).max(10_000),
  features: z.array(z.string()).min(1),
  /** Version of the feature definitions the model was trained on (src/contract/ml.ts). */
  featureSetVersion: z.number().int().min(1),
  input: z.looseObject({ name: z.string().min(1), shape: z.array(z.number().int().nullable()).length(2) }),
  output: z.looseObject({ name: z.string().min(1), kind: z.enum(['return', 'probability']) }),
});

export type Manifest = z.infer<typeof manifestSchema>;

export interface ModelFiles {
  readonly dir: string;
  readonly manifest: Manifest;
  readonly features: readonly ModelFeature[];
  readonly onnx: Uint8Array;
  /** Changes when the files change (cache key). */
  readonly key: string;
}

/** Parses and checks a manifest object; InputError naming `manifest.<field>`. */
export function parseManifest(
  raw: unknown,
  where = 'manifest',
): { manifest: Manifest; features: ModelFeature[] } {
  if (typeof raw === 'object' && raw !== null && !('featureSetVersion' in raw))
    throw new InputError(
      `${where}.featureSetVersion: missing; the model does not say which feature definitions it was trained on (this code computes version ${FEATURE_SET_VERSION}); retrain it`,
      `${where}.featureSetVersion`,
    );
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new InputError(
      describeZodIssues(parsed.error.issues, where),
      [where, ...first.path.map(String)].join('.'),
    );
  }
  const m = parsed.data;
  const features = checkFeatureNames(m.features, `${where}.features`);
  // Version 1 models keep version 1; a model using the optional sentiment is version 2.
  const computes = featureSetVersionOf(features);
  if (m.featureSetVersion !== computes)
    throw new InputError(
      `${where}.featureSetVersion: the model was trained on feature set version ${m.featureSetVersion}, this code computes version ${computes}${computes === FEATURE_SET_VERSION ? '' : ` for features ${features.join(', ')}`}; retrain it on the current features`,
      `${where}.featureSetVersion`,
    );
  const width = m.window * features.length;
  if (m.input.shape[1] !== null && m.input.shape[1] !== width)
    throw new InputError(
      `${where}.input.shape: [${m.input.shape.join(', ')}] does not match window ${m.window} x ${features.length} features = ${width}`,
      `${where}.input.shape`,
    );
  return { manifest: m, features };
}

/** Reads `dir/model.onnx` and `dir/manifest.json`; InputError naming `field` for what is missing or malformed. */
export function readModelDir(dir: string, field = 'model'): ModelFiles {
  if (!existsSync(dir)) throw new InputError(`${field}: model directory not found: ${dir}`, field);
  if (!statSync(dir).isDirectory())
    throw new InputError(
      `${field}: ${dir} is not a directory (it must hold ${MODEL_FILE} and ${MANIFEST_FILE})`,
      field,
    );
  const manifestPath = path.join(dir, MANIFEST_FILE);
  if (!existsSync(manifestPath)) throw new InputError(`${field}: no ${MANIFEST_FILE} in ${dir}`, field);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (err) {
    throw new InputError(
      `${field}: ${manifestPath} is not valid JSON (${err instanceof Error ? err.message : String(err)})`,
      field,
    );
  }
  const { manifest, features } = parseManifest(raw);
  const onnxPath = path.join(dir, MODEL_FILE);
  const onnx = readModelFile(onnxPath, field);
  const key = `${path.resolve(dir)}|${statSync(onnxPath).mtimeMs}|${statSync(manifestPath).mtimeMs}|${onnx.length}`;
  return { dir, manifest, features, onnx, key };
}

/**
 * Checks the graph's input and output against the manifest: one float32 input [N, window * F]
 * named as the manifest says, a first output with one value per row. Returns the input name.
 */
export function checkGraph(
  files: ModelFiles,
  inputs: readonly TensorInfo[],
  outputs: readonly TensorInfo[],
  field = 'model',
): { input: string; width: number } {
  const width = files.manifest.window * files.features.length;
  if (inputs.length !== 1)
    throw new InputError(
      `${field}: the model has ${inputs.length} inputs; the contract is one input "features"`,
      field,
    );
  const inp = inputs[0];
  if (inp.name !== files.manifest.input.name)
    throw new InputError(
      `${field}: the model's input is "${inp.name}", the manifest says "${files.manifest.input.name}"`,
      field,
    );
  if (inp.type !== 'float32' || !inp.shape || inp.shape.length !== 2)
    throw new InputError(
      `${field}: input "${inp.name}" is ${inp.type} [${(inp.shape ?? []).map((d) => d ?? '?').join(', ')}]; expected float32 [N, ${width}]`,
      field,
    );
  if (inp.shape[1] !== null && inp.shape[1] !== width)
    throw new InputError(
      `${field}: input "${inp.name}" has ${inp.shape[1]} columns; the manifest's ${files.features.length} features x window ${files.manifest.window} = ${width}`,
      field,
    );
  if (outputs.length === 0) throw new InputError(`${field}: the model has no output`, field);
  const out = outputs[0];
  if (out.shape && out.shape.length === 2 && out.shape[1] !== null && out.shape[1] !== 1)
    throw new InputError(
      `${field}: output "${out.name}" has ${out.shape[1]} values per row; expected 1`,
      field,
    );
  return { input: inp.name, width };
}
