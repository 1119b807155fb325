import type { Command } from 'commander';
import { InputError } from '../../errors';
import { barsUpdatedDetail, publishBarsUpdated } from '../../ingest/bars-events';
import { BAR_INTERVALS, importBars, readBarsFile, type BarInterval } from '../../lake/bars';
import { withPlatform, type GlobalOptions } from '../context';
import { printJson, progressBar, type ProgressBar } from '../output';
import { oneOf } from '../options';

interface ImportOptions {
  table: string;
  file: string;
  symbol?: string;
  interval: string;
  json?: boolean;
}

/** `quant lake import`: validated, atomic, idempotent imports into the lake. */
export function registerLake(program: Command): void {
  const lake = program.command('lake').description('the data lake: import files');
  lake
    .command('import')
    .description(
      'import a CSV or Parquet file into a lake table; bad rows are reported and nothing is written',
    )
    .requiredOption('--table <name>', 'target table (bars)')
    .requiredOption('--file <path>', 'a .csv or .parquet file')
    .option('--symbol <symbol>', 'symbol for files without a symbol column')
    .option('--interval <interval>', `bar interval (${BAR_INTERVALS.join(', ')})`, '1d')
    .option('--json', 'machine-readable output')
    .action(lakeImport);
}

async function lakeImport(opts: ImportOptions, cmd: Command): Promise<void> {
  if (opts.table !== 'bars') {
    throw new InputError(
      `--table: "${opts.table}" cannot be imported from a file (supported: bars)`,
      'table',
    );
  }
  oneOf(opts.interval, '--interval', BAR_INTERVALS);
  const bars = await readBarsFile(opts.file, { symbol: opts.symbol });
  await withPlatform(cmd.optsWithGlobals<GlobalOptions>(), async (ctx) => {
    // The partition count is known once the rows are staged: create the bar on the first callback.
    let bar: ProgressBar | undefined;
    const report = await importBars(ctx, bars, {
      interval: opts.interval as BarInterval,
      onPartition: (_done, total) => {
        bar ??= progressBar('import', total, !opts.json);
        bar.tick();
      },
    });
    bar?.done();
    const symbols = [...new Set(bars.symbol)];
    if (report.rows > 0)
      await publishBarsUpdated(
        ctx.runtime,
        () => ctx.clients.eventBridge,
        barsUpdatedDetail(opts.interval, symbols, bars.ts, report.rows),
      );
    const summary = {
      table: 'bars',
      rows: report.rows,
      partitions: report.partitions,
      bytes: report.bytes,
      symbols,
      interval: opts.interval,
    };
    if (opts.json) printJson(summary);
    else
      console.log(
        `imported ${report.rows} rows of ${symbols.join(', ')} (${opts.interval}) into bars: ${report.partitions} partition(s), ${report.bytes} bytes`,
      );
  });
}
