/**
 * The main job (`npm start`): the whole platform on the embedded default. Each phase is a function
 * of the platform context; later phases (backtests, trading, ingestion, feed, vendor sync) add
 * themselves to `PHASES`. Every phase is idempotent, so running the job twice gives the same result.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type { PlatformContext } from '../cli/context';
import { formatTable } from '../cli/output';
import { importBars, readBarsFile } from '../lake/bars';
import { macroUniverse, MACRO_ASSETS } from '../synthetic/macro-universe';

const require = createRequire(import.meta.url);

export interface DemoPhase {
  readonly name: string;
  run(ctx: PlatformContext, log: (line: string) => void): Promise<void>;
}

/** Symbol under which the real S&P 500 index history is stored. */
export const SP500_SYMBOL = 'SPX';

/** The package's exports hide its data folder, so resolve the package root and go from there. */
export function sp500CsvPath(): string {
  const entry = require.resolve('vega-datasets');
  return path.join(
    entry.slice(0, entry.lastIndexOf(`${path.sep}node_modules${path.sep}vega-datasets`)),
    'node_modules',
    'vega-datasets',
    'data',
    'sp500-2000.csv',
  );
}

const importPhase: DemoPhase = {
  name: 'import bars into the lake',
  async run(ctx, log) {
    const sp = await readBarsFile(sp500CsvPath(), { symbol: SP500_SYMBOL });
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
        FROM bars WHERE "interval" = '1d')
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

export const PHASES: DemoPhase[] = [importPhase, summaryPhase];

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
