/** The features step over the real local lake: bars imported into the local S3 server, DuckDB over its Parquet files. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPlatform, type PlatformContext } from '../../../src/cli/context';
import { FEATURE_NAMES } from '../../../src/contract/ml';
import { defaultDemoBars } from '../../../src/backtest/demo';
import { importBars, readBarsFile } from '../../../src/lake/bars';
import { computeFeatures, writeFeatureFile } from '../../../src/ml/features';
import { sp500Panel } from '../../helpers/ml-bars';

const dir = mkdtempSync(path.join(os.tmpdir(), 'features-lake-'));
let ctx: PlatformContext;

beforeAll(async () => {
  ctx = await openPlatform({ dataDir: path.join(dir, 'data') });
  await importBars(ctx, await readBarsFile(defaultDemoBars(), { symbol: 'SPX' }), { interval: '1d' });
});
afterAll(async () => {
  await ctx?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('features from the local lake', () => {
  it('writes the training CSV from lake bars, equal to the TypeScript features', async () => {
    const file = path.join(dir, 'train', 'features.csv');
    const r = await writeFeatureFile(await ctx.query(), { symbols: ['SPX'] }, file);
    expect(r.rows).toBe(5105);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines[0]).toBe(`ts,symbol,${FEATURE_NAMES.join(',')},fwd_return`);
    const last = lines[lines.length - 6].split(',');
    expect(last[0]).toBe('2020-04-09');
    const m = computeFeatures(sp500Panel());
    const F = FEATURE_NAMES.length;
    const t = 5105 - 6;
    FEATURE_NAMES.forEach((f, j) =>
      expect(Math.abs(Number(last[2 + j]) - m.values[0][t * F + j]), f).toBeLessThan(1e-9),
    );
  });
});
