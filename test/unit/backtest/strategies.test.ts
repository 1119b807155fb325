import { describe, expect, it } from 'vitest';
import {
  runBacktest,
  selectOutOfSample,
  simpleCaps,
  splitOutOfSample,
  summarizeSlice,
  walkForward,
  type Bars,
  type Panel,
} from '../../../src/backtest';
import { impactInputs, resolveCosts, tradeCost } from '../../../src/backtest/costs';
import { rollingHedge } from '../../../src/backtest/strategies/pairs';
import { bars, days, gbm } from './fixtures';

const panelOf = (cols: Record<string, number[] | Float64Array>): Panel => {
  const symbols = Object.keys(cols);
  const n = cols[symbols[0]].length;
  return { symbols, dates: days(n), close: symbols.map((s) => Float64Array.from(cols[s])) };
};

describe('ts-momentum', () => {
  const close = [100, 101, 103, 102, 100, 99, 101];
  it('goes with the sign of the lookback return (hand-computed)', () => {
    const res = runBacktest(bars(close), { strategy: 'ts-momentum', params: { lookback: 2 } });
    // t2: 103 > 100 -> 1; t3: 102 > 101 -> 1; t4: 100 < 103 -> -1; t5: 99 < 102 -> -1.
    expect(Array.from(res.positions[0])).toEqual([0, 0, 1, 1, -1, -1]);
    const flat = runBacktest(bars(close), { strategy: 'ts-momentum', params: { lookback: 2, short: false } });
    expect(Array.from(flat.positions[0])).toEqual([0, 0, 1, 1, 0, 0]);
  });

  it('sizes to the volatility target with the sample stdev of the last volWindow returns', () => {
    const res = runBacktest(bars(close), {
      strategy: 'ts-momentum',
      params: { lookback: 2, volTarget: 0.1, volWindow: 2, maxLeverage: 5 },
    });
    const r = close.map((c, i) => (i === 0 ? 0 : c / close[i - 1] - 1));
    for (let t = 2; t < 6; t++) {
      const a = r[t - 1];
      const b = r[t];
      const sd = Math.abs(a - b) / Math.sqrt(2); // sample stdev of two values
      const size = Math.min(5, 0.1 / (sd * Math.sqrt(252)));
      const dir = close[t] > close[t - 2] ? 1 : -1;
      expect(res.positions[0][t], `t=${t}`).toBeCloseTo(dir * size, 12);
    }
  });
});

describe('mean-reversion', () => {
  it('enters beyond entry and leaves inside exit (hand-computed z-scores)', () => {
    // z(t3) = (7 - 9) / sqrt(3) = -1.155 -> long; z(t4) = -0.218 stays; z(t5) = +1.091 -> exit;
    // z(t6) = 0.873 flat; z(t7) = +1.091 -> short.
    const res = runBacktest(bars([10, 10, 10, 7, 8, 10, 11, 13, 10]), {
      strategy: 'mean-reversion',
      params: { window: 3, entry: 1, exit: 0 },
    });
    expect(Array.from(res.positions[0])).toEqual([0, 0, 0, 1, 1, 0, 0, -1]);
  });
});

describe('xs-momentum', () => {
  const p = panelOf({
    A: [10, 11, 12, 13, 12, 11, 10],
    B: [10, 10, 10, 10, 14, 15, 16],
    C: [10, 9, 8, 9, 10, 11, 12],
  });
  it('holds the top-k between rebalances (hand-computed)', () => {
    const res = runBacktest(p, {
      strategy: 'xs-momentum',
      params: { lookback: 2, topK: 1, rebalance: 2 },
      costBps: 10,
    });
    // t2: A +20%, B 0, C -20% -> A; t4: A 0, B +40%, C +25% -> B.
    expect(res.positions.map((x) => Array.from(x))).toEqual([
      [0, 0, 1, 1, 0, 0],
      [0, 0, 0, 0, 1, 1],
      [0, 0, 0, 0, 0, 0],
    ]);
    const expected = [0, 0, 13 / 12 - 1 - 0.001, 12 / 13 - 1, 15 / 14 - 1 - 0.002, 16 / 15 - 1];
    Array.from(res.returns).forEach((x, i) => expect(x).toBeCloseTo(expected[i], 15));
    expect(res.summary.trades).toBe(2);
    expect(res.attribution.map((a) => a.trades)).toEqual([2, 1, 0]);
    expect(res.attribution[0].contribution).toBeCloseTo(13 / 12 - 1 + (12 / 13 - 1), 15);
  });

  it('long-short is dollar-neutral with gross 1', () => {
    const res = runBacktest(p, {
      strategy: 'xs-momentum',
      params: { lookback: 2, topK: 1, rebalance: 2, short: true },
    });
    expect(res.positions.map((x) => x[2])).toEqual([0.5, 0, -0.5]);
    expect(res.positions.map((x) => x[4])).toEqual([-0.5, 0.5, 0]);
  });

  it('500 symbols x 300 days with costs and caps runs and respects the caps', () => {
    const cols: Record<string, Float64Array> = {};
    for (let a = 0; a < 500; a++) cols[`S${a}`] = gbm(300, 1000 + a, 0.02);
    const res = runBacktest(panelOf(cols), {
      strategy: 'xs-momentum',
      params: { lookback: 60, skip: 5, topK: 50, rebalance: 21 },
      costBps: 5,
      limiter: simpleCaps({ maxPosition: 0.015, maxGross: 0.6 }),
    });
    let maxAbs = 0;
    let maxGross = 0;
    for (let t = 0; t < res.summary.periods; t++) {
      let gross = 0;
      for (const w of res.positions) {
        maxAbs = Math.max(maxAbs, Math.abs(w[t]));
        gross += Math.abs(w[t]);
      }
      maxGross = Math.max(maxGross, gross);
    }
    // 50 names capped at 0.015 would be 0.75 gross: the gross cap scales them to 0.6 / 50 each.
    expect(maxAbs).toBeCloseTo(0.012, 15);
    expect(maxGross).toBeCloseTo(0.6, 12);
    expect(res.summary.trades).toBe(Math.ceil((299 - 60) / 21));
  });
});

describe('pairs', () => {
  const x = gbm(400, 5, 0.015);
  const noise = gbm(400, 6, 0.01, 0); // a mean-reverting-free but bounded wiggle for the residual
  const y = Float64Array.from(
    x,
    (v, i) => 2 * v ** 1.2 * (1 + 0.03 * Math.sin(i / 7)) * (noise[i] / noise[i]),
  );

  it('rollingHedge equals a direct OLS of log(y) on log(x) over the window', () => {
    const { beta, z } = rollingHedge(y, x, 30);
    for (const t of [29, 100, 399]) {
      const lx = Array.from(x.subarray(t - 29, t + 1), Math.log);
      const ly = Array.from(y.subarray(t - 29, t + 1), Math.log);
      const mx = lx.reduce((a, b) => a + b) / 30;
      const my = ly.reduce((a, b) => a + b) / 30;
      const b =
        lx.reduce((s, v, i) => s + (v - mx) * (ly[i] - my), 0) / lx.reduce((s, v) => s + (v - mx) ** 2, 0);
      const a = my - b * mx;
      const res = ly.map((v, i) => v - a - b * lx[i]);
      const se = Math.sqrt(res.reduce((s, e) => s + e * e, 0) / 28);
      expect(beta[t]).toBeCloseTo(b, 9);
      expect(z[t]).toBeCloseTo(res[29] / se, 8);
    }
    expect(Number.isNaN(beta[28])).toBe(true);
  });

  it('trades the spread hedged with gross 1 and follows the z-score rules', () => {
    const res = runBacktest(panelOf({ Y: y, X: x }), {
      strategy: 'pairs',
      params: { window: 30, entry: 1.5, exit: 0.25 },
    });
    const { z } = rollingHedge(y, x, 30);
    const [wy, wx] = res.positions;
    let entries = 0;
    for (let t = 0; t < wy.length; t++) {
      if (wy[t] === 0) {
        expect(wx[t]).toBe(0);
        continue;
      }
      expect(Math.abs(wy[t]) + Math.abs(wx[t])).toBeCloseTo(1, 12);
      if (t === 0 || wy[t - 1] === 0) {
        entries++;
        expect(Math.sign(wy[t])).toBe(z[t] > 0 ? -1 : 1);
        expect(Math.abs(z[t])).toBeGreaterThan(1.5);
      }
    }
    expect(entries).toBeGreaterThan(0);
  });
});

describe('costs', () => {
  it('square-root impact: k * sigma * sqrt(qty / ADV) per unit traded', () => {
    const c = resolveCosts({ impactK: 0.5, capital: 1e6 });
    // 1.0 of equity at 100 = 10,000 shares; ADV 1e6 -> sqrt(0.01) = 0.1; 0.5 * 0.02 * 0.1 = 0.001.
    expect(tradeCost(1, c, 100, 1, 0.02, 1e6)).toBeCloseTo(0.001, 15);
    // Half the trade: 5,000 shares -> 0.5 * 0.5 * 0.02 * sqrt(0.005).
    expect(tradeCost(-0.5, c, 100, 1, 0.02, 1e6)).toBeCloseTo(0.5 * 0.5 * 0.02 * Math.sqrt(0.005), 15);
  });

  it('commission, half spread, slippage and --cost-bps add up linearly', () => {
    const b = bars(Array.from(gbm(300, 9)));
    const a = runBacktest(b, {
      strategy: 'sma-cross',
      params: { fast: 3, slow: 10 },
      costBps: 4,
      costs: { commissionBps: 1, halfSpreadBps: 2, slippageBps: 3 },
    });
    const b10 = runBacktest(b, { strategy: 'sma-cross', params: { fast: 3, slow: 10 }, costBps: 10 });
    Array.from(a.returns).forEach((x, i) => expect(x).toBeCloseTo(b10.returns[i], 15));
  });

  it('the engine charges impact from the rolling sigma and ADV up to the trade bar', () => {
    const close = gbm(120, 21, 0.02);
    const volume = Float64Array.from(gbm(120, 22, 0.3, 0, 1e6));
    const input: Bars = { symbol: 'V', dates: days(120), close, volume };
    const res = runBacktest(input, {
      strategy: 'sma-cross',
      params: { fast: 3, slow: 12 },
      costs: { impactK: 1, capital: 5e7, window: 10 },
    });
    expect(res.ledger.length).toBeGreaterThan(2);
    const { sigma, adv } = impactInputs(close, volume, 10);
    for (const e of res.ledger) {
      const t = e.bar;
      // Independent: sample stdev of the 10 returns ending at t, mean of the 10 volumes ending at t.
      const r = Array.from({ length: 10 }, (_, i) => close[t - 9 + i] / close[t - 10 + i] - 1);
      const m = r.reduce((s, v) => s + v) / 10;
      const sd = Math.sqrt(r.reduce((s, v) => s + (v - m) ** 2, 0) / 9);
      const v = Array.from(volume.subarray(t - 9, t + 1)).reduce((s, x) => s + x) / 10;
      expect(sigma[t]).toBeCloseTo(sd, 12);
      expect(adv[t]).toBeCloseTo(v, 6);
      const equity = res.equity[t];
      const qty = (Math.abs(e.to - e.from) * equity * 5e7) / close[t];
      expect(e.cost).toBeCloseTo(Math.abs(e.to - e.from) * sd * Math.sqrt(qty / v), 12);
    }
  });
});

describe('position limits (risk interface)', () => {
  it('caps, scales gross and net, and obeys the trading state', () => {
    const book = [
      { symbol: 'A', current: 1, target: 2 },
      { symbol: 'B', current: 0, target: -0.2 },
    ];
    expect(simpleCaps({ maxPosition: 0.5 }).limit(book)).toEqual([0.5, -0.2]);
    expect(simpleCaps({ maxGross: 1.1 }).limit(book)).toEqual([2 * 0.5, -0.2 * 0.5]);
    const net = simpleCaps({ maxNet: 0.9 }).limit(book);
    expect(net[0] + net[1]).toBeCloseTo(0.9, 12);
    expect(simpleCaps({ state: 'REDUCING' }).limit(book)).toEqual([1, 0]);
    expect(simpleCaps({ state: 'REDUCING' }).limit([{ symbol: 'A', current: 0.8, target: -1 }])).toEqual([0]);
    expect(simpleCaps({ state: 'REDUCING' }).limit([{ symbol: 'A', current: 0.8, target: 0.3 }])).toEqual([
      0.3,
    ]);
    expect(simpleCaps({ state: 'HALTED' }).limit(book)).toEqual([1, 0]);
    expect(() => simpleCaps({ maxGross: -1 })).toThrow(/maxGross must be a number >= 0/);
  });

  it('applies in the backtest: a half cap halves every return of a long-only book', () => {
    const b = bars(Array.from(gbm(500, 13)));
    const spec = { strategy: 'sma-cross', params: { fast: 5, slow: 20 } };
    const full = runBacktest(b, spec);
    const half = runBacktest(b, { ...spec, limiter: simpleCaps({ maxPosition: 0.5 }) });
    Array.from(half.returns).forEach((x, i) => expect(x).toBeCloseTo(full.returns[i] / 2, 15));
    const halted = runBacktest(b, { ...spec, limiter: simpleCaps({ state: 'HALTED' }) });
    expect(halted.summary.trades).toBe(0);
    expect(halted.summary.totalReturn).toBe(0);
  });
});

describe('out of sample and walk-forward', () => {
  const b = bars(Array.from(gbm(1200, 17, 0.012, 0.0003)));
  const candidates = [
    { fast: 5, slow: 20 },
    { fast: 10, slow: 50 },
    { fast: 20, slow: 100 },
    { fast: 2, slow: 8 },
  ];

  it('a slice over every period is the summary itself', () => {
    const res = runBacktest(b, { strategy: 'sma-cross', params: candidates[0], costBps: 3 });
    const s = summarizeSlice(res, 0, res.summary.periods);
    for (const k of Object.keys(s) as (keyof typeof s)[]) expect(s[k], k).toBeCloseTo(res.summary[k], 10);
  });

  it('the in-sample and out-of-sample parts compound to the whole', () => {
    const res = runBacktest(b, { strategy: 'sma-cross', params: candidates[1], costBps: 3 });
    const split = splitOutOfSample(res, 0.3);
    expect(split.inSample.periods + split.outOfSample.periods).toBe(res.summary.periods);
    expect((1 + split.inSample.totalReturn) * (1 + split.outOfSample.totalReturn) - 1).toBeCloseTo(
      res.summary.totalReturn,
      12,
    );
    expect(split.splitDate).toBe(res.dates[split.splitBar]);
    expect(() => splitOutOfSample(res, 1)).toThrow(/oos: fraction must be between 0 and 1/);
  });

  it('selectOutOfSample picks the best in-sample Sharpe', () => {
    const sel = selectOutOfSample(b, { strategy: 'sma-cross', candidates, fraction: 0.25, costBps: 2 });
    const ins = candidates.map(
      (c) =>
        splitOutOfSample(runBacktest(b, { strategy: 'sma-cross', params: c, costBps: 2 }), 0.25).inSample
          .sharpe,
    );
    const bestIdx = ins.indexOf(Math.max(...ins));
    expect({ fast: sel.params.fast, slow: sel.params.slow }).toEqual(candidates[bestIdx]);
  });

  it('walkForward trades each test window with the train window winner, paying for switches', () => {
    const wf = walkForward(b, {
      strategy: 'sma-cross',
      candidates,
      trainPeriods: 400,
      testPeriods: 200,
      costBps: 5,
    });
    const runs = candidates.map((c) => runBacktest(b, { strategy: 'sma-cross', params: c, costBps: 5 }));
    expect(wf.windows.map((w) => w.trainTo)).toEqual([400, 600, 800, 1000]);
    expect(wf.windows[3].testTo).toBe(1199);
    for (const w of wf.windows) {
      const sharpe = runs.map((r) => summarizeSlice(r, w.trainFrom, w.trainTo).sharpe);
      const chosen = runs[sharpe.indexOf(Math.max(...sharpe))];
      expect(w.params.fast).toBe(chosen.params.fast);
      for (let t = w.trainTo; t < w.testTo; t++) {
        expect(wf.result.positions[0][t]).toBe(chosen.positions[0][t]);
        // Inside a window the stitched book earns what the chosen run earns.
        if (t > w.trainTo) expect(wf.result.returns[t]).toBeCloseTo(chosen.returns[t], 15);
      }
    }
    expect(Array.from(wf.result.positions[0].subarray(0, 400)).every((x) => x === 0)).toBe(true);
    expect(wf.summary.periods).toBe(1199 - 400);
    expect(() =>
      walkForward(b, { strategy: 'sma-cross', candidates, trainPeriods: 1000, testPeriods: 300 }),
    ).toThrow(/trainPeriods: 1000 \+ 300 test periods exceed the 1199 periods/);
  });
});

describe('demo step', () => {
  it('runs every demo strategy on the S&P 500 file and reports the best by Sharpe', async () => {
    const { runBacktestDemo } = await import('../../../src/backtest/demo');
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bt-demo-'));
    try {
      const out = await runBacktestDemo({ reportFile: path.join(dir, 'best.html') });
      expect(out.rows).toHaveLength(4);
      expect(out.best.summary.sharpe).toBe(Math.max(...out.rows.map((r) => r.sharpe)));
      expect(readFileSync(path.join(dir, 'best.html'), 'utf8')).toContain(out.best.strategy);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
