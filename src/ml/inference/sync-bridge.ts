/**
 * Synchronous ONNX inference for synchronous callers (a strategy's `positions` is synchronous, see
 * src/backtest/strategies/types.ts): onnxruntime's API is asynchronous, so a worker thread owns the
 * sessions and this thread blocks in Atomics.wait until the worker's answer is on the port
 * (the same wait protocol as src/feed/packet-ring.ts). The worker is unreferenced: it never keeps
 * the process alive.
 */
import { createRequire } from 'node:module';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { InputError } from '../../errors';
import { ORT_MODULE, type TensorInfo } from './session';

/** Plain CommonJS run with `eval`: no file to locate when the code is bundled or run under tsx. */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
const { port, flag } = workerData;
const sessions = new Map();
const info = (m) => m.isTensor
  ? { name: m.name, type: String(m.type), shape: m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : null)) }
  : { name: m.name, type: 'non-tensor', shape: null };
function reply(msg, transfer) {
  port.postMessage(msg, transfer || []);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}
port.on('message', async (m) => {
  try {
    if (m.op === 'load') {
      const s = await ort.InferenceSession.create(m.bytes, {
        intraOpNumThreads: m.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3,
      });
      sessions.set(m.id, s);
      reply({ ok: true, inputs: s.inputMetadata.map(info), outputs: s.outputMetadata.map(info) });
    } else if (m.op === 'run') {
      const s = sessions.get(m.id);
      const outName = s.outputNames[0];
      const out = new Float32Array(m.rows * m.outWidth);
      let width = -1;
      for (let start = 0; start < m.rows; start += m.batch) {
        const n = Math.min(m.batch, m.rows - start);
        const x = m.data.subarray(start * m.width, (start + n) * m.width);
        const r = await s.run({ [m.input]: new ort.Tensor('float32', x, [n, m.width]) }, [outName]);
        const y = r[outName].data;
        const w = y.length / n;
        if (width < 0) width = w;
        if (w !== width || w !== m.outWidth) throw new Error('output ' + outName + ' has ' + w + ' values per row, expected ' + m.outWidth);
        out.set(y, start * w);
      }
      reply({ ok: true, values: out }, [out.buffer]);
    } else if (m.op === 'drop') {
      sessions.delete(m.id);
      reply({ ok: true });
    }
  } catch (err) {
    reply({ ok: false, error: String(err && err.message ? err.message : err).split('\\n')[0].slice(0, 300) });
  }
});
`;

interface Reply {
  ok: boolean;
  error?: string;
  inputs?: TensorInfo[];
  outputs?: TensorInfo[];
  values?: Float32Array;
}

/** Longest a single call may block. */
const CALL_TIMEOUT_MS = 300_000;

let bridge: { worker: Worker; port: MessagePort; flag: Int32Array } | undefined;
let nextId = 1;

function start(): NonNullable<typeof bridge> {
  if (bridge) return bridge;
  const { port1, port2 } = new MessageChannel();
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const ortPath = createRequire(import.meta.url).resolve(ORT_MODULE);
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { port: port2, flag, ortPath },
    transferList: [port2],
  });
  worker.unref();
  port1.unref();
  worker.on('error', () => {
    bridge = undefined;
  });
  bridge = { worker, port: port1, flag };
  return bridge;
}

function call(msg: Record<string, unknown>, transfer: ArrayBuffer[] = []): Reply {
  const b = start();
  Atomics.store(b.flag, 0, 0);
  b.port.postMessage(msg, transfer);
  const r = Atomics.wait(b.flag, 0, 0, CALL_TIMEOUT_MS);
  if (r === 'timed-out')
    throw new Error(`onnx: inference worker did not answer within ${CALL_TIMEOUT_MS} ms`);
  const got = receiveMessageOnPort(b.port);
  if (!got) throw new Error('onnx: inference worker signalled without a reply');
  return got.message as Reply;
}

/** A model held by the worker, run synchronously. */
export class SyncOnnxModel {
  private constructor(
    private readonly id: number,
    readonly inputs: readonly TensorInfo[],
    readonly outputs: readonly TensorInfo[],
  ) {}

  /** Loads the model bytes; a model onnxruntime cannot read is an InputError naming `field`. */
  static load(bytes: Uint8Array, field = 'model', threads = 1): SyncOnnxModel {
    const id = nextId++;
    const copy = new Uint8Array(bytes);
    const r = call({ op: 'load', id, bytes: copy, threads }, [copy.buffer]);
    if (!r.ok) throw new InputError(`${field}: not a valid ONNX model (${r.error})`, field);
    return new SyncOnnxModel(id, r.inputs!, r.outputs!);
  }

  /** The first output over `rows` rows of `width` values (row-major), `outWidth` values per row. */
  run(
    input: string,
    data: Float32Array,
    rows: number,
    width: number,
    outWidth: number,
    batch = 65_536,
  ): Float32Array {
    if (rows === 0) return new Float32Array(0);
    const r = call({ op: 'run', id: this.id, input, data, rows, width, outWidth, batch });
    if (!r.ok) throw new InputError(`model: inference failed (${r.error})`, 'model');
    return r.values!;
  }

  dispose(): void {
    call({ op: 'drop', id: this.id });
  }
}
