import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBacktest } from '../../../src/backtest';
import { loadSynthetic } from '../../../src/backtest/aux-load';
import { runQuant } from '../../helpers/quant-cli';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'families-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('quant backtest: strategy families and sizing', () => {
  it('runs multi-factor on the synthetic cross-section with risk-parity sizing, as the library does', async () => {
    const src = 'synthetic:equities?assets=40&days=400&seed=4';
    const r = await runQuant([
      'backtest',
      '--bars',
      src,
      '--strategy',
      'multi-factor',
      '--param',
      'betaWindow=60',
      '--sizing',
      'risk-parity:window=60',
      '--cost-bps',
      '5',
      '--json',
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as Record<string, unknown>;
    const lib = runBacktest(loadSynthetic(src), {
      strategy: 'multi-factor',
      params: { betaWindow: 60 },
      sizing: 'risk-parity:window=60',
      costBps: 5,
    });
    expect(j).toMatchObject({
      strategy: 'multi-factor',
      sizing: 'risk-parity:window=60',
      sharpe: lib.summary.sharpe,
    });
    expect(j.symbols).toHaveLength(40);
  });

  it('reads real files of the synthetic shape with --data', async () => {
    const fx = loadSynthetic('synthetic:fx?days=300&seed=8');
    const bars = ['date,symbol,close'];
    fx.symbols.forEach((s, a) => fx.dates.forEach((d, t) => bars.push(`${d},${s},${fx.close[a][t]}`)));
    const rates = ['date,currency,rate'];
    for (const [c, v] of Object.entries(fx.aux!.rates!))
      fx.dates.forEach((d, t) => rates.push(`${d},${c},${v[t]}`));
    writeFileSync(path.join(tmp, 'fx.csv'), bars.join('\n'));
    writeFileSync(path.join(tmp, 'rates.csv'), rates.join('\n'));
    const r = await runQuant([
      'backtest',
      '--bars',
      path.join(tmp, 'fx.csv'),
      '--data',
      `rates=${path.join(tmp, 'rates.csv')}`,
      '--strategy',
      'fx-carry',
      '--param',
      'topK=2',
      '--sizing',
      'vol-target:0.10',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const lib = runBacktest(fx, { strategy: 'fx-carry', params: { topK: 2 }, sizing: 'vol-target:0.10' });
    expect((JSON.parse(r.out) as { sharpe: number }).sharpe).toBe(lib.summary.sharpe);
  });

  it.each([
    [['--sizing', 'kelly:fraction=3'], /sizing/, 'kelly fraction above 1'],
    [['--sizing', 'lever'], /sizing: unknown method "lever"/, 'unknown method'],
    [['--data', 'fields=/nonexistent.csv'], /data: file not found/, 'missing file'],
    [['--param', 'quantile=0.9'], /param\.quantile/, 'bad param'],
  ])('exit 2 and names the field: %s', async (extra, message) => {
    const r = await runQuant([
      'backtest',
      '--bars',
      'synthetic:equities?assets=10&days=60',
      '--strategy',
      'multi-factor',
      ...extra,
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('a bad row of a side-data file names file:line:field', async () => {
    writeFileSync(path.join(tmp, 'bad.csv'), 'date,currency,rate\n2015-01-02,USD,0.02\n2015-01-05,AUD,x\n');
    const r = await runQuant([
      'backtest',
      '--bars',
      'synthetic:fx?days=60',
      '--data',
      `rates=${path.join(tmp, 'bad.csv')}`,
      '--strategy',
      'fx-carry',
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bad\.csv:3:rate: not a number "x"/);
  });
});
