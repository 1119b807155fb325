/** `quant dr ...`: local backup, restore, the restore drill and the failover plan (logic in src/dr/). */
import type { Command } from 'commander';
import { InputError } from '../../errors';
import { backupLocal } from '../../dr/backup';
import { runDrill } from '../../dr/drill';
import { failoverPlan, formatFailoverPlan } from '../../dr/failover';
import { SNAPSHOT_PARTS } from '../../dr/snapshot';
import { loadBackup, restoreLocal } from '../../dr/restore';
import { dataDirOf, inAwsMode, timeoutMsOf, withPlatform, type GlobalOptions } from '../context';
import { formatTable, printJson } from '../output';

const stderr = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function localOnly(opts: GlobalOptions): void {
  if (inAwsMode(opts))
    throw new InputError(
      '--aws: quant dr works on the local cloud; in AWS, backups are AWS Backup recovery points (see docs/disaster-recovery.md)',
      '--aws',
    );
}

export function registerDr(program: Command): void {
  const dr = program
    .command('dr')
    .description(
      'Disaster recovery: local backup, restore and restore drill; the failover steps to the DR standby',
    );

  dr.command('backup')
    .description('Back up the trading tables and the lake buckets (through their APIs) into a new directory')
    .requiredOption('--to <dir>', 'new or empty directory for the backup')
    .option('--json', 'print what was backed up as JSON')
    .action(drBackup);

  dr.command('restore')
    .description('Restore a backup into an empty data directory (every file is checked first)')
    .requiredOption('--from <dir>', 'a directory written by quant dr backup')
    .option('--json', 'print what was restored as JSON')
    .action(drRestore);

  dr.command('failover')
    .description(
      'Print the ordered failover steps to the warm standby in the DR region (commands and time budget per step)',
    )
    .requiredOption('--env <name>', 'environment (stack names are <env>-...), e.g. prod')
    .requiredOption('--home-region <region>', 'the home region')
    .requiredOption('--dr-region <region>', 'the DR region of the standby')
    .requiredOption('--account <id>', 'the trading account to halt and resume')
    .option('--json', 'print the plan as JSON')
    .action(drFailover);

  dr.command('drill')
    .description(
      'Restore drill: back up, DELETE the data directory, restore, and prove the trading state and audit trail identical',
    )
    .option('--backup-dir <dir>', 'where the backup goes (kept; default: a new temp directory)')
    .option('--json', 'print the drill report as JSON')
    .action(drDrill);
}

async function drBackup(opts: { to: string; json?: boolean }, cmd: Command): Promise<void> {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  localOnly(g);
  const t = performance.now();
  const summary = await withPlatform(g, (ctx) => backupLocal(ctx.clients, opts.to, undefined, stderr));
  const out = { ...summary, ms: Math.round(performance.now() - t) };
  if (opts.json) printJson(out);
  else
    process.stdout.write(
      `backed up ${out.items} items of ${out.tables} tables and ${out.objects} objects (${out.bytes} bytes) to ${out.dir} in ${out.ms} ms\n`,
    );
}

async function drRestore(opts: { from: string; json?: boolean }, cmd: Command): Promise<void> {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  localOnly(g);
  const t = performance.now();
  // Checked before the local cloud is touched: a bad backup writes nothing.
  const backup = loadBackup(opts.from);
  const summary = await withPlatform(g, (ctx) => restoreLocal(ctx.clients, backup, stderr));
  const out = { ...summary, ms: Math.round(performance.now() - t) };
  if (opts.json) printJson(out);
  else
    process.stdout.write(
      `restored ${out.items} items of ${out.tables} tables and ${out.objects} objects (${out.bytes} bytes) from ${out.dir} in ${out.ms} ms\n`,
    );
}

interface FailoverOptions {
  env: string;
  homeRegion: string;
  drRegion: string;
  account: string;
  json?: boolean;
}

/** Prints only: each step needs a person to check its result before the next. */
function drFailover(opts: FailoverOptions): void {
  const plan = failoverPlan({
    environment: opts.env,
    homeRegion: opts.homeRegion,
    drRegion: opts.drRegion,
    account: opts.account,
  });
  if (opts.json) printJson(plan);
  else process.stdout.write(formatFailoverPlan(plan));
}

async function drDrill(opts: { backupDir?: string; json?: boolean }, cmd: Command): Promise<void> {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  localOnly(g);
  const report = await runDrill({
    dataDir: dataDirOf(g),
    backupDir: opts.backupDir,
    timeoutMs: timeoutMsOf(g),
    progress: stderr,
  });
  if (opts.json) printJson(report);
  else {
    const rows = SNAPSHOT_PARTS.map((p) => ({
      part: p,
      before: report.before.parts[p].count,
      after: report.after.parts[p].count,
      identical: !report.differences.includes(p),
    }));
    process.stdout.write(`${formatTable(rows, ['part', 'before', 'after', 'identical'])}\n`);
    process.stdout.write(
      `halted before: ${report.before.halted.join(', ') || 'none'}; after: ${report.after.halted.join(', ') || 'none'}\n` +
        `backup ${report.timingsMs.backup} ms, destroy ${report.timingsMs.destroy} ms, restore ${report.timingsMs.restore} ms (backup kept in ${report.backup.dir})\n` +
        `drill ${report.passed ? 'PASSED' : 'FAILED'}\n`,
    );
  }
  if (!report.passed)
    throw new Error(
      `restore drill failed: ${[...report.differences, ...(report.haltedKept ? [] : ['halted accounts'])].join(', ')} differ after the restore`,
    );
}
