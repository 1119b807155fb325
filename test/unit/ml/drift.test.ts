/** Drift check: population stability index of live features against the manifest's featureStats. */
import { describe, expect, it } from 'vitest';
import { binOf, driftCheck, psi } from '../../../src/ml/drift';
import { InputError } from '../../../src/errors';

/** Deterministic standard normals (Box-Muller over a small LCG). */
function normals(n: number, mean = 0, sd = 1, seed = 1): Float64Array {
  let s = seed;
  const u = () => ((s = (s * 1664525 + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++)
    out[i] = mean + sd * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

/** Training stats as train.py writes them: 10 quantile edges, 11 proportions. */
function statsOf(x: Float64Array) {
  const s = [...x].sort((a, b) => a - b);
  const edges = Array.from({ length: 10 }, (_, i) => s[Math.floor(((i + 1) / 11) * s.length)]);
  const counts = new Array<number>(11).fill(0);
  for (const v of x) counts[binOf(edges, v)]++;
  return { edges, proportions: counts.map((c) => c / x.length) };
}

const train = normals(20_000, 0, 1, 7);
const stats = { ret_1: statsOf(train), vol_20: statsOf(normals(20_000, 1, 0.2, 8)) };

describe('driftCheck', () => {
  it('bins as training does: the number of edges <= x (numpy searchsorted side=right)', () => {
    expect(binOf([0, 1, 2], -1)).toBe(0);
    expect(binOf([0, 1, 2], 0)).toBe(1);
    expect(binOf([0, 1, 2], 0.5)).toBe(1);
    expect(binOf([0, 1, 2], 2)).toBe(3);
    expect(binOf([0, 1, 1, 2], 1)).toBe(3);
    expect(binOf([0, 1, 2], 3)).toBe(3);
  });

  it('PSI of identical distributions is 0 and grows with the shift', () => {
    expect(psi([0.5, 0.5], [0.5, 0.5])).toBe(0);
    expect(psi([0.5, 0.5], [0.6, 0.4])).toBeCloseTo(
      0.1 * Math.log(0.6 / 0.5) - 0.1 * Math.log(0.4 / 0.5),
      12,
    );
  });

  it('a sample from the training distribution stays under the threshold', () => {
    const r = driftCheck(stats, { ret_1: normals(2_000, 0, 1, 99), vol_20: normals(2_000, 1, 0.2, 98) });
    expect(r.exceeds).toBe(false);
    expect(r.drifted).toEqual([]);
    expect(r.features.ret_1.psi).toBeLessThan(0.05);
    expect(r.features.ret_1.n).toBe(2_000);
  });

  it('a shifted feature raises the alarm and is named, the others are not', () => {
    const r = driftCheck(stats, { ret_1: normals(2_000, 0.8, 1.5, 5), vol_20: normals(2_000, 1, 0.2, 6) });
    expect(r.exceeds).toBe(true);
    expect(r.drifted).toEqual(['ret_1']);
    expect(r.features.ret_1.psi).toBeGreaterThan(0.2);
    expect(r.maxPsi).toBe(r.features.ret_1.psi);
    expect(r.features.vol_20.exceeds).toBe(false);
  });

  it('honours the threshold given and ignores NaN live values', () => {
    const live = Float64Array.from([...normals(1_000, 0.3, 1, 3), NaN, Infinity]);
    const strict = driftCheck(stats, { ret_1: live }, 0.01);
    const loose = driftCheck(stats, { ret_1: live }, 5);
    expect(strict.features.ret_1.psi).toBe(loose.features.ret_1.psi);
    expect(strict.exceeds).toBe(true);
    expect(loose.exceeds).toBe(false);
    expect(strict.features.ret_1.n).toBe(1_000);
  });

  it('rejects features without stats, bad stats and empty samples with the field named', () => {
    expect(() => driftCheck(stats, { nope: [1] })).toThrow(/features.nope: no training statistics/);
    expect(() => driftCheck({ f: { edges: [1, 2], proportions: [1] } }, { f: [1] })).toThrow(
      /featureStats.f: 2 edges need 3 proportions, got 1/,
    );
    expect(() => driftCheck(stats, { ret_1: [NaN] })).toThrow(InputError);
    expect(() => driftCheck(stats, { ret_1: [1] }, 0)).toThrow(/threshold: must be > 0/);
  });
});
