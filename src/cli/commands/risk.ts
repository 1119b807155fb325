/** `quant risk ...`: pre-trade checks from files, and the trading state (halt, resume, status). */
import type { Command } from 'commander';
import { checkOrder } from '../../risk/engine';
import { orderSchema, portfolioSchema, readJsonFile, riskConfigSchema } from '../../risk/schemas';
import { formatTable, printJson } from '../output';

interface CheckOpts {
  limits: string;
  portfolio: string;
  order: string;
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
    .option('--json', 'print the decision as JSON')
    .action((opts: CheckOpts) => {
      const config = readJsonFile(riskConfigSchema, opts.limits);
      const portfolio = readJsonFile(portfolioSchema, opts.portfolio);
      const order = readJsonFile(orderSchema, opts.order);
      const d = checkOrder(config, portfolio, order, { resize: opts.resize === true });
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
}
