/**
 * The self-contained HTML report of a sweep: the heat map of the ranking metric over two
 * parameters, the stability of the best region (plateau or spike), and the ranking. Inline CSS
 * only; it opens offline.
 */
import { esc, fmt, heatColor, metricsGrid, page, paramText, table } from '../report/html';
import { PLATEAU_SHARE, type HeatMap, type Stability } from './heatmap';

export interface SweepReportInput {
  readonly strategy: string;
  readonly sweepId: string;
  readonly bars: string;
  /** The metric the heat map is coloured by and the best point is chosen by. */
  readonly metric: string;
  readonly total: number;
  readonly heatMap: HeatMap;
  readonly stability: Stability;
  /** The ranking as printed (rows with `params` as JSON text and the metric columns). */
  readonly top: readonly Record<string, unknown>[];
}

function heatTable(h: HeatMap, stability: Stability, metric: string): string {
  const values = h.cells.flat().filter((v): v is number => v !== null);
  const lo = Math.min(0, ...values);
  const hi = Math.max(0, ...values);
  const best = stability.best?.params;
  const bi = !best ? -1 : h.y.name === '' ? 0 : h.y.values.findIndex((v) => v === best[h.y.name]);
  const bj = best ? h.x.values.findIndex((v) => v === best[h.x.name]) : -1;
  const rows = h.cells.map((row, i) => {
    const cells = row
      .map((v, j) => {
        const cls =
          i === bi && j === bj
            ? ' class="best"'
            : Math.abs(i - bi) <= 1 && Math.abs(j - bj) <= 1
              ? ' class="near"'
              : '';
        const title = `${h.x.name}=${h.x.values[j]} ${h.y.name}=${h.y.values[i]}: ${v === null ? 'not run' : fmt(v)}`;
        return `<td${cls} style="background:${heatColor(v ?? NaN, lo, 0, hi)}" title="${esc(title)}">${v === null ? '' : v.toFixed(2)}</td>`;
      })
      .join('');
    return `<tr><th>${esc(String(h.y.values[i]))}</th>${cells}</tr>`;
  });
  return `<p>${esc(metric)} by ${esc(h.x.name)} (columns) and ${esc(h.y.name)} (rows)${
    h.cells.length > 0 ? '; each cell is the best over any other parameter; empty cells were not run' : ''
  }. Outlined: the best cell (thick) and its neighbours.</p>
<div class="scroll"><table class="heat"><thead><tr><th>${esc(h.y.name)} \\ ${esc(h.x.name)}</th>${h.x.values
    .map((v) => `<th>${esc(String(v))}</th>`)
    .join('')}</tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

function stabilitySection(s: Stability, metric: string): string {
  if (!s.best) return '<p>No parameter set has a value: nothing to judge.</p>';
  const verdict =
    s.verdict === 'plateau'
      ? `a plateau: its neighbours keep ${fmt((s.ratio ?? 0) * 100, 0)}% of the best ${metric} on average (at least ${PLATEAU_SHARE * 100}% is a plateau)`
      : s.verdict === 'spike'
        ? `a spike: its neighbours keep ${s.ratio === null ? 'no share' : `${fmt(s.ratio * 100, 0)}%`} of the best ${metric} on average (below ${PLATEAU_SHARE * 100}%); likely fitted to noise`
        : 'isolated: no neighbour on the grid was run';
  return `${metricsGrid([
    ['Best parameters', paramText(s.best.params)],
    [`Best ${metric}`, fmt(s.best.value)],
    ['Neighbours', String(s.neighbours)],
    [`Neighbour mean ${metric}`, s.neighbourMean === null ? 'n/a' : fmt(s.neighbourMean)],
    [`Neighbour min ${metric}`, s.neighbourMin === null ? 'n/a' : fmt(s.neighbourMin)],
    ['Mean / best', s.ratio === null ? 'n/a' : fmt(s.ratio)],
    ['Verdict', s.verdict],
  ])}<p class="verdict ${s.verdict}">The best region is ${esc(verdict)}. Neighbours: the grid points one step away on each of ${esc(s.axes.join(', '))} (diagonals included).</p>`;
}

export function renderSweepReport(r: SweepReportInput): string {
  const cols = ['rank', 'params', 'sharpe', 'sortino', 'total_return', 'max_drawdown', 'trades'];
  const num = (v: unknown): string =>
    typeof v === 'number'
      ? fmt(v, 4)
      : typeof v === 'bigint'
        ? String(v)
        : v === null || v === undefined
          ? ''
          : String(v);
  const ranking = table(
    cols,
    r.top.map((row, i) => [
      String(i + 1),
      String(row.params ?? ''),
      ...cols.slice(2).map((c) => num(row[c])),
    ]),
    'rank',
  );
  const body = `${metricsGrid([
    ['Strategy', r.strategy],
    ['Bars', r.bars],
    ['Parameter sets', String(r.total)],
    ['Sweep id', r.sweepId],
  ])}
<h2>Heat map: ${esc(r.metric)}</h2>${heatTable(r.heatMap, r.stability, r.metric)}
<h2>Stability of the best region</h2>${stabilitySection(r.stability, r.metric)}
<h2>Ranking</h2>${ranking}
<footer>Cells are coloured on a diverging scale: green above 0, red below.</footer>`;
  return page(
    `${r.strategy} sweep ${r.sweepId}`,
    body,
    `.scroll{overflow:auto;max-height:720px}.heat td,.heat th{font-size:11px;padding:2px 4px;min-width:34px}
.heat td.best{outline:3px solid #111;outline-offset:-3px;font-weight:700}.heat td.near{outline:1px solid #555;outline-offset:-1px}
.verdict.plateau{color:#1a7f37}.verdict.spike{color:#c0392b}`,
  );
}
