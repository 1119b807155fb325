/** `quant risk returns`: the returns window the execution path reads, built from lake bars. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openPlatform } from '../../../src/cli/context';
import { S3ReturnsSource } from '../../../src/risk/returns-source';
import { runQuant, type CliResult } from '../../helpers/quant-cli';
import { removeDataDirs } from '../../helpers/quant-process';

const dir = mkdtempSync(path.join(os.tmpdir(), 'risk-returns-'));
afterAll(() => removeDataDirs(dir));

const quant = (...args: string[]): Promise<CliResult> => runQuant(['--data-dir', dir, ...args]);

function csv(name: string, rows: ReadonlyArray<readonly [string, number]>): string {
  const file = path.join(dir, name);
  writeFileSync(
    file,
    ['date,open,high,low,close,volume', ...rows.map(([d, c]) => `${d},${c},${c},${c},${c},1000`)].join('\n'),
  );
  return file;
}

describe('quant risk returns (local cloud)', () => {
  it('publishes the last N aligned daily returns, which the execution path then reads', async () => {
    const a = csv('aaa.csv', [
      ['2024-01-02', 100],
      ['2024-01-03', 101],
      ['2024-01-04', 99],
      ['2024-01-05', 102],
      ['2024-01-08', 103],
      ['2024-01-09', 104],
    ]);
    // BBB has no bar on 2024-01-04: the window uses the dates both have.
    const b = csv('bbb.csv', [
      ['2024-01-02', 50],
      ['2024-01-03', 51],
      ['2024-01-05', 52],
      ['2024-01-08', 51],
      ['2024-01-09', 53],
    ]);
    for (const [file, sym] of [
      [a, 'AAA'],
      [b, 'BBB'],
    ]) {
      const r = await quant('lake', 'import', '--table', 'bars', '--file', file, '--symbol', sym);
      expect(r.err).not.toMatch(/^error:/m);
      expect(r.code).toBe(0);
    }
    const r = await quant(
      'risk',
      'returns',
      '--account',
      'acct-1',
      '--symbols',
      'AAA,BBB',
      '--days',
      '3',
      '--json',
    );
    expect(r.err).not.toMatch(/^error:/m);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({
      key: 'risk/returns/acct-1.json',
      symbols: ['AAA', 'BBB'],
      returns: 3,
      from: expect.stringMatching(/^2024-01-03/),
      to: expect.stringMatching(/^2024-01-09/),
    });

    const ctx = await openPlatform({ dataDir: dir });
    try {
      const got = await new S3ReturnsSource(ctx.clients.s3, ctx.buckets.curated).get('acct-1');
      expect(got.problem).toBeUndefined();
      const expected = {
        AAA: [102 / 101 - 1, 103 / 102 - 1, 104 / 103 - 1],
        BBB: [52 / 51 - 1, 51 / 52 - 1, 53 / 51 - 1],
      };
      for (const [sym, want] of Object.entries(expected)) {
        const series = Array.from(got.window!.get(sym)!);
        expect(series).toHaveLength(3);
        series.forEach((x, i) => expect(x).toBeCloseTo(want[i], 12));
      }
    } finally {
      await ctx.close();
    }
  });

  it('refuses bad input with exit code 2 and a message naming the field; nothing is written', async () => {
    const bad = [
      [['--account', 'a/b', '--symbols', 'AAA'], /account: "a\/b" must be/],
      [
        ['--account', 'x', '--symbols', 'AAA', '--days', '1'],
        /--days: must be a whole number from 2 to 5000/,
      ],
      [['--account', 'x', '--symbols', ' , '], /--symbols: no symbol given/],
      [['--account', 'x', '--symbols', 'NOPE'], /NOPE/],
    ] as const;
    for (const [args, message] of bad) {
      const r = await quant('risk', 'returns', ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(message);
    }
    const ctx = await openPlatform({ dataDir: dir });
    try {
      const got = await new S3ReturnsSource(ctx.clients.s3, ctx.buckets.curated).get('x');
      expect(got.window).toBeUndefined();
      expect(got.problem).toMatch(/x\.json|no returns window|not found|missing/i);
    } finally {
      await ctx.close();
    }
  });
});
