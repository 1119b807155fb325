/**
 * Commands share one local cloud per data directory (src/local/cloud.ts, src/local/lease.ts): any
 * number of them at once, with or without `quant local up`; it stops when idle; stale state is
 * recovered. Real processes (bin/quant.js) and the real local servers.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostPids, quantProcess, type ProcessResult } from '../../helpers/quant-process';

const IDLE = { QUANT_LOCAL_IDLE_MS: '1500' };
let root: string;
const dirs: string[] = [];

function freshDataDir(): string {
  const d = mkdtempSync(path.join(root, 'data-'));
  dirs.push(d);
  return d;
}

/** Daily bars of one symbol: `days` weekdays from 2020-01-01, a smooth walk. */
function barsCsv(file: string, days: number, from = Date.UTC(2020, 0, 1)): void {
  const lines = ['date,open,high,low,close,volume'];
  for (let i = 0, t = from; lines.length <= days; t += 86_400_000) {
    const wd = new Date(t).getUTCDay();
    if (wd === 0 || wd === 6) continue;
    const c = 100 + 10 * Math.sin(i++ / 15);
    lines.push(`${new Date(t).toISOString().slice(0, 10)},${c},${c + 1},${c - 1},${c},1000`);
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

const ok = (r: ProcessResult, what: string): void => {
  expect(r.code, `${what}: ${r.stderr.slice(-2000)}`).toBe(0);
  expect(r.stderr, what).not.toMatch(/LOCK|ECONNREFUSED|\n\s+at /);
};

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'shared-cloud-'));
  barsCsv(path.join(root, 'aaa.csv'), 300);
  barsCsv(path.join(root, 'bbb.csv'), 300);
  // Storing an account's limits is a risk command that needs no earlier state (DynamoDB).
  writeFileSync(
    path.join(root, 'limits.json'),
    JSON.stringify({ securities: { AAA: { adv: 1e6 } }, limits: {} }),
  );
});

afterAll(async () => {
  for (const d of dirs) await quantProcess(['--data-dir', d, 'local', 'down']);
  rmSync(root, { recursive: true, force: true });
});

describe('commands at the same time without quant local up', () => {
  it('an import, a query, a risk command and a backtest on lake: all exit 0, sharing one cloud that stops when idle', async () => {
    const dataDir = freshDataDir();
    const g = ['--data-dir', dataDir];
    ok(
      await quantProcess(
        [...g, 'lake', 'import', '--table', 'bars', '--file', path.join(root, 'aaa.csv'), '--symbol', 'AAA'],
        IDLE,
      ),
      'first import',
    );
    // The cloud the import started stops once idle; the four below start it again together.
    expect(await waitFor(() => hostPids(dataDir).length === 0, 30_000), 'the idle cloud stopped').toBe(true);
    expect(existsSync(path.join(dataDir, 'local.json'))).toBe(false);

    const results = await Promise.all([
      quantProcess(
        [...g, 'lake', 'import', '--table', 'bars', '--file', path.join(root, 'bbb.csv'), '--symbol', 'BBB'],
        IDLE,
      ),
      quantProcess([...g, 'query', 'SELECT count(*) AS n FROM bars', '--format', 'json'], IDLE),
      quantProcess(
        [...g, 'risk', 'limits', '--account', 'main', '--set', path.join(root, 'limits.json')],
        IDLE,
      ),
      quantProcess(
        [
          ...g,
          'backtest',
          '--bars',
          'lake:AAA',
          '--strategy',
          'sma-cross',
          '--param',
          'fast=5',
          '--param',
          'slow=20',
          '--json',
        ],
        IDLE,
      ),
    ]);
    ['import', 'query', 'risk limits', 'backtest'].forEach((what, i) => ok(results[i], what));
    expect(JSON.parse(results[3].stdout)).toMatchObject({ bars: 300, symbols: ['AAA'] });
    expect(hostPids(dataDir).length).toBeLessThanOrEqual(1);
    expect(await waitFor(() => hostPids(dataDir).length === 0, 30_000), 'stopped when idle again').toBe(true);
  });

  it('recovers from a stale lock and a dead server left by killed processes', async () => {
    const dataDir = freshDataDir();
    const dead = spawnSync(process.execPath, [
      '-e',
      'process.stdout.write(String(process.pid))',
    ]).stdout.toString();
    writeFileSync(path.join(dataDir, 'local.lock'), `${dead}\n`);
    writeFileSync(
      path.join(dataDir, 'local.json'),
      JSON.stringify({
        pid: Number(dead),
        endpoints: {
          s3: 'http://127.0.0.1:1',
          kinesis: 'http://127.0.0.1:1',
          dynamodb: 'http://127.0.0.1:1',
        },
      }),
    );
    ok(
      await quantProcess(
        [
          '--data-dir',
          dataDir,
          'risk',
          'limits',
          '--account',
          'main',
          '--set',
          path.join(root, 'limits.json'),
        ],
        IDLE,
      ),
      'risk limits',
    );
  });
});

describe('a hung local cloud (alive, not answering)', () => {
  it('is reported by status and replaced by the next command, which exits 0', async () => {
    const dataDir = freshDataDir();
    const g = ['--data-dir', dataDir];
    const HUNG = { QUANT_LOCAL_HUNG_MS: '2000' };
    const up = await quantProcess([...g, 'local', 'up', '--json'], HUNG);
    ok(up, 'up');
    const { pid } = JSON.parse(up.stdout) as { pid: number };
    process.kill(pid, 'SIGSTOP'); // alive, but its servers and its loop are frozen
    try {
      await new Promise((r) => setTimeout(r, 2_500));
      const status = await quantProcess([...g, 'local', 'status', '--json'], HUNG);
      expect(JSON.parse(status.stdout)).toMatchObject({ running: true, hung: true, pid });
      const r = await quantProcess(
        [...g, 'risk', 'limits', '--account', 'main', '--set', path.join(root, 'limits.json')],
        { ...HUNG, ...IDLE },
      );
      ok(r, 'risk limits on a hung cloud');
      expect(r.stderr).toMatch(new RegExp(`\\(pid ${pid}\\) stopped answering for over 2 s; restarting it`));
      const after = hostPids(dataDir);
      expect(after).toHaveLength(1);
      expect(after[0]).not.toBe(pid);
    } finally {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // killed by the command, as it should be
      }
    }
  });
});

describe('quant local up, twice at the same time', () => {
  it('leaves exactly one cloud, which status and down see', async () => {
    const dataDir = freshDataDir();
    const g = ['--data-dir', dataDir];
    const ups = await Promise.all([
      quantProcess([...g, 'local', 'up', '--json']),
      quantProcess([...g, 'local', 'up', '--json']),
    ]);
    ups.forEach((r, i) => ok(r, `up ${i}`));
    const [a, b] = ups.map((r) => JSON.parse(r.stdout) as { pid: number });
    expect(a.pid).toBe(b.pid);
    expect(hostPids(dataDir)).toEqual([a.pid]);
    const status = await quantProcess([...g, 'local', 'status', '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ running: true, pid: a.pid });
    // `up` keeps it running past the idle time of commands.
    ok(await quantProcess([...g, 'query', 'SELECT 1'], IDLE), 'query');
    await new Promise((r) => setTimeout(r, 3_000));
    expect(hostPids(dataDir)).toEqual([a.pid]);
    const down = await quantProcess([...g, 'local', 'down']);
    expect(down.stdout).toContain('local cloud stopped');
    expect(hostPids(dataDir)).toEqual([]);
    expect(JSON.parse((await quantProcess([...g, 'local', 'status', '--json'])).stdout)).toMatchObject({
      running: false,
    });
    expect(readdirSync(dataDir)).not.toContain('local.json');
  });
});
