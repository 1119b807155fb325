/**
 * `quant strategy promote | show | paper`: which strategy (and model) each environment trades, and
 * paper trading of an environment's promotion through the strategy runner.
 */
import type { Command } from 'commander';
import { loadPanel } from '../../backtest/load';
import { parseParamPairs } from '../../backtest/strategies';
import { ENVIRONMENTS } from '../../contract/models';
import { InputError } from '../../errors';
import { auditSinkFor, parseEnvironment, parseModelRef, registryFor } from '../../ml/registry';
import { modelStrategyFor } from '../../ml/model-strategy';
import { paperThroughRunner } from '../../strategy-runner/paper';
import { EngineNewsReader } from '../../news/reader';
import { promoteStrategy, S3PromotionStore } from '../../strategy-runner/promotions';
import { tradingServices } from '../../trading/context';
import { blotterRows } from '../../trading/paper';
import { withPlatform, type GlobalOptions } from '../context';
import { formatTable, printJson, pairsText } from '../output';
import { cliActor } from './model-registry';
import { int } from '../options';

interface PromoteOpts {
  strategy: string;
  model?: string;
  env?: string;
  param: string[];
  json?: boolean;
}

interface PaperOpts {
  env?: string;
  bars: string[];
  last: string;
  lookback: string;
  nav: string;
  json?: boolean;
}

export async function strategyPromote(cmd: Command, opts: PromoteOpts): Promise<void> {
  const env = parseEnvironment(opts.env);
  const params = parseParamPairs(opts.param);
  const model = opts.model === undefined ? undefined : parseModelRef(opts.model, '--model');
  await withPlatform(cmd.optsWithGlobals<GlobalOptions>(), async (ctx) => {
    const r = await promoteStrategy(
      {
        store: new S3PromotionStore(ctx.clients.s3, ctx.buckets.models),
        registry: await registryFor(ctx.runtime, ctx.clients.s3, ctx.buckets.models),
        audit: auditSinkFor(ctx.runtime, ctx.clients.s3, ctx.buckets.audit),
      },
      { env, strategy: opts.strategy, params, model, actor: cliActor() },
    );
    if (opts.json) return printJson(r);
    const p = r.promotion;
    process.stdout.write(
      `${env} now trades ${p.strategy}${p.model ? ` with ${p.model.name}@${p.model.version}` : ''} (${pairsText(p.params)}), revision ${p.revision}${r.previous ? `; was ${r.previous.strategy}${r.previous.model ? ` ${r.previous.model.name}@${r.previous.model.version}` : ''}` : ''}\n`,
    );
  });
}

export async function strategyShow(cmd: Command, opts: { env?: string; json?: boolean }): Promise<void> {
  const envs = opts.env === undefined ? [...ENVIRONMENTS] : [parseEnvironment(opts.env)];
  await withPlatform(cmd.optsWithGlobals<GlobalOptions>(), async (ctx) => {
    const store = new S3PromotionStore(ctx.clients.s3, ctx.buckets.models);
    const rows = [];
    for (const env of envs) rows.push({ env, promotion: (await store.get(env)) ?? null });
    if (opts.json) return printJson(rows);
    process.stdout.write(
      `${formatTable(
        rows.map(({ env, promotion: p }) => ({
          env,
          strategy: p?.strategy ?? '-',
          model: p?.model ? `${p.model.name}@${p.model.version}` : '',
          params: p ? pairsText(p.params) : '',
          by: p?.promotedBy ?? '',
          at: p?.promotedAt.slice(0, 19).replace('T', ' ') ?? '',
        })),
      )}\n`,
    );
  });
}

export async function strategyPaper(cmd: Command, opts: PaperOpts): Promise<void> {
  const env = parseEnvironment(opts.env);
  const last = int(opts.last, '--last');
  const lookback = int(opts.lookback, '--lookback', { min: 2 });
  const nav = Number(opts.nav);
  if (!(nav > 0))
    throw new InputError(`--nav: must be a number > 0, got ${JSON.stringify(opts.nav)}`, '--nav');
  await withPlatform(cmd.optsWithGlobals<GlobalOptions>(), async (ctx) => {
    const panel = await loadPanel(opts.bars, {
      runtime: ctx.runtime,
      query: await ctx.query(),
      align: 'intersect',
    });
    const registry = await registryFor(ctx.runtime, ctx.clients.s3, ctx.buckets.models);
    const r = await paperThroughRunner(
      {
        clients: ctx.clients,
        svc: await tradingServices(ctx.clients),
        promotions: new S3PromotionStore(ctx.clients.s3, ctx.buckets.models),
        registry,
        modelStrategy: modelStrategyFor(ctx.runtime),
        news: new EngineNewsReader(await ctx.query()),
      },
      { env, panel, lastBars: last, lookback, nav },
    );
    if (opts.json) return printJson(r);
    console.log(
      `${env} via the strategy runner: ${r.strategy}${r.modelVersion !== undefined ? ` (model version ${r.modelVersion})` : ''}, account ${r.account}: ${r.bars} bars, ${r.signals} signals, ${r.blotter.length} orders`,
    );
    console.log(`NAV ${r.startNav.toFixed(2)} -> ${r.finalNav.toFixed(2)}`);
    console.log(`\norder blotter\n${formatTable(blotterRows(r.blotter))}`);
  });
}

export function registerStrategy(program: Command): void {
  const strategy = program
    .command('strategy')
    .description('Promotion of strategies (and models) to environments; the strategy runner');
  strategy
    .command('promote')
    .description('Record the strategy (and model version) an environment trades, with an audit event')
    .requiredOption('--strategy <name>', 'strategy (as for quant backtest)')
    .option('--model <name@version>', 'model version (model strategies: it must be approved for --env)')
    .option('--env <env>', 'paper | staging | prod')
    .option('--param <k=v...>', 'strategy parameter (repeatable)', [])
    .option('--json', 'print JSON')
    .action((opts: PromoteOpts, cmd: Command) => strategyPromote(cmd, opts));
  strategy
    .command('show')
    .description('What each environment trades')
    .option('--env <env>', 'only this environment')
    .option('--json', 'print JSON')
    .action((opts: { env?: string; json?: boolean }, cmd: Command) => strategyShow(cmd, opts));
  strategy
    .command('paper')
    .description(
      "Paper-trade an environment's promotion bar by bar through the strategy runner, risk and the paper broker",
    )
    .option('--env <env>', 'paper | staging | prod', 'paper')
    .requiredOption('--bars <source...>', 'bars: CSV/Parquet files or lake:SYMBOL')
    .option('--last <bars>', 'trade only the last N bars', '250')
    .option('--lookback <bars>', 'bars of history the runner gives the strategy at each bar', '400')
    .option('--nav <money>', 'starting NAV', '1000000')
    .option('--json', 'print JSON')
    .action((opts: PaperOpts, cmd: Command) => strategyPaper(cmd, opts));
}
