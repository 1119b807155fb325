import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  attachAux,
  loadCurveFile,
  loadFieldsFile,
  loadLabelsFile,
  loadRatesFile,
  loadSynthetic,
  parseDataSpec,
} from '../../../src/backtest/aux-load';
import type { Panel } from '../../../src/backtest';
import { InputError } from '../../../src/errors';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'aux-load-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const p = path.join(tmp, name);
  writeFileSync(p, text);
  return p;
};
const fieldOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputError) return e.field;
    throw e;
  }
  return undefined;
};

const panel: Panel = {
  symbols: ['AUDUSD', 'EURUSD'],
  dates: ['2024-01-02', '2024-01-03', '2024-01-04', '2024-01-05'],
  close: [new Float64Array(4).fill(1), new Float64Array(4).fill(1)],
};

describe('side-data loaders', () => {
  it('forward-fill from each value’s own date, never backwards (a value between bars shows from the next bar)', () => {
    const f = file(
      'rates.csv',
      'date,currency,rate\n2024-01-03,AUD,0.04\n2024-01-01,USD,0.02\n2024-01-04T18:00:00Z,AUD,0.05\n',
    );
    const r = loadRatesFile(f, panel);
    expect(Array.from(r.AUD)).toEqual([NaN, 0.04, 0.04, 0.05].map((x) => x));
    expect(Array.from(r.USD)).toEqual([0.02, 0.02, 0.02, 0.02]);
  });

  it('fields, curve and labels in the documented shapes', () => {
    const fields = loadFieldsFile(
      file(
        'fut.csv',
        'date,symbol,front,next,days\n2024-01-02,AUDUSD,100,98,30\n2024-01-04,EURUSD,50,51,30\n2024-01-02,XXX,1,1,1\n',
      ),
      panel,
    );
    expect(Array.from(fields.front[0])).toEqual([100, 100, 100, 100]);
    expect(Array.from(fields.next[1])).toEqual([NaN, NaN, 51, 51]);
    const curve = loadCurveFile(
      file('curve.csv', 'date,tenor,yield\n2024-01-02,10,0.03\n2024-01-02,2,0.02\n'),
      panel,
    );
    expect(curve.tenors).toEqual([2, 10]);
    expect(curve.yields[1][3]).toBe(0.03);
    const labels = loadLabelsFile(file('sectors.csv', 'symbol,sector\nAUDUSD,FX\n'), panel);
    expect(labels.sector).toEqual(['FX', '']);
    const merged = attachAux(panel, [parseDataSpec(`labels=${path.join(tmp, 'sectors.csv')}`)]);
    expect(merged.aux?.labels?.sector).toEqual(['FX', '']);
  });

  it.each([
    ['bad-rate.csv', 'date,currency,rate\n2024-01-02,AUD,abc\n', 'bad-rate.csv:2:rate'],
    ['big-rate.csv', 'date,currency,rate\n2024-01-02,AUD,4.5\n', 'big-rate.csv:2:rate'],
    ['bad-ccy.csv', 'date,currency,rate\n2024-01-02,AUSD,0.01\n', 'bad-ccy.csv:2:currency'],
    ['bad-date.csv', 'date,currency,rate\n2024-01-02,AUD,0.01\nnot-a-date,AUD,0.01\n', 'bad-date.csv:3:date'],
    ['no-col.csv', 'date,ccy,rate\n2024-01-02,AUD,0.01\n', 'no-col.csv:1'],
    ['short-row.csv', 'date,currency,rate\n2024-01-02,AUD\n', 'short-row.csv:2'],
  ])('%s exits 2 naming %s', (name, text, field) => {
    expect(fieldOf(() => loadRatesFile(file(name, text), panel))).toBe(field);
  });

  it('rejects a bad tenor, a duplicate date and a bad --data kind', () => {
    expect(fieldOf(() => loadCurveFile(file('t.csv', 'date,tenor,yield\n2024-01-02,-1,0.03\n'), panel))).toBe(
      't.csv:2:tenor',
    );
    expect(
      fieldOf(() =>
        loadRatesFile(
          file('dup.csv', 'date,currency,rate\n2024-01-02,AUD,0.01\n2024-01-02,AUD,0.02\n'),
          panel,
        ),
      ),
    ).toBe('dup.csv:AUD');
    expect(fieldOf(() => parseDataSpec('prices=x.csv'))).toBe('data');
  });

  it('synthetic sources carry their side data and round-trip through the file loaders', () => {
    const fx = loadSynthetic('synthetic:fx?days=60&seed=2');
    expect(fx.symbols).toContain('AUDUSD');
    const rows = ['date,currency,rate'];
    for (const [c, r] of Object.entries(fx.aux!.rates!))
      fx.dates.forEach((d, t) => rows.push(`${d},${c},${r[t]}`));
    const back = loadRatesFile(file('fx-rates.csv', rows.join('\n')), fx);
    for (const [c, r] of Object.entries(fx.aux!.rates!)) expect(Array.from(back[c])).toEqual(Array.from(r));
    const bonds = loadSynthetic('synthetic:bonds?days=30');
    const crow = ['date,tenor,yield'];
    bonds.aux!.curve!.tenors.forEach((m, j) =>
      bonds.dates.forEach((d, t) => crow.push(`${d},${m},${bonds.aux!.curve!.yields[j][t]}`)),
    );
    const curve = loadCurveFile(file('ust.csv', crow.join('\n')), bonds);
    expect(curve.yields.map((y) => Array.from(y))).toEqual(
      bonds.aux!.curve!.yields.map((y) => Array.from(y)),
    );
    const eq = loadSynthetic('synthetic:equities?assets=12&days=120');
    expect(eq.aux?.labels?.sector).toHaveLength(12);
    // Fundamentals are published 31 bars after the first quarter end: unknown before.
    expect(Number.isNaN(eq.aux!.fields!.roe[0][30])).toBe(true);
    expect(Number.isFinite(eq.aux!.fields!.roe[0][31])).toBe(true);
    expect(loadSynthetic('synthetic:macro?days=50').symbols).toEqual([
      'SPY',
      'EFA',
      'EEM',
      'AGG',
      'TLT',
      'GLD',
      'DBC',
      'UUP',
      'FXE',
    ]);
    expect(fieldOf(() => loadSynthetic('synthetic:fx?assets=5'))).toBe('bars');
    expect(fieldOf(() => loadSynthetic('synthetic:moon'))).toBe('bars');
  });
});
