/**
 * The main job (`npm start`): the whole platform on the embedded default. Each phase is a function
 * of the platform context; later phases (backtests, trading, ingestion, feed, vendor sync) add
 * themselves to `PHASES`. Every phase is idempotent, so running the job twice gives the same result.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { PlatformContext } from '../platform';
import { formatTable } from '../format';
import { importBars, readBarsFile } from '../lake/bars';
import { macroUniverse, MACRO_ASSETS } from '../synthetic/macro-universe';
import { loadBars, loadPanel, renderReport, runBacktest } from '../backtest';
import { runMacroDemo } from '../backtest/macro-demo';
import { panelReportExtras } from '../backtest/report-extras';
import { asPanel } from '../backtest/types';
import { writeAtomic } from '../local/lease';
import { paramText, pct } from '../report/html';
import { renderStressReport } from '../risk/stress-report';
import { bestRegionStability, heatMap, pointsFromRows } from '../sweep/heatmap';
import { RANKING_COLUMNS } from '../sweep/rank';
import { renderSweepReport } from '../sweep/report';
import { readSweepRows } from '../sweep/results';
import { defaultDemoBars, runBacktestDemo } from '../backtest/demo';
import { defaultSchemaPath, runFeedDemo } from '../feed/demo';
import { demoTicksLanded, runIngestDemo } from '../ingest/demo';
import { runMlDemo } from '../ml/demo';
import { runNewsDemo } from '../news/demo';
import { runDemoSweep } from '../sweep/demo';
import { runVendorSyncDemo } from '../sync/vendor-demo';
import { runPaperTradingDemo } from '../trading/demo';

export interface DemoPhase {
  readonly name: string;
  run(ctx: PlatformContext, log: (line: string) => void): Promise<void>;
}

/** Symbol under which the real S&P 500 index history is stored. */
export const SP500_SYMBOL = 'SPX';

const importPhase: DemoPhase = {
  name: 'import bars into the lake',
  async run(ctx, log) {
    const sp = await readBarsFile(defaultDemoBars(), { symbol: SP500_SYMBOL });
    const a = await importBars(ctx, sp, { interval: '1d' });
    log(
      `S&P 500 (vega-datasets sp500-2000.csv) as ${SP500_SYMBOL}: ${a.rows} daily bars, ${a.partitions} partitions`,
    );
    const macro = macroUniverse();
    const b = await importBars(ctx, macro, { interval: '1d' });
    log(
      `synthetic macro universe (${MACRO_ASSETS.map((x) => x.symbol).join(' ')}; seed 20260101): ${b.rows} daily bars, ${b.partitions} partitions`,
    );
  },
};

const summaryPhase: DemoPhase = {
  name: 'query the lake',
  async run(ctx, log) {
    const q = await ctx.query();
    const rows = await q.query(`
      WITH r AS (
        SELECT symbol, ts, close,
               ln(close / lag(close) OVER (PARTITION BY symbol ORDER BY ts)) AS lr
        FROM bars WHERE "interval" = '1d'
          AND symbol IN (${[SP500_SYMBOL, ...MACRO_ASSETS.map((a) => a.symbol)].map((x) => `'${x}'`).join(', ')}))
      SELECT symbol,
             count(*) AS bars,
             strftime(min(ts), '%Y-%m-%d') AS first,
             strftime(max(ts), '%Y-%m-%d') AS last,
             round(arg_max(close, ts), 2) AS last_close,
             round(exp(avg(lr) * 252) - 1, 4) AS ann_return,
             round(stddev_samp(lr) * sqrt(252), 4) AS ann_vol
      FROM r GROUP BY symbol ORDER BY symbol`);
    log(formatTable(rows.map((r) => ({ ...r, bars: Number(r.bars) }))));
    const corr = await q.query(`
      WITH r AS (
        SELECT symbol, ts, ln(close / lag(close) OVER (PARTITION BY symbol ORDER BY ts)) AS lr
        FROM bars WHERE "interval" = '1d' AND symbol IN ('SPY', 'EFA', 'AGG', 'GLD', 'UUP', 'FXE'))
      SELECT a.symbol || '/' || b.symbol AS pair, round(corr(a.lr, b.lr), 3) AS correlation
      FROM r a JOIN r b ON a.ts = b.ts AND a.symbol < b.symbol
      WHERE (a.symbol, b.symbol) IN (('EFA', 'SPY'), ('AGG', 'SPY'), ('GLD', 'SPY'), ('FXE', 'UUP'))
      GROUP BY ALL ORDER BY pair`);
    log(`daily return correlations: ${corr.map((r) => `${r.pair} ${r.correlation}`).join(', ')}`);
  },
};

/** Carries results from one phase to a later one (the best backtest feeds paper trading). */
interface DemoState {
  best?: { strategy: string; params: Record<string, number | boolean> };
}
const state: DemoState = {};

const vendorPhase: DemoPhase = {
  name: 'vendor data sync (a second S3 server plays the vendor account)',
  async run(ctx, log) {
    if (ctx.runtime.mode !== 'local') return;
    const r = await runVendorSyncDemo(ctx.runtime);
    log(
      `synced vendor reference data: ${r.report.copied.objects} copied, ${r.report.skipped.objects} unchanged, ${r.report.failed.objects} failed`,
    );
    log(formatTable(r.rows));
  },
};

const backtestPhase: DemoPhase = {
  name: 'backtests on the S&P 500 (lake:SPX)',
  async run(ctx, log) {
    const reportFile = path.join(reportsDir(ctx), 'backtests-best.html');
    const r = await runBacktestDemo({
      bars: `lake:${SP500_SYMBOL}`,
      runtime: ctx.runtime,
      query: await ctx.query(),
      reportFile,
    });
    log(
      formatTable(
        r.rows.map((x) => ({
          ...x,
          totalReturn: pct(x.totalReturn),
          cagr: pct(x.cagr),
          sharpe: Number(x.sharpe.toFixed(3)),
          maxDrawdown: pct(x.maxDrawdown),
          exposure: pct(x.exposure),
        })),
      ),
    );
    log(`report of the best by Sharpe: ${reportFile}`);
  },
};

const sweepPhase: DemoPhase = {
  name: 'parameter sweep through the local Step Functions state machine',
  async run(ctx, log) {
    if (ctx.runtime.mode !== 'local') return;
    const r = await runDemoSweep({ runtime: ctx.runtime, clients: ctx.clients });
    log(
      `sweep ${r.sweepId}: ${r.strategy} on ${r.bars}, ${r.total} parameter sets (${r.ran} run now, ${r.total - r.ran} already done) in ${r.batches} batch task(s)`,
    );
    log(`top five by Sharpe (ranking object: s3://quant-results/${r.rankingKey}):\n${formatTable(r.top5)}`);
    if (r.best) {
      state.best = r.best;
      const bars = await loadBars(r.bars, { runtime: ctx.runtime, query: await ctx.query() });
      const best = runBacktest(bars, { strategy: r.best.strategy, params: r.best.params, costBps: 1 });
      const file = path.join(reportsDir(ctx), 'sweep-best.html');
      writeAtomic(file, renderReport(best, panelReportExtras(best, asPanel(bars))));
      log(`HTML report of the best (${paramText(r.best.params)}): ${file}`);
    }
    // The sweep's own report: Sharpe over fast x slow, and whether the best is a plateau or a spike.
    const rows = await readSweepRows(
      { clients: ctx.clients, buckets: ctx.buckets, tmpDir: ctx.tmpDir },
      r.strategy,
      r.sweepId,
      [...RANKING_COLUMNS],
    );
    const points = pointsFromRows(rows, 'sharpe');
    const stability = bestRegionStability(points);
    const sweepFile = path.join(reportsDir(ctx), 'sweep.html');
    writeAtomic(
      sweepFile,
      renderSweepReport({
        strategy: r.strategy,
        sweepId: r.sweepId,
        bars: r.bars,
        metric: 'sharpe',
        total: rows.length,
        heatMap: heatMap(points, 'fast', 'slow'),
        stability,
        top: r.top5,
      }),
    );
    log(`sweep heat map (Sharpe by fast x slow; best region: ${stability.verdict}): ${sweepFile}`);
  },
};

const paperPhase: DemoPhase = {
  name: 'paper trading of the best backtest through risk, execution and the paper broker',
  async run(ctx, log) {
    const best = state.best ?? { strategy: 'sma-cross', params: { fast: 20, slow: 50 } };
    await runPaperTradingDemo(ctx, log, {
      strategy: best.strategy,
      params: best.params,
      bars: [`lake:${SP500_SYMBOL}`],
      // A fresh paper account per run (ids are random): the same bars give the same blotter.
    });
  },
};

const feedPhase: DemoPhase = {
  name: 'CME MDP 3.0 feed: lossy A/B channel -> handler (arbitration, TCP replay, books) -> UDP relay, Kinesis',
  async run(ctx, log) {
    // The project's schema by default; QUANT_CME_SCHEMA runs the phase with CME's own file instead.
    const schema = process.env.QUANT_CME_SCHEMA ?? defaultSchemaPath();
    // An earlier run put this channel's events into the stream already: sending them again would
    // only add duplicates (the ingestion phase lands the stream).
    const landed = ctx.runtime.mode === 'local' && (await demoTicksLanded(ctx));
    const r = await runFeedDemo({
      schemaPath: schema,
      kinesis:
        ctx.runtime.mode === 'local' && !landed
          ? { client: ctx.clients.kinesis, stream: 'ticks', create: true }
          : undefined,
    });
    log(r.line);
    if (landed) log('feed events already ingested by an earlier run: not put to Kinesis again');
  },
};

// After the feed phase: the consumer lands everything in the stream, the feed's events included.
const ingestPhase: DemoPhase = {
  name: 'market-data ingestion: synthetic ticks + the feed events -> Kinesis ticks -> consumer -> raw zone -> bars',
  async run(ctx, log) {
    if (ctx.runtime.mode !== 'local') return;
    const r = await runIngestDemo(ctx, { log });
    log(
      formatTable(
        r.daily.map((d) => ({ ...d, ts: d.ts instanceof Date ? d.ts.toISOString().slice(0, 10) : d.ts })),
      ),
    );
  },
};

function reportsDir(ctx: PlatformContext): string {
  const dir = path.join(ctx.runtime.mode === 'local' ? ctx.runtime.dataDir : '.', 'reports');
  mkdirSync(dir, { recursive: true });
  return dir;
}

// Last: it needs only the imported bars, and without Python it is skipped with a message.
const mlPhase: DemoPhase = {
  name: 'machine learning: lake features -> training (CPU) -> evaluation -> local registry -> ml-signal vs sma-cross -> paper through the strategy runner',
  async run(ctx, log) {
    await runMlDemo(ctx, log);
  },
};

const newsPhase: DemoPhase = {
  name: 'alternative data: news API simulator -> sentiment -> news_sentiment in the lake -> one day next to returns',
  async run(ctx, log) {
    await runNewsDemo(ctx, log);
  },
};

const macroPhase: DemoPhase = {
  name: 'global macro: global-macro over the macro universe -> hierarchical risk limits -> stress table',
  async run(ctx, log) {
    const symbols = MACRO_ASSETS.map((a) => a.symbol);
    const panel = await loadPanel(
      symbols.map((s) => `lake:${s}`),
      { runtime: ctx.runtime, query: await ctx.query() },
    );
    const r = runMacroDemo(panel);
    const s = r.summary;
    log(
      `global-macro on ${symbols.join(' ')} (lake, ${panel.dates.length} days, ${(r.capital / 1e6).toFixed(0)}M): return ${pct(s.totalReturn)}, Sharpe ${s.sharpe.toFixed(3)}, max drawdown ${pct(s.maxDrawdown)}`,
    );
    const rules = Object.entries(r.gate.byRule)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([k, v]) => {
        const d = r.gate.byRuleDecision[k];
        return d ? `${k} ${v} (${d.resized} resized, ${d.rejected} rejected)` : `${k} ${v}`;
      })
      .join('; ');
    log(
      `risk engine (portfolio, region, asset class, sector, position, ADV, VaR budget): ${r.gate.orders} orders, ${r.gate.approved} approved, ${r.gate.resized} resized, ${r.gate.rejected} rejected; by rule: ${rules || 'none'}`,
    );
    const weights = (m: Record<string, number>): string =>
      Object.entries(m)
        .map(([k, v]) => `${k} ${v >= 0 ? '+' : ''}${pct(v)}`)
        .join(', ');
    log(`book at the last close (NAV ${r.portfolio.nav.toFixed(2)}): ${weights(r.byAssetClass)}`);
    log(`by region: ${weights(r.byRegion)}`);
    const shockText = (x: (typeof r.stress.scenarios)[number]): string => {
      const shocks = [
        // A replay's fx shock is a move of the dollar (each FX holding by its usd sign).
        ...Object.entries(x.shocks).map(
          ([k, v]) => `${k === 'fx' && x.fxIsDollar ? 'fx (dollar)' : k} ${v >= 0 ? '+' : ''}${pct(v)}`,
        ),
        ...(x.correlationOne ? ['correlation 1'] : []),
      ].join(', ');
      return x.replay ? `S&P 500 ${x.replay.peak} -> ${x.replay.trough} (${shocks})` : shocks;
    };
    log(
      formatTable(
        r.stress.scenarios.map((x) => ({
          scenario: x.name,
          shocks: shockText(x),
          pnl: x.pnl.toFixed(2),
          'pnl % nav': pct(x.pnl / r.portfolio.nav),
          breaches: x.breaches.map((b) => b.rule).join(', ') || '-',
        })),
        ['scenario', 'shocks', 'pnl', 'pnl % nav', 'breaches'],
      ),
    );
    const rev = r.stress.reverse!;
    log(
      rev.equity === null
        ? 'reverse stress: no uniform equity shock within ±100% breaches maxDrawdown or varBudget'
        : `reverse stress: a uniform equity shock of ${pct(rev.equity)} breaches ${rev.rules.join(', ')}`,
    );
    // The reports: the gated backtest (benchmark SPY, rolling risk, exposure from the universe's
    // reference, the risk engine's decisions by rule) and the stress table with its bars.
    const backtestFile = path.join(reportsDir(ctx), 'macro-backtest.html');
    writeAtomic(
      backtestFile,
      renderReport(
        r.result,
        panelReportExtras(r.result, panel, { benchmark: 'SPY', securities: r.config.securities }),
      ),
    );
    const stressFile = path.join(reportsDir(ctx), 'macro-stress.html');
    writeAtomic(
      stressFile,
      renderStressReport({
        nav: r.portfolio.nav,
        sources: { portfolio: 'the macro book at the last close', limits: 'the macro limits' },
        scenarios: r.stress.scenarios,
        reverse: r.stress.reverse,
      }),
    );
    log(`reports: ${backtestFile}, ${stressFile}`);
  },
};

export const PHASES: DemoPhase[] = [
  importPhase,
  summaryPhase,
  vendorPhase,
  backtestPhase,
  sweepPhase,
  paperPhase,
  feedPhase,
  ingestPhase,
  mlPhase,
  newsPhase,
  macroPhase,
];

export async function runDemo(
  ctx: PlatformContext,
  log: (line: string) => void = console.log,
): Promise<void> {
  for (const [i, phase] of PHASES.entries()) {
    const t0 = performance.now();
    log(`\n[${i + 1}/${PHASES.length}] ${phase.name}`);
    await phase.run(ctx, (l) => log(l.replace(/^/gm, '  ')));
    log(`  (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
}
