/**
 * `quant backtest`: one backtest from a file or the lake.
 *
 *   quant backtest --bars <file.csv|file.parquet|lake:SYMBOL> --strategy sma-cross \
 *     --param fast=20 --param slow=50 [--cost-bps 5] [--json] [--report out.html] \
 *     [--benchmark SYMBOL|lake:SYMBOL|FILE] [--rolling-window 63]
 *
 * `backtestCommand(program)` returns the `backtest` Command so that other areas can hang
 * sub-commands on it (the sweep adds `quant backtest sweep` with `backtestCommand`'s return value:
 * `registerSweep(backtest)`). The backtest's own options are parsed in its action (see
 * runOptions), so `quant backtest sweep --strategy ...` reaches the sweep's options.
 */
import path from 'node:path';
import { Command } from 'commander';
// The engine's modules themselves, not the src/backtest barrel: it also loads the report and the
// walk-forward, which only some runs need.
import { loadBars, loadPanel } from '../../backtest/load';
import { runBacktest } from '../../backtest/run';
import {
  getStrategy,
  parseParamPairs,
  parseStrategyParams,
  prepareStrategy,
  strategyNames,
} from '../../backtest/strategies';
import { asPanel, type BacktestResult, type Bars, type Panel } from '../../backtest/types';
import {
  alignBenchmark,
  benchmarkStats,
  buyAndHoldReturns,
  priceReturns,
  type BenchmarkStats,
} from '../../backtest/benchmark';
import type { Objective, splitOutOfSample } from '../../backtest/walk-forward';
import { describeSpacing, REGULAR_SHARE, type BarSpacing } from '../../backtest/spacing';
import type { NewsReader } from '../../news/reader';
import { InputError } from '../../errors';
import type { CostModel } from '../../backtest/costs';
import type { ReferenceIndex } from '../../backtest/point-in-time';
import type { RiskConfig } from '../../risk/types';
import type { GateReport, RebalanceGate } from '../../risk-api';
import type { parseDataSpec } from '../../backtest/aux-load';
import { parseSizing, type Sizing } from '../../backtest/sizing';
import { openPlatform, type GlobalOptions, type PlatformContext } from '../context';
import { formatTable, printJson, writeFileAtomic, pairsText } from '../output';
import { collect, int, jsonFile, num, oneOf } from '../options';

// What only some runs need is imported where it is used, so that a plain backtest of a file loads
// none of it: the report, walk-forward and grids, the risk engine and point-in-time data, side data,
// cost model files and the model registry.

interface BacktestOpts {
  bars?: string[];
  strategy?: string;
  param: string[];
  costBps?: string;
  json?: boolean;
  report?: string;
  align?: string;
  oos?: string;
  walkForward?: string;
  grid: string[];
  where?: string;
  objective: string;
  periodsPerYear?: string;
  limits?: string;
  reference?: string;
  actions?: string;
  costs?: string;
  sizing?: string;
  data: string[];
  benchmark?: string;
  rollingWindow: string;
}

/** The benchmark when --benchmark is not given: equal-weight buy-and-hold of the backtest's universe. */
export const DEFAULT_BENCHMARK = 'buy-and-hold';

const OBJECTIVES: readonly Objective[] = ['sharpe', 'sortino', 'cagr', 'calmar', 'totalReturn'];
/** Candidate parameter sets of one walk-forward run at most (each is a full backtest). */
const MAX_WALK_FORWARD_CANDIDATES = 5_000;

/** Registers `quant backtest` (main.ts calls this; sub-commands attach to backtestCommand's result). */
export const registerBacktest = (program: Command): Command => backtestCommand(program);

/**
 * The options of one backtest, parsed by a command of their own: declared on `backtest` itself they
 * would be consumed before a sub-command saw them (`quant backtest sweep --strategy ...` must reach
 * the sweep), because the root program reads options after the sub-command name.
 */
function runOptions(): Command {
  return new Command('quant backtest')
    .exitOverride()
    .allowExcessArguments(false)
    .option(
      '--bars <source>',
      'file.csv | file.parquet | lake:SYMBOL (repeat for a universe) | synthetic:macro|fx|commodities|bonds|equities',
      collect,
      [],
    )
    .option('--strategy <name>', `one of ${strategyNames.join(', ')}`)
    .option('--param <name=value>', 'strategy parameter (repeat)', collect, [])
    .option(
      '--cost-bps <c>',
      'cost in bps of |position change|, charged in the period that starts at the change',
    )
    .option('--align <mode>', 'strict | intersect: calendars of several symbols', 'strict')
    .option('--oos <fraction>', 'also report the last fraction of the periods as out-of-sample')
    .option(
      '--walk-forward <train:test>',
      'walk-forward: train and test window lengths in periods, with --grid',
    )
    .option(
      '--grid <name=spec>',
      'walk-forward candidates: name=start:end[:step] or name=a,b,c (repeat)',
      collect,
      [],
    )
    .option('--where <expr>', 'walk-forward: keep only grid points where this holds, e.g. "fast<slow"')
    .option(
      '--objective <metric>',
      `walk-forward: metric maximised in each train window (${OBJECTIVES.join(', ')})`,
      'sharpe',
    )
    .option(
      '--periods-per-year <n>',
      'annualisation (default: detected from the bar spacing: 252 daily, 52 weekly, 12 monthly, intraday by minutes)',
    )
    .option(
      '--limits <file>',
      'pass every rebalance through the pre-trade risk engine with this limits file (as quant risk check)',
    )
    .option(
      '--reference <file>',
      'point-in-time reference data CSV: symbol,from,region,asset_class,sector ("synthetic": the macro universe\'s)',
    )
    .option('--actions <file>', 'corporate actions CSV: symbol,date,type(split|dividend|delist),value')
    .option('--costs <file>', 'cost model JSON (e.g. from quant tca calibrate)')
    .option(
      '--sizing <spec>',
      'position sizing: vol-target:0.10 | kelly:0.5 | inverse-vol | risk-parity | mean-variance:key=value,...',
    )
    .option(
      '--data <kind=file>',
      'side data for carry and factor strategies: fields= | rates= | curve= | labels= (repeat)',
      collect,
      [],
    )
    .option('--report <file>', 'write a self-contained HTML report')
    .option(
      '--benchmark <symbol|file>',
      `benchmark: a symbol of the universe, lake:SYMBOL or a bars file (default: ${DEFAULT_BENCHMARK}, equal-weight buy-and-hold of the universe)`,
    )
    .option('--rolling-window <n>', 'report: periods of the rolling Sharpe and volatility', '63')
    .option('--json', 'print one JSON object');
}

export function backtestCommand(program: Command): Command {
  const help = runOptions()
    .helpInformation()
    .replace(/^Usage:.*\n\n/, '');
  return program
    .command('backtest')
    .description('run one backtest (bars from a CSV/Parquet file or lake:SYMBOL); sub-commands below')
    .usage('--bars <source> --strategy <name> [--param name=value ...] [options] | <sub-command>')
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText('after', `\nBacktest ${help}`)
    .action(backtest);
}

/** The options of one run, parsed and checked before any data is read. */
interface BacktestRun {
  readonly opts: BacktestOpts;
  readonly strategy: ReturnType<typeof getStrategy>;
  readonly align: 'strict' | 'intersect';
  readonly params: Record<string, string>;
  readonly costBps: number;
  readonly oos?: number;
  readonly periodsPerYear?: number;
  readonly sizing?: Sizing;
  readonly dataSpecs: ReturnType<typeof parseDataSpec>[];
  readonly rollingWindow: number;
}

/** Checks the options: a bad one is the user's mistake whatever the data (exit 2 before any read). */
async function parseRun(opts: BacktestOpts): Promise<BacktestRun> {
  if (!opts.strategy)
    throw new InputError('--strategy: required (one of ' + strategyNames.join(', ') + ')', 'strategy');
  if (!opts.bars || opts.bars.length === 0)
    throw new InputError('--bars: required (file.csv, file.parquet or lake:SYMBOL)', 'bars');
  const strategy = getStrategy(opts.strategy);
  const align = oneOf(opts.align ?? 'strict', '--align', ['strict', 'intersect']);
  const params = parseParamPairs(opts.param);
  const costBps = opts.costBps === undefined ? 0 : num(opts.costBps, '--cost-bps', { min: 0, max: 10_000 });
  const oos = opts.oos === undefined ? undefined : num(opts.oos, '--oos', { min: 0.01, max: 0.99 });
  const periodsPerYear =
    opts.periodsPerYear === undefined
      ? undefined
      : num(opts.periodsPerYear, '--periods-per-year', { min: 1, max: 1_000_000 });
  if (periodsPerYear !== undefined && !Number.isInteger(periodsPerYear)) {
    throw new InputError(
      `--periods-per-year: must be a whole number, got "${opts.periodsPerYear}"`,
      'periods-per-year',
    );
  }
  const sizing = opts.sizing === undefined ? undefined : parseSizing(opts.sizing);
  const dataSpecs =
    opts.data.length === 0 ? [] : opts.data.map((await import('../../backtest/aux-load')).parseDataSpec);
  const rollingWindow = int(opts.rollingWindow, '--rolling-window', { min: 2, max: 100_000 });
  if (opts.benchmark !== undefined && opts.benchmark.trim() === '')
    throw new InputError(
      '--benchmark: empty (a symbol of the universe, lake:SYMBOL or a bars file)',
      'benchmark',
    );
  return { opts, strategy, align, params, costBps, oos, periodsPerYear, sizing, dataSpecs, rollingWindow };
}

/** `quant backtest ...`: its options are parsed here (see runOptions), then one run or a walk-forward. */
async function backtest(_opts: unknown, command: Command): Promise<void> {
  const parser = runOptions();
  parser.parse(command.args, { from: 'user' });
  const run = await parseRun(parser.opts<BacktestOpts>());
  const { opts, strategy, params } = run;
  let ctx: PlatformContext | undefined;
  try {
    const platform = async (): Promise<PlatformContext> => {
      ctx ??= await openPlatform({ ...command.optsWithGlobals<GlobalOptions>(), services: ['s3'] });
      return ctx;
    };
    const loaded = await loadInput(opts.bars!, strategy.kind === 'multi', run.align, platform);
    let input =
      run.dataSpecs.length > 0
        ? (await import('../../backtest/aux-load')).attachAux(asPanel(loaded), run.dataSpecs)
        : loaded;
    // A model on feature set version 2 reads the lake's news sentiment, as its training did.
    // Loaded on use: the news readers bring the S3 client, which a backtest of a CSV never needs.
    const news = async (): Promise<NewsReader> => {
      const { EngineNewsReader } = await import('../../news/reader');
      return new EngineNewsReader(await (await platform()).query());
    };
    // Strategies with an asynchronous step (ml-signal loads its model) run it before any backtest;
    // a registry version (model=name@version|@env) is read from the platform's registry.
    if (strategy.prepare) {
      const { parseGridArg } = await import('../../sweep/grid');
      const { parseModelRef } = await import('../../ml/inference/resolver');
      const { useModelRegistry } = await import('../../ml/registry/resolver');
      const { withModelInputs } = await import('../../ml/model-inputs');
      const values = [...Object.values(params), ...opts.grid.flatMap((g) => parseGridArg(g).values)];
      if (values.some((v) => typeof v === 'string' && parseModelRef(v))) {
        const c = await platform();
        useModelRegistry(c.runtime, c.clients.s3, () => c.buckets.models);
      }
      // A walk-forward prepares each of its candidates (runWalkForward).
      if (opts.walkForward === undefined) {
        const parsed = parseStrategyParams(strategy.name, params);
        await prepareStrategy(strategy.name, parsed);
        input = await withModelInputs(asPanel(input), [parsed], news);
      }
    }
    if (
      opts.walkForward !== undefined &&
      [opts.limits, opts.reference, opts.actions, opts.costs, opts.benchmark].some((x) => x !== undefined)
    )
      throw new InputError(
        '--walk-forward: not with --limits, --reference, --actions, --costs or --benchmark (run one backtest)',
        'walk-forward',
      );
    if (opts.walkForward !== undefined) {
      await runWalkForward(run, input, news);
      return;
    }
    if (opts.grid.length > 0)
      throw new InputError('--grid: only with --walk-forward (sweeps: quant backtest sweep)', 'grid');
    await runOne(run, input, platform);
  } finally {
    await ctx?.close();
  }
}

/** One backtest: the run, its benchmark, the report and the output. */
async function runOne(
  run: BacktestRun,
  input: Bars | Panel,
  platform: () => Promise<PlatformContext>,
): Promise<void> {
  const { opts } = run;
  const gated = await pointInTimeRun(input, opts, run.strategy.name);
  const costs = opts.costs === undefined ? undefined : await readCostModel(opts.costs);
  const result = runBacktest(gated.input, {
    strategy: run.strategy.name,
    params: run.params,
    costBps: run.costBps,
    periodsPerYear: run.periodsPerYear,
    costs,
    gate: gated.gate,
    sizing: run.sizing,
  });
  warnIrregular(result);
  const split =
    run.oos === undefined
      ? undefined
      : (await import('../../backtest/walk-forward')).splitOutOfSample(result, run.oos);
  const bench = await benchmarkOf(opts.benchmark, asPanel(gated.input), result, platform);
  if (opts.report) {
    const [{ renderReport }, { rollingStats }, { reportExposure }, { ReferenceIndex }, { macroReference }] =
      await Promise.all([
        import('../../backtest/report'),
        import('../../backtest/benchmark'),
        import('../../backtest/exposure'),
        import('../../backtest/point-in-time'),
        import('../../synthetic/point-in-time'),
      ]);
    const extras = {
      benchmark: bench,
      rolling: rollingStats(result.returns, run.rollingWindow, result.periodsPerYear),
      exposure: reportExposure(result, {
        reference: gated.reference,
        securities: gated.securities,
        builtIn: new ReferenceIndex(macroReference(result.dates[0] ?? '')),
      }),
    };
    writeFileAtomic(opts.report, renderReport(result, extras));
  }
  if (opts.json) {
    printJson({
      ...summaryJson(result),
      ...(opts.sizing === undefined ? {} : { sizing: opts.sizing }),
      ...(split && { inSample: split.inSample, outOfSample: split.outOfSample, splitDate: split.splitDate }),
      benchmark: bench.stats,
    });
    return;
  }
  printResult(result, split);
  // Only when asked for: the default text output stays as it was.
  if (opts.benchmark !== undefined) process.stdout.write(`${benchmarkLine(bench.stats)}\n`);
  if (opts.report) process.stdout.write(`report: ${opts.report}\n`);
}

/**
 * The benchmark of a run: `--benchmark` names a symbol of the backtest's universe, `lake:SYMBOL` or
 * a bars file (CSV/Parquet; its closes on the backtest's dates, each the last on or before it);
 * without it, equal-weight buy-and-hold of the universe (DEFAULT_BENCHMARK).
 */
async function benchmarkOf(
  spec: string | undefined,
  panel: Panel,
  result: BacktestResult,
  platform: () => Promise<PlatformContext>,
): Promise<{ stats: BenchmarkStats; returns: Float64Array }> {
  let returns: Float64Array;
  let name = spec ?? DEFAULT_BENCHMARK;
  if (spec === undefined) returns = buyAndHoldReturns(panel);
  else if (panel.symbols.includes(spec)) returns = priceReturns(panel.close[panel.symbols.indexOf(spec)]);
  else {
    let bars: Bars;
    try {
      const ctx = spec.startsWith('lake:') ? await platform() : undefined;
      bars = await loadBars(spec, { runtime: ctx?.runtime, query: ctx ? await ctx.query() : undefined });
    } catch (err) {
      if (err instanceof InputError)
        throw new InputError(
          `--benchmark: "${spec}" is not a symbol of the backtest (${panel.symbols.slice(0, 5).join(', ')}${panel.symbols.length > 5 ? ', ...' : ''}) nor readable bars: ${err.message}`,
          'benchmark',
        );
      throw err;
    }
    returns = priceReturns(alignBenchmark(bars, result.dates, '--benchmark'));
    name = spec.startsWith('lake:') ? spec : path.basename(spec);
  }
  return { stats: benchmarkStats(result.returns, returns, result.periodsPerYear, name), returns };
}

/** One line of the benchmark statistics (text output with --benchmark). */
export function benchmarkLine(b: BenchmarkStats): string {
  const p = (x: number): string => `${(x * 100).toFixed(2)}%`;
  return `benchmark ${b.name}: return ${p(b.benchmarkTotalReturn)}, excess ${p(b.excessReturn)}, beta ${b.beta.toFixed(2)}, alpha ${p(b.alpha)}, information ratio ${b.informationRatio.toFixed(2)}, tracking error ${p(b.trackingError)}`;
}

/** The text output of one run. */
function printResult(result: BacktestResult, split: ReturnType<typeof splitOutOfSample> | undefined): void {
  const rows = Object.entries(result.summary).map(([metric, value]) => ({ metric, value }));
  process.stdout.write(
    `${result.strategy} ${pairsText(result.params)} on ${result.symbols.join(', ')}, ${result.dates[0]} to ${result.dates[result.dates.length - 1]}\n`,
  );
  process.stdout.write(`${formatTable(rows)}\n`);
  if (split) {
    const keys = Object.keys(split.inSample) as (keyof typeof split.inSample)[];
    process.stdout.write(`\nsplit at ${split.splitDate}\n`);
    process.stdout.write(
      `${formatTable(keys.map((k) => ({ metric: k, inSample: split.inSample[k], outOfSample: split.outOfSample[k] })))}\n`,
    );
  }
  if (result.riskGate) process.stdout.write(`\n${riskGateLine(result.riskGate)}\n`);
}

/** `--walk-forward train:test --grid ...`: rolling re-selection, stitched out-of-sample result. */
async function runWalkForward(
  run: BacktestRun,
  input: Bars | Panel,
  news: () => Promise<NewsReader>,
): Promise<void> {
  const { opts, params: rawParams, costBps, periodsPerYear, sizing } = run;
  const strategy = run.strategy.name;
  const m = /^(\d+):(\d+)$/.exec(opts.walkForward!.trim());
  if (!m)
    throw new InputError(
      `--walk-forward: "${opts.walkForward}" must be train:test in periods, e.g. 756:126`,
      'walk-forward',
    );
  const [trainPeriods, testPeriods] = [Number(m[1]), Number(m[2])];
  const [{ expandGrid, parseGrid }, { walkForward }, { withModelInputs }, { renderReport }] =
    await Promise.all([
      import('../../sweep/grid'),
      import('../../backtest/walk-forward'),
      import('../../ml/model-inputs'),
      import('../../backtest/report'),
    ]);
  oneOf(opts.objective, '--objective', OBJECTIVES);
  if (opts.grid.length === 0)
    throw new InputError('--grid: walk-forward needs at least one --grid axis of candidates', 'grid');
  // Text parameters (ml-signal's model) are not grid values: they join every candidate as they
  // are, and the strategy's schema judges them.
  const isText = (v: string): boolean =>
    !['true', 'false'].includes(v.trim()) && !(v.trim() !== '' && Number.isFinite(Number(v)));
  const text = Object.fromEntries(Object.entries(rawParams).filter(([, v]) => isText(v)));
  const numeric = Object.fromEntries(Object.entries(rawParams).filter(([, v]) => !isText(v)));
  const candidates = expandGrid({
    strategy,
    axes: parseGrid(opts.grid),
    where: opts.where,
    fixed: typedParams(numeric),
    maxGridSize: MAX_WALK_FORWARD_CANDIDATES,
  }).map((p) => ({ ...p.params, ...text }) as unknown as Record<string, number | boolean>);
  // A grid of models (--grid model=a@1,a@2): each candidate's model is loaded before the first window.
  if (getStrategy(strategy).prepare) {
    const parsed = candidates.map((c) => parseStrategyParams(strategy, c));
    for (const p of parsed) await prepareStrategy(strategy, p);
    input = await withModelInputs(asPanel(input), parsed, news);
  }
  const wf = walkForward(input, {
    strategy,
    candidates,
    trainPeriods,
    testPeriods,
    costBps,
    periodsPerYear,
    objective: opts.objective as Objective,
    sizing,
  });
  if (opts.report)
    writeFileAtomic(
      opts.report,
      renderReport(wf.result, {
        title: `${strategy} walk-forward ${trainPeriods}:${testPeriods} on ${wf.result.symbols.join(', ')}`,
      }),
    );
  const windows = wf.windows.map((w) => ({
    testFrom: w.testFrom,
    params: w.params,
    trainSharpe: w.train.sharpe,
    testSharpe: w.test.sharpe,
    testReturn: w.test.totalReturn,
  }));
  if (opts.json) {
    printJson({
      ...wf.summary,
      strategy,
      walkForward: { trainPeriods, testPeriods, objective: opts.objective, candidates: candidates.length },
      from: wf.result.dates[trainPeriods],
      to: wf.result.dates[wf.result.dates.length - 1],
      windows,
    });
    return;
  }
  process.stdout.write(
    `${strategy} walk-forward ${trainPeriods}:${testPeriods}, ${candidates.length} candidates, by ${opts.objective}\n`,
  );
  process.stdout.write(
    `${formatTable(
      windows.map((w) => ({
        ...w,
        params: pairsText(w.params),
      })),
    )}\n\n`,
  );
  process.stdout.write(
    `${formatTable(Object.entries(wf.summary).map(([metric, value]) => ({ metric, value })))}\n`,
  );
  if (opts.report) process.stdout.write(`report: ${opts.report}\n`);
}

// Helpers of the handlers above.

/** `--param` values as typed scalars, to be merged into grid points. */
function typedParams(raw: Readonly<Record<string, string>>): Record<string, number | boolean> {
  const out: Record<string, number | boolean> = {};
  for (const [k, v] of Object.entries(raw)) {
    const t = v.trim();
    if (t === 'true' || t === 'false') out[k] = t === 'true';
    else if (t !== '' && Number.isFinite(Number(t))) out[k] = Number(t);
    else throw new InputError(`param.${k}: "${v}" is not a number or true/false`, `param.${k}`);
  }
  return out;
}

/** Loads the input a strategy needs: one instrument, or a universe for multi-asset strategies. */
async function loadInput(
  sources: readonly string[],
  multi: boolean,
  align: 'strict' | 'intersect',
  platform: () => Promise<PlatformContext>,
): Promise<Bars | Panel> {
  const needsLake = sources.some((s) => s.startsWith('lake:'));
  const ctx = needsLake ? await platform() : undefined;
  const query = ctx ? await ctx.query() : undefined;
  const opts = { runtime: ctx?.runtime, query, align };
  if (sources.some((s) => s.startsWith('synthetic:'))) {
    if (sources.length > 1)
      throw new InputError('--bars: a synthetic: source is a whole universe; give it alone', 'bars');
    return (await import('../../backtest/aux-load')).loadSynthetic(sources[0]);
  }
  if (multi) return loadPanel(sources, opts);
  if (sources.length > 1)
    throw new InputError(`--bars: this strategy takes one instrument, got ${sources.length} sources`, 'bars');
  return loadBars(sources[0], opts);
}

/** The JSON object `--json` prints: the summary's fields at the top level, then context. */
export function summaryJson(result: BacktestResult): Record<string, unknown> {
  return {
    ...result.summary,
    strategy: result.strategy,
    params: result.params,
    symbols: result.symbols,
    from: result.dates[0],
    to: result.dates[result.dates.length - 1],
    periodsPerYear: result.periodsPerYear,
    periodsPerYearSource: result.periodsPerYearSource,
    barSpacing: spacingLabel(result.barSpacing),
    ...(result.riskGate ? { riskGate: result.riskGate } : {}),
  };
}

/** One line of the risk gate's counts, rules by count. */
export function riskGateLine(g: GateReport): string {
  const rules = Object.entries(g.byRule)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([r, c]) => {
      const d = g.byRuleDecision[r];
      return d ? `${r} ${c}: ${d.resized} resized, ${d.rejected} rejected` : `${r} ${c}`;
    })
    .join('; ');
  return `risk engine: ${g.orders} orders, ${g.approved} approved, ${g.resized} resized, ${g.rejected} rejected${rules ? ` (${rules})` : ''}`;
}

/**
 * The input and gate of a run with `--limits`, `--reference` or `--actions`: corporate actions
 * applied to the panel the strategy sees, and the pre-trade risk engine on the raw one.
 */
export async function pointInTimeRun(
  input: Bars | Panel,
  opts: Pick<BacktestOpts, 'limits' | 'reference' | 'actions'>,
  strategy: string,
): Promise<{
  input: Bars | Panel;
  gate?: RebalanceGate;
  reference?: ReferenceIndex;
  securities?: RiskConfig['securities'];
}> {
  if (opts.limits === undefined && opts.reference === undefined && opts.actions === undefined)
    return { input };
  const [{ adjustPanel, loadActionsCsv, loadReferenceCsv, ReferenceIndex }, { createRiskGate }] =
    await Promise.all([import('../../backtest/point-in-time'), import('../../backtest/risk-gate')]);
  const { riskConfigSchema } = await import('../../risk/schemas');
  const { macroReference } = await import('../../synthetic/point-in-time');
  const raw = asPanel(input);
  const config = opts.limits === undefined ? undefined : jsonFile(riskConfigSchema, opts.limits);
  const reference =
    opts.reference === undefined
      ? undefined
      : new ReferenceIndex(
          opts.reference === 'synthetic' ? macroReference(raw.dates[0]) : loadReferenceCsv(opts.reference),
        );
  const adjusted = opts.actions === undefined ? undefined : adjustPanel(raw, loadActionsCsv(opts.actions));
  const gate = createRiskGate({ config, raw, adjusted, reference, strategy });
  return { input: adjusted ? adjusted.panel : input, gate, reference, securities: config?.securities };
}

/** A cost model file (`quant tca calibrate --out`): unknown or bad fields name the file and field. */
export async function readCostModel(file: string): Promise<CostModel> {
  return jsonFile((await import('../../backtest/cost-model-file')).costModelSchema, file);
}

function spacingLabel(s: BarSpacing): string {
  return s.kind === 'intraday' ? `${s.minutes}m` : s.kind;
}

/** Irregular bars make any annualisation a guess: say so on stderr (stdout stays clean JSON). */
function warnIrregular(result: BacktestResult): void {
  const s = result.barSpacing;
  if (s.regularity >= REGULAR_SHARE) return;
  process.stderr.write(
    `warning: irregular bar spacing (${Math.round(s.regularity * 100)}% of the gaps fit ${describeSpacing(s)}); ` +
      `annualised figures use ${result.periodsPerYear} periods a year` +
      (result.periodsPerYearSource === 'detected' ? ': set --periods-per-year to override\n' : '\n'),
  );
}
