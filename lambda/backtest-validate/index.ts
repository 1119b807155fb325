/**
 * Sweep state machine, step 1: validates the request (schema, strategy, grid, filter, size cap,
 * every parameter set) and returns it normalised with its sweep id and ranking query. Bad input
 * fails with error `InputError`, which the state machine turns into a clear failed execution.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { validateSweepRequest, type ValidatedSweep } from '../../src/sweep/request';
import { requiredIntEnv } from '../../src/sweep/env';

const MAX_GRID_SIZE = requiredIntEnv(process.env, 'MAX_GRID_SIZE');
const TOP_N = requiredIntEnv(process.env, 'TOP_N');
const logger = new Logger();

export const handler = async (event: unknown): Promise<ValidatedSweep> => {
  const { sweep } = validateSweepRequest(event, {
    maxGridSize: MAX_GRID_SIZE,
    defaultTopN: TOP_N,
    allowFileBars: false,
  });
  logger.info('sweep validated', {
    sweepId: sweep.sweepId,
    strategy: sweep.strategy,
    items: sweep.itemCount,
  });
  return sweep;
};
