/**
 * The paper-trading phase of `npm start` (the demo is owned by src/demo; it calls this with the
 * best backtest's strategy, parameters and bars). Ends with the order blotter and the limit
 * utilization table.
 */
import { loadPanel } from '../backtest/load';
import type { PlatformContext } from '../platform';
import { formatTable } from '../format';
import { tradingServices } from './context';
import { blotterRows, runPaper, utilizationRows, type PaperResult } from './paper';
import { summarizeTca } from './tca';
import { writeTcaRows } from './tca-lake';

export interface PaperDemoOptions {
  readonly strategy: string;
  readonly params?: Readonly<Record<string, string | number | boolean>>;
  /** Bar sources as for `quant paper --bars` (e.g. `lake:SPX`). */
  readonly bars: readonly string[];
  /** @default 250 */
  readonly lastBars?: number;
  /** @default 1,000,000 */
  readonly nav?: number;
  /** Deterministic account id (`paper-<runId>`); a second run with the same id reuses nothing. */
  readonly runId?: string;
}

export async function runPaperTradingDemo(
  ctx: PlatformContext,
  log: (line: string) => void,
  opts: PaperDemoOptions,
): Promise<PaperResult> {
  const panel = await loadPanel(opts.bars, {
    runtime: ctx.runtime,
    query: await ctx.query(),
    align: 'intersect',
  });
  const svc = await tradingServices(ctx.clients);
  const r = await runPaper(ctx.clients, svc, {
    strategy: opts.strategy,
    params: opts.params,
    panel,
    nav: opts.nav,
    lastBars: opts.lastBars ?? 250,
    runId: opts.runId,
  });
  log(
    `paper trading ${opts.strategy} on ${panel.symbols.join(' ')} (last ${opts.lastBars ?? 250} bars): ${r.signals} signals, ${r.blotter.length} orders, state ${r.state}, NAV ${r.startNav.toFixed(0)} -> ${r.finalNav.toFixed(0)}`,
  );
  log(`order blotter\n${formatTable(blotterRows(r.blotter))}`);
  log(`limit utilization\n${formatTable(utilizationRows(r.utilization))}`);
  // Every parent's transaction cost analysis into the lake's tca table (quant tca reads it).
  await writeTcaRows({ clients: ctx.clients, buckets: ctx.buckets }, r.tca);
  const t = summarizeTca(r.tca);
  if (t.parents > 0)
    log(
      `TCA: ${t.parents} parent orders, implementation shortfall ${t.shortfallBps.toFixed(2)} bps of ${t.notional.toFixed(0)} (quant tca)`,
    );
  return r;
}
