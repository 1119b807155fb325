/** `quant algo cancel`: stop a running algorithm parent (TWAP/VWAP/POV) and its remaining children. */
import os from 'node:os';
import type { Command } from 'commander';
import { InputError } from '../../errors';
import { SfnChildScheduler } from '../../trading/child-scheduler';
import { tradingServices } from '../../trading/context';
import { cancelParent } from '../../trading/execution';
import { withPlatform, type GlobalOptions } from '../context';
import { printJson } from '../output';

interface CancelOpts {
  parent: string;
  actor?: string;
  reason: string;
  json?: boolean;
}

export function registerAlgo(program: Command): void {
  const algo = program.command('algo').description('Execution algorithm parents (TWAP, VWAP, POV)');
  algo
    .command('cancel')
    .description(
      'Cancel a parent: mark it CANCELED (a child still in flight is rejected, rule parentCancelled) and stop its schedule',
    )
    .requiredOption('--parent <id>', 'parent order id (<signalId>:<symbol>)')
    .option('--actor <who>', 'who cancels (recorded on the audit trail; default: the OS user)')
    .option('--reason <why>', 'why (recorded on the audit trail)', 'cancelled from the CLI')
    .option('--json', 'print the result as JSON')
    .action(algoCancel);
}

async function algoCancel(opts: CancelOpts, cmd: Command): Promise<void> {
  if (opts.parent.trim() === '') throw new InputError('--parent: must not be empty', '--parent');
  const actor = opts.actor ?? os.userInfo().username;
  await withPlatform(cmd.optsWithGlobals<GlobalOptions>(), async (ctx) => {
    const svc = await tradingServices(ctx.clients);
    // In AWS the parent's Step Functions execution is stopped; locally the schedule runs inside
    // the process that started it (quant paper, tests), which sees the CANCELED mark.
    let scheduler: SfnChildScheduler | undefined;
    if (ctx.runtime.mode === 'aws') {
      const arn = process.env.ALGO_STATE_MACHINE_ARN;
      if (!arn) throw new InputError('ALGO_STATE_MACHINE_ARN must be set (the TradingStack output)', 'env');
      scheduler = new SfnChildScheduler(ctx.clients.sfn, arn);
    }
    const r = await cancelParent(
      { doc: ctx.clients.doc, ordersTable: svc.tables.orders, audit: svc.audit, scheduler },
      opts.parent,
      actor,
      opts.reason,
    );
    const out = {
      parentId: r.parent.orderId,
      status: r.parent.status,
      changed: r.changed,
      schedule: r.schedule,
      reason: r.parent.reason,
    };
    if (opts.json) printJson(out);
    else
      process.stdout.write(
        `${out.parentId}: ${out.status}${r.changed ? '' : ' (already)'}; schedule ${r.schedule}\n`,
      );
  });
}
