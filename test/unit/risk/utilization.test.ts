import { describe, expect, it } from 'vitest';
import { limitUtilization } from '../../../src/risk/utilization';

describe('limitUtilization', () => {
  it('reports value, limit and percent per configured limit, highest first', () => {
    const rows = limitUtilization(
      {
        securities: { A: { region: 'US', sector: 'Tech' }, B: { region: 'Europe', sector: 'Energy' } },
        limits: {
          maxPositionWeight: 0.1,
          maxGrossLeverage: 1,
          regionCaps: { US: 0.5 },
          sectorCaps: { Energy: 0.2 },
          maxDrawdown: 0.2,
        },
      },
      {
        nav: 1_000_000,
        peakNav: 1_100_000,
        state: 'ACTIVE',
        positions: [
          { symbol: 'A', qty: 800, price: 100 }, // 80,000 → 0.08 of nav, US 0.08
          { symbol: 'B', qty: -500, price: 100 }, // 50,000 → Energy 0.05
        ],
      },
    );
    const by = Object.fromEntries(rows.map((r) => [`${r.rule}:${r.scope}`, r]));
    expect(by['maxPositionWeight:A']).toMatchObject({ value: 0.08, limit: 0.1 });
    expect(by['maxPositionWeight:A'].pct).toBeCloseTo(80, 9);
    expect(by['maxGrossLeverage:'].value).toBeCloseTo(0.13, 12);
    expect(by['regionCap:US'].pct).toBeCloseTo(16, 9);
    expect(by['sectorCap:Energy'].pct).toBeCloseTo(25, 9);
    expect(by['maxDrawdown:'].value).toBeCloseTo(100_000 / 1_100_000, 12); // 9.09% of 20%
    expect(rows.map((r) => r.pct)).toEqual([...rows.map((r) => r.pct)].sort((a, b) => b - a));
  });
});
