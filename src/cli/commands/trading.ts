/** `quant paper`: paper trading of a strategy over bars through the execution path. */
import type { Command } from 'commander';
import { loadPanel } from '../../backtest/load';
import { parseParamPairs } from '../../backtest/strategies';
import { InputError, parseWith } from '../../errors';
import { algoSpecSchema, type AlgoSpec } from '../../trading/algos';
import { tradingServices } from '../../trading/context';
import { blotterRows, runPaper, utilizationRows } from '../../trading/paper';
import { summarizeTca } from '../../trading/tca';
import { writeTcaRows } from '../../trading/tca-lake';
import { withPlatform, type GlobalOptions } from '../context';
import { useModelRegistry } from '../../ml/registry/resolver';
import { EngineNewsReader } from '../../news/reader';
import { formatTable, printJson } from '../output';
import * as z from 'zod';
import { int, jsonFile, num } from '../options';

interface PaperOpts {
  strategy: string;
  bars: string[];
  param: string[];
  nav: string;
  costBps: string;
  limits?: string;
  last: string;
  algo?: string;
  json?: boolean;
}

/** `--algo '{"algo": "twap", "durationSec": 3600, "slices": 12}'`: bad specs name the field. */
function parseAlgo(v: string): AlgoSpec {
  let value: unknown;
  try {
    value = JSON.parse(v);
  } catch (err) {
    throw new InputError(`--algo: not valid JSON (${(err as Error).message})`, '--algo');
  }
  return parseWith(algoSpecSchema, value, '--algo');
}

export function registerTrading(program: Command): void {
  program
    .command('paper')
    .description('Paper-trade a strategy over bars: signals → risk → paper broker, on a simulated clock')
    .requiredOption('--strategy <name>', 'strategy (as for quant backtest)')
    .requiredOption('--bars <source...>', 'bars: CSV/Parquet files or lake:SYMBOL')
    .option('--param <k=v...>', 'strategy parameter (repeatable)', [])
    .option('--nav <money>', 'starting NAV', '1000000')
    .option('--cost-bps <bps>', 'paper broker commission, bps', '1')
    .option('--limits <file>', 'limits.json (default: sized for the strategy, see docs/trading.md)')
    .option('--last <bars>', 'trade only the last N bars (0 = all)', '250')
    .option(
      '--algo <json>',
      'work each order with TWAP/VWAP/POV/IS children (JSON spec, see docs/trading.md)',
    )
    .option('--json', 'print the result as JSON')
    .action(tradingPaper);
}

async function tradingPaper(opts: PaperOpts, cmd: Command): Promise<void> {
  const algo = opts.algo === undefined ? undefined : parseAlgo(opts.algo);
  const nav = num(opts.nav, '--nav', { min: 0 });
  if (nav === 0) throw new InputError('--nav: must be greater than 0', '--nav');
  const costBps = num(opts.costBps, '--cost-bps', { min: 0 });
  const last = int(opts.last, '--last', { min: 0 });
  const limits = opts.limits === undefined ? undefined : jsonFile(z.unknown(), opts.limits);
  const params = parseParamPairs(opts.param);
  await withPlatform(cmd.optsWithGlobals<GlobalOptions>(), async (ctx) => {
    useModelRegistry(ctx.runtime, ctx.clients.s3, () => ctx.buckets.models);
    const panel = await loadPanel(opts.bars, {
      runtime: ctx.runtime,
      query: await ctx.query(),
      align: 'intersect',
    });
    const svc = await tradingServices(ctx.clients);
    const r = await runPaper(ctx.clients, svc, {
      strategy: opts.strategy,
      params,
      panel,
      nav,
      costBps,
      limits,
      lastBars: last === 0 ? undefined : last,
      algo,
      news: new EngineNewsReader(await ctx.query()),
    });
    // Every parent's TCA goes to the lake (table tca) for `quant tca` and its calibration.
    await writeTcaRows({ clients: ctx.clients, buckets: ctx.buckets }, r.tca);
    if (opts.json) {
      printJson({ ...r, book: { ...r.book } });
      return;
    }
    console.log(`account ${r.account}: ${r.signals} signals, ${r.blotter.length} orders, state ${r.state}`);
    console.log(`NAV ${r.startNav.toFixed(2)} -> ${r.finalNav.toFixed(2)}`);
    console.log(`\norder blotter\n${formatTable(blotterRows(r.blotter))}`);
    console.log(`\nlimit utilization\n${formatTable(utilizationRows(r.utilization))}`);
    const t = summarizeTca(r.tca);
    if (t.parents > 0)
      console.log(
        `\nTCA: ${t.parents} parents, shortfall ${t.shortfallBps.toFixed(2)} bps (delay ${t.delayBps.toFixed(2)}, ` +
          `timing ${t.timingBps.toFixed(2)}, impact ${t.impactBps.toFixed(2)}, opportunity ${t.opportunityBps.toFixed(2)}): quant tca --account ${r.account}`,
      );
  });
}
