/**
 * Sweep state machine, step 1: validates the request (schema, strategy, grid, filter, size cap,
 * every parameter set) and returns it normalised with its sweep id and ranking query. Bad input
 * fails with error `InputError`, which the state machine turns into a clear failed execution.
 */
import { instrumented, powertools } from '../../src/aws/powertools';
import { readEnv } from '../../src/contract/env';
import { BACKTEST_VALIDATE_ENV } from '../../src/contract/functions';
import { validateSweepRequest } from '../../src/sweep/request';

const env = readEnv(BACKTEST_VALIDATE_ENV);
const tools = powertools();

export const handler = instrumented(tools, async (event: unknown) => {
  const { sweep } = validateSweepRequest(event, {
    maxGridSize: env.maxGridSize,
    defaultTopN: env.topN,
    allowFileBars: false,
  });
  tools.logger.info('sweep validated', {
    sweepId: sweep.sweepId,
    strategy: sweep.strategy,
    items: sweep.itemCount,
  });
  return sweep;
});
