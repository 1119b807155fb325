/**
 * `quant tca`: transaction cost analysis of parent orders, from the lake's `tca` table.
 *
 *   quant tca [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--account A] [--json]
 *   quant tca record --account A [--day YYYY-MM-DD]   analyse an account's finished parents
 *                                      (orders table + lake bars; what the daily job runs in AWS)
 *   quant tca calibrate --out costs.json   fit the backtest cost model (quant backtest --costs)
 *
 * `quant paper` records its parents itself. The filters are options of `tca` and apply to its
 * sub-commands too (`quant tca calibrate --out c.json --account A`).
 */
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../../errors';
import { tradingServices } from '../../trading/context';
import { calibrateCosts, summarizeTca, type TcaRow } from '../../trading/tca';
import { recordTca } from '../../trading/tca-job';
import { readTcaRows, type TcaQuery } from '../../trading/tca-lake';
import { withPlatform, type GlobalOptions } from '../context';
import { formatTable, printJson } from '../output';

interface TcaOpts extends GlobalOptions {
  from?: string;
  to?: string;
  account?: string;
  json?: boolean;
  out?: string;
  day?: string;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const ACCOUNT = /^[A-Za-z0-9._-]{1,64}$/;

/** The filters, checked: dates YYYY-MM-DD (and --day) with from <= to, an account of partition-safe characters. */
export function tcaQuery(opts: TcaOpts): TcaQuery {
  for (const k of ['from', 'to', 'day'] as const) {
    const v = opts[k];
    if (v !== undefined && (!DAY.test(v) || Number.isNaN(Date.parse(v))))
      throw new InputError(`--${k}: must be a date YYYY-MM-DD, got "${v}"`, k);
  }
  if (opts.from !== undefined && opts.to !== undefined && opts.from > opts.to)
    throw new InputError(`--from: ${opts.from} is after --to ${opts.to}`, 'from');
  if (opts.account !== undefined && !ACCOUNT.test(opts.account))
    throw new InputError(`--account: "${opts.account}" must be 1-64 of A-Z a-z 0-9 . _ -`, 'account');
  return { from: opts.from, to: opts.to, account: opts.account };
}

const r2 = (v: number): number | null => (Number.isFinite(v) ? Math.round(v * 100) / 100 : null);

function rowsTable(rows: readonly TcaRow[]): string {
  return formatTable(
    rows.map((r) => ({
      decided: new Date(r.decisionTime).toISOString().slice(0, 16).replace('T', ' '),
      parent: r.parentId,
      symbol: r.symbol,
      side: r.side,
      algo: r.algo,
      filled: `${r.filledQty}/${r.qty}`,
      arrival: r2(r.arrivalPrice),
      shortfall: r2(r.shortfallBps),
      delay: r2(r.delayBps),
      timing: r2(r.timingBps),
      impact: r2(r.impactBps),
      vsVwap: r2(r.vsVwapBps),
      vsInterval: r2(r.vsIntervalBps),
      participation: Number.isFinite(r.participation) ? Number(r.participation.toPrecision(3)) : null,
    })),
  );
}

function summaryLine(rows: readonly TcaRow[]): string {
  const s = summarizeTca(rows);
  return (
    `${s.parents} parents, notional ${s.notional.toFixed(2)}: shortfall ${r2(s.shortfallBps)} bps ` +
    `(delay ${r2(s.delayBps)}, timing ${r2(s.timingBps)}, impact ${r2(s.impactBps)}, opportunity ${r2(s.opportunityBps)}); ` +
    `vs VWAP ${r2(s.vsVwapBps)} bps, vs interval ${r2(s.vsIntervalBps)} bps, participation ${Number.isFinite(s.participation) ? s.participation.toPrecision(3) : '-'}`
  );
}

async function readRows(opts: TcaOpts): Promise<TcaRow[]> {
  const q = tcaQuery(opts);
  return withPlatform({ ...opts, services: ['s3'] }, (ctx) =>
    readTcaRows(ctx.clients.s3, ctx.buckets.results, q),
  );
}

export function registerTca(program: Command): void {
  const tca = program
    .command('tca')
    .description(
      'Transaction cost analysis of parent orders (implementation shortfall, slippage, participation)',
    )
    .option('--from <date>', 'first decision day, YYYY-MM-DD')
    .option('--to <date>', 'last decision day, YYYY-MM-DD')
    .option('--account <id>', 'one account')
    .option('--json', 'print JSON')
    .action(tcaReport);

  tca
    .command('record')
    .description(
      "analyse an account's finished parent orders (orders table and the lake's bars) into the tca table",
    )
    .option('--day <date>', 'only the parents decided on this UTC day, YYYY-MM-DD (as the daily job in AWS)')
    .action(tcaRecord);

  tca
    .command('calibrate')
    .description('fit the backtest cost model to the TCA rows (for quant backtest --costs)')
    .requiredOption('--out <file>', 'cost model JSON to write')
    .action(tcaCalibrate);
}

async function tcaReport(_o: unknown, cmd: Command): Promise<void> {
  const opts = cmd.optsWithGlobals<TcaOpts>();
  const rows = await readRows(opts);
  if (opts.json) {
    printJson({ summary: summarizeTca(rows), rows });
    return;
  }
  if (rows.length === 0) {
    process.stdout.write('no TCA rows (quant paper records them; quant tca record --account A)\n');
    return;
  }
  process.stdout.write(`${rowsTable(rows)}\n\n${summaryLine(rows)}\n`);
}

async function tcaRecord(_o: unknown, cmd: Command): Promise<void> {
  const opts = cmd.optsWithGlobals<TcaOpts>();
  const q = tcaQuery(opts);
  if (q.account === undefined) throw new InputError('--account: required', 'account');
  await withPlatform(opts, async (ctx) => {
    const svc = await tradingServices(ctx.clients);
    const r = await recordTca(
      {
        doc: ctx.clients.doc,
        s3: ctx.clients.s3,
        ordersTable: svc.tables.orders,
        curatedBucket: ctx.buckets.curated,
        resultsBucket: ctx.buckets.results,
      },
      { account: q.account, day: opts.day },
    );
    if (opts.json)
      printJson({
        account: r.account,
        day: r.day,
        parents: r.parents,
        unfinished: r.unfinished,
        partitions: r.partitions,
      });
    else
      process.stdout.write(
        `${r.account}${r.day ? ` ${r.day}` : ''}: ${r.parents} parents recorded (${r.partitions} partitions` +
          `${r.unfinished > 0 ? `; ${r.unfinished} still working, left for a later run` : ''})\n`,
      );
  });
}

async function tcaCalibrate(_o: unknown, cmd: Command): Promise<void> {
  const opts = cmd.optsWithGlobals<TcaOpts>();
  const rows = await readRows(opts);
  if (rows.length === 0) throw new InputError('tca: no rows match the filters (nothing to calibrate)', 'tca');
  const fit = calibrateCosts(rows);
  const model = { slippageBps: fit.slippageBps, impactK: fit.impactK };
  const file = opts.out!;
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(model, null, 2)}\n`);
  renameSync(tmp, file);
  if (opts.json) printJson({ ...model, rows: fit.rows, out: file });
  else
    process.stdout.write(
      `${file}: slippageBps ${model.slippageBps.toFixed(3)}, impactK ${model.impactK.toFixed(4)} from ${fit.rows} parents\n`,
    );
}
