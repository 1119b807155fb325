/** `quant risk ...`: pre-trade checks from files, and the trading state (halt, resume, status). */
import path from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../../errors';
import { checkOrder } from '../../risk/engine';
import { orderSchema, portfolioSchema, readJsonFile, riskConfigSchema } from '../../risk/schemas';
import { ReturnsWindow } from '../../risk/var';
import { changeState, tradingServices } from '../../trading/context';
import { openPlatform, type GlobalOptions } from '../context';
import { formatTable, printJson } from '../output';
import { z } from 'zod';

interface CheckOpts {
  limits: string;
  portfolio: string;
  order: string;
  returns?: string;
  resize?: boolean;
  json?: boolean;
}

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
    .action((opts: CheckOpts) => {
      const config = readJsonFile(riskConfigSchema, opts.limits);
      const portfolio = readJsonFile(portfolioSchema, opts.portfolio);
      const order = readJsonFile(orderSchema, opts.order);
      const window = opts.returns === undefined ? undefined : readReturns(opts.returns);
      // A rule that cannot be evaluated must not pass silently.
      for (const k of ['varBudget', 'maxCorrelatedExposure'] as const) {
        if (config.limits[k] !== undefined && !window) {
          const name = path.basename(opts.limits);
          throw new InputError(
            `${name}: limits.${k}: needs --returns (a returns window)`,
            `${name}:limits.${k}`,
          );
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
    });

  const stateCommand = (name: 'halt' | 'reduce' | 'resume', description: string): void => {
    const c = risk
      .command(name)
      .description(description)
      .requiredOption('--account <id>', 'account')
      .option('--strategy <id>', 'one strategy of the account (default: the whole account)')
      .requiredOption('--actor <who>', 'who makes the change (recorded on the audit trail)')
      .requiredOption('--reason <why>', 'why (recorded on the audit trail)')
      .option('--json', 'print the state record as JSON');
    if (name === 'resume') c.option('--to <state>', 'ACTIVE or REDUCING', 'ACTIVE');
    c.action(async (opts: StateOpts, cmd: Command) => {
      const to = opts.to === undefined ? undefined : parseState(opts.to, '--to');
      const ctx = await openPlatform(cmd.optsWithGlobals<GlobalOptions>());
      try {
        const svc = await tradingServices(ctx.clients);
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
      } finally {
        await ctx.close();
      }
    });
  };
  stateCommand('halt', 'Kill switch: HALTED, no orders at all until an explicit resume');
  stateCommand('reduce', 'REDUCING: only orders that reduce an absolute position');
  stateCommand('resume', 'Clear a halt or reduce-only state (needs --actor and --reason)');

  risk
    .command('status')
    .description('Trading state of an account (and a strategy), and the effective state')
    .requiredOption('--account <id>', 'account')
    .option('--strategy <id>', 'strategy')
    .option('--json', 'print JSON')
    .action(async (opts: { account: string; strategy?: string; json?: boolean }, cmd: Command) => {
      const ctx = await openPlatform(cmd.optsWithGlobals<GlobalOptions>());
      try {
        const svc = await tradingServices(ctx.clients);
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
      } finally {
        await ctx.close();
      }
    });

  risk
    .command('limits')
    .description('Show or replace the limits of an account (applied within the cache TTL, no redeploy)')
    .requiredOption('--account <id>', 'account')
    .option('--set <file>', 'limits.json to store')
    .action(async (opts: { account: string; set?: string }, cmd: Command) => {
      const config = opts.set === undefined ? undefined : readJsonFile(riskConfigSchema, opts.set);
      const ctx = await openPlatform(cmd.optsWithGlobals<GlobalOptions>());
      try {
        const svc = await tradingServices(ctx.clients);
        if (config) {
          const version = await svc.risk.putLimits(opts.account, config);
          process.stderr.write(`limits of ${opts.account}: version ${version}\n`);
        }
        printJson(await svc.risk.getLimits(opts.account));
      } finally {
        await ctx.close();
      }
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

const scopeName = (o: { account: string; strategy?: string }): string =>
  o.strategy ? `${o.account}/${o.strategy}` : o.account;

function parseState(v: string, field: string) {
  const r = z.enum(['ACTIVE', 'REDUCING', 'HALTED']).safeParse(v);
  if (!r.success)
    throw new InputError(`${field}: must be ACTIVE, REDUCING or HALTED, got ${JSON.stringify(v)}`, field);
  return r.data;
}

const returnsSchema = z.record(
  z.string().min(1),
  z.array(z.number().refine(Number.isFinite, 'must be a finite number')).min(2, 'needs at least 2 returns'),
);

/** returns.json: aligned daily returns per symbol; misaligned series name the symbol. */
function readReturns(file: string): ReturnsWindow {
  const returns = readJsonFile(returnsSchema, file);
  try {
    return new ReturnsWindow(returns);
  } catch (err) {
    throw new InputError(`${path.basename(file)}: ${(err as Error).message}`, path.basename(file));
  }
}
