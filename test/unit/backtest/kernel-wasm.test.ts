import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assembleKernel, bytesModule, BYTES_FILE } from '../../../bin/build-kernel-wasm';
import { smaCrossSummary, smaCrossSummaryJs } from '../../../src/backtest/kernel';
import { smaCrossStatsWasm, wasmSeries } from '../../../src/backtest/kernel-wasm';
import { gbm } from './fixtures';

/** Seeded uniform numbers (mulberry32), so a failure reproduces. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('WebAssembly sma-cross kernel (kernel.wat)', () => {
  it('the committed bytes are kernel.wat assembled (re-run bin/build-kernel-wasm.ts after editing it)', async () => {
    expect(readFileSync(BYTES_FILE, 'utf8')).toBe(bytesModule(await assembleKernel()));
  });

  it('gives the JS kernel summary bit for bit on random series, windows, costs and sides', () => {
    const rnd = rng(12);
    for (let trial = 0; trial < 60; trial++) {
      // Lengths from 2 bars (no decided bar) to 9,000, and flat stretches (ties between the SMAs).
      const n = 2 + Math.floor(rnd() * 9000);
      const close = gbm(n, 100 + trial);
      if (trial % 3 === 0) for (let i = Math.floor(n / 3); i < Math.floor(n / 2); i++) close[i] = 50;
      const slow = 2 + Math.floor(rnd() * Math.min(200, n + 5));
      const fast = 1 + Math.floor(rnd() * (slow - 1));
      const costBps = trial % 4 === 0 ? 0 : rnd() * 20;
      const short = trial % 2 === 1;
      const wasm = smaCrossSummary(close, fast, slow, costBps, short);
      const js = smaCrossSummaryJs(close, fast, slow, costBps, short);
      expect(wasm, `trial ${trial}: n ${n}, ${fast}/${slow}, ${costBps} bps, short ${short}`).toEqual(js);
    }
  });

  it('agrees on a long series with many changes of position, and the result does not depend on a previous call', () => {
    const close = gbm(50_000, 7);
    const first = smaCrossSummary(close, 20, 50, 5, true);
    smaCrossSummary(gbm(100_000, 8), 3, 400, 1);
    expect(smaCrossSummary(close, 20, 50, 5, true)).toEqual(first);
    expect(first).toEqual(smaCrossSummaryJs(close, 20, 50, 5, true));
    expect(first.trades).toBeGreaterThan(100);
    // The WebAssembly path ran (it declines only series shorter than the slow window).
    expect(smaCrossStatsWasm(close, 20, 50, 0, 0)?.trades).toBe(smaCrossSummaryJs(close, 20, 50).trades);
    expect(smaCrossStatsWasm(close.subarray(0, 40), 20, 50, 0, 0)).toBeUndefined();
  });

  it('switches between its flat and held loops at the edges of the series as the JS loop does', () => {
    const cases: {
      close: number[];
      fast: number;
      slow: number;
      short: boolean;
      trades: number;
      exposure: number;
    }[] = [
      // Bought on the first decided bar (t = 1) and held to the last period: 1 trade, 4 of 5 periods.
      { close: [1, 2, 3, 4, 5, 6], fast: 1, slow: 2, short: false, trades: 1, exposure: 4 / 5 },
      // Ties until the last decided bar (t = 4, the SMAs 6 and 5.5), bought there: 1 of 5 periods.
      { close: [5, 5, 5, 5, 6, 7], fast: 1, slow: 2, short: false, trades: 1, exposure: 1 / 5 },
      // Closes of 0 while flat (never divided by), then bought at t = 6 (close 1 over the SMA 0.5).
      { close: [3, 2, 1, 0, 0, 0, 1, 2, 3], fast: 1, slow: 2, short: false, trades: 1, exposure: 2 / 8 },
      // Short from t = 1, flipped long at t = 4 (SMAs 3 and 2.5): 2 trades, exposed in periods 1-4 of 5.
      { close: [5, 4, 3, 2, 3, 4], fast: 1, slow: 2, short: true, trades: 2, exposure: 4 / 5 },
    ];
    for (const { close, fast, slow, short, trades, exposure } of cases) {
      const c = Float64Array.from(close);
      const wasm = smaCrossSummary(c, fast, slow, 10, short);
      expect(wasm, close.join(',')).toEqual(smaCrossSummaryJs(c, fast, slow, 10, short));
      expect(wasm.trades, close.join(',')).toBe(trades);
      expect(wasm.exposure, close.join(',')).toBeCloseTo(exposure, 15);
      expect(Number.isFinite(wasm.totalReturn), close.join(',')).toBe(true);
    }
    // A close of 0 while a position is held: both loops divide by it and give the same non-finite numbers.
    const zero = Float64Array.from([5, 4, 3, 2, 1, 0, 1, 2]);
    const held = smaCrossSummary(zero, 1, 2, 0, true);
    expect(held).toEqual(smaCrossSummaryJs(zero, 1, 2, 0, true));
    expect(Number.isFinite(held.totalReturn)).toBe(false);
  });

  it('agrees with the JS loop on series holding 0, subnormal, huge, infinite and NaN closes', () => {
    // The held loop's test prev * (mf - ms) > 0 and the JS loop's comparisons must agree on them.
    const special = [0, 5e-324, 1e-310, 1e308, -1e308, Infinity, -Infinity, NaN, -0];
    const rnd = rng(21);
    for (let trial = 0; trial < 60; trial++) {
      const n = 20 + Math.floor(rnd() * 400);
      const close = gbm(n, 300 + trial);
      for (let i = 0; i < 1 + (trial % 4); i++)
        close[Math.floor(rnd() * n)] = special[Math.floor(rnd() * special.length)];
      const slow = 2 + Math.floor(rnd() * 15);
      const fast = 1 + Math.floor(rnd() * (slow - 1));
      const short = trial % 2 === 0;
      const label = `trial ${trial}: ${fast}/${slow}, short ${short}`;
      expect(smaCrossSummary(close, fast, slow, 5, short), label).toEqual(
        smaCrossSummaryJs(close, fast, slow, 5, short),
      );
    }
  });

  it('wasmSeries runs many pairs over a series copied in once, each equal to the single call; two series do not share memory', () => {
    const a = gbm(20_000, 3);
    const b = gbm(30_000, 4);
    const sa = wasmSeries(a)!;
    const sb = wasmSeries(b)!;
    const rnd = rng(5);
    for (let i = 0; i < 40; i++) {
      const slow = 2 + Math.floor(rnd() * 300);
      const fast = 1 + Math.floor(rnd() * (slow - 1));
      const cost = (rnd() * 20) / 10_000;
      const neg = i % 2 === 0 ? 0 : -1;
      expect(sa.stats(fast, slow, cost, neg), `a ${fast}/${slow}`).toEqual(
        smaCrossStatsWasm(a, fast, slow, cost, neg),
      );
      expect(sb.stats(fast, slow, cost, neg), `b ${fast}/${slow}`).toEqual(
        smaCrossStatsWasm(b, fast, slow, cost, neg),
      );
    }
    expect(sa.stats(20, 50, 0, 0)!.trades).toBe(smaCrossSummaryJs(a, 20, 50).trades);
    // A slow window with no decided bar before the last close: declined, as the single call does.
    expect(wasmSeries(a.subarray(0, 40))!.stats(20, 50, 0, 0)).toBeUndefined();
  });

  it('falls back to the JS loop where the engine cannot compile WebAssembly SIMD (V8 on x64 without SSE4.1)', () => {
    // A child Node with SSE4.1 switched off: V8 then rejects the module's 128-bit instructions.
    const code = `
      import { smaCrossSummary, smaCrossSummaryJs } from './src/backtest/kernel.ts';
      import { smaCrossStatsWasm, wasmSeries } from './src/backtest/kernel-wasm.ts';
      import { gbm } from './test/unit/backtest/fixtures.ts';
      const c = gbm(3000, 9);
      console.log(JSON.stringify({
        declined: smaCrossStatsWasm(c, 5, 30, 0, 0) === undefined && wasmSeries(c) === undefined,
        summary: smaCrossSummary(c, 5, 30, 3, true),
      }));`;
    const root = path.resolve(import.meta.dirname, '../../..');
    const r = spawnSync(
      process.execPath,
      ['--no-enable-sse4-1', '--import', 'tsx', '--input-type=module', '-e', code],
      { cwd: root, encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { declined: boolean; summary: unknown };
    // The flag exists on every V8 build but only x64 code generation depends on it.
    expect(out.declined).toBe(process.arch === 'x64');
    expect(out.summary).toEqual(JSON.parse(JSON.stringify(smaCrossSummaryJs(gbm(3000, 9), 5, 30, 3, true))));
  });
});
