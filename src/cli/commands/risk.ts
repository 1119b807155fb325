/** `quant risk ...`: pre-trade checks from files, and the trading state (halt, resume, status). */
import path from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../../errors';
import { checkOrder } from '../../risk/engine';
import { checkId } from '../../risk/ids';
import { orderSchema, portfolioSchema, riskConfigSchema } from '../../risk/schemas';
import { ReturnsWindow } from '../../risk/var';
import { parseShocks, StressBook, type StressResult } from '../../risk/stress';
import {
  readSp500,
  resolveScenarios,
  reverseStress,
  stressReport,
  scenariosFileSchema,
  type ReverseStress,
  type ScenarioResult,
} from '../../risk/stress-scenarios';
import { returnsFromPanel, returnsWindowSchema, writeReturnsWindow } from '../../risk/returns-source';
import { loadPanel } from '../../backtest/load';
import { changeState, tradingServices } from '../../trading/context';
import { withPlatform, type GlobalOptions, type PlatformContext } from '../context';
import { formatTable, printJson, writeFileAtomic } from '../output';
import { renderStressReport, shockText } from '../../risk/stress-report';
import * as z from 'zod';
import { collect, int, jsonFile, listOf } from '../options';

interface CheckOpts {
  limits: string;
  portfolio: string;
  order: string;
  returns?: string;
  resize?: boolean;
  json?: boolean;
}

/** `quant risk ...`: registration only; each sub-command's handler follows. */
export function registerRisk(program: Command): void {
  const risk = program
    .command('risk')
    .description('Pre-trade risk checks and the trading state (kill switch)');

  risk
    .command('check')
    .description('Check one order against a portfolio and limits: approve, reject or resize')
    .requiredOption('--limits <file>', 'limits.json: securities and limits')
    .requiredOption('--portfolio <file>', 'portfolio.json: nav, state, positions')
    .requiredOption('--order <file>', 'order.json: symbol, side, qty, price')
    .option('--resize', 'resize an order that breaches only quantity-dependent rules')
    .option(
      '--returns <file>',
      'returns.json: {"SYMBOL": [daily returns, aligned]} for varBudget / maxCorrelatedExposure',
    )
    .option('--json', 'print the decision as JSON')
    .action(riskCheck);

  stateCommand(risk, 'halt', 'Kill switch: HALTED, no orders at all until an explicit resume');
  stateCommand(risk, 'reduce', 'REDUCING: only orders that reduce an absolute position');
  stateCommand(risk, 'resume', 'Clear a halt or reduce-only state (needs --actor and --reason)');

  risk
    .command('returns')
    .description(
      'publish the returns window of the VaR and correlation rules for an account, from daily bars in the lake',
    )
    .requiredOption(
      '--account <id>',
      'account (the window is risk/returns/<account>.json in the curated zone)',
    )
    .requiredOption('--symbols <list>', 'comma-separated symbols with daily bars in the lake')
    .option('--days <n>', 'returns in the window (the most recent, aligned across the symbols)', '250')
    .option('--json', 'print where it was written and its size as JSON')
    .action(riskReturns);

  risk
    .command('status')
    .description('Trading state of an account (and a strategy), and the effective state')
    .requiredOption('--account <id>', 'account')
    .option('--strategy <id>', 'strategy')
    .option('--json', 'print JSON')
    .action(riskStatus);

  risk
    .command('limits')
    .description('Show or replace the limits of an account (applied within the cache TTL, no redeploy)')
    .requiredOption('--account <id>', 'account')
    .option('--set <file>', 'limits.json to store')
    .action(riskLimits);

  risk
    .command('stress')
    .description('Stress a portfolio: linear P&L under factor shocks, by asset class, region, position')
    .requiredOption('--limits <file>', 'limits.json: securities (with duration, beta) and limits')
    .requiredOption('--portfolio <file>', 'portfolio.json: nav, state, positions')
    .option(
      '--shock <factor=value>',
      'equity=-0.20 | rates=+0.01 | fx=+0.10 | commodity=-0.30 (repeatable)',
      collect,
      [] as string[],
    )
    .option('--returns <file>', 'returns.json: {"SYMBOL": [daily returns, aligned]} for varBudget')
    .option(
      '--scenarios <file>',
      'scenarios.json: {"scenarios": [{"name", "shocks" | "replay": "2000-02"|"2008"|"2020", "correlationOne"}]}',
    )
    .option('--reverse', 'also find the smallest uniform equity shock breaching maxDrawdown or varBudget')
    .option('--report <file>', 'also write a self-contained HTML report: tables and bars by group, breaches')
    .option('--json', 'print the result as JSON')
    .action((opts: StressOpts) => riskStress(opts));
}

function riskCheck(opts: CheckOpts): void {
  const config = jsonFile(riskConfigSchema, opts.limits);
  const portfolio = jsonFile(portfolioSchema, opts.portfolio);
  const order = jsonFile(orderSchema, opts.order);
  const window = opts.returns === undefined ? undefined : readReturns(opts.returns);
  // A rule that cannot be evaluated must not pass silently.
  for (const k of ['varBudget', 'maxCorrelatedExposure'] as const) {
    if (config.limits[k] !== undefined && !window) {
      const name = path.basename(opts.limits);
      throw new InputError(`${name}: limits.${k}: needs --returns (a returns window)`, `${name}:limits.${k}`);
    }
  }
  const d = checkOrder(config, portfolio, order, { resize: opts.resize === true }, window);
  const out = { decision: d.decision, breaches: d.breaches, approvedQty: d.approvedQty };
  if (opts.json) {
    printJson(out);
    return;
  }
  process.stdout.write(`decision: ${d.decision}  approved qty: ${d.approvedQty} of ${order.qty}\n`);
  if (d.breaches.length > 0) {
    process.stdout.write(
      `${formatTable(
        d.breaches.map((b) => ({ ...b })),
        ['rule', 'limit', 'value'],
      )}\n`,
    );
  }
}

/** `halt`, `reduce` and `resume`: the same options (resume also takes --to), one handler. */
function stateCommand(risk: Command, name: 'halt' | 'reduce' | 'resume', description: string): void {
  const c = risk
    .command(name)
    .description(description)
    .requiredOption('--account <id>', 'account')
    .option('--strategy <id>', 'one strategy of the account (default: the whole account)')
    .requiredOption('--actor <who>', 'who makes the change (recorded on the audit trail)')
    .requiredOption('--reason <why>', 'why (recorded on the audit trail)')
    .option('--json', 'print the state record as JSON');
  if (name === 'resume') c.option('--to <state>', 'ACTIVE or REDUCING', 'ACTIVE');
  c.action((opts: StateOpts, cmd: Command) => riskStateChange(name, opts, cmd));
}

async function riskStateChange(
  name: 'halt' | 'reduce' | 'resume',
  opts: StateOpts,
  cmd: Command,
): Promise<void> {
  const to = opts.to === undefined ? undefined : parseState(opts.to, '--to');
  await withPlatform(cmd.optsWithGlobals<GlobalOptions>(), async (ctx) => {
    const svc = await scopeServices(ctx, opts);
    const r = await changeState(
      svc,
      { account: opts.account, strategy: opts.strategy },
      name,
      opts.actor,
      opts.reason,
      to,
    );
    if (opts.json) printJson(r.after);
    else
      process.stdout.write(
        `${scopeName(opts)}: ${r.before.state} -> ${r.after.state}${r.after === r.before ? ' (unchanged)' : ''}\n`,
      );
  });
}

interface ReturnsOpts {
  account: string;
  symbols: string;
  days: string;
  json?: boolean;
}

async function riskReturns(opts: ReturnsOpts, cmd: Command): Promise<void> {
  const days = int(opts.days, '--days', { min: 2, max: 5000 });
  const symbols = listOf(opts.symbols);
  if (symbols.length === 0) throw new InputError('--symbols: no symbol given', '--symbols');
  checkId(opts.account, '--account');
  await withPlatform(cmd.optsWithGlobals<GlobalOptions>(), async (ctx) => {
    const panel = await loadPanel(
      symbols.map((x) => `lake:${x}`),
      { runtime: ctx.runtime, query: await ctx.query(), align: 'intersect' },
    );
    const returns = returnsFromPanel(panel, days);
    const n = returns[panel.symbols[0]].length;
    if (n < 2)
      throw new InputError(
        `--symbols: only ${n} common daily return(s) in the lake; need at least 2`,
        '--symbols',
      );
    const key = await writeReturnsWindow(ctx.clients.s3, ctx.buckets.curated, opts.account, returns);
    const from = panel.dates[panel.dates.length - n - 1];
    const to = panel.dates[panel.dates.length - 1];
    const summary = { bucket: ctx.buckets.curated, key, symbols: panel.symbols, returns: n, from, to };
    if (opts.json) printJson(summary);
    else
      process.stdout.write(
        `wrote ${n} daily returns of ${panel.symbols.join(', ')} to s3://${summary.bucket}/${key}\n`,
      );
  });
}

async function riskStatus(
  opts: { account: string; strategy?: string; json?: boolean },
  cmd: Command,
): Promise<void> {
  await withPlatform(cmd.optsWithGlobals<GlobalOptions>(), async (ctx) => {
    const svc = await scopeServices(ctx, opts);
    const rows = [
      { scope: `${opts.account} (account)`, ...(await svc.risk.getState({ account: opts.account })) },
    ];
    if (opts.strategy) {
      rows.push({ scope: `${opts.account}/${opts.strategy}`, ...(await svc.risk.getState(opts)) });
    }
    const effective = opts.strategy
      ? await svc.risk.effectiveState(opts.account, opts.strategy)
      : rows[0].state;
    if (opts.json) printJson({ effective, scopes: rows });
    else
      process.stdout.write(
        `${formatTable(rows, ['scope', 'state', 'actor', 'reason', 'since', 'version'])}\neffective: ${effective}\n`,
      );
  });
}

async function riskLimits(opts: { account: string; set?: string }, cmd: Command): Promise<void> {
  const config = opts.set === undefined ? undefined : jsonFile(riskConfigSchema, opts.set);
  await withPlatform(cmd.optsWithGlobals<GlobalOptions>(), async (ctx) => {
    const svc = await tradingServices(ctx.clients);
    if (config) checkId(opts.account, '--account');
    else await svc.risk.requireAccount(opts.account);
    if (config) {
      const version = await svc.risk.putLimits(opts.account, config);
      process.stderr.write(`limits of ${opts.account}: version ${version}\n`);
    }
    printJson(await svc.risk.getLimits(opts.account));
  });
}

interface StateOpts {
  account: string;
  strategy?: string;
  actor: string;
  reason: string;
  to?: string;
  json?: boolean;
}

/** The trading services, once the account (and the strategy, if given) is known to exist. */
async function scopeServices(ctx: PlatformContext, o: { account: string; strategy?: string }) {
  const svc = await tradingServices(ctx.clients);
  if (o.strategy !== undefined) await svc.risk.requireStrategy(o.account, o.strategy);
  else await svc.risk.requireAccount(o.account);
  return svc;
}

const scopeName = (o: { account: string; strategy?: string }): string =>
  o.strategy ? `${o.account}/${o.strategy}` : o.account;

function parseState(v: string, field: string) {
  const r = z.enum(['ACTIVE', 'REDUCING', 'HALTED']).safeParse(v);
  if (!r.success)
    throw new InputError(`${field}: must be ACTIVE, REDUCING or HALTED, got ${JSON.stringify(v)}`, field);
  return r.data;
}

/** returns.json: aligned daily returns per symbol; misaligned series name the symbol. */
function readReturns(file: string): ReturnsWindow {
  const returns = jsonFile(returnsWindowSchema, file);
  try {
    return new ReturnsWindow(returns);
  } catch (err) {
    throw new InputError(`${path.basename(file)}: ${(err as Error).message}`, path.basename(file));
  }
}

interface StressOpts {
  limits: string;
  portfolio: string;
  shock: string[];
  returns?: string;
  scenarios?: string;
  reverse?: boolean;
  report?: string;
  json?: boolean;
}

/** `quant risk stress`: the stressed P&L and the portfolio-level limits the shocked book breaches. */
export function riskStress(opts: StressOpts): void {
  const shocks = parseShocks(opts.shock);
  if (opts.scenarios !== undefined && Object.keys(shocks).length > 0)
    throw new InputError('--shock: give either --shock or --scenarios, not both', '--shock');
  if (opts.scenarios === undefined && Object.keys(shocks).length === 0 && !opts.reverse)
    throw new InputError('--shock: at least one shock is required, e.g. --shock equity=-0.20', '--shock');
  const config = jsonFile(riskConfigSchema, opts.limits);
  const portfolio = jsonFile(portfolioSchema, opts.portfolio);
  const window = opts.returns === undefined ? undefined : readReturns(opts.returns);
  const sources = {
    limits: path.basename(opts.limits),
    portfolio: path.basename(opts.portfolio),
    returns: opts.returns === undefined ? undefined : path.basename(opts.returns),
  };
  const file = opts.scenarios === undefined ? undefined : jsonFile(scenariosFileSchema, opts.scenarios);
  const book = new StressBook(portfolio, config, sources);
  // The contract's rule: varBudget is evaluated only with a returns window; say so, off stdout.
  if (config.limits.varBudget !== undefined && !window)
    process.stderr.write('note: limits.varBudget not evaluated (no --returns)\n');
  if (file !== undefined || Object.keys(shocks).length === 0) {
    let sp500: { date: string; close: number }[] | undefined;
    const scenarios = file === undefined ? [] : resolveScenarios(file, () => (sp500 ??= readSp500()));
    const { scenarios: results, reverse } = stressReport(book, scenarios, { window, reverse: opts.reverse });
    if (opts.report !== undefined)
      writeFileAtomic(
        opts.report,
        renderStressReport({ nav: portfolio.nav, sources, scenarios: results, reverse }),
      );
    if (opts.json) printJson({ scenarios: results, ...(reverse ? { reverse } : {}) });
    else process.stdout.write(`${formatScenarios(results, portfolio.nav, reverse)}\n${reportLine(opts)}`);
    return;
  }
  const reverse = opts.reverse ? reverseStress(book, window) : undefined;
  const r = book.run({ name: 'shocks', shocks }, window);
  if (opts.report !== undefined)
    writeFileAtomic(
      opts.report,
      renderStressReport({
        nav: portfolio.nav,
        sources,
        scenarios: [{ ...r, name: 'shocks', shocks }],
        reverse,
      }),
    );
  if (opts.json) {
    const { pnl, byAssetClass, byRegion, positions, breaches } = r;
    printJson({ pnl, byAssetClass, byRegion, positions, breaches, ...(reverse ? { reverse } : {}) });
    return;
  }
  process.stdout.write(
    `${formatStress(r)}${reverse ? `\n\n${formatReverse(reverse)}` : ''}\n${reportLine(opts)}`,
  );
}

/** Where the report went (text output only: --json prints the contract object alone). */
const reportLine = (opts: StressOpts): string =>
  opts.report === undefined ? '' : `report: ${opts.report}\n`;

function formatReverse(r: ReverseStress): string {
  return r.equity === null
    ? 'reverse stress: no uniform equity shock within ±100% breaches maxDrawdown or varBudget'
    : `reverse stress: equity ${(r.equity * 100).toFixed(4)}% breaches ${r.rules.join(', ')} (pnl ${r.pnl?.toFixed(2)})`;
}

function formatScenarios(results: ScenarioResult[], nav: number, reverse?: ReverseStress): string {
  const parts = [
    formatTable(
      results.map((s) => ({
        scenario: s.name,
        shocks: shockText(s),
        pnl: s.pnl.toFixed(2),
        'pnl % nav': ((s.pnl / nav) * 100).toFixed(2),
        breaches: s.breaches.map((b) => b.rule).join(', ') || '-',
      })),
      ['scenario', 'shocks', 'pnl', 'pnl % nav', 'breaches'],
    ),
  ];
  for (const s of results) {
    const rows = [
      ...Object.entries(s.byAssetClass).map(([k, v]) => ({
        group: 'assetClass',
        name: k,
        pnl: v.toFixed(2),
      })),
      ...Object.entries(s.byRegion).map(([k, v]) => ({ group: 'region', name: k, pnl: v.toFixed(2) })),
      ...Object.entries(s.bySector).map(([k, v]) => ({ group: 'sector', name: k, pnl: v.toFixed(2) })),
    ];
    parts.push(`${s.name}:\n${formatTable(rows, ['group', 'name', 'pnl'])}`);
  }
  if (reverse) parts.push(formatReverse(reverse));
  return parts.join('\n\n');
}

function formatStress(r: StressResult): string {
  const groups = (name: string, g: Record<string, number>): string =>
    formatTable(
      Object.entries(g).map(([k, v]) => ({ [name]: k, pnl: v.toFixed(2) })),
      [name, 'pnl'],
    );
  const worst = [...r.positions].sort((a, b) => a.pnl - b.pnl).slice(0, 20);
  const parts = [
    `pnl: ${r.pnl.toFixed(2)}`,
    groups('assetClass', r.byAssetClass),
    groups('region', r.byRegion),
    groups('sector', r.bySector),
    `worst positions (${worst.length} of ${r.positions.length}):`,
    formatTable(
      worst.map((p) => ({ symbol: p.symbol, pnl: p.pnl.toFixed(2) })),
      ['symbol', 'pnl'],
    ),
    r.breaches.length === 0
      ? 'breaches: none'
      : formatTable(
          r.breaches.map((b) => ({ rule: b.rule, limit: b.limit, value: b.value ?? 'n/a' })),
          ['rule', 'limit', 'value'],
        ),
  ];
  return parts.join('\n\n');
}
