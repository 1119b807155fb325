import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_HORIZON, FEATURE_NAMES, LABEL_COLUMN } from '../../../src/contract/ml';
import type { Panel } from '../../../src/backtest/types';
import type { QueryEngine, Row } from '../../../src/lake/query';
import {
  computeFeatures,
  featureSql,
  featureUnloadSql,
  featuresCsv,
  forwardReturns,
  isoTs,
  queryFeatures,
  writeFeatureFile,
} from '../../../src/ml/features';
import { duckDbWithBars, sp500Panel, syntheticPanel } from '../../helpers/ml-bars';

const TOL = 1e-9;

/** Compares SQL rows (sorted by symbol, ts) with the TS features of the same panel, value by value. */
function compare(rows: readonly Row[], panel: Panel): { checked: number; defined: number } {
  const m = computeFeatures(panel);
  const F = FEATURE_NAMES.length;
  let checked = 0;
  let defined = 0;
  const bySymbol = new Map<string, Row[]>();
  for (const r of rows) {
    const s = String(r.symbol);
    if (!bySymbol.has(s)) bySymbol.set(s, []);
    bySymbol.get(s)!.push(r);
  }
  panel.symbols.forEach((sym, a) => {
    const list = bySymbol.get(sym)!;
    expect(list.length).toBe(panel.dates.length);
    const fwd = forwardReturns(panel.close[a], DEFAULT_HORIZON);
    list.forEach((r, t) => {
      expect(isoTs(r.ts)).toBe(panel.dates[t]);
      FEATURE_NAMES.forEach((f, j) => {
        const sql = r[f] === null ? NaN : Number(r[f]);
        const ts = m.values[a][t * F + j];
        checked++;
        if (Number.isNaN(sql) || Number.isNaN(ts)) {
          if (Number.isNaN(sql) !== Number.isNaN(ts))
            throw new Error(`${sym} ${panel.dates[t]} ${f}: sql ${sql} vs ts ${ts}`);
          return;
        }
        defined++;
        if (Math.abs(sql - ts) > TOL)
          throw new Error(`${sym} ${panel.dates[t]} ${f}: sql ${sql} vs ts ${ts}`);
      });
      const label = r[LABEL_COLUMN] === null ? NaN : Number(r[LABEL_COLUMN]);
      if (Number.isNaN(label)) expect(Number.isNaN(fwd[t])).toBe(true);
      else expect(Math.abs(label - fwd[t])).toBeLessThanOrEqual(TOL);
    });
  });
  return { checked, defined };
}

describe('features: SQL (DuckDB) and TypeScript agree', () => {
  let engine: QueryEngine;
  const spx = sp500Panel();
  const syn = syntheticPanel();
  beforeAll(async () => {
    engine = await duckDbWithBars([spx, syn]);
  });
  afterAll(async () => engine.close());

  it('on the S&P 500 daily bars (one symbol: ranks are 0.5)', async () => {
    const rows = await queryFeatures(engine, { symbols: ['SPX'] });
    expect(rows.length).toBe(5105);
    const { checked, defined } = compare(rows, spx);
    expect(checked).toBe(5105 * FEATURE_NAMES.length);
    expect(defined).toBeGreaterThan(5000 * FEATURE_NAMES.length);
    const last = rows[rows.length - 1];
    expect(last.xs_rank_ret_5).toBe(0.5);
    expect(last[LABEL_COLUMN]).toBeNull();
  });

  it('on a synthetic five-symbol panel (cross-sectional ranks with ties)', async () => {
    const rows = await queryFeatures(engine, { symbols: syn.symbols });
    compare(rows, syn);
    // Symbols 0 and 1 share a close every 7th bar, so some ret_5 tie somewhere: ties take the lowest rank.
    const m = computeFeatures(syn);
    const F = FEATURE_NAMES.length;
    const j = FEATURE_NAMES.indexOf('xs_rank_ret_5');
    const ranks = new Set<number>();
    for (let t = 5; t < syn.dates.length; t++) ranks.add(m.values[0][t * F + j]);
    expect([...ranks].every((r) => [0, 0.25, 0.5, 0.75, 1].includes(r))).toBe(true);
  });

  it('point in time: changing bar t+1 leaves every feature up to t unchanged (SQL and TS)', async () => {
    const t = 3000;
    const changed: Panel = {
      symbols: ['SPX2'],
      dates: spx.dates,
      close: [Float64Array.from(spx.close[0], (c, i) => (i === t + 1 ? c * 1.5 : i > t + 1 ? c * 0.7 : c))],
      volume: [Float64Array.from(spx.volume![0], (v, i) => (i > t ? v * 3 : v))],
    };
    const other = await duckDbWithBars([changed]);
    try {
      const before = await queryFeatures(engine, { symbols: ['SPX'] });
      const after = await queryFeatures(other, { symbols: ['SPX2'] });
      for (let i = 0; i <= t; i++)
        for (const f of FEATURE_NAMES) expect(after[i][f], `${f} at ${i}`).toStrictEqual(before[i][f]);
      // ... while bar t+1's features do change (the test can fail).
      expect(after[t + 1].ret_1).not.toBe(before[t + 1].ret_1);
      const a = computeFeatures(spx).values[0];
      const b = computeFeatures(changed).values[0];
      const F = FEATURE_NAMES.length;
      expect(Array.from(b.subarray(0, (t + 1) * F))).toStrictEqual(Array.from(a.subarray(0, (t + 1) * F)));
      expect(b[(t + 1) * F]).not.toBe(a[(t + 1) * F]);
    } finally {
      await other.close();
    }
  });

  it('from/to filter rows but windows still see the earlier bars', async () => {
    const all = await queryFeatures(engine, { symbols: ['SPX'] });
    const part = await queryFeatures(engine, { symbols: ['SPX'], from: '2010-01-01', to: '2010-12-31' });
    expect(part.length).toBe(252);
    const i = all.findIndex((r) => isoTs(r.ts) === '2010-01-04');
    expect(part[0].sma_ratio_20_50).toBe(all[i].sma_ratio_20_50);
    expect(part[0].sma_ratio_20_50).not.toBeNull();
  });

  it('writeFeatureFile writes the whole file or nothing, and names symbols without bars', async () => {
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'features-')), 'train', 'features.csv');
    const r = await writeFeatureFile(engine, { symbols: ['SYN0', 'SYN1'] }, out);
    expect(r).toMatchObject({ rows: 600, labelled: 600 - 2 * DEFAULT_HORIZON, symbols: ['SYN0', 'SYN1'] });
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(601);
    const missing = path.join(path.dirname(out), 'other.csv');
    await expect(writeFeatureFile(engine, { symbols: ['SYN0', 'NOPE'] }, missing)).rejects.toThrow(
      /symbols: no bars in the lake for NOPE/,
    );
    expect(existsSync(missing)).toBe(false);
  });

  it('writes the contract CSV (header, empty label for the last horizon bars)', async () => {
    const rows = await queryFeatures(engine, { symbols: ['SPX'], horizon: 3 });
    const csv = featuresCsv(rows).trim().split('\n');
    expect(csv[0]).toBe(`ts,symbol,${FEATURE_NAMES.join(',')},fwd_return`);
    expect(csv[1].startsWith('2000-01-03,SPX,,')).toBe(true);
    expect(csv[csv.length - 1].endsWith(',')).toBe(true);
    expect(csv[csv.length - 4].endsWith(',')).toBe(false);
  });
});

describe('feature SQL text', () => {
  it('UNLOAD for Athena: JSON + GZIP to the channel prefix, ISO ts', () => {
    const sql = featureUnloadSql({ symbols: ['SPY', 'QQQ'], horizon: 5 }, 's3://quant-ml/features/job-1');
    expect(sql.startsWith('UNLOAD (\nWITH src AS (')).toBe(true);
    expect(sql).toContain("TO 's3://quant-ml/features/job-1/' WITH (format = 'JSON', compression = 'GZIP')");
    expect(sql).toContain('to_iso8601(ts) AS ts');
    expect(sql).toContain("symbol IN ('SPY', 'QQQ')");
  });

  it('rejects what could break out of the SQL text', () => {
    expect(() => featureSql({ symbols: ["X'; DROP TABLE bars; --"] })).toThrow(/symbols: invalid symbol/);
    expect(() => featureSql({ symbols: ['X'], from: "2020'" })).toThrow(/from: not an ISO date/);
    expect(() => featureSql({ symbols: ['X'], horizon: 0 })).toThrow(/horizon/);
    expect(() => featureUnloadSql({ symbols: ['X'] }, "s3://b/x' --")).toThrow(/destination/);
  });
});
