import type { Command } from 'commander';
import { InputError } from '../../errors';
import { withPlatform, type GlobalOptions } from '../context';
import { formatCsv, formatTable, printJson } from '../output';
import { oneOf } from '../options';

/** `quant query "<SQL>"`: the lake through Athena (AWS) or DuckDB (local), same table names. */
export function registerQuery(program: Command): void {
  program
    .command('query')
    .description('run SQL over the lake tables (ticks, bars, backtest_results, ...)')
    .argument('<sql>', 'the query')
    .option('--format <format>', 'table | csv | json', 'table')
    .option('--json', 'same as --format json')
    .action(runQuery);
}

async function runQuery(sql: string, opts: { format: string; json?: boolean }, cmd: Command): Promise<void> {
  const format = opts.json ? 'json' : opts.format;
  oneOf(format, '--format', ['table', 'csv', 'json']);
  await withPlatform({ ...cmd.optsWithGlobals<GlobalOptions>(), services: ['s3'] }, async (ctx) => {
    const engine = await ctx.query();
    const rows = await engine.query(sql).catch((err: unknown) => {
      // The SQL is the user's: the engine's refusal is a bad-input error, exit 2.
      if (err instanceof Error && err.name === 'QueryError') throw new InputError(err.message, 'sql');
      throw err;
    });
    if (format === 'json') printJson(rows);
    else if (format === 'csv') console.log(formatCsv(rows));
    else console.log(`${formatTable(rows)}\n(${rows.length} row${rows.length === 1 ? '' : 's'})`);
  });
}
