/**
 * `quant risk stress --report` through the real CLI entry point: the --json contract is unchanged
 * (the same keys and numbers with or without a report), and the report carries the hand-computed
 * P&L by group and position and the breaches, fetching nothing.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ANY_URL, FETCHES } from '../../helpers/offline-html';
import { runQuant } from '../../helpers/quant-cli';

const dir = mkdtempSync(path.join(os.tmpdir(), 'stress-report-'));
const write = (name: string, value: unknown): string => {
  const p = path.join(dir, name);
  writeFileSync(p, JSON.stringify(value));
  return p;
};
const limits = write('limits.json', {
  securities: {
    SPY: { region: 'US', assetClass: 'equity', sector: 'Broad', beta: 1 },
    EEM: { region: 'EM', assetClass: 'Equity', sector: 'Broad', beta: 1.5 },
    TLT: { region: 'US', assetClass: 'fixed income', duration: 17 },
    FXE: { region: 'Europe', assetClass: 'fx' },
    DBC: { region: 'Global', assetClass: 'commodities' },
  },
  limits: { maxDrawdown: 0.08, maxDailyLoss: 0.12 },
});
const portfolio = write('portfolio.json', {
  nav: 1_000_000,
  state: 'ACTIVE',
  positions: [
    { symbol: 'SPY', qty: 500, price: 400 }, // 200,000 x -0.2 = -40,000
    { symbol: 'EEM', qty: 2500, price: 40 }, // 100,000 x 1.5 x -0.2 = -30,000
    { symbol: 'TLT', qty: 1000, price: 100 }, // -100,000 x 17 x 0.01 = -17,000
    { symbol: 'FXE', qty: -500, price: 100 }, // -50,000 x 0.1 = -5,000
    { symbol: 'DBC', qty: 2000, price: 25 }, // 50,000 x -0.3 = -15,000
  ],
});
const SHOCKS = [
  '--shock',
  'equity=-0.20',
  '--shock',
  'rates=+0.01',
  '--shock',
  'fx=+0.10',
  '--shock',
  'commodity=-0.30',
];
const stress = (...rest: string[]) =>
  runQuant(['risk', 'stress', '--limits', limits, '--portfolio', portfolio, ...rest]);

describe('quant risk stress --report', () => {
  it('the --json contract is the same with a report; the report has the table, bars and breaches', async () => {
    const plain = await stress(...SHOCKS, '--json');
    const file = path.join(dir, 'stress.html');
    const r = await stress(...SHOCKS, '--json', '--report', file);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toBe(plain.out); // stdout: the contract object alone
    expect(Object.keys(JSON.parse(r.out))).toEqual([
      'pnl',
      'byAssetClass',
      'byRegion',
      'positions',
      'breaches',
    ]);
    const html = readFileSync(file, 'utf8');
    expect(html).toContain('<b>P&amp;L</b>-107,000.00');
    // A row per asset class as the securities spell them, per region and per position.
    for (const [name, v] of [
      ['equity', '-40,000.00'],
      ['Equity', '-30,000.00'],
      ['fixed income', '-17,000.00'],
      ['fx', '-5,000.00'],
      ['commodities', '-15,000.00'],
      ['US', '-57,000.00'],
      ['EM', '-30,000.00'],
      ['Global', '-15,000.00'],
      ['SPY', '-40,000.00'],
      ['DBC', '-15,000.00'],
    ])
      expect(html).toContain(`<tr><td>${name}</td><td><span class="neg">${v}</span></td>`);
    expect(html).toContain('<title>TLT: -17,000.00</title>');
    expect(html).toContain('<tr><td>maxDrawdown</td><td>8.00%</td><td>10.70%</td></tr>');
    expect(html).not.toMatch(FETCHES);
    expect(html).not.toMatch(ANY_URL);
  });

  it('scenarios: one section each, a summary row each, the text output names the report', async () => {
    const scenarios = write('scenarios.json', {
      scenarios: [
        { name: 'equity crash', shocks: { equity: -0.3 } }, // -60,000 - 45,000 = -105,000: 10.5% > 8%
        { name: 'rates up', shocks: { rates: 0.005 } }, // -100,000 x 17 x 0.005 = -8,500
      ],
    });
    const file = path.join(dir, 'scenarios.html');
    const r = await stress('--scenarios', scenarios, '--report', file);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\nreport: .*scenarios\.html\n$/);
    const html = readFileSync(file, 'utf8');
    expect(html.match(/<section id="scenario-\d+">/g)).toHaveLength(2);
    expect(html).toContain('<b>P&amp;L</b>-105,000.00');
    expect(html).toContain('<b>P&amp;L</b>-8,500.00');
    expect(html).toContain('<tr><td><a href="#scenario-0">equity crash</a></td>');
    expect(html).toContain('<tr><td>maxDrawdown</td><td>8.00%</td><td>10.50%</td></tr>');
    expect(html).toContain('<title>rates up: -8,500.00</title>');
    expect(html).not.toMatch(FETCHES);
  });

  it('bad input exits 2 and writes no report', async () => {
    const file = path.join(dir, 'never.html');
    const r = await stress('--shock', 'equity=abc', '--report', file, '--json');
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(() => readFileSync(file)).toThrow();
  });
});
