/**
 * A self-contained HTML report of one backtest: summary, equity curve (against a benchmark when
 * given) and drawdown (with rolling volatility and Sharpe when given) as inline SVG, exposure by
 * region and asset class, a monthly returns heat map, the risk engine's decisions by rule and the
 * trade list. No scripts, fonts or images are fetched, so it opens offline in any browser.
 */
import {
  barChart,
  esc,
  lineChart,
  metricsGrid,
  multiLineChart,
  page,
  panelChart,
  paramText,
  pct,
  stackedAreaChart,
  table,
} from '../report/html';
import type { BenchmarkStats, RollingStats } from './benchmark';
import type { GroupExposure, ReportExposure } from './exposure';
import { equityAndDrawdown } from './metrics';
import type { BacktestResult } from './types';

/** What a report adds when the caller computed it (the CLI does: benchmark.ts, exposure.ts). */
export interface ReportExtras {
  /** The benchmark's statistics and its period returns (same periods as the backtest). */
  readonly benchmark?: { readonly stats: BenchmarkStats; readonly returns: Float64Array };
  readonly rolling?: RollingStats;
  /**
   * Net exposure by group over time (src/backtest/exposure.ts `reportExposure`), with the
   * reference data it came from; or, when there was none, why (`missing`), said in the report.
   */
  readonly exposure?: ReportExposure;
}

/** Compounded strategy return per calendar month (by the date each period ends). */
export function monthlyReturns(result: Pick<BacktestResult, 'returns' | 'dates'>): Map<string, number> {
  const out = new Map<string, number>();
  result.returns.forEach((r, t) => {
    const month = result.dates[t + 1].slice(0, 7);
    out.set(month, (1 + (out.get(month) ?? 0)) * (1 + r) - 1);
  });
  return out;
}

function heatMap(result: BacktestResult): string {
  const m = monthlyReturns(result);
  const years = [...new Set([...m.keys()].map((k) => k.slice(0, 4)))].sort();
  const maxAbs = Math.max(1e-9, ...[...m.values()].map(Math.abs));
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const rows = years.map((y) => {
    let yearly = 1;
    const cells = months.map((_, i) => {
      const v = m.get(`${y}-${String(i + 1).padStart(2, '0')}`);
      if (v === undefined) return '<td></td>';
      yearly *= 1 + v;
      if (v === 0) return '<td>0.0%</td>'; // a flat month: no colour
      const a = Math.min(1, Math.abs(v) / maxAbs);
      const bg =
        v >= 0
          ? `rgba(26,150,65,${(0.12 + 0.78 * a).toFixed(2)})`
          : `rgba(215,25,28,${(0.12 + 0.78 * a).toFixed(2)})`;
      return `<td style="background:${bg}">${pct(v, 1)}</td>`;
    });
    return `<tr><th>${y}</th>${cells.join('')}<td class="year">${pct(yearly - 1, 1)}</td></tr>`;
  });
  return `<table class="heat"><thead><tr><th></th>${months.map((x) => `<th>${x}</th>`).join('')}<th>Year</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function equityChart(result: BacktestResult, benchmark: ReportExtras['benchmark']): string {
  const format = (v: number): string => v.toFixed(2);
  if (!benchmark)
    return lineChart(result.equity, result.dates, { title: 'Equity (start = 1)', color: '#1f6feb', format });
  return multiLineChart(
    [
      { name: 'strategy', color: '#1f6feb', y: result.equity },
      {
        name: `benchmark: ${benchmark.stats.name}`,
        color: '#6e7781',
        y: equityAndDrawdown(benchmark.returns).equity,
      },
    ],
    result.dates,
    { title: 'Equity against the benchmark (start = 1)', format },
  );
}

const ddFormat = (v: number): string => (v === 0 ? '0%' : `-${pct(v, 1)}`);

/** The drawdown, with the rolling volatility and Sharpe below it on the same time axis. */
function riskChart(result: BacktestResult, rolling: RollingStats | undefined): string {
  if (!rolling)
    return lineChart(result.drawdown, result.dates, {
      title: 'Drawdown from peak',
      color: '#c0392b',
      fill: true,
      invert: true,
      format: ddFormat,
    });
  return panelChart(
    [
      {
        title: 'Drawdown from peak',
        series: [{ name: '', color: '#c0392b', y: result.drawdown, fill: true }],
        invert: true,
        format: ddFormat,
      },
      {
        title: `Rolling volatility (${rolling.window} periods, annualised)`,
        series: [{ name: '', color: '#8250df', y: onBars(rolling.volatility) }],
        format: (v) => pct(v, 1),
      },
      {
        title: `Rolling Sharpe (${rolling.window} periods)`,
        series: [{ name: '', color: '#0a7c86', y: onBars(rolling.sharpe) }],
        zeroLine: true,
        format: (v) => v.toFixed(2),
      },
    ],
    result.dates,
    `Drawdown, rolling volatility and rolling Sharpe (window ${rolling.window})`,
  );
}

function tradeTable(result: BacktestResult, limit: number): string {
  const trips = result.roundTrips;
  const rows = trips
    .slice(0, limit)
    .map(
      (t) =>
        `<tr><td>${esc(t.symbol)}</td><td>${t.side}</td><td>${esc(t.entryDate)}</td><td>${esc(t.exitDate)}${t.open ? ' (open)' : ''}</td><td>${t.exitBar - t.entryBar}</td><td class="${t.return >= 0 ? 'pos' : 'neg'}">${pct(t.return)}</td></tr>`,
    )
    .join('');
  const more =
    trips.length > limit
      ? `<p>${trips.length - limit} more trades not shown (first ${limit} listed).</p>`
      : '';
  return `<table><thead><tr><th>Symbol</th><th>Side</th><th>Entry</th><th>Exit</th><th>Bars</th><th>Return</th></tr></thead><tbody>${rows}</tbody></table>${more}`;
}

/** The risk engine's decisions and the rules behind them, when the run went through it. */
function riskGateSection(result: BacktestResult): string {
  const g = result.riskGate;
  if (!g) return '';
  const ordered = Object.entries(g.byRule).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const split = (rule: string): { resized: number; rejected: number } =>
    g.byRuleDecision[rule] ?? { resized: 0, rejected: 0 };
  const rules = ordered.map(([r, c]) => {
    const d = split(r);
    return [r, String(d.resized), String(d.rejected), String(c)];
  });
  // Resized above zero, rejected below: one bar each way per rule.
  const bars = ordered.flatMap(([name]) => {
    const d = split(name);
    return [
      ...(d.resized > 0 ? [{ name: `${name} resized`, value: d.resized }] : []),
      ...(d.rejected > 0 ? [{ name: `${name} rejected`, value: -d.rejected }] : []),
    ];
  });
  const chart =
    bars.length > 0
      ? barChart(bars, {
          title: 'Orders by rule: resized (right), rejected (left)',
          format: (v) => String(Math.abs(v)),
        })
      : '';
  return `<h2>Risk engine</h2><table><tbody><tr><td>Orders</td><td>${g.orders}</td></tr><tr><td>Approved</td><td>${g.approved}</td></tr><tr><td>Resized</td><td>${g.resized}</td></tr><tr><td>Rejected</td><td>${g.rejected}</td></tr></tbody></table>${rules.length > 0 ? `${table(['Rule', 'Resized', 'Rejected', 'Orders'], rules, 'rejections')}${chart}<p>An order that breaches several rules counts once under each, with the decision it got.</p>` : '<p>No order was resized or rejected.</p>'}
`;
}

/** A per-period statistic placed on the bar each period ends at (bar 0 has none). */
function onBars(x: Float64Array): Float64Array {
  const out = new Float64Array(x.length + 1);
  out[0] = NaN;
  out.set(x, 1);
  return out;
}

function benchmarkSection(b: NonNullable<ReportExtras['benchmark']>): string {
  const s = b.stats;
  return `<h2>Against the benchmark: ${esc(s.name)}</h2>${metricsGrid([
    ['Benchmark return', pct(s.benchmarkTotalReturn)],
    ['Excess return', pct(s.excessReturn)],
    ['Beta', s.beta.toFixed(2)],
    ['Alpha (annualised)', pct(s.alpha)],
    ['Information ratio', s.informationRatio.toFixed(2)],
    ['Tracking error', pct(s.trackingError)],
    ['Correlation', s.correlation.toFixed(2)],
  ])}
`;
}

function exposureSection(e: ReportExposure, result: BacktestResult): string {
  if ('missing' in e) return `<h2>Exposure</h2><p class="missing">${esc(e.missing)}</p>\n`;
  const dates = result.dates.slice(0, result.returns.length);
  const chart = (g: GroupExposure, title: string): string =>
    g.groups.length === 0
      ? `<p>${esc(title)}: no positions held.</p>`
      : stackedAreaChart(
          g.groups.map((name, k) => ({ name, y: g.net[k] })),
          dates,
          { title, format: (v) => pct(v, 0) },
        );
  const source = e.source ? `<p>Groups from ${esc(e.source)}.</p>` : '';
  return `<h2>Exposure</h2>${chart(e.region, 'Net exposure by region (fraction of equity; shorts below zero)')}${chart(e.assetClass, 'Net exposure by asset class (fraction of equity; shorts below zero)')}${source}
`;
}

/** Renders the report; `title` defaults to the strategy and its parameters. */
export function renderReport(
  result: BacktestResult,
  opts: { title?: string; maxTrades?: number } & ReportExtras = {},
): string {
  const s = result.summary;
  const params = paramText(result.params);
  const title =
    opts.title ??
    `${result.strategy} ${params} on ${result.symbols.slice(0, 5).join(', ')}${result.symbols.length > 5 ? ', ...' : ''}`;
  const metrics: [string, string][] = [
    ['Bars', String(s.bars)],
    ['Period', `${result.dates[0]} to ${result.dates[result.dates.length - 1]}`],
    ['Total return', pct(s.totalReturn)],
    ['CAGR', pct(s.cagr)],
    ['Sharpe', s.sharpe.toFixed(2)],
    ['Sortino', s.sortino.toFixed(2)],
    ['Max drawdown', pct(s.maxDrawdown)],
    ['Calmar', s.calmar.toFixed(2)],
    ['Volatility', pct(s.volatility)],
    ['Trades', String(s.trades)],
    ['Turnover / year', s.turnover.toFixed(2)],
    ['Exposure', pct(s.exposure, 1)],
    ['Hit rate', pct(s.hitRate, 1)],
    ['Average win', pct(s.avgWin)],
    ['Average loss', pct(s.avgLoss)],
    ['Costs', pct(result.totalCosts)],
  ];
  const attribution = table(
    ['Symbol', 'Contribution', 'Costs', 'Trades', 'Exposure'],
    result.attribution.map((a) => [
      a.symbol,
      pct(a.contribution),
      pct(a.costs, 3),
      String(a.trades),
      pct(a.exposure, 1),
    ]),
  );
  return page(
    title,
    `${metricsGrid(metrics)}
<h2>Equity</h2>${equityChart(result, opts.benchmark)}
${opts.benchmark ? benchmarkSection(opts.benchmark) : ''}<h2>Drawdown${opts.rolling ? ' and rolling risk' : ''}</h2>${riskChart(result, opts.rolling)}
${opts.exposure ? exposureSection(opts.exposure, result) : ''}<h2>Monthly returns</h2>${heatMap(result)}
<h2>Attribution</h2>${attribution}
${riskGateSection(result)}<h2>Trades (${result.roundTrips.length})</h2>${tradeTable(result, opts.maxTrades ?? 500)}
<footer>Positions decided at each close are held to the next close; costs are charged in the period that starts at the change. Metrics: ${result.periodsPerYear} periods per year, risk-free rate 0.</footer>`,
    '.heat td{min-width:44px;font-size:12px}.heat .year{font-weight:600}',
  );
}
