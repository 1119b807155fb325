/**
 * `quant backtest sweep`: a parameter sweep, on this machine's cores (default), through the local
 * run of the deployed state machine's definition (`--state-machine`), or in AWS (`--remote`).
 *
 *   quant backtest sweep --strategy sma-cross --grid fast=2:100 --grid slow=2:100 \
 *     --where "fast<slow" [--bars lake:SPX] [--cost-bps 5] [--top 10] [--json] \
 *     [--report sweep.html [--heat-map fast,slow]]
 */
import type { Command } from 'commander';
import { InputError } from '../../errors';
import { LAKE_BUCKET_ENV } from '../../contract/lake';
import type { Row } from '../../lake/query';
import type { SweepRequest } from '../../sweep/request';
import { RANK_METRICS, RANKING_COLUMNS, type RankMetric } from '../../sweep/rank';
import type { HeatMap, Stability } from '../../sweep/heatmap';
import { withPlatform, type GlobalOptions } from '../context';
import { formatTable, printJson, progressBar, writeFileAtomic } from '../output';
import { collect, num, oneOf, optionalInt } from '../options';

interface SweepCliOptions {
  strategy?: string;
  bars: string;
  grid: string[];
  where?: string;
  param: string[];
  costBps?: string;
  top: string;
  rankBy: string;
  sweepId?: string;
  workers?: string;
  batchSize?: string;
  maxGrid?: string;
  stateMachine?: boolean;
  remote?: boolean;
  stateMachineArn?: string;
  report?: string;
  heatMap?: string;
  json?: boolean;
}

/** Registers `quant backtest sweep` on the `backtest` command (main.ts calls this after registerBacktest). */
export function registerBacktestSweep(program: Command): void {
  const backtest = program.commands.find((c) => c.name() === 'backtest');
  if (!backtest) throw new Error('registerBacktestSweep: register the backtest command first');
  backtest
    .command('sweep')
    .description(
      'parameter sweep: all cores locally, the local state machine, or the deployed one (--remote)',
    )
    .option('--strategy <name>', 'strategy to sweep')
    .option('--bars <source>', 'file.csv | file.parquet | lake:SYMBOL', 'lake:SPX')
    .option('--grid <name=spec>', 'start:end[:step] or a,b,c (repeat per parameter)', collect, [])
    .option('--where <expr>', 'filter, e.g. "fast<slow" (comparisons, + - * / %, && || !, parentheses)')
    .option('--param <name=value>', 'parameter fixed for every grid point (repeat)', collect, [])
    .option('--cost-bps <c>', 'cost in bps of |position change|')
    .option('--top <n>', 'rows in the ranking', '10')
    .option('--rank-by <metric>', `one of ${RANK_METRICS.join(', ')}`, 'sharpe')
    .option('--sweep-id <id>', 'sweep id (default: derived from the request, so a re-run resumes)')
    .option('--workers <n>', 'worker threads (default: all cores)')
    .option('--batch-size <n>', 'parameter sets per batch (one results object each)')
    .option('--max-grid <n>', 'largest grid accepted (default 100000)')
    .option('--state-machine', 'run through the local run of the deployed state machine definition')
    .option('--remote', 'start the deployed state machine in AWS and wait for it')
    .option('--state-machine-arn <arn>', 'with --remote: the state machine (default: found by name)')
    .option(
      '--report <file>',
      'write a self-contained HTML report: heat map of the --rank-by metric, stability of the best region',
    )
    .option('--heat-map <x,y>', 'report: the two grid parameters of the heat map (default: the first two)')
    .option('--json', 'print one JSON object')
    .action(sweep);
}

/** Builds the request (the state machine's input) from the options. */
export async function sweepRequestFromOptions(o: SweepCliOptions): Promise<SweepRequest> {
  if (!o.strategy) throw new InputError('--strategy: required', 'strategy');
  if (o.grid.length === 0) throw new InputError('--grid: give at least one, e.g. --grid fast=2:100', 'grid');
  const { parseGridArg } = await import('../../sweep/grid');
  const params: Record<string, number | boolean | string> = {};
  for (const p of o.param) {
    const axis = parseGridArg(p);
    if (axis.values.length !== 1)
      throw new InputError(`--param ${p}: a fixed parameter takes one value`, `param.${axis.name}`);
    params[axis.name] = axis.values[0];
  }
  const costBps = o.costBps === undefined ? undefined : num(o.costBps, '--cost-bps', { min: 0 });
  oneOf(o.rankBy, '--rank-by', RANK_METRICS);
  return {
    strategy: o.strategy,
    bars: o.bars,
    grid: o.grid,
    ...(o.where !== undefined ? { where: o.where } : {}),
    ...(costBps !== undefined ? { costBps } : {}),
    ...(Object.keys(params).length > 0 ? { params } : {}),
    ...(o.sweepId ? { sweepId: o.sweepId } : {}),
    topN: optionalInt(o.top, '--top'),
    rankBy: o.rankBy as RankMetric,
  };
}

const RANK_COLUMNS = [
  'rank',
  'params',
  'sharpe',
  'sortino',
  'total_return',
  'cagr',
  'max_drawdown',
  'trades',
  'exposure',
];

function ranked(rows: readonly Row[]): Row[] {
  return rows.map((r, i) => ({ rank: i + 1, ...r }));
}

/** The heat map's axes: `--heat-map x,y` (grid parameters), else the first two grid parameters. */
export async function heatMapAxes(
  spec: string | undefined,
  grid: readonly string[],
): Promise<[string, string | undefined]> {
  const { parseGridArg } = await import('../../sweep/grid');
  const names = grid.map((g) => parseGridArg(g).name);
  if (spec === undefined) return [names[0], names[1]];
  const axes = spec.split(',').map((x) => x.trim());
  if (axes.length !== 2 || axes.some((a) => a === '') || axes[0] === axes[1])
    throw new InputError(
      `--heat-map: "${spec}" must be two different parameters, e.g. fast,slow`,
      'heat-map',
    );
  for (const a of axes)
    if (!names.includes(a))
      throw new InputError(`--heat-map: "${a}" is not a --grid parameter (${names.join(', ')})`, 'heat-map');
  return [axes[0], axes[1]];
}

/** `quant backtest sweep`: checks the options, then one of the three ways to run it. */
async function sweep(o: SweepCliOptions, cmd: Command): Promise<void> {
  let request = await sweepRequestFromOptions(o);
  const { requestModelRefs, pinModelVersions } = await import('../../sweep/models');
  const modelRefs = requestModelRefs(request);
  if (o.remote && o.report !== undefined)
    throw new InputError(
      '--report: not with --remote (the results stay in AWS; query them with Athena)',
      'report',
    );
  const axes = await heatMapAxes(o.heatMap, request.grid);
  if (o.remote) return sweepRemote(o, request, modelRefs);
  // S3 (the manifest and results) and the local DuckDB: no Kinesis, no DynamoDB.
  await withPlatform({ ...cmd.optsWithGlobals<GlobalOptions>(), services: ['s3'] }, async (ctx) => {
    // Registry versions resolve here (and in each batch task); `@env` is pinned to its number first.
    const { useModelRegistry } = await import('../../ml/registry/resolver');
    const registry = useModelRegistry(ctx.runtime, ctx.clients.s3, () => ctx.buckets.models);
    if (modelRefs.length > 0) request = await pinModelVersions(request, registry);
    if (o.stateMachine) await sweepStateMachine(o, request, ctx, axes);
    else await sweepLocal(o, request, ctx, axes);
  });
}

type Ctx = Parameters<Parameters<typeof withPlatform>[1]>[0];

/**
 * `--remote`: the deployed state machine in AWS. Registry versions are pinned here first (`@prod`
 * becomes its version number), so every batch task scores the same model files.
 */
async function sweepRemote(
  o: SweepCliOptions,
  request: SweepRequest,
  modelRefs: readonly string[],
): Promise<void> {
  const quiet = o.json === true;
  const modelsBucket = process.env[LAKE_BUCKET_ENV.models];
  if (modelRefs.length > 0 && !modelsBucket)
    throw new InputError(
      `--remote: ${modelRefs.join(', ')} name registry versions, which are pinned before the sweep starts: set ${LAKE_BUCKET_ENV.models} to the models bucket (the DataLake stack's output of that name)`,
      'remote',
    );
  // Loaded on use: `quant backtest` registers this command, and a plain backtest needs none of it.
  const [{ createClients }, { startRemoteSweep }, { pinModelVersions }, { useModelRegistry }] =
    await Promise.all([
      import('../../aws/clients'),
      import('../../sweep/state-machine'),
      import('../../sweep/models'),
      import('../../ml/registry/resolver'),
    ]);
  const runtime = { mode: 'aws', region: process.env.AWS_REGION } as const;
  const clients = createClients(runtime);
  try {
    if (modelsBucket && modelRefs.length > 0)
      request = await pinModelVersions(
        request,
        useModelRegistry(runtime, clients.s3, () => modelsBucket),
      );
    const r = await startRemoteSweep({
      sfn: clients.sfn,
      request,
      stateMachineArn: o.stateMachineArn,
      onStatus: (s, ms) => {
        if (!quiet && process.stderr.isTTY) process.stderr.write(`\rsweep ${s} ${(ms / 1000).toFixed(0)}s`);
      },
    });
    const top = ((r.output as { ranking?: { top?: Row[] } } | null)?.ranking?.top ?? []) as Row[];
    if (quiet) printJson({ executionArn: r.executionArn, output: r.output });
    else console.log(`\n${formatTable(ranked(top), RANK_COLUMNS)}\nexecution ${r.executionArn}`);
  } finally {
    clients.destroy();
  }
}

/** `--state-machine`: the local run of the deployed state machine's definition. */
async function sweepStateMachine(
  o: SweepCliOptions,
  request: SweepRequest,
  ctx: Ctx,
  axes: [string, string | undefined],
): Promise<void> {
  const quiet = o.json === true;
  if (ctx.runtime.mode !== 'local')
    throw new InputError('--state-machine runs locally; use --remote for AWS', 'stateMachine');
  const { runSweepStateMachineLocally } = await import('../../sweep/state-machine');
  const r = await runSweepStateMachineLocally({
    runtime: ctx.runtime,
    clients: ctx.clients,
    request,
    maxGridSize: optionalInt(o.maxGrid, '--max-grid'),
    maxItemsPerBatch: optionalInt(o.batchSize, '--batch-size'),
    onEvent: (e) => {
      if (!quiet && process.stderr.isTTY && e.type === 'StateEntered' && e.state)
        process.stderr.write(`state: ${e.state.name}\n`);
    },
  });
  const { readSweepRows } = await import('../../sweep/results');
  const { validateSweepRequest } = await import('../../sweep/request');
  const { sweep } = validateSweepRequest(request, { maxGridSize: optionalInt(o.maxGrid, '--max-grid') });
  const rows = await readSweepRows(
    { clients: ctx.clients, buckets: ctx.buckets, tmpDir: ctx.tmpDir },
    sweep.strategy,
    r.sweepId,
    [...RANKING_COLUMNS],
  );
  await printSweep(
    o,
    axes,
    rows,
    { sweep, sweepId: r.sweepId, total: rows.length, top: r.top },
    { sweepId: r.sweepId, manifest: r.manifest, batches: r.batches, ranking: r.ranking.key, top: r.top },
    `sweep ${r.sweepId}: ${r.manifest.items} run, ${r.manifest.skipped} already done, ${r.batches.total} batches; ranking in ${r.ranking.key}`,
  );
}

/** Without --state-machine or --remote: this machine's cores. */
async function sweepLocal(
  o: SweepCliOptions,
  request: SweepRequest,
  ctx: Ctx,
  axes: [string, string | undefined],
): Promise<void> {
  const quiet = o.json === true;
  const { runLocalSweep } = await import('../../sweep/local');
  let bar: ReturnType<typeof progressBar> | undefined;
  const r = await runLocalSweep({
    runtime: ctx.runtime,
    clients: ctx.clients,
    buckets: ctx.buckets,
    request,
    maxGridSize: optionalInt(o.maxGrid, '--max-grid'),
    workers: optionalInt(o.workers, '--workers'),
    batchSize: optionalInt(o.batchSize, '--batch-size'),
    tmpDir: ctx.tmpDir,
    // Loaded on use: this module is loaded to register the command, by every `quant backtest`.
    news: async () => new (await import('../../news/reader')).EngineNewsReader(await ctx.query()),
    onProgress: (done, total) => {
      bar ??= progressBar('sweep', total, !quiet);
      bar.tick();
      if (done === total) bar.done();
    },
  });
  await printSweep(
    o,
    axes,
    r.rows,
    r,
    {
      sweepId: r.sweepId,
      strategy: r.strategy,
      total: r.total,
      skipped: r.skipped,
      written: r.written,
      batches: r.batches,
      failedBatches: r.failedBatches,
      top: r.top,
    },
    `sweep ${r.sweepId}: ${r.total} parameter sets, ${r.written} run now, ${r.skipped} already done, ${r.batches} batches`,
  );
  if (r.failedBatches.length > 0) {
    for (const f of r.failedBatches)
      process.stderr.write(`batch ${f.batchId} (${f.items} sets) failed: ${f.error}\n`);
    throw new Error(
      `${r.failedBatches.length} batch(es) failed; results of the others are saved, re-run the same command to retry`,
    );
  }
}

/**
 * The end of a local sweep: the report (with --report), then one JSON object (the run's fields and
 * the best region's stability) or the ranking and a summary line.
 */
async function printSweep(
  o: SweepCliOptions,
  axes: [string, string | undefined],
  rows: readonly Record<string, unknown>[],
  run: Pick<Parameters<typeof writeSweepReport>[1], 'sweepId' | 'total' | 'top'> & {
    sweep: { strategy: string; bars: string; rankBy: string };
  },
  json: Record<string, unknown>,
  line: string,
): Promise<void> {
  const surface = await sweepSurface(rows, run.sweep.rankBy, axes);
  if (o.report) await writeSweepReport(o.report, { ...run, ...surface });
  if (o.json) printJson({ ...json, stability: surface.stability });
  else {
    console.log(formatTable(ranked(run.top), RANK_COLUMNS));
    console.log(line);
    if (o.report) console.log(`report: ${o.report}`);
  }
}

/** The heat map and the best region's stability of a sweep's rows, by its ranking metric. */
async function sweepSurface(
  rows: readonly Record<string, unknown>[],
  metric: string,
  axes: [string, string | undefined],
): Promise<{ heatMap: HeatMap; stability: Stability; metric: string }> {
  const { bestRegionStability, heatMap, pointsFromRows } = await import('../../sweep/heatmap');
  const points = pointsFromRows(rows, metric);
  return { heatMap: heatMap(points, axes[0], axes[1]), stability: bestRegionStability(points), metric };
}

async function writeSweepReport(
  file: string,
  r: {
    sweep: { strategy: string; bars: string };
    sweepId: string;
    total: number;
    top: readonly Record<string, unknown>[];
    heatMap: HeatMap;
    stability: Stability;
    metric: string;
  },
): Promise<void> {
  const { renderSweepReport } = await import('../../sweep/report');
  writeFileAtomic(
    file,
    renderSweepReport({
      strategy: r.sweep.strategy,
      sweepId: r.sweepId,
      bars: r.sweep.bars,
      metric: r.metric,
      total: r.total,
      heatMap: r.heatMap,
      stability: r.stability,
      top: r.top,
    }),
  );
}
