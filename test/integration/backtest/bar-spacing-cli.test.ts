import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runQuant } from '../../helpers/quant-cli';

const root = path.resolve(import.meta.dirname, '../../..');
const STOCKS = path.join(root, 'node_modules/vega-datasets/data/stocks.csv');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'bar-spacing-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const XS = ['--strategy', 'xs-momentum', '--param', 'lookback=12', '--param', 'skip=1', '--param', 'topK=2'];
const MONTHLY = ['backtest', '--bars', STOCKS, '--align', 'intersect', ...XS, '--json'];

describe('quant backtest: annualisation from the bar spacing', () => {
  it('monthly bars give the same metrics as --periods-per-year 12, and the JSON says so', async () => {
    const detected = await runQuant(MONTHLY);
    const given = await runQuant([...MONTHLY, '--periods-per-year', '12']);
    expect(detected.code).toBe(0);
    expect(given.code).toBe(0);
    const a = JSON.parse(detected.out) as Record<string, unknown>;
    const b = JSON.parse(given.out) as Record<string, unknown>;
    expect(a).toMatchObject({ periodsPerYear: 12, periodsPerYearSource: 'detected', barSpacing: 'monthly' });
    expect(b).toMatchObject({ periodsPerYear: 12, periodsPerYearSource: 'given' });
    for (const k of ['cagr', 'sharpe', 'sortino', 'volatility', 'calmar', 'turnover'])
      expect(a[k]).toBe(b[k]);
    // Daily annualisation of the same bars would be far off (the old default).
    const daily = JSON.parse((await runQuant([...MONTHLY, '--periods-per-year', '252'])).out) as {
      cagr: number;
    };
    expect(daily.cagr).toBeGreaterThan(10 * (a.cagr as number));
    expect(detected.err).toBe('');
  });

  it('warns on stderr when the spacing is irregular, and keeps stdout valid JSON', async () => {
    const lines = ['date,close'];
    let t = Date.parse('2020-01-01');
    for (let i = 0; i < 80; i++) {
      t += (i % 2 ? 1 : 40) * 86_400_000;
      lines.push(`${new Date(t).toISOString().slice(0, 10)},${100 + (i % 7)}`);
    }
    const file = path.join(tmp, 'irregular.csv');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const r = await runQuant([
      'backtest',
      '--bars',
      file,
      '--strategy',
      'sma-cross',
      '--param',
      'fast=2',
      '--param',
      'slow=5',
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/warning: irregular bar spacing \(\d+% of the gaps fit/);
    expect(JSON.parse(r.out)).toHaveProperty('periodsPerYear');
  });
});
