/**
 * Names shared by the sweep state machine (lib/stacks/backtest-stack.ts) and the runtime that runs
 * the same definition locally (src/sweep/state-machine.ts binds its Task states by these names).
 * Imports nothing.
 */

export const SWEEP_STATES = {
  validate: 'Validate request',
  manifest: 'Write manifest',
  map: 'Run batches',
  runTask: 'Run backtest batch',
  aggregate: 'Aggregate results',
  publish: 'Publish ranking',
  notify: 'Notify',
} as const;

/** Name of the backtest container in the task definition (the state machine overrides its environment). */
export const BACKTEST_CONTAINER_NAME = 'backtest';

/** Environment variables of the validate and manifest functions. */
export const SWEEP_ENV = {
  /** Most parameter sets one sweep may expand to. */
  maxGridSize: 'MAX_GRID_SIZE',
  /** Rows of the published ranking when the request names none. */
  topN: 'TOP_N',
} as const;

/** Environment of one backtest batch task: the state machine sets it, src/sweep/task.ts reads it. */
export const SWEEP_TASK_ENV = {
  sweepId: 'SWEEP_ID',
  strategy: 'STRATEGY',
  /** Bars source (a lake URI or a file). */
  bars: 'BARS',
  costBps: 'COST_BPS',
  /** The batch's parameter sets (JSON array). */
  batchItems: 'BATCH_ITEMS',
} as const;
