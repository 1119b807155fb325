/**
 * Loading bars for backtests: Parquet files, long-format CSV universes, calendar alignment, and
 * `lake:SYMBOL` through the real local cloud (s3rver + DuckDB), also via `quant backtest`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBars, loadPanel, runBacktest } from '../../../src/backtest';
import { runQuant, type CliResult } from '../../helpers/quant-cli';
import { removeDataDirs } from '../../helpers/quant-process';

const root = path.resolve(import.meta.dirname, '../../..');
const SP500 = path.join(root, 'node_modules/vega-datasets/data/sp500-2000.csv');
const STOCKS = path.join(root, 'node_modules/vega-datasets/data/stocks.csv');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'backtest-load-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const quant = (...args: string[]): Promise<CliResult> => runQuant(args);

describe('files', () => {
  it('a Parquet file gives the same bars as the CSV it was written from', async () => {
    const csv = await loadBars(SP500);
    const file = path.join(tmp, 'spx.parquet');
    parquetWriteFile({
      filename: file,
      columnData: [
        { name: 'date', data: csv.dates.slice(), type: 'STRING' },
        { name: 'close', data: Array.from(csv.close), type: 'DOUBLE' },
        { name: 'volume', data: Array.from(csv.volume!), type: 'DOUBLE' },
      ],
    });
    const pq = await loadBars(file);
    expect(pq.symbol).toBe('spx');
    expect(pq.dates).toEqual(csv.dates);
    expect(Array.from(pq.close)).toEqual(Array.from(csv.close));
    expect(Array.from(pq.volume!)).toEqual(Array.from(csv.volume!));
    const spec = { strategy: 'sma-cross', params: { fast: 20, slow: 50 }, costBps: 5 };
    expect(runBacktest(pq, spec).summary).toEqual(runBacktest(csv, spec).summary);
  });

  it('Parquet timestamps become ISO dates; a corrupt file is an InputError', async () => {
    const file = path.join(tmp, 'ts.parquet');
    parquetWriteFile({
      filename: file,
      columnData: [
        {
          name: 'ts',
          data: [new Date('2021-03-01T00:00:00Z'), new Date('2021-03-02T00:00:00Z')],
          type: 'TIMESTAMP',
        },
        { name: 'close', data: [10, 11], type: 'DOUBLE' },
      ],
    });
    expect((await loadBars(file)).dates).toEqual(['2021-03-01', '2021-03-02']);
    const bad = path.join(tmp, 'bad.parquet');
    writeFileSync(bad, 'PAR1 this is not parquet');
    await expect(loadBars(bad)).rejects.toThrow(/bars: bad\.parquet is not a readable Parquet file/);
    await expect(loadBars(path.join(tmp, 'x.json'))).rejects.toThrow(/bars: file not found/);
    writeFileSync(path.join(tmp, 'x.json'), '{}');
    await expect(loadBars(path.join(tmp, 'x.json'))).rejects.toThrow(/bars: unsupported file type "\.json"/);
  });

  it('a long-format CSV is a universe; differing calendars are rejected unless intersected', async () => {
    // stocks.csv: symbol,date,price monthly; GOOG starts in 2004, the others in 2000.
    await expect(loadPanel([STOCKS])).rejects.toThrow(
      /bars: calendars differ: GOOG has no bar on 2000-01-01/,
    );
    const p = await loadPanel([STOCKS], { align: 'intersect' });
    expect(p.symbols).toEqual(['MSFT', 'AMZN', 'IBM', 'GOOG', 'AAPL']);
    expect(p.dates[0]).toBe('2004-08-01');
    expect(p.close.every((c) => c.length === p.dates.length)).toBe(true);
    await expect(loadBars(STOCKS)).rejects.toThrow(/bars: stocks\.csv holds 5 symbols/);
  });

  it('several files make a universe (pairs needs exactly two)', async () => {
    const a = path.join(tmp, 'A.csv');
    const b = path.join(tmp, 'B.csv');
    const rows = (f: (i: number) => number): string =>
      [
        'date,close',
        ...Array.from(
          { length: 60 },
          (_, i) => `${new Date(Date.UTC(2022, 0, 1 + i)).toISOString().slice(0, 10)},${f(i)}`,
        ),
      ].join('\n');
    writeFileSync(
      a,
      rows((i) => 100 + 5 * Math.sin(i / 3) + i * 0.1),
    );
    writeFileSync(
      b,
      rows((i) => 50 + i * 0.05 + Math.cos(i / 5)),
    );
    const p = await loadPanel([a, b]);
    expect(p.symbols).toEqual(['A', 'B']);
    const res = runBacktest(p, { strategy: 'pairs', params: { window: 20, entry: 1, exit: 0.2 } });
    expect(res.summary.bars).toBe(60);
    await expect(loadPanel([a, a])).rejects.toThrow(/bars: symbol A given twice/);
  });
});

describe('lake:SYMBOL (local cloud)', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'backtest-lake-'));
    const r = await quant(
      '--data-dir',
      dataDir,
      'lake',
      'import',
      '--table',
      'bars',
      '--file',
      SP500,
      '--symbol',
      'SPX',
      '--json',
    );
    expect(r.code, r.err).toBe(0);
  });
  afterAll(() => removeDataDirs(dataDir));

  it('quant backtest --bars lake:SPX equals the same backtest from the CSV', async () => {
    const args = [
      'backtest',
      '--strategy',
      'sma-cross',
      '--param',
      'fast=20',
      '--param',
      'slow=50',
      '--cost-bps',
      '5',
      '--json',
    ];
    const fromLake = await quant(
      '--data-dir',
      dataDir,
      ...args.slice(0, 1),
      '--bars',
      'lake:SPX',
      ...args.slice(1),
    );
    expect(fromLake.code, fromLake.err).toBe(0);
    const fromCsv = await quant(...args.slice(0, 1), '--bars', SP500, ...args.slice(1));
    const a = JSON.parse(fromLake.out);
    const b = JSON.parse(fromCsv.out);
    expect(a.symbols).toEqual(['SPX']);
    for (const k of [
      'bars',
      'periods',
      'totalReturn',
      'cagr',
      'sharpe',
      'sortino',
      'maxDrawdown',
      'trades',
      'exposure',
    ]) {
      expect(a[k], k).toBe(b[k]);
    }
    const missing = await quant(
      '--data-dir',
      dataDir,
      'backtest',
      '--bars',
      'lake:NOPE',
      '--strategy',
      'sma-cross',
      '--param',
      'fast=2',
      '--param',
      'slow=3',
    );
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/bars: no daily bars for NOPE in the lake/);
  });
});
