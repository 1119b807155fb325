/**
 * The self-contained HTML report of `quant risk stress --report`: per scenario, the P&L as a table
 * and as bars by asset class, region, sector and position, with the limits the shocked book
 * breaches; and the reverse stress when it was run. Inline SVG and CSS only; it opens offline.
 */
import { barChart, esc, fmt, metricsGrid, page, pct, raw, table } from '../report/html';
import type { ReverseStress } from './stress-scenarios';
import type { Shocks, StressResult } from './stress';

export interface StressReportScenario extends StressResult {
  readonly name: string;
  readonly shocks: Shocks;
  readonly correlationOne?: boolean;
  /** The fx shock is a dollar move (a replay's): shown as `fx (dollar)`. */
  readonly fxIsDollar?: boolean;
  readonly replay?: { readonly peak: string; readonly trough: string };
}

export interface StressReportInput {
  readonly nav: number;
  /** The files it was run from (names only), shown in the header. */
  readonly sources: Readonly<Record<string, string | undefined>>;
  readonly scenarios: readonly StressReportScenario[];
  readonly reverse?: ReverseStress;
}

/** Positions drawn as bars, the largest moves first; the table lists all of them. */
export const MAX_POSITION_BARS = 30;

const money = (v: number): string => fmt(v, 2);

/**
 * The shocks of a scenario in words: `equity -20.00%`; a replay's fx shock, a move of the US dollar
 * applied by each FX security's `usd` sign, as `fx (dollar) +13.00%`.
 */
export function shockText(
  s: Pick<StressReportScenario, 'shocks' | 'correlationOne' | 'fxIsDollar' | 'replay'>,
): string {
  const label = (k: string): string => (k === 'fx' && s.fxIsDollar ? 'fx (dollar)' : k);
  return (
    [
      ...Object.entries(s.shocks).map(([k, v]) => `${label(k)} ${v >= 0 ? '+' : ''}${(v * 100).toFixed(2)}%`),
      ...(s.correlationOne ? ['correlation 1'] : []),
      ...(s.replay ? [`S&P 500 ${s.replay.peak} -> ${s.replay.trough}`] : []),
    ].join(', ') || 'none'
  );
}

function groupSection(title: string, g: Readonly<Record<string, number>>, nav: number): string {
  const items = Object.entries(g)
    .map(([name, value]) => ({ name, value }))
    .sort((a, b) => a.value - b.value || a.name.localeCompare(b.name));
  if (items.length === 0) return '';
  return `<h3>${esc(title)}</h3>${table(
    [title, 'P&L', '% of NAV'],
    items.map((i) => [
      i.name,
      raw(`<span class="${i.value < 0 ? 'neg' : 'pos'}">${money(i.value)}</span>`),
      pct(i.value / nav),
    ]),
  )}${barChart(items, { title: `P&L by ${title.toLowerCase()}`, format: money })}`;
}

function breachTable(s: StressResult): string {
  if (s.breaches.length === 0) return '<p>Limits breached: none.</p>';
  return `<p class="breach">Limits breached: ${s.breaches.length}</p>${table(
    ['Rule', 'Limit', 'Value'],
    s.breaches.map((b) => [b.rule, pct(b.limit), b.value === null ? 'n/a' : pct(b.value)]),
    'breaches',
  )}`;
}

function scenarioSection(s: StressReportScenario, nav: number, id: number): string {
  const positions = [...s.positions].sort(
    (a, b) => Math.abs(b.pnl) - Math.abs(a.pnl) || a.symbol.localeCompare(b.symbol),
  );
  const bars = positions.slice(0, MAX_POSITION_BARS).map((p) => ({ name: p.symbol, value: p.pnl }));
  return `<section id="scenario-${id}"><h2>${esc(s.name)}</h2>${metricsGrid([
    ['Shocks', shockText(s)],
    ['P&L', money(s.pnl)],
    ['P&L % of NAV', pct(s.pnl / nav)],
    ['Shocked NAV', money(nav + s.pnl)],
  ])}
${breachTable(s)}
${groupSection('Asset class', s.byAssetClass, nav)}
${groupSection('Region', s.byRegion, nav)}
${groupSection('Sector', s.bySector, nav)}
<h3>Positions</h3>${barChart(bars, {
    title:
      positions.length > MAX_POSITION_BARS
        ? `P&L by position: the ${MAX_POSITION_BARS} largest moves of ${positions.length}`
        : 'P&L by position',
    format: money,
  })}${table(
    ['Symbol', 'P&L', '% of NAV'],
    positions.map((p) => [
      p.symbol,
      raw(`<span class="${p.pnl < 0 ? 'neg' : 'pos'}">${money(p.pnl)}</span>`),
      pct(p.pnl / nav),
    ]),
    'positions',
  )}</section>`;
}

function reverseSection(r: ReverseStress): string {
  return `<h2>Reverse stress</h2><p>${
    r.equity === null
      ? 'No uniform equity shock within ±100% breaches maxDrawdown or varBudget.'
      : `A uniform equity shock of ${esc(pct(r.equity, 4))} breaches ${esc(r.rules.join(', '))} (P&amp;L ${esc(money(r.pnl ?? NaN))}).`
  }</p>`;
}

export function renderStressReport(input: StressReportInput): string {
  const { nav } = input;
  const summary = table(
    ['Scenario', 'Shocks', 'P&L', '% of NAV', 'Breaches'],
    input.scenarios.map((s, i) => [
      raw(`<a href="#scenario-${i}">${esc(s.name)}</a>`),
      shockText(s),
      raw(`<span class="${s.pnl < 0 ? 'neg' : 'pos'}">${money(s.pnl)}</span>`),
      pct(s.pnl / nav),
      raw(
        s.breaches.length === 0
          ? '-'
          : `<span class="breach">${esc(s.breaches.map((b) => b.rule).join(', '))}</span>`,
      ),
    ]),
    'scenarios',
  );
  const files = Object.entries(input.sources)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
  const body = `${metricsGrid([
    ['NAV', money(nav)],
    ['Scenarios', String(input.scenarios.length)],
    [
      'Worst P&L',
      input.scenarios.length === 0 ? 'n/a' : money(Math.min(...input.scenarios.map((s) => s.pnl))),
    ],
    ['Scenarios breaching a limit', String(input.scenarios.filter((s) => s.breaches.length > 0).length)],
  ])}
<h2>Scenarios</h2>${summary}
${
  input.scenarios.length > 1
    ? barChart(
        input.scenarios.map((s) => ({ name: s.name, value: s.pnl })),
        { title: 'P&L by scenario', format: money },
      )
    : ''
}
${input.scenarios.map((s, i) => scenarioSection(s, nav, i)).join('\n')}
${input.reverse ? reverseSection(input.reverse) : ''}
<footer>Linear P&amp;L: equity value × beta × shock, fixed income −value × duration × Δy, fx and commodities value × shock; other asset classes do not move. Breaches are the portfolio-level rules on the shocked NAV. From ${esc(files)}.</footer>`;
  return page('Stress test', body, 'h3{font-size:14px;margin-top:18px}');
}
