/**
 * evaluateBatch, the function every sweep batch runs (worker threads and the ECS task): sma-cross
 * batches go through the engine's grid kernel, other strategies through runBacktest. Each row must
 * be the number runBacktest gives for that parameter set, in the order of the items.
 */
import { describe, expect, it } from 'vitest';
import { runBacktest, type Bars } from '../../../src/backtest';
import { InputError } from '../../../src/errors';
import { evaluateBatch } from '../../../src/sweep/evaluate';
import { paramSetId } from '../../../src/sweep/grid';
import { mulberry32, normals } from '../../../src/synthetic/random';

function gbm(n: number, seed: number): Bars {
  const z = normals(mulberry32(seed));
  const close = new Float64Array(n);
  let p = 100;
  for (let i = 0; i < n; i++) close[i] = p *= Math.exp(0.0002 + 0.012 * z());
  const dates = Array.from({ length: n }, (_, i) =>
    new Date(Date.UTC(2015, 0, 1) + i * 86_400_000).toISOString().slice(0, 10),
  );
  return { symbol: 'GBM', dates, close };
}

const bars = gbm(600, 5);
const item = (strategy: string, params: Record<string, number | boolean>) => ({
  id: paramSetId(strategy, params),
  params,
});
const METRICS = [
  'totalReturn',
  'cagr',
  'sharpe',
  'sortino',
  'maxDrawdown',
  'calmar',
  'volatility',
  'turnover',
  'exposure',
] as const;
const COLUMNS = [
  'total_return',
  'cagr',
  'sharpe',
  'sortino',
  'max_drawdown',
  'calmar',
  'volatility',
  'turnover',
  'exposure',
] as const;

describe('evaluateBatch', () => {
  it('gives runBacktest numbers for an interleaved long-only / long-short sma-cross batch, in item order', async () => {
    const items = [
      item('sma-cross', { fast: 5, slow: 50 }),
      item('sma-cross', { fast: 3, slow: 20, short: true }),
      item('sma-cross', { fast: 10, slow: 30, short: false }),
      item('sma-cross', { fast: 2, slow: 100, short: true }),
      item('sma-cross', { fast: 20, slow: 21 }),
    ];
    const spec = { strategy: 'sma-cross', barsSource: 'gbm.csv', costBps: 3 };
    const rows = await evaluateBatch(bars, spec, items, 1_764_460_800_000);
    expect(rows.map((r) => r.param_set_id)).toEqual(items.map((i) => i.id));
    rows.forEach((row, k) => {
      const s = runBacktest(bars, { strategy: 'sma-cross', params: items[k].params, costBps: 3 }).summary;
      METRICS.forEach((m, j) => expect(row[COLUMNS[j]], `${items[k].id} ${m}`).toBeCloseTo(s[m], 10));
      expect(row.trades).toBe(s.trades);
      expect(row.bars).toBe(600);
      expect(row.periods).toBe(599);
      expect(row.bars_source).toBe('gbm.csv');
      expect(row.completed_at).toBe(1_764_460_800_000);
      expect(JSON.parse(row.params)).toEqual(items[k].params);
    });
  });

  it('runs other strategies through the engine', async () => {
    const items = [
      item('mean-reversion', { window: 20, entry: 1.5, exit: 0.5 }),
      item('mean-reversion', { window: 40, entry: 2, exit: 0 }),
    ];
    const rows = await evaluateBatch(
      bars,
      { strategy: 'mean-reversion', barsSource: 'x', costBps: 1 },
      items,
    );
    rows.forEach((row, k) => {
      const s = runBacktest(bars, {
        strategy: 'mean-reversion',
        params: items[k].params,
        costBps: 1,
      }).summary;
      expect(row.sharpe).toBeCloseTo(s.sharpe, 10);
      expect(row.trades).toBe(s.trades);
    });
  });

  it('fails the whole batch on one bad parameter set, naming the parameter', async () => {
    const items = [item('sma-cross', { fast: 5, slow: 50 }), item('sma-cross', { fast: 50, slow: 5 })];
    const e = await evaluateBatch(bars, { strategy: 'sma-cross', barsSource: 'x' }, items).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toMatch(/fast must be smaller than slow/);
    expect((e as InputError).field).toMatch(/fast/);
  });
});
