import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runPortfolio } from '../../../src/backtest/engine';
import {
  adjustPanel,
  loadActionsCsv,
  loadReferenceCsv,
  ReferenceIndex,
} from '../../../src/backtest/point-in-time';
import { createRiskGate } from '../../../src/backtest/risk-gate';
import { riskGateLine } from '../../../src/cli/commands/backtest';
import type { Panel } from '../../../src/backtest/types';
import { InputError } from '../../../src/errors';
import type { RiskConfig } from '../../../src/risk/types';
import { macroUniverse } from '../../../src/synthetic/macro-universe';
import { macroReference, rawMacroUniverse } from '../../../src/synthetic/point-in-time';

const DATES = ['2024-01-02', '2024-01-03', '2024-01-04', '2024-01-05'];

function flatPanel(symbols: string[], price = 100, volume?: number): Panel {
  return {
    symbols,
    dates: DATES,
    close: symbols.map(() => new Float64Array(DATES.length).fill(price)),
    volume: volume === undefined ? undefined : symbols.map(() => new Float64Array(DATES.length).fill(volume)),
  };
}

const constant = (k: number, ...w: number[]): Float64Array[] =>
  w.slice(0, k).map((x) => new Float64Array(DATES.length).fill(x));

const opts = { strategy: 'test', params: {} };

describe('risk gate: the pre-trade risk engine on every rebalance', () => {
  it('resizes a rebalance that breaches a sector cap to exactly the cap', () => {
    const panel = flatPanel(['A', 'B']);
    const config: RiskConfig = {
      securities: { A: { sector: 'tech' }, B: { sector: 'tech' } },
      limits: { sectorCaps: { tech: 0.3 } },
    };
    const gate = createRiskGate({ config, raw: panel, capital: 1_000_000 });
    const r = runPortfolio(panel, constant(2, 0.2, 0.2), { ...opts, gate });
    // A: buy 2,000 shares at 100 of NAV 1,000,000 (0.2), approved. B: 2,000 more would put tech at
    // 0.4 > 0.3; the largest passing quantity is 1,000 shares: 0.1, tech exactly 0.3.
    expect(r.positions[0][0]).toBe(0.2);
    expect(r.positions[1][0]).toBe(0.1);
    expect(r.positions[0][0] + r.positions[1][0]).toBe(0.30000000000000004); // 0.2 + 0.1 in doubles
    expect((2000 * 100 + 1000 * 100) / 1_000_000).toBe(0.3);
    expect(r.riskGate).toEqual({
      orders: 2,
      approved: 1,
      resized: 1,
      rejected: 0,
      byRule: { sectorCap: 1 },
      byRuleDecision: { sectorCap: { resized: 1, rejected: 0 } },
    });
    // Unchanged targets later are not orders again; the capped position is held.
    expect(Array.from(r.positions[1])).toEqual([0.1, 0.1, 0.1]);
  });

  it('rejects what breaches a rule no smaller order passes, and counts it by rule', () => {
    const panel = flatPanel(['A', 'B']);
    const config: RiskConfig = { securities: { A: {} }, limits: { maxPositionWeight: 1 } };
    const gate = createRiskGate({ config, raw: panel });
    const r = runPortfolio(panel, constant(2, 0.5, 0.5), { ...opts, gate });
    expect(r.positions[0][0]).toBe(0.5);
    expect(r.positions[1][0]).toBe(0); // B is not in the securities: unknownSymbol
    expect(r.riskGate).toEqual({
      orders: 2,
      approved: 1,
      resized: 0,
      rejected: 1,
      byRule: { unknownSymbol: 1 },
      byRuleDecision: { unknownSymbol: { resized: 0, rejected: 1 } },
    });
  });

  it('counts each rule by the decision it led to: resized or rejected', () => {
    const panel = flatPanel(['A', 'B', 'C', 'D']);
    const config: RiskConfig = {
      securities: { A: { sector: 'tech' }, B: { sector: 'tech' }, D: { sector: 'tech' } },
      limits: { sectorCaps: { tech: 0.3 } },
    };
    const gate = createRiskGate({ config, raw: panel, capital: 1_000_000 });
    const r = runPortfolio(panel, constant(4, 0.2, 0.2, 0.1, 0.1), { ...opts, gate });
    // In symbol order at 100 of NAV 1,000,000: A buys 2,000 (tech 0.2), approved. B's 2,000 would
    // put tech at 0.4: resized to 1,000 (tech 0.3). C is not in the securities: unknownSymbol
    // rejects it (no smaller order passes a fixed rule). D: tech is full, so even 1 share breaches
    // the cap; the bisection ends at 0 and sectorCap rejects it.
    expect([0, 1, 2, 3].map((a) => r.positions[a][0])).toEqual([0.2, 0.1, 0, 0]);
    expect(r.riskGate).toEqual({
      orders: 4,
      approved: 1,
      resized: 1,
      rejected: 2,
      byRule: { sectorCap: 2, unknownSymbol: 1 },
      byRuleDecision: { sectorCap: { resized: 1, rejected: 1 }, unknownSymbol: { resized: 0, rejected: 1 } },
    });
    // The text output of `quant backtest --limits` says the same.
    expect(riskGateLine(r.riskGate!)).toBe(
      'risk engine: 4 orders, 1 approved, 1 resized, 2 rejected (sectorCap 2: 1 resized, 1 rejected; unknownSymbol 1: 0 resized, 1 rejected)',
    );
  });

  it('limits an order to a fraction of the ADV as of the date', () => {
    const panel = flatPanel(['A'], 100, 10_000);
    const config: RiskConfig = { securities: { A: { adv: 1e9 } }, limits: { maxOrderAdvFraction: 0.1 } };
    const gate = createRiskGate({ config, raw: panel });
    const r = runPortfolio(panel, constant(1, 0.2), { ...opts, gate });
    // ADV from the bars (10,000), not the file's 1e9: at most 1,000 shares = 100,000 = 0.1 of NAV.
    expect(r.positions[0][0]).toBe(0.1);
    expect(r.riskGate!.byRule).toEqual({ maxOrderAdvFraction: 1 });
  });

  it('uses the reference data in force on each date', () => {
    const panel = flatPanel(['A', 'B']);
    const reference = new ReferenceIndex([
      { symbol: 'A', from: '2024-01-01', sector: 'tech' },
      { symbol: 'B', from: '2024-01-04', sector: 'tech' },
    ]);
    const config: RiskConfig = { securities: {}, limits: { sectorCaps: { tech: 0.5 } } };
    const targets = [new Float64Array([0.3, 0.3, 0.3, 0.3]), new Float64Array([0.3, 0.3, 0.3, 0.3])];
    targets[1][2] = 0.25; // a change at bar 2 (2024-01-04), when B is first listed
    const gate = createRiskGate({ config, raw: panel, reference });
    const r = runPortfolio(panel, targets, { ...opts, gate });
    // Bar 0: B is not yet in the security master (unknownSymbol). Bar 2: B is tech, 0.3 + 0.25
    // would pass 0.5: resized to 0.2 (2,000 shares).
    expect(Array.from(r.positions[1])).toEqual([0, 0, 0.2]);
    expect(r.riskGate).toEqual({
      orders: 3,
      approved: 1,
      resized: 1,
      rejected: 1,
      byRule: { unknownSymbol: 1, sectorCap: 1 },
      byRuleDecision: { unknownSymbol: { resized: 0, rejected: 1 }, sectorCap: { resized: 1, rejected: 0 } },
    });
  });

  it('does not trade a delisted symbol after its date', () => {
    const panel = flatPanel(['A', 'X']);
    const adjusted = adjustPanel(panel, [{ symbol: 'X', date: '2024-01-04', type: 'delist' }]);
    const targets = [new Float64Array([0.5, 0.5, 0.5, 0.5]), new Float64Array([0.5, 0.5, 0.5, 0.6])];
    targets[0][2] = 0.4;
    const gate = createRiskGate({ raw: panel, adjusted });
    const r = runPortfolio(adjusted.panel, targets, { ...opts, gate });
    expect(adjusted.delistBar.get('X')).toBe(2);
    expect(Array.from(r.positions[1])).toEqual([0.5, 0.5, 0]);
    const xTrades = r.ledger.filter((e) => e.symbol === 'X').map((e) => [e.bar, e.from, e.to]);
    expect(xTrades).toEqual([
      [0, 0, 0.5],
      [2, 0.5, 0],
    ]);
    // Bar 3's change for X is the last bar's decision: never held; a mid-run wish is rejected.
    const gate2 = createRiskGate({ raw: panel, adjusted });
    gate2.rebalance(0, [0, 0], [0.5, 0.5], 1);
    expect(Array.from(gate2.rebalance(2, [0.5, 0.5], [0.5, 0.5], 1))).toEqual([0.5, 0]);
    expect(Array.from(gate2.rebalance(3, [0.5, 0], [0.5, 0.6], 1))).toEqual([0.5, 0]);
    expect(gate2.report()).toEqual({
      orders: 1,
      approved: 0,
      resized: 0,
      rejected: 1,
      byRule: { delisted: 1 },
      byRuleDecision: { delisted: { resized: 0, rejected: 1 } },
    });
  });
});

describe('corporate actions', () => {
  it('a split does not create a fake return; a dividend is paid on its ex-date', () => {
    const raw: Panel = {
      symbols: ['S', 'D'],
      dates: DATES,
      close: [new Float64Array([100, 100, 50, 55]), new Float64Array([100, 100, 98, 98])],
      volume: [new Float64Array([10, 10, 20, 20]), new Float64Array([10, 10, 10, 10])],
    };
    const naive = runPortfolio(raw, constant(2, 0.5, 0.5), opts);
    // Unadjusted: S's 2-for-1 split reads as -50%, D's dividend of 2 as -2%.
    expect(naive.returns[1]).toBeCloseTo(0.5 * -0.5 + 0.5 * -0.02, 15);
    const adj = adjustPanel(raw, [
      { symbol: 'S', date: '2024-01-04', type: 'split', ratio: 2 },
      { symbol: 'D', date: '2024-01-04', type: 'dividend', amount: 2 },
    ]);
    expect(Array.from(adj.panel.close[0])).toEqual([100, 100, 100, 110]);
    expect(Array.from(adj.panel.close[1])).toEqual([100, 100, 100, 100]);
    expect(Array.from(adj.splitFactor[0])).toEqual([1, 1, 2, 2]);
    expect(Array.from(adj.panel.volume![0])).toEqual([10, 10, 10, 10]);
    const r = runPortfolio(adj.panel, constant(2, 0.5, 0.5), opts);
    expect(r.returns[0]).toBe(0);
    expect(r.returns[1]).toBe(0);
    expect(r.returns[2]).toBeCloseTo(0.5 * (55 / 50 - 1), 15);
  });

  it('sizes orders in the shares of the day and the ADV in split-adjusted shares', () => {
    // After a 2-for-1 split the day's price is 50: 0.1 of 1,000,000 is 2,000 shares; the ADV of
    // the last 2 bars in today's shares is (1,000 * 2 + 2,000) / 2 = 2,000; 10% of it is 200 shares.
    const raw: Panel = {
      symbols: ['S'],
      dates: DATES,
      close: [new Float64Array([100, 100, 50, 50])],
      volume: [new Float64Array([1000, 1000, 2000, 2000])],
    };
    const adjusted = adjustPanel(raw, [{ symbol: 'S', date: '2024-01-04', type: 'split', ratio: 2 }]);
    const config: RiskConfig = { securities: { S: { adv: 1 } }, limits: { maxOrderAdvFraction: 0.1 } };
    const gate = createRiskGate({ config, raw, adjusted, advWindow: 2 });
    expect(Array.from(gate.rebalance(2, [0], [0.1], 1))).toEqual([(200 * 50) / 1_000_000]);
  });
});

describe('loaders', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pit-'));
  const file = (name: string, text: string): string => {
    const f = path.join(dir, name);
    writeFileSync(f, text);
    return f;
  };

  it('reads reference and actions files', () => {
    const ref = loadReferenceCsv(
      file(
        'ref.csv',
        'symbol,from,region,asset_class,sector\nA,2024-01-01,US,equity,tech\nA,2024-06-01,US,equity,energy\n',
      ),
    );
    const idx = new ReferenceIndex(ref);
    expect(idx.at('A', '2023-12-31')).toBeUndefined();
    expect(idx.at('A', '2024-05-31T20:00:00Z')?.sector).toBe('tech');
    expect(idx.at('A', '2024-06-01')?.sector).toBe('energy');
    expect(
      loadActionsCsv(file('act.csv', 'symbol,date,type,value\nA,2024-02-01,split,4\nB,2024-03-01,delist,\n')),
    ).toEqual([
      { symbol: 'A', date: '2024-02-01', type: 'split', ratio: 4 },
      { symbol: 'B', date: '2024-03-01', type: 'delist' },
    ]);
  });

  it('names file:line:field on a bad row', () => {
    const bad = file(
      'actions.csv',
      'symbol,date,type,value\nA,2024-02-01,split,2\nA,2024-02-01,dividend,-1\n',
    );
    expect(() => loadActionsCsv(bad)).toThrow(InputError);
    expect(() => loadActionsCsv(bad)).toThrow('actions.csv:3:value: must be a number > 0, got "-1"');
    expect(() => loadActionsCsv(file('a2.csv', 'symbol,date,type,value\nA,2024-13-01,split,2\n'))).toThrow(
      'a2.csv:2:date',
    );
    expect(() => loadActionsCsv(file('a3.csv', 'symbol,date,kind,value\n'))).toThrow(
      'a3.csv:1: missing column "type"',
    );
    expect(() => loadReferenceCsv(file('r.csv', 'symbol,from\nA,2024-01-01\nA,2024-01-01\n'))).toThrow(
      'r.csv:3:from: a second record of A from 2024-01-01',
    );
  });
});

describe('synthetic point-in-time defaults', () => {
  it('raw prices and actions that adjust back to the total-return universe', () => {
    const rows = macroUniverse({ days: 400 });
    const symbols = [...new Set(rows.symbol)];
    const n = 400;
    const tr: Panel = {
      symbols,
      dates: rows.ts.slice(0, n).map((t) => new Date(t).toISOString().slice(0, 10)),
      close: symbols.map((_, a) => Float64Array.from(rows.close.slice(a * n, (a + 1) * n))),
      volume: symbols.map((_, a) => Float64Array.from(rows.volume.slice(a * n, (a + 1) * n) as number[])),
    };
    const { raw, actions } = rawMacroUniverse(tr);
    expect(actions.filter((x) => x.type === 'split')).toEqual([
      { symbol: 'EEM', date: tr.dates[240], type: 'split', ratio: 3 },
    ]);
    const eem = symbols.indexOf('EEM');
    expect(raw.close[eem][240] / raw.close[eem][239]).toBeLessThan(0.4);
    const adj = adjustPanel(raw, actions);
    const dbc = symbols.indexOf('DBC');
    expect(adj.delistBar.get('DBC')).toBe(340);
    symbols.forEach((s, a) => {
      const last = a === dbc ? 340 : n - 1;
      for (let t = 0; t <= last; t++) expect(adj.panel.close[a][t] / tr.close[a][t]).toBeCloseTo(1, 9);
    });
    const ref = new ReferenceIndex(macroReference(tr.dates[0]));
    expect(ref.at('TLT', tr.dates[10])).toMatchObject({ region: 'US', assetClass: 'fixedIncome' });
  });
});

describe('the HTML report', () => {
  it('lists the risk engine decisions by rule when the run had a gate', async () => {
    const { renderReport } = await import('../../../src/backtest/report');
    const panel = flatPanel(['A', 'B']);
    const config: RiskConfig = {
      securities: { A: { sector: 'tech' }, B: { sector: 'tech' } },
      limits: { sectorCaps: { tech: 0.3 } },
    };
    const gated = runPortfolio(panel, constant(2, 0.2, 0.2), {
      ...opts,
      gate: createRiskGate({ config, raw: panel }),
    });
    const html = renderReport(gated);
    expect(html).toContain('<h2>Risk engine</h2>');
    expect(html).toContain('<tr><td>Resized</td><td>1</td></tr>');
    expect(html).toContain('<tr><td>sectorCap</td><td>1</td><td>0</td><td>1</td></tr>');
    expect(renderReport(runPortfolio(panel, constant(2, 0.2, 0.2), opts))).not.toContain('Risk engine');
  });
});

describe('VaR budget as of the date', () => {
  it('sizes by the returns up to the close, never the crash after it', () => {
    // Returns known at bar 2: -1% and +1%. Historical 99% VaR of exposure e over 2 days:
    // -(−0.01e + 0.01 × (0.01e − (−0.01e))) = 0.0098e; a budget of 0.0049 of NAV allows e = 0.5 NAV.
    // The -50% of bar 3 is in the future and must not shrink it.
    const panel: Panel = {
      symbols: ['A'],
      dates: DATES,
      close: [new Float64Array([100, 99, 99 * 1.01, 50])],
    };
    const config: RiskConfig = { securities: { A: {} }, limits: { varBudget: 0.0049 } };
    const gate = createRiskGate({ config, raw: panel });
    expect(Array.from(gate.rebalance(0, [0], [1], 1))).toEqual([0]); // no window yet: returnsWindow
    const w = gate.rebalance(2, [0], [0.9], 1)[0];
    expect(w).toBeCloseTo(0.5, 3);
    expect(w).toBeLessThanOrEqual(0.5);
    expect(gate.report()).toEqual({
      orders: 2,
      approved: 0,
      resized: 1,
      rejected: 1,
      byRule: { returnsWindow: 1, varBudget: 1 },
      byRuleDecision: { returnsWindow: { resized: 0, rejected: 1 }, varBudget: { resized: 1, rejected: 0 } },
    });
  });
});

describe('delisting and the book', () => {
  it('a delisted position no longer counts against the caps on its last day', () => {
    const panel = flatPanel(['A', 'X']);
    const adjusted = adjustPanel(panel, [{ symbol: 'X', date: '2024-01-04', type: 'delist' }]);
    const config: RiskConfig = {
      securities: { A: { sector: 'tech' }, X: { sector: 'tech' } },
      limits: { sectorCaps: { tech: 0.5 } },
    };
    const gate = createRiskGate({ config, raw: panel, adjusted });
    expect(Array.from(gate.rebalance(0, [0, 0], [0, 0.5], 1))).toEqual([0, 0.5]);
    // Bar 2: X is closed at its last close, so A may take the whole tech cap of 0.5.
    expect(Array.from(gate.rebalance(2, [0, 0.5], [0.5, 0.5], 1))).toEqual([0.5, 0]);
    expect(gate.report()).toEqual({
      orders: 2,
      approved: 2,
      resized: 0,
      rejected: 0,
      byRule: {},
      byRuleDecision: {},
    });
  });
});
