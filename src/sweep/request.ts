/**
 * A sweep request (the state machine's input, the CLI's options) and its validation: schema,
 * strategy, grid, filter, size cap and every parameter set checked before anything runs.
 */
import * as z from 'zod';
// Not the src/backtest barrel: it loads the bar loaders (DuckDB), which the Lambda steps must not.
import { getStrategy, parseStrategyParams } from '../backtest/strategies';
import { describeZodIssues, InputError } from '../errors';
import {
  canonicalParams,
  DEFAULT_MAX_GRID_SIZE,
  expandGrid,
  isTextValue,
  parseGrid,
  sweepIdFor,
  type ParamSet,
  type Params,
} from './grid';
import { RANK_METRICS, type RankMetric } from './rank';
import { checkPartitionValue } from './results';

/** Parameters fixed for every grid point: numbers, booleans, or text (a model version, a path). */
export const sweepParamsSchema = z.record(
  z.string(),
  z.union([z.number(), z.boolean(), z.string().max(1024).refine(isTextValue, 'not a text value')]),
);

export const sweepRequestSchema = z
  .object({
    strategy: z.string().min(1),
    /** `lake:SYMBOL` (also a file path when the sweep runs on this machine). */
    bars: z.string().min(1).max(1024),
    /** `--grid` arguments, e.g. `["fast=2:100", "slow=2:100"]`. */
    grid: z.array(z.string().min(1).max(10_000)).min(1).max(20),
    where: z.string().max(500).optional(),
    costBps: z.number().min(0).max(10_000).optional(),
    /** Parameters fixed for every grid point. */
    params: sweepParamsSchema.optional(),
    sweepId: z.string().optional(),
    topN: z.number().int().min(1).max(1000).optional(),
    rankBy: z.enum(RANK_METRICS).optional(),
  })
  .strict();

export type SweepRequest = z.input<typeof sweepRequestSchema>;

/** A validated, normalised request: what the rest of the state machine works with. */
export interface ValidatedSweep {
  readonly sweepId: string;
  readonly strategy: string;
  readonly bars: string;
  readonly grid: readonly string[];
  readonly where: string | null;
  readonly costBps: number;
  readonly params: Params;
  readonly itemCount: number;
  readonly topN: number;
  readonly rankBy: RankMetric;
  /** The aggregate step's query (Athena in AWS, DuckDB locally: the same SQL). */
  readonly rankingQuery: string;
}

export interface SweepLimits {
  /** @default DEFAULT_MAX_GRID_SIZE */
  readonly maxGridSize?: number;
  /** @default 10 */
  readonly defaultTopN?: number;
  /** File paths as bars are only meaningful on this machine (not in Lambda/ECS). @default true */
  readonly allowFileBars?: boolean;
}

const LAKE_SOURCE = /^lake:[A-Za-z0-9._-]{1,64}$/;

/**
 * Expands the grid and checks every parameter set with the strategy's schema, so a bad point
 * (e.g. fast >= slow without a `--where`) is reported before any batch runs.
 */
export function planParamSets(opts: {
  readonly strategy: string;
  readonly grid: readonly string[];
  readonly where?: string | null;
  readonly params?: Params;
  readonly maxGridSize?: number;
}): ParamSet[] {
  getStrategy(opts.strategy);
  const items = expandGrid({
    strategy: opts.strategy,
    axes: parseGrid(opts.grid),
    where: opts.where ?? undefined,
    fixed: opts.params,
    maxGridSize: opts.maxGridSize,
  });
  for (const item of items) {
    try {
      parseStrategyParams(opts.strategy, item.params as Record<string, number | boolean>);
    } catch (err) {
      if (err instanceof InputError) {
        throw new InputError(
          `grid point ${canonicalParams(item.params)}: ${err.message}${opts.where ? '' : ' (a --where filter can exclude such points)'}`,
          err.field ?? 'grid',
        );
      }
      throw err;
    }
  }
  return items;
}

/** The ranking query of a sweep; ids are checked to a safe character set, so no quoting issues. */
export function rankingQuery(
  strategy: string,
  sweepId: string,
  topN: number,
  rankBy: RankMetric = 'sharpe',
): string {
  checkPartitionValue('strategy', strategy);
  checkPartitionValue('sweepId', sweepId);
  if (!RANK_METRICS.includes(rankBy))
    throw new InputError(`rankBy: must be one of ${RANK_METRICS.join(', ')}`, 'rankBy');
  if (!Number.isInteger(topN) || topN < 1)
    throw new InputError(`topN: must be a positive integer, got ${topN}`, 'topN');
  return [
    'SELECT param_set_id, params, total_return, cagr, sharpe, sortino, max_drawdown, calmar, volatility, trades, exposure',
    'FROM backtest_results',
    `WHERE strategy = '${strategy}' AND sweep_id = '${sweepId}'`,
    `ORDER BY ${rankBy} DESC NULLS LAST, total_return DESC NULLS LAST, param_set_id`,
    `LIMIT ${topN}`,
  ].join('\n');
}

/** Validates a request (throws InputError naming the field); returns it normalised and its items. */
export function validateSweepRequest(
  raw: unknown,
  limits: SweepLimits = {},
): { sweep: ValidatedSweep; items: ParamSet[] } {
  const parsed = sweepRequestSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new InputError(
      describeZodIssues(parsed.error.issues),
      first.path.map(String).join('.') || 'request',
    );
  }
  const r = parsed.data;
  if (!(limits.allowFileBars ?? true) && !LAKE_SOURCE.test(r.bars)) {
    throw new InputError(`bars: "${r.bars}" must be lake:SYMBOL when the sweep runs in AWS`, 'bars');
  }
  const maxGridSize = limits.maxGridSize ?? DEFAULT_MAX_GRID_SIZE;
  const items = planParamSets({
    strategy: r.strategy,
    grid: r.grid,
    where: r.where,
    params: r.params,
    maxGridSize,
  });
  const sweepId = checkPartitionValue(
    'sweepId',
    r.sweepId ??
      sweepIdFor({
        strategy: r.strategy,
        bars: r.bars,
        axes: parseGrid(r.grid),
        where: r.where,
        costBps: r.costBps,
        fixed: r.params,
      }),
  );
  const topN = r.topN ?? limits.defaultTopN ?? 10;
  const rankBy = r.rankBy ?? 'sharpe';
  return {
    items,
    sweep: {
      sweepId,
      strategy: r.strategy,
      bars: r.bars,
      grid: r.grid,
      where: r.where ?? null,
      costBps: r.costBps ?? 0,
      params: r.params ?? {},
      itemCount: items.length,
      topN,
      rankBy,
      rankingQuery: rankingQuery(r.strategy, sweepId, topN, rankBy),
    },
  };
}
