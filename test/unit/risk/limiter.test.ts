import { describe, expect, it } from 'vitest';
import { riskEngineLimiter } from '../../../src/risk/limiter';

const securities = {
  A: { region: 'US', sector: 'Technology' },
  B: { region: 'US', sector: 'Technology' },
  C: { region: 'Europe', sector: 'Energy' },
};

describe('riskEngineLimiter (the backtest PositionLimiter contract)', () => {
  it('caps each weight at maxPositionWeight', () => {
    const l = riskEngineLimiter({ securities, limits: { maxPositionWeight: 0.3 } });
    const out = l.limit([
      { symbol: 'A', current: 0, target: 0.5 },
      { symbol: 'C', current: 0, target: -0.2 },
    ]);
    expect(out[0]).toBeCloseTo(0.3, 9);
    expect(out[1]).toBeCloseTo(-0.2, 9);
    expect(l.name).toBe('risk-engine');
  });

  it('frees room with reductions before increases (sector cap 0.5)', () => {
    const l = riskEngineLimiter({ securities, limits: { sectorCaps: { Technology: 0.5 } } });
    // A goes 0.4 → 0.1 first, so B may go 0 → 0.4 (sum 0.5)
    const out = l.limit([
      { symbol: 'B', current: 0, target: 0.45 },
      { symbol: 'A', current: 0.4, target: 0.1 },
    ]);
    expect(out[0]).toBeCloseTo(0.4, 9);
    expect(out[1]).toBeCloseTo(0.1, 9);
  });

  it('HALTED keeps the current book; REDUCING only moves toward flat', () => {
    const book = [
      { symbol: 'A', current: 0.2, target: 0.5 },
      { symbol: 'B', current: 0.2, target: -0.3 },
      { symbol: 'C', current: -0.2, target: -0.1 },
    ];
    const limits = {};
    expect(riskEngineLimiter({ securities, limits }, { state: 'HALTED' }).limit(book)).toEqual([
      0.2, 0.2, -0.2,
    ]);
    const r = riskEngineLimiter({ securities, limits }, { state: 'REDUCING' }).limit(book);
    expect(r[0]).toBeCloseTo(0.2, 9); // increase refused
    expect(r[1]).toBeCloseTo(0, 9); // not across zero
    expect(r[2]).toBeCloseTo(-0.1, 9);
  });

  it('an unknown symbol keeps its current position', () => {
    const l = riskEngineLimiter({ securities, limits: {} });
    expect(l.limit([{ symbol: 'Z', current: 0.1, target: 0.4 }])).toEqual([0.1]);
  });
});
