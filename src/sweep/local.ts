/**
 * Local sweeps: every core (worker threads), one Parquet object per batch in the results zone,
 * resumable (parameter sets already in the lake are skipped), and a failed batch never loses the
 * results of the others (it is reported and retried by the next run).
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { createClients, type AwsClients, type Runtime } from '../aws/clients';
// Modules, not the src/backtest and src/lake barrels: those load DuckDB, which a local sweep
// no longer needs (results are encoded in JS and ranked by rank.ts).
import { loadBars } from '../backtest/load';
import { asPanel, type Bars, type Panel } from '../backtest/types';
import { entryPoint } from '../entry-points';
import { lakeBuckets, type LakeBuckets } from '../lake/buckets';
import type { Row } from '../lake/query';
import { resolveModelRefs } from '../ml/inference/resolver';
import { readModelDir } from '../ml/inference/model-dir';
import { attachModelInputs } from '../ml/model-inputs';
import type { NewsReader } from '../news/reader';
import { evaluateBatch, type ResultRow } from './evaluate';
import { batches, type ParamSet } from './grid';
import { rankRows, RANKING_COLUMNS } from './rank';
import { validateSweepRequest, type SweepRequest, type ValidatedSweep } from './request';
import { batchIdFor, completedParamSetIds, readSweepRows, type ResultsTarget } from './results';
import { writeBatchResults } from './results-writer';
import type { WorkerInit, WorkerReply, WorkerRequest } from './worker';

export interface SweepPlan {
  readonly sweepId: string;
  readonly strategy: string;
  readonly barsSource: string;
  readonly costBps: number;
  readonly items: readonly ParamSet[];
}

export interface FailedBatch {
  readonly batchId: string;
  readonly items: number;
  readonly error: string;
}

export interface SweepOutcome {
  readonly sweepId: string;
  readonly strategy: string;
  /** Parameter sets in the grid. */
  readonly total: number;
  /** Already in the lake before this run (resume). */
  readonly skipped: number;
  /** Evaluated and written by this run. */
  readonly written: number;
  readonly batches: number;
  readonly failedBatches: readonly FailedBatch[];
  readonly keys: readonly string[];
}

export interface ExecuteOptions {
  readonly target: ResultsTarget;
  /** A panel when the models need side data (news sentiment) beside the bars. */
  readonly bars: Bars | Panel;
  /** Directories of the registry versions the parameter sets name (see resolveModelRefs). */
  readonly models?: Readonly<Record<string, string>>;
  /** @default this thread when (sets to run) x bars <= INLINE_WORK, else os.availableParallelism() */
  readonly workers?: number;
  /**
   * Parameter sets per batch (one Parquet object each). @default about 4 batches per worker, at
   * most 500; inline (see INLINE_WORK), up to 5,000
   */
  readonly batchSize?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

/**
 * Work (parameter sets x bars) below which a sweep runs on this thread when no worker count is
 * given: about 0.3 s of kernel time, less than starting worker threads costs (each loads the
 * engine anew). The 4,851-set grid over 5,105 daily bars (24.8M) runs inline.
 */
export const INLINE_WORK = 40_000_000;
/** Parameter sets per batch (one results object each) of an inline sweep. @see INLINE_WORK */
const INLINE_BATCH = 5_000;

/** Runs the parameter sets of a plan that are not done yet on worker threads and writes each batch. */
export async function executeSweep(plan: SweepPlan, opts: ExecuteOptions): Promise<SweepOutcome> {
  const done = await completedParamSetIds(opts.target, plan.strategy, plan.sweepId);
  const todo = plan.items.filter((i) => !done.has(i.id));
  const skipped = plan.items.length - todo.length;
  const workerCount = Math.max(1, opts.workers ?? os.availableParallelism());
  const inline = opts.workers === undefined && todo.length * opts.bars.close.length <= INLINE_WORK;
  // Inline, a batch is only the unit written: few large ones (each SMA computed once per batch,
  // one PUT each) instead of the workers' queue of small ones.
  const size =
    opts.batchSize ??
    (inline
      ? Math.min(INLINE_BATCH, Math.max(1, todo.length))
      : Math.min(500, Math.max(1, Math.ceil(todo.length / (workerCount * 4)))));
  const queue: WorkerRequest[] =
    todo.length === 0
      ? []
      : batches(todo, size).map((b) => ({ batchId: batchIdFor(b.map((i) => i.id)), items: b }));
  const total = queue.length;
  const failed: FailedBatch[] = [];
  const keys: string[] = [];
  let written = 0;
  let finished = 0;
  const report = () => ({
    sweepId: plan.sweepId,
    strategy: plan.strategy,
    total: plan.items.length,
    skipped,
    written,
    batches: total,
    failedBatches: failed,
    keys,
  });
  /** A batch that yields no rows: counted as finished. */
  const fail = (batchId: string, items: number, error: string): void => {
    failed.push({ batchId, items, error });
    opts.onProgress?.(++finished, total);
  };
  if (total === 0) return report();

  // Writes run off the workers' critical path, two at a time (each is one DuckDB COPY + one PUT).
  const lanes = [Promise.resolve(), Promise.resolve()];
  let lane = 0;
  const write = (batchId: string, rows: Extract<WorkerReply, { ok: true }>['rows']): void => {
    const i = lane++ % lanes.length;
    lanes[i] = lanes[i].then(async () => {
      try {
        const key = await writeBatchResults(
          opts.target,
          { strategy: plan.strategy, sweepId: plan.sweepId, batchId },
          rows,
        );
        if (key) keys.push(key);
        written += rows.length;
      } catch (err) {
        fail(batchId, rows.length, `write failed: ${err instanceof Error ? err.message : String(err)}`);
        return;
      }
      opts.onProgress?.(++finished, total);
    });
  };

  const init: WorkerInit = {
    bars: opts.bars,
    models: opts.models,
    spec: { strategy: plan.strategy, barsSource: plan.barsSource, costBps: plan.costBps },
  };
  if (inline) {
    for (const req of queue) {
      let rows: ResultRow[];
      try {
        rows = await evaluateBatch(init.bars, init.spec, req.items);
      } catch (err) {
        fail(req.batchId, req.items.length, err instanceof Error ? err.message : String(err));
        continue;
      }
      write(req.batchId, rows);
    }
    await Promise.all(lanes);
    return report();
  }
  await new Promise<void>((resolve) => {
    let next = 0;
    let active = 0;
    const start = (): void => {
      const worker = new Worker(entryPoint('sweep-worker'), { workerData: init });
      let current: WorkerRequest | undefined;
      active++;
      const feed = (): void => {
        current = queue[next++];
        if (current) worker.postMessage(current);
        else void worker.terminate();
      };
      worker.on('message', (reply: WorkerReply) => {
        if (reply.ok) write(reply.batchId, reply.rows);
        else fail(reply.batchId, current?.items.length ?? 0, reply.error);
        feed();
      });
      worker.on('error', (err) => {
        // A crashed worker loses only its current batch; a fresh worker takes over the queue.
        if (current) {
          fail(current.batchId, current.items.length, `worker crashed: ${err.message}`);
          current = undefined;
        }
      });
      worker.on('exit', () => {
        active--;
        if (next < queue.length && active < workerCount) start();
        else if (active === 0) resolve();
      });
      worker.once('online', feed);
    };
    for (let i = 0; i < Math.min(workerCount, queue.length); i++) start();
  });
  await Promise.all(lanes);
  return report();
}

export interface LocalSweepOptions {
  readonly runtime: Runtime;
  readonly request: SweepRequest;
  /** @default created from the runtime (and destroyed at the end) */
  readonly clients?: AwsClients;
  /** @default lakeBuckets(runtime, process.env) */
  readonly buckets?: LakeBuckets;
  /** @default DEFAULT_MAX_GRID_SIZE */
  readonly maxGridSize?: number;
  /** Worker threads. @default this thread for small sweeps (INLINE_WORK), else all cores */
  readonly workers?: number;
  readonly batchSize?: number;
  readonly tmpDir?: string;
  readonly onProgress?: (done: number, total: number) => void;
  /** Reader of the lake's news_sentiment, for models on feature set version 2 (src/ml/model-inputs.ts). */
  readonly news?: () => NewsReader | Promise<NewsReader>;
}

export interface LocalSweepResult extends SweepOutcome {
  readonly sweep: ValidatedSweep;
  /** Ranked best parameter sets (the same query the state machine's aggregate step runs). */
  readonly top: Row[];
  /** Every parameter set's row (RANKING_COLUMNS), unranked: the sweep report's heat map. */
  readonly rows: readonly Record<string, unknown>[];
}

/**
 * `quant backtest sweep` without `--remote`, and the demo's entry point: validates the request,
 * runs what is not done yet on all cores, writes results to `backtest_results` and ranks them.
 */
export async function runLocalSweep(opts: LocalSweepOptions): Promise<LocalSweepResult> {
  const { sweep, items } = validateSweepRequest(opts.request, { maxGridSize: opts.maxGridSize });
  const clients = opts.clients ?? createClients(opts.runtime);
  try {
    const target: ResultsTarget = {
      clients,
      buckets: opts.buckets ?? lakeBuckets(opts.runtime, process.env),
      tmpDir: opts.tmpDir,
    };
    const bars = await loadBars(sweep.bars, { runtime: opts.runtime });
    // Registry versions resolve in this thread (the installed resolver); workers get the directories.
    const models = await resolveModelRefs(items.flatMap((i) => Object.values(i.params)));
    // Models on feature set version 2 score on the lake's news sentiment, read once here.
    const refs = [
      ...new Set(items.flatMap((i) => (typeof i.params.model === 'string' ? [i.params.model] : []))),
    ];
    const needs = refs.map((model) => ({
      model,
      features: readModelDir(models[model] ?? model, 'param.model').features,
    }));
    let input: Bars | Panel = bars;
    if (needs.length > 0) {
      const panel = asPanel(bars);
      const withNews = await attachModelInputs(panel, needs, () => opts.news?.());
      if (withNews !== panel) input = withNews;
    }
    const outcome = await executeSweep(
      {
        sweepId: sweep.sweepId,
        strategy: sweep.strategy,
        barsSource: sweep.bars,
        costBps: sweep.costBps,
        items,
      },
      {
        target,
        bars: input,
        models,
        workers: opts.workers,
        batchSize: opts.batchSize,
        onProgress: opts.onProgress,
      },
    );
    // The ranking query (sweep.rankingQuery) in JS over the sweep's objects in the lake: the
    // same rows and order, without starting a query engine for one query.
    const rows = await readSweepRows(target, sweep.strategy, sweep.sweepId, [...RANKING_COLUMNS]);
    return { ...outcome, sweep, top: rankRows(rows, sweep.rankBy, sweep.topN) as Row[], rows };
  } finally {
    if (!opts.clients) clients.destroy();
  }
}
