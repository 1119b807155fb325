/** Deterministic inputs shared by the backtest tests. */
import type { Bars } from '../../../src/backtest';

/** `n` consecutive ISO days from 2020-01-01. */
export const days = (n: number): string[] =>
  Array.from({ length: n }, (_, i) =>
    new Date(Date.UTC(2020, 0, 1) + i * 86_400_000).toISOString().slice(0, 10),
  );

export const bars = (close: readonly number[], symbol = 'X'): Bars => ({
  symbol,
  dates: days(close.length),
  close: Float64Array.from(close),
});

/** Seeded geometric Brownian motion (mulberry32 + Box-Muller), so every run sees the same series. */
export function gbm(n: number, seed: number, vol = 0.01, drift = 0.0002, start = 100): Float64Array {
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float64Array(n);
  let p = start;
  for (let i = 0; i < n; i++) {
    out[i] = p;
    const z = Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
    p *= Math.exp(drift - (vol * vol) / 2 + vol * z);
  }
  return out;
}
