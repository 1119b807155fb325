/**
 * Lake imports under concurrency and faults, through the real CLI (bin/quant.js, separate
 * processes) and the real local servers: concurrent imports into one partition lose no row
 * (conditional PUTs, src/lake/commit.ts); a many-partition import lands whole; a killed import
 * leaves nothing a backtest uses silently, no staging directory, and a re-run completes it.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quantProcess, removeDataDirs, startQuant, type ProcessResult } from '../../helpers/quant-process';

/** Symbols x days of the big import. The case is 50 x 4,000 (550 partitions); QUANT_TEST_FULL=1 runs it. */
const FULL = process.env.QUANT_TEST_FULL === '1';
const BIG_SYMBOLS = FULL ? 50 : 20;
const BIG_DAYS = FULL ? 4_000 : 2_000;

let root: string;
let dataDir: string;
let tmp: string;
const env = (): Record<string, string> => ({ TMPDIR: tmp, QUANT_LOCAL_IDLE_MS: '20000' });
const g = (): string[] => ['--data-dir', dataDir];

const DAY = 86_400_000;
const START = Date.UTC(2009, 0, 1);

/** Rows of `symbols` x `days` consecutive calendar days from 2009-01-01, filtered by `keep(date)`. */
function csv(
  file: string,
  symbols: readonly string[],
  days: number,
  keep: (d: Date) => boolean = () => true,
): number {
  const lines = ['symbol,date,open,high,low,close,volume'];
  for (const s of symbols)
    for (let i = 0; i < days; i++) {
      const d = new Date(START + i * DAY);
      if (!keep(d)) continue;
      const c = (100 + (i % 97)).toFixed(2);
      lines.push(`${s},${d.toISOString().slice(0, 10)},${c},${c},${c},${c},${i}`);
    }
  writeFileSync(file, `${lines.join('\n')}\n`);
  return lines.length - 1;
}

const ok = (r: ProcessResult, what: string): void =>
  expect(r.code, `${what}: ${r.stderr.slice(-1500)}`).toBe(0);

/** Rows and distinct (symbol, ts) per group of symbols (`key`: a SQL expression over symbol). */
async function counts(key: string, where: string): Promise<Record<string, { n: number; distinct: number }>> {
  const r = await quantProcess(
    [
      ...g(),
      'query',
      `SELECT ${key} AS k, count(*) AS n, count(DISTINCT (symbol, ts)) AS d FROM bars WHERE ${where} GROUP BY ALL ORDER BY k`,
      '--json',
    ],
    env(),
  );
  ok(r, 'query');
  const rows = JSON.parse(r.stdout) as Array<{ k: string; n: number | string; d: number | string }>;
  return Object.fromEntries(rows.map((x) => [x.k, { n: Number(x.n), distinct: Number(x.d) }]));
}

const stagingDirs = (): string[] => readdirSync(tmp).filter((n) => n.startsWith('lake-'));
const pendingDir = (): string => path.join(dataDir, 's3', 'quant-curated', '_lake', 'pending', 'bars');

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'concurrent-import-'));
  dataDir = path.join(root, 'data');
  tmp = path.join(root, 'tmp');
  mkdirSync(tmp);
});

afterAll(() => removeDataDirs(root, [dataDir]));

describe('concurrent imports', () => {
  it('two half-year imports of one symbol at the same time, 5 times: 4,000 rows every time', async () => {
    for (let round = 0; round < 5; round++) {
      const sym = `HALF${round}`;
      const h1 = path.join(root, `${sym}-h1.csv`);
      const h2 = path.join(root, `${sym}-h2.csv`);
      const n1 = csv(h1, [sym], 4_000, (d) => d.getUTCMonth() < 6);
      const n2 = csv(h2, [sym], 4_000, (d) => d.getUTCMonth() >= 6);
      expect(n1 + n2).toBe(4_000);
      const [a, b] = await Promise.all(
        [h1, h2].map((f) => quantProcess([...g(), 'lake', 'import', '--table', 'bars', '--file', f], env())),
      );
      ok(a, `round ${round} first half`);
      ok(b, `round ${round} second half`);
    }
    const each = { n: 4_000, distinct: 4_000 };
    expect(await counts('symbol', "symbol LIKE 'HALF%'")).toEqual(
      Object.fromEntries([0, 1, 2, 3, 4].map((r) => [`HALF${r}`, each])),
    );
  }, 600_000);

  it(`a ${BIG_SYMBOLS} symbols x ${BIG_DAYS} days import, 5 times: every row every time`, async () => {
    const total = BIG_SYMBOLS * BIG_DAYS;
    for (let round = 0; round < 5; round++) {
      const syms = Array.from({ length: BIG_SYMBOLS }, (_, i) => `R${round}M${i}`);
      const file = path.join(root, `big-${round}.csv`);
      expect(csv(file, syms, BIG_DAYS)).toBe(total);
      ok(
        await quantProcess([...g(), 'lake', 'import', '--table', 'bars', '--file', file, '--json'], env()),
        `round ${round}`,
      );
    }
    const each = { n: total, distinct: total };
    expect(await counts("split_part(symbol, 'M', 1)", "symbol LIKE 'R_M%'")).toEqual(
      Object.fromEntries([0, 1, 2, 3, 4].map((r) => [`R${r}`, each])),
    );
    expect(stagingDirs()).toEqual([]);
  }, 600_000);
});

describe('a killed import', () => {
  it('is never used silently, leaves no staging directory, and a re-run completes it: all rows, no duplicates', async () => {
    const symbols = 12;
    const days = 2_000; // 6 years: 72 partitions
    for (let round = 0; round < 2; round++) {
      const syms = Array.from({ length: symbols }, (_, i) => `K${round}S${i}`);
      const file = path.join(root, `kill-${round}.csv`);
      const total = csv(file, syms, days);
      const run = startQuant([...g(), 'lake', 'import', '--table', 'bars', '--file', file], env());
      // Round 0: at a random moment of the whole command; later rounds: at a random moment of the
      // commit (once its pending marker is written), where a partial import could show.
      let kill: Promise<void>;
      if (round === 0) kill = new Promise((r) => setTimeout(r, 500 + Math.random() * 4_000));
      else
        kill = (async () => {
          while (!existsSync(pendingDir()) || readdirSync(pendingDir()).length === 0) {
            if (run.child.exitCode !== null) return;
            await new Promise((r) => setTimeout(r, 10));
          }
          await new Promise((r) => setTimeout(r, Math.random() * 300));
        })();
      await kill;
      run.child.kill('SIGKILL');
      const killed = await run.done;

      // Before the re-run: a backtest gets the whole series or refuses; never part of it.
      const bt = await quantProcess(
        [
          ...g(),
          'backtest',
          '--bars',
          `lake:${syms[0]}`,
          '--strategy',
          'sma-cross',
          '--param',
          'fast=5',
          '--param',
          'slow=20',
          '--json',
        ],
        env(),
      );
      if (bt.code === 0) expect(JSON.parse(bt.stdout).bars, `round ${round}`).toBe(days);
      else {
        expect(bt.code, bt.stderr).toBe(2);
        expect(bt.stderr).toMatch(/no daily bars|incomplete.*did not finish/);
        expect(bt.stderr).not.toMatch(/\n\s+at /);
      }

      ok(
        await quantProcess([...g(), 'lake', 'import', '--table', 'bars', '--file', file], env()),
        `re-run ${round}`,
      );
      expect(await counts("'all'", `symbol LIKE 'K${round}S%'`), `round ${round} (${killed.signal})`).toEqual(
        {
          all: { n: total, distinct: total },
        },
      );
      expect(stagingDirs(), `round ${round}`).toEqual([]);
      expect(existsSync(pendingDir()) ? readdirSync(pendingDir()) : []).toEqual([]);
      const after = await quantProcess(
        [
          ...g(),
          'backtest',
          '--bars',
          `lake:${syms[0]}`,
          '--strategy',
          'sma-cross',
          '--param',
          'fast=5',
          '--param',
          'slow=20',
          '--json',
        ],
        env(),
      );
      ok(after, 'backtest after the re-run');
      expect(JSON.parse(after.stdout).bars).toBe(days);
    }
  }, 600_000);
});
