/**
 * What `npm start` calls after the import: a sweep through the local run of the deployed state
 * machine, then the best five. The demo writes the HTML report of the best parameter set with
 * the engine's report writer (it has the strategy and params here).
 */
import type { AwsClients, Runtime } from '../aws/clients';
import type { Row } from '../lake/query';
import { runSweepStateMachineLocally } from './state-machine';

export interface DemoSweepResult {
  readonly sweepId: string;
  readonly strategy: string;
  readonly bars: string;
  /** Parameter sets in the grid, run now and skipped (already in the lake from an earlier run). */
  readonly total: number;
  readonly ran: number;
  readonly batches: number;
  /** The best five, ranked by Sharpe (rows of backtest_results). */
  readonly top5: Row[];
  /** Parameters of the best set, ready for runBacktest / the HTML report. */
  readonly best: { readonly strategy: string; readonly params: Record<string, number | boolean> } | undefined;
  /** Key of the ranked top-N object in the results bucket. */
  readonly rankingKey: string;
}

/**
 * A sma-cross sweep over `bars` (default the demo's S&P 500 import, lake:SPX) through the
 * synthesized sweep state machine: fast 5..50 step 5 x slow 20..200 step 20 with fast < slow.
 */
export async function runDemoSweep(opts: {
  readonly runtime: Extract<Runtime, { mode: 'local' }>;
  readonly clients?: AwsClients;
  /** @default 'lake:SPX' */
  readonly bars?: string;
  readonly onEvent?: (event: { type: string; state?: { name: string } }) => void;
}): Promise<DemoSweepResult> {
  const bars = opts.bars ?? 'lake:SPX';
  const r = await runSweepStateMachineLocally({
    runtime: opts.runtime,
    clients: opts.clients,
    request: {
      strategy: 'sma-cross',
      bars,
      grid: ['fast=5:50:5', 'slow=20:200:20'],
      where: 'fast<slow',
      costBps: 1,
      topN: 10,
    },
    // A laptop: a few bigger batches instead of a fleet of small tasks.
    maxItemsPerBatch: 25,
    onEvent: opts.onEvent,
  });
  const first = r.top[0];
  return {
    sweepId: r.sweepId,
    strategy: 'sma-cross',
    bars,
    total: r.manifest.items + r.manifest.skipped,
    ran: r.manifest.items,
    batches: r.batches.total,
    top5: r.top.slice(0, 5),
    best: first
      ? {
          strategy: 'sma-cross',
          params: JSON.parse(String(first.params)) as Record<string, number | boolean>,
        }
      : undefined,
    rankingKey: r.ranking.key,
  };
}
