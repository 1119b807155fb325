/** The sweep heat map, the best region's stability and the sweep report, on small hand-made grids. */
import { describe, expect, it } from 'vitest';
import {
  bestRegionStability,
  heatMap,
  PLATEAU_SHARE,
  pointsFromRows,
  varyingAxes,
  type SweepPoint,
} from '../../../src/sweep/heatmap';
import { renderSweepReport } from '../../../src/sweep/report';
import { ANY_URL, FETCHES } from '../../helpers/offline-html';

/** fast 1..3 x slow 10..30 with the value the function gives; `skip` leaves a point out (--where). */
function grid(value: (fast: number, slow: number) => number, skip?: (f: number, s: number) => boolean) {
  const out: SweepPoint[] = [];
  for (const fast of [1, 2, 3])
    for (const slow of [10, 20, 30])
      if (!skip?.(fast, slow)) out.push({ params: { fast, slow, cost: 5 }, value: value(fast, slow) });
  return out;
}

describe('heatMap', () => {
  it('one cell per (x, y), rows by y, null where a point was not run', () => {
    const h = heatMap(
      grid(
        (f, s) => f + s / 10,
        (f, s) => f === 3 && s === 10,
      ),
      'fast',
      'slow',
    );
    expect(h.x).toEqual({ name: 'fast', values: [1, 2, 3] });
    expect(h.y).toEqual({ name: 'slow', values: [10, 20, 30] });
    expect(h.cells).toEqual([
      [2, 3, null],
      [3, 4, 5],
      [4, 5, 6],
    ]);
  });

  it('takes the best over the other parameters, sorts numbers numerically', () => {
    const points: SweepPoint[] = [
      { params: { fast: 10, slow: 2, lb: 5 }, value: 0.1 },
      { params: { fast: 10, slow: 2, lb: 6 }, value: 0.7 },
      { params: { fast: 9, slow: 2, lb: 5 }, value: null },
      { params: { fast: 9, slow: 2, lb: 6 }, value: -0.3 },
    ];
    const h = heatMap(points, 'fast', 'slow');
    expect(h.x.values).toEqual([9, 10]);
    expect(h.cells).toEqual([[-0.3, 0.7]]);
    expect(varyingAxes(points)).toEqual(['fast', 'lb']);
  });

  it('one parameter: one row', () => {
    const h = heatMap(
      [
        { params: { n: 1 }, value: 1 },
        { params: { n: 2 }, value: 2 },
      ],
      'n',
    );
    expect(h.cells).toEqual([[1, 2]]);
    expect(h.y.name).toBe('');
  });
});

describe('bestRegionStability', () => {
  it('a plateau: best 1.0 at (2, 20), its 8 neighbours 0.9', () => {
    const s = bestRegionStability(grid((f, s) => (f === 2 && s === 20 ? 1 : 0.9)));
    expect(s.best).toEqual({ params: { fast: 2, slow: 20, cost: 5 }, value: 1 });
    expect(s.axes).toEqual(['fast', 'slow']); // cost does not vary
    expect(s.neighbours).toBe(8);
    expect(s.neighbourMean).toBeCloseTo(0.9, 14);
    expect(s.neighbourMin).toBe(0.9);
    expect(s.ratio).toBeCloseTo(0.9, 14);
    expect(s.verdict).toBe('plateau');
  });

  it('a spike: best 2.0 at (2, 20), neighbours 0.2 (mean / best 0.1)', () => {
    const s = bestRegionStability(grid((f, s) => (f === 2 && s === 20 ? 2 : 0.2)));
    expect(s.ratio).toBeCloseTo(0.1, 14);
    expect(s.verdict).toBe('spike');
    expect(PLATEAU_SHARE).toBe(0.75);
  });

  it('a corner best has 3 neighbours; points left out are not neighbours; far points do not count', () => {
    // Best at (3, 30); neighbours (2, 20) 0.4, (2, 30) 0.8, (3, 20) left out. (1, 10) is far.
    const s = bestRegionStability(
      grid(
        (f, s) => (f === 3 && s === 30 ? 1 : f === 2 && s === 20 ? 0.4 : f === 2 && s === 30 ? 0.8 : -5),
        (f, s) => f === 3 && s === 20,
      ),
    );
    expect(s.best?.params).toMatchObject({ fast: 3, slow: 30 });
    expect(s.neighbours).toBe(2);
    expect(s.neighbourMean).toBeCloseTo(0.6, 14);
    expect(s.neighbourMin).toBeCloseTo(0.4, 14);
    expect(s.verdict).toBe('spike'); // 0.6 < 0.75
  });

  it('isolated and none', () => {
    expect(bestRegionStability([{ params: { a: 1 }, value: 1 }]).verdict).toBe('isolated');
    expect(bestRegionStability([{ params: { a: 1 }, value: null }]).verdict).toBe('none');
  });

  it('reads the rows of the results table (params as JSON text)', () => {
    const pts = pointsFromRows([{ params: '{"fast":3,"slow":20}', sharpe: 1.5, cagr: null }], 'sharpe');
    expect(pts).toEqual([{ params: { fast: 3, slow: 20 }, value: 1.5 }]);
    expect(pointsFromRows([{ params: '{"fast":3}', cagr: null }], 'cagr')[0].value).toBeNull();
  });
});

describe('renderSweepReport', () => {
  const points = grid(
    (f, s) => (f === 2 && s === 20 ? 2 : 0.2),
    (f, s) => f === 3 && s === 10,
  );
  const html = renderSweepReport({
    strategy: 'sma-cross',
    sweepId: 'abc123',
    bars: 'lake:SPX',
    metric: 'sharpe',
    total: points.length,
    heatMap: heatMap(points, 'fast', 'slow'),
    stability: bestRegionStability(points),
    top: [
      {
        params: '{"fast":2,"slow":20}',
        sharpe: 2,
        sortino: 3,
        total_return: 0.5,
        max_drawdown: 0.1,
        trades: 7,
      },
    ],
  });

  it('a cell per grid point with its value, the best outlined, the empty one blank', () => {
    const cells = [
      ...html.matchAll(
        /<td(?: class="(best|near)")? style="background:[^"]+" title="([^"]+)">([^<]*)<\/td>/g,
      ),
    ];
    expect(cells).toHaveLength(9);
    expect(cells.filter((c) => c[1] === 'best').map((c) => c[3])).toEqual(['2.00']);
    expect(cells.filter((c) => c[3] === '0.20')).toHaveLength(7);
    expect(cells.find((c) => c[2].startsWith('fast=3 slow=10'))?.[3]).toBe('');
    expect(cells.find((c) => c[2].startsWith('fast=3 slow=10'))?.[2]).toContain('not run');
  });

  it('states the stability: neighbours, mean, min, verdict', () => {
    expect(html).toContain('<b>Neighbours</b>7');
    expect(html).toContain('<b>Neighbour mean sharpe</b>0.20');
    expect(html).toContain('<b>Mean / best</b>0.10');
    expect(html).toContain('<b>Verdict</b>spike');
    expect(html).toContain('The best region is a spike');
    expect(html).toContain('{&quot;fast&quot;:2,&quot;slow&quot;:20}'); // the ranking row, escaped
  });

  it('fetches nothing (and the check would see a fetch)', () => {
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(FETCHES);
    expect(html).not.toMatch(ANY_URL);
    expect('<img src="https://cdn.example/x.png">').toMatch(FETCHES);
    expect('<script src="//cdn.example/d3.js"></script>').toMatch(FETCHES);
    expect('<link rel="stylesheet" href="x.css">').toMatch(FETCHES);
  });
});
