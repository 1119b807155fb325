/**
 * Building blocks of the self-contained HTML reports (backtest, sweep, stress): escaping, a page
 * shell with inline CSS, and charts as inline SVG. Nothing is fetched (no script, font, image or
 * style sheet from anywhere), so a report opens offline from a file or an e-mail attachment.
 */

export const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export const pct = (x: number, digits = 2): string => `${(x * 100).toFixed(digits)}%`;

/** Parameters as `k=v k=v`, in their order. */
export const paramText = (p: Readonly<Record<string, number | boolean | string>>): string =>
  Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

/** A number for a table: fixed digits, thousands grouped, or "n/a" when not finite. */
export const fmt = (x: number, digits = 2): string =>
  Number.isFinite(x)
    ? x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : 'n/a';

/** The SVG namespace: an identifier, not a resource (browsers fetch nothing for it). */
const SVG_NS = 'http://www.w3.org/2000/svg';

export const PALETTE = [
  '#1f6feb',
  '#e36209',
  '#2da44e',
  '#8250df',
  '#cf222e',
  '#0a7c86',
  '#bf8700',
  '#6e7781',
  '#d03592',
  '#4d2d00',
];

const BASE_CSS = `body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:960px;color:#222;padding:0 12px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:right}
th:first-child,td:first-child{text-align:left}
.metrics{display:grid;grid-template-columns:repeat(4,1fr);gap:6px 16px}.metrics div{border-bottom:1px solid #eee;padding:4px 0}
.metrics b{display:block;font-size:11px;color:#666;font-weight:normal}
figure{margin:12px 0}figcaption{font-weight:600;margin-bottom:4px}svg text{font-size:11px;fill:#555}
.legend span{display:inline-block;margin-right:14px;font-size:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
.pos{color:#1a7f37}.neg{color:#c0392b}.breach{color:#c0392b;font-weight:600}
footer{margin-top:32px;color:#777;font-size:12px}`;

/** A whole page: doctype, inline CSS, the body given. */
export function page(title: string, body: string, css = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
${BASE_CSS}
${css}
</style></head><body>
<h1>${esc(title)}</h1>
${body}
</body></html>
`;
}

/** Headline figures as a grid of labelled values. */
export function metricsGrid(items: readonly (readonly [string, string])[]): string {
  return `<section class="metrics">${items.map(([k, v]) => `<div><b>${esc(k)}</b>${esc(v)}</div>`).join('')}</section>`;
}

/** A table; cells are escaped text unless wrapped with `raw`. */
export function table(
  head: readonly string[],
  rows: readonly (readonly (string | Raw)[])[],
  cls = '',
): string {
  const cell = (c: string | Raw): string => (typeof c === 'string' ? esc(c) : c.html);
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${cell(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

export interface Raw {
  readonly html: string;
}
export const raw = (html: string): Raw => ({ html });

function legend(series: readonly { name: string; color: string }[]): string {
  return `<div class="legend">${series.map((s) => `<span><i style="background:${s.color}"></i>${esc(s.name)}</span>`).join('')}</div>`;
}

/** Indices to plot: every point for short series, otherwise min and max of each bucket (keeps spikes). */
export function samplePoints(y: ArrayLike<number>, maxPoints = 1200): number[] {
  const n = y.length;
  if (n <= maxPoints) return Array.from({ length: n }, (_, i) => i);
  const buckets = Math.floor(maxPoints / 2);
  const size = n / buckets;
  const out: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor(b * size);
    const to = Math.min(n, Math.floor((b + 1) * size));
    let lo = from;
    let hi = from;
    for (let i = from; i < to; i++) {
      if (y[i] < y[lo]) lo = i;
      if (y[i] > y[hi]) hi = i;
    }
    out.push(Math.min(lo, hi), Math.max(lo, hi));
  }
  out.push(n - 1);
  return [...new Set(out)].sort((a, b) => a - b);
}

const W = 900;
const H = 240;
const L = 70;
const R = 10;
const T = 24;
const B = 28;

/** x of point i of n, and y of a value on [min, max] in the band top..top + height (invert: min on top). */
function axes(n: number, min: number, max: number, invert = false, top = T, height = H - T - B) {
  return {
    x: (i: number): number => L + ((W - L - R) * i) / Math.max(1, n - 1),
    y: (v: number): number =>
      invert ? top + (height * (v - min)) / (max - min) : top + (height * (max - v)) / (max - min),
  };
}

/** The first, middle and last dates under the x axis, at height y. */
function dateLabels(dates: readonly string[], n: number, y: number): string {
  const { x } = axes(n, 0, 1);
  return [0, Math.floor((n - 1) / 2), n - 1]
    .map(
      (i, k) =>
        `<text x="${x(i).toFixed(1)}" y="${y}" text-anchor="${['start', 'middle', 'end'][k]}">${esc(dates[i] ?? '')}</text>`,
    )
    .join('');
}

function frame(
  title: string,
  dates: readonly string[],
  n: number,
  top: string,
  bottom: string,
  inner: string,
): string {
  return `<svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${esc(title)}" xmlns="${SVG_NS}">
<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="#fafafa" stroke="#ddd"/>
<text x="${L - 6}" y="${T + 4}" text-anchor="end">${esc(top)}</text>
<text x="${L - 6}" y="${H - B}" text-anchor="end">${esc(bottom)}</text>
${inner}${dateLabels(dates, n, H - 8)}</svg>`;
}

/**
 * One series as a line (`fill`: with the area to its base shaded). `invert`: values grow downwards
 * from 0 at the top (a drawdown).
 */
export function lineChart(
  y: Float64Array,
  dates: readonly string[],
  opts: { title: string; color: string; fill?: boolean; format: (v: number) => string; invert?: boolean },
): string {
  let min = Infinity;
  let max = -Infinity;
  for (const v of y) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (opts.invert) min = 0;
  if (!(max > min)) max = min + 1e-9;
  const n = y.length;
  const { x, y: yy } = axes(n, min, max, opts.invert);
  const pts = samplePoints(y)
    .map((i) => `${x(i).toFixed(1)},${yy(y[i]).toFixed(1)}`)
    .join(' ');
  const base = opts.invert ? yy(0) : H - B;
  const area = opts.fill
    ? `<polygon points="${x(0).toFixed(1)},${base} ${pts} ${x(n - 1).toFixed(1)},${base}" fill="${opts.color}" fill-opacity="0.25"/>`
    : '';
  const [top, bottom] = opts.invert ? [min, max] : [max, min];
  const line = `${area}<polyline points="${pts}" fill="none" stroke="${opts.color}" stroke-width="1.5"/>`;
  return `<figure><figcaption>${esc(opts.title)}</figcaption>${frame(opts.title, dates, n, opts.format(top), opts.format(bottom), line)}</figure>`;
}

interface LinePanelSpec {
  readonly title: string;
  readonly series: readonly { name: string; color: string; y: ArrayLike<number>; fill?: boolean }[];
  readonly format: (v: number) => string;
  /** Include 0 in the range and draw it dashed. */
  readonly zeroLine?: boolean;
  /** Values grow downwards from 0 (a drawdown). */
  readonly invert?: boolean;
}

/** One panel's plot elements between y = top and y = top + height (NaN points are gaps). */
function linePanel(p: LinePanelSpec, n: number, top: number, height: number): string {
  let min = Infinity;
  let max = -Infinity;
  for (const s of p.series)
    for (let i = 0; i < s.y.length; i++) {
      const v = s.y[i];
      if (!Number.isFinite(v)) continue;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  if (!Number.isFinite(min)) {
    min = 0;
    max = 1;
  }
  if (p.zeroLine || p.invert) {
    min = Math.min(min, 0);
    max = Math.max(max, 0);
  }
  if (!(max > min)) max = min + 1e-9;
  const { x, y: yy } = axes(n, min, max, p.invert, top, height);
  const lines = p.series
    .map((s) => {
      // Split at gaps: one polyline per run of finite points.
      const runs: string[][] = [];
      let cur: string[] = [];
      const finite = Array.from(s.y, (v) => (Number.isFinite(v) ? v : 0));
      for (const i of samplePoints(finite)) {
        if (Number.isFinite(s.y[i])) cur.push(`${x(i).toFixed(1)},${yy(s.y[i]).toFixed(1)}`);
        else if (cur.length > 0) {
          runs.push(cur);
          cur = [];
        }
      }
      if (cur.length > 0) runs.push(cur);
      return runs
        .map((pts) => {
          const base = yy(0).toFixed(1);
          const [fx] = pts[0].split(',');
          const [lx] = pts[pts.length - 1].split(',');
          const area = s.fill
            ? `<polygon points="${fx},${base} ${pts.join(' ')} ${lx},${base}" fill="${s.color}" fill-opacity="0.25"/>`
            : '';
          return `${area}<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`;
        })
        .join('');
    })
    .join('');
  const zero =
    p.zeroLine && min < 0 && max > 0
      ? `<line x1="${L}" x2="${W - R}" y1="${yy(0).toFixed(1)}" y2="${yy(0).toFixed(1)}" stroke="#999" stroke-dasharray="3 3"/>`
      : '';
  const [hiV, loV] = p.invert ? [min, max] : [max, min];
  return `<rect x="${L}" y="${top}" width="${W - L - R}" height="${height}" fill="#fafafa" stroke="#ddd"/>
<text x="${L + 6}" y="${top + 13}" font-weight="600">${esc(p.title)}</text>
<text x="${L - 6}" y="${top + 4}" text-anchor="end">${esc(p.format(hiV))}</text>
<text x="${L - 6}" y="${top + height}" text-anchor="end">${esc(p.format(loV))}</text>
${zero}${lines}`;
}

/** Several series on one time axis (dates[i] labels point i). */
export function multiLineChart(
  series: LinePanelSpec['series'],
  dates: readonly string[],
  opts: { title: string; format: (v: number) => string; zeroLine?: boolean },
): string {
  return panelChart([{ ...opts, title: '', series }], dates, opts.title);
}

/**
 * Panels stacked on one shared time axis in one figure (drawdown, rolling volatility and rolling
 * Sharpe line up by date, as a tear sheet draws them).
 */
export function panelChart(
  panels: readonly LinePanelSpec[],
  dates: readonly string[],
  title: string,
): string {
  const n = dates.length;
  const height = H - T - B;
  const gap = 16;
  const total = T + panels.length * height + (panels.length - 1) * gap + B;
  const inner = panels.map((p, k) => linePanel(p, n, T + k * (height + gap), height)).join('');
  const series = panels.flatMap((p) => p.series).filter((s) => s.name !== '');
  return `<figure><figcaption>${esc(title)}</figcaption>${series.length > 1 ? legend(series) : ''}<svg viewBox="0 0 ${W} ${total}" width="100%" role="img" aria-label="${esc(title)}" xmlns="${SVG_NS}">
${inner}${dateLabels(dates, n, total - 8)}</svg></figure>`;
}

/**
 * A stacked area per group over time: positive values stack up from zero, negative ones down
 * (a long-short book shows its longs above the line and its shorts below).
 */
export function stackedAreaChart(
  groups: readonly { name: string; y: ArrayLike<number> }[],
  dates: readonly string[],
  opts: { title: string; format: (v: number) => string },
): string {
  const n = groups[0]?.y.length ?? 0;
  const up = new Float64Array(n);
  const down = new Float64Array(n);
  const bands: { name: string; color: string; lo: Float64Array; hi: Float64Array }[] = [];
  groups.forEach((g, k) => {
    const lo = new Float64Array(n);
    const hi = new Float64Array(n);
    for (let t = 0; t < n; t++) {
      const v = g.y[t];
      if (v >= 0) {
        lo[t] = up[t];
        up[t] += v;
        hi[t] = up[t];
      } else {
        hi[t] = down[t];
        down[t] += v;
        lo[t] = down[t];
      }
    }
    bands.push({ name: g.name, color: PALETTE[k % PALETTE.length], lo, hi });
  });
  let max = 0;
  let min = 0;
  for (let t = 0; t < n; t++) {
    max = Math.max(max, up[t]);
    min = Math.min(min, down[t]);
  }
  if (!(max > min)) max = min + 1e-9;
  const { x, y: yy } = axes(n, min, max);
  // One sample of indices for every band, so the bands meet exactly.
  const gross = new Float64Array(n);
  for (let t = 0; t < n; t++) gross[t] = up[t] - down[t];
  const idx = samplePoints(gross, 600);
  const polys = bands
    .map((b) => {
      const top = idx.map((i) => `${x(i).toFixed(1)},${yy(b.hi[i]).toFixed(1)}`);
      const bottom = [...idx].reverse().map((i) => `${x(i).toFixed(1)},${yy(b.lo[i]).toFixed(1)}`);
      return `<polygon points="${[...top, ...bottom].join(' ')}" fill="${b.color}" fill-opacity="0.75" stroke="none"><title>${esc(b.name)}</title></polygon>`;
    })
    .join('');
  const zero = `<line x1="${L}" x2="${W - R}" y1="${yy(0).toFixed(1)}" y2="${yy(0).toFixed(1)}" stroke="#999"/>`;
  return `<figure><figcaption>${esc(opts.title)}</figcaption>${legend(bands)}${frame(opts.title, dates, n, opts.format(max), opts.format(min), polys + zero)}</figure>`;
}

/**
 * Horizontal bars around zero, one per item (losses red to the left, gains green to the right),
 * each labelled with its name and value.
 */
export function barChart(
  items: readonly { name: string; value: number }[],
  opts: { title: string; format: (v: number) => string },
): string {
  const rowH = 20;
  const labelW = 170;
  const valueW = 110;
  const width = 900;
  const plotW = width - labelW - valueW;
  const h = Math.max(1, items.length) * rowH + 8;
  const maxAbs = Math.max(1e-12, ...items.map((i) => Math.abs(i.value)));
  const hasNeg = items.some((i) => i.value < 0);
  const hasPos = items.some((i) => i.value > 0);
  // Zero at the left for all-gain bars, at the right for all-loss bars, in the middle otherwise.
  const zeroX = labelW + (hasNeg && hasPos ? plotW / 2 : hasNeg ? plotW : 0);
  const scale = (hasNeg && hasPos ? plotW / 2 : plotW) / maxAbs;
  const bars = items
    .map((it, k) => {
      const y = 4 + k * rowH;
      const w = Math.abs(it.value) * scale;
      const x0 = it.value < 0 ? zeroX - w : zeroX;
      return `<text x="${labelW - 6}" y="${y + 13}" text-anchor="end">${esc(it.name)}</text><rect x="${x0.toFixed(1)}" y="${y + 2}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${it.value < 0 ? '#c0392b' : '#1a7f37'}"><title>${esc(it.name)}: ${esc(opts.format(it.value))}</title></rect><text x="${width - 4}" y="${y + 13}" text-anchor="end">${esc(opts.format(it.value))}</text>`;
    })
    .join('');
  return `<figure><figcaption>${esc(opts.title)}</figcaption><svg viewBox="0 0 ${width} ${h}" width="100%" role="img" aria-label="${esc(opts.title)}" xmlns="${SVG_NS}"><line x1="${zeroX}" x2="${zeroX}" y1="0" y2="${h}" stroke="#999"/>${bars}</svg></figure>`;
}

/**
 * The background of a heat map cell for `v` on a diverging scale: red below `mid`, green above,
 * stronger towards `lo` and `hi`.
 */
export function heatColor(v: number, lo: number, mid: number, hi: number): string {
  if (!Number.isFinite(v)) return '#f3f3f3';
  const a =
    v >= mid
      ? hi > mid
        ? Math.min(1, (v - mid) / (hi - mid))
        : 0
      : mid > lo
        ? Math.min(1, (mid - v) / (mid - lo))
        : 0;
  const alpha = (0.08 + 0.82 * a).toFixed(2);
  return v >= mid ? `rgba(26,150,65,${alpha})` : `rgba(215,25,28,${alpha})`;
}
