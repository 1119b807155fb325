/**
 * ONNX inference in Node with onnxruntime-node (CPU), chosen by measurement over onnxruntime-web
 * (bench/ml.bench.ts, bench/RESULTS.md). The runtime is loaded on first use: the native library
 * costs start-up time that commands without a model never need.
 */
import { readFileSync, statSync } from 'node:fs';
import type * as OrtModule from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-node';
import { InputError } from '../../errors';

type Ort = typeof OrtModule;
let ortPromise: Promise<Ort> | undefined;

/**
 * The module name is not a literal so that bundlers (esbuild for the Lambda functions) leave the
 * native package out: a bundle that runs models ships onnxruntime-node as a node module.
 */
export const ORT_MODULE: string = 'onnxruntime-node';

/** The onnxruntime-node module (loaded once). */
export function loadOrt(): Promise<Ort> {
  ortPromise ??= import(ORT_MODULE) as Promise<Ort>;
  return ortPromise;
}

/** Shape and type of one graph input or output; symbolic dimensions are `null`. */
export interface TensorInfo {
  readonly name: string;
  /** onnxruntime's element type name (`float32`, `int64`, ...), or `non-tensor`. */
  readonly type: string;
  readonly shape: readonly (number | null)[] | null;
}

export interface OnnxModel {
  readonly session: InferenceSession;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
}

type ValueMetadata = InferenceSession['inputMetadata'][number];

function info(m: ValueMetadata): TensorInfo {
  if (!m.isTensor) return { name: m.name, type: 'non-tensor', shape: null };
  return {
    name: m.name,
    type: String(m.type),
    shape: m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : null)),
  };
}

/** Reads a model file; InputError naming `field` when it is missing or not a file. */
export function readModelFile(file: string, field = 'onnx'): Uint8Array {
  let st;
  try {
    st = statSync(file);
  } catch {
    throw new InputError(`${field}: model file not found: ${file}`, field);
  }
  if (!st.isFile()) throw new InputError(`${field}: not a file: ${file}`, field);
  if (st.size === 0) throw new InputError(`${field}: ${file} is empty`, field);
  return readFileSync(file);
}

/** One CPU thread per session unless told otherwise: the machine's cores are shared by the process's other work. */
export interface SessionOptions {
  readonly threads?: number;
}

/**
 * Opens a session on the model bytes. A file onnxruntime cannot read (corrupt, truncated, not
 * ONNX, an unsupported operator) is an InputError naming `field`.
 */
export async function openModel(
  bytes: Uint8Array,
  field = 'onnx',
  opts: SessionOptions = {},
): Promise<OnnxModel> {
  const ort = await loadOrt();
  let session: InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: opts.threads ?? 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
    });
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err)).split('\n')[0].slice(0, 300);
    throw new InputError(`${field}: not a valid ONNX model (${why})`, field);
  }
  return { session, inputs: session.inputMetadata.map(info), outputs: session.outputMetadata.map(info) };
}

/** The model's one input, required to be a 2-D float32 tensor [N, F]; F is null when symbolic. */
export function single2dFloatInput(model: OnnxModel, field = 'onnx'): { name: string; width: number | null } {
  if (model.inputs.length !== 1)
    throw new InputError(
      `${field}: the model has ${model.inputs.length} inputs (${model.inputs.map((i) => i.name).join(', ')}); one 2-D float input is needed`,
      field,
    );
  const input = model.inputs[0];
  if (input.type !== 'float32')
    throw new InputError(`${field}: input "${input.name}" is ${input.type}, not float32`, field);
  if (!input.shape || input.shape.length !== 2)
    throw new InputError(
      `${field}: input "${input.name}" has shape [${(input.shape ?? []).map((d) => d ?? '?').join(', ')}], not 2-D [N, F]`,
      field,
    );
  if (model.outputs.length === 0) throw new InputError(`${field}: the model has no output`, field);
  return { name: input.name, width: input.shape[1] };
}

export interface BatchOutput {
  /** Row-major [rows, width] values of the model's first output. */
  readonly values: Float32Array | Float64Array;
  readonly width: number;
}

/** Rows per session.run: large enough to amortise the call, small enough to bound memory. */
export const DEFAULT_BATCH_ROWS = 65_536;

/**
 * Runs the model's first output over `rows` rows of `width` float32 values (row-major), in batches.
 * The first batch fixes the output width; each batch must give `rows` rows.
 */
export async function runBatches(
  model: OnnxModel,
  inputName: string,
  data: Float32Array,
  rows: number,
  width: number,
  batchRows = DEFAULT_BATCH_ROWS,
): Promise<BatchOutput> {
  if (rows === 0) return { values: new Float32Array(0), width: 0 };
  const ort = await loadOrt();
  const outName = model.outputs[0].name;
  let out: Float32Array | Float64Array | undefined;
  let outWidth = 0;
  for (let start = 0; start < rows; start += batchRows) {
    const n = Math.min(batchRows, rows - start);
    const x = data.subarray(start * width, (start + n) * width);
    const res = await model.session.run({ [inputName]: new ort.Tensor('float32', x, [n, width]) }, [outName]);
    const y = res[outName];
    const d = y.data;
    if (typeof d === 'string' || Array.isArray(d) || (d instanceof Uint8Array && y.type === 'bool'))
      throw new InputError(`onnx: output "${outName}" is ${y.type}, not numeric`, 'onnx');
    const w = d.length / n;
    if (!out) {
      outWidth = w;
      out = d instanceof Float32Array ? new Float32Array(rows * w) : new Float64Array(rows * w);
    }
    if (w !== outWidth || !Number.isInteger(w))
      throw new InputError(`onnx: output "${outName}" does not give one row per input row`, 'onnx');
    if (d instanceof BigInt64Array || d instanceof BigUint64Array) {
      for (let i = 0; i < d.length; i++) out[start * outWidth + i] = Number(d[i]);
    } else out.set(d as ArrayLike<number>, start * outWidth);
  }
  return { values: out!, width: outWidth };
}
