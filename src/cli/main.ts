import { Command, CommanderError } from 'commander';
import { InputError } from '../errors';
import { registerLocal } from './commands/local';
import { registerLake } from './commands/lake';
import { registerQuery } from './commands/query';
import { registerDemo } from './commands/demo';
import { registerRisk } from './commands/risk';
import { registerTrading } from './commands/trading';
import { registerFeed } from './commands/feed';
import { registerBacktest } from './commands/backtest';
import { registerBacktestSweep } from './commands/backtest-sweep';
import { registerSync } from './commands/sync';
import { registerIngest } from './commands/ingest';

/** Builds the `quant` program. Each area registers its own sub-commands. */
export function buildProgram(): Command {
  const program = new Command('quant')
    .description('Quant platform CLI: local cloud, data lake, backtests, risk, ingestion, feeds, vendor sync')
    .option('--data-dir <dir>', 'local cloud state directory (default .quant, or $QUANT_DATA_DIR)')
    .option(
      '--aws',
      'use AWS (standard credentials, region and the stack outputs in env) instead of the local cloud',
    )
    .showHelpAfterError()
    .exitOverride();
  registerLocal(program);
  registerLake(program);
  registerQuery(program);
  registerDemo(program);
  registerRisk(program);
  registerTrading(program);
  registerFeed(program);
  registerBacktest(program);
  registerBacktestSweep(program);
  registerSync(program);
  registerIngest(program);
  return program;
}

/** Runs the CLI; returns the process exit code (0 ok, 2 bad input, 1 other failure). */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[]);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof InputError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    const detail =
      err instanceof Error
        ? process.env.QUANT_DEBUG
          ? (err.stack ?? err.message)
          : err.message
        : String(err);
    process.stderr.write(`error: ${detail}\n`);
    return 1;
  }
}
