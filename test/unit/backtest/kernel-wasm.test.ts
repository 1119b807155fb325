import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assembleKernel, bytesModule, BYTES_FILE } from '../../../bin/build-kernel-wasm';
import { smaCrossSummary, smaCrossSummaryJs } from '../../../src/backtest/kernel';
import { smaCrossStatsWasm } from '../../../src/backtest/kernel-wasm';
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
      // Lengths around the kernel's 4,096-bar blocks, and flat stretches (ties between the SMAs).
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

  it('agrees on a long series that spans many blocks, and the result does not depend on a previous call', () => {
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
});
