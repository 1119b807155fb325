/**
 * Worker thread of a local sweep: receives the bars once, then batches of parameter sets, and
 * answers each batch with its result rows or its error (a failed batch never stops the worker).
 * Started from the build (dist/sweep-worker.js, see src/entry-points.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Bars, Panel } from '../backtest';
import { pinnedModelResolver, setModelResolver } from '../ml/inference/resolver';
import { evaluateBatch, type BatchSpec } from './evaluate';
import type { ParamSet } from './grid';

export interface WorkerInit {
  readonly bars: Bars | Panel;
  readonly spec: BatchSpec;
  /** Directories of registry model versions, resolved by the thread that started the worker. */
  readonly models?: Readonly<Record<string, string>>;
}
export interface WorkerRequest {
  readonly batchId: string;
  readonly items: readonly ParamSet[];
}
export type WorkerReply =
  | { readonly batchId: string; readonly ok: true; readonly rows: Awaited<ReturnType<typeof evaluateBatch>> }
  | { readonly batchId: string; readonly ok: false; readonly error: string; readonly field?: string };

const init = workerData as WorkerInit;
if (init.models && Object.keys(init.models).length > 0) setModelResolver(pinnedModelResolver(init.models));
parentPort!.on('message', async (req: WorkerRequest) => {
  try {
    const rows = await evaluateBatch(init.bars, init.spec, req.items);
    parentPort!.postMessage({ batchId: req.batchId, ok: true, rows } satisfies WorkerReply);
  } catch (err) {
    parentPort!.postMessage({
      batchId: req.batchId,
      ok: false,
      error: err instanceof Error ? err.message : String(err),
      field: (err as { field?: string }).field,
    } satisfies WorkerReply);
  }
});
