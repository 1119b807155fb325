/** The `quant` CLI as a user runs it: local up/status/down, import, query formats, errors. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = path.resolve(import.meta.dirname, '../../..');
let dataDir: string;

function quant(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repo, 'bin/quant.js'), '--data-dir', dataDir, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

beforeAll(() => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'cli-local-'));
});

afterAll(async () => {
  await quant('local', 'down');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('quant CLI against the local cloud', () => {
  it('lists its commands', async () => {
    const r = await quant('--help');
    expect(r.code).toBe(0);
    for (const c of ['local', 'lake', 'query', 'demo'])
      expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
  });

  it('starts, reports and stops a background local cloud that commands reuse', async () => {
    const up = await quant('local', 'up', '--json');
    expect(up.code).toBe(0);
    const state = JSON.parse(up.stdout);
    expect(state.running).toBe(true);
    expect(state.endpoints.s3).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const status = JSON.parse((await quant('local', 'status', '--json')).stdout);
    expect(status).toMatchObject({ running: true, pid: state.pid });

    const csv = path.join(dataDir, 'abc.csv');
    writeFileSync(
      csv,
      'date,open,high,low,close,volume\n2024-01-02,10,11,9,10.5,100\n2024-01-03,10.5,12,10,11.5,200\n',
    );
    const imp = await quant('lake', 'import', '--table', 'bars', '--file', csv, '--symbol', 'ABC', '--json');
    expect(imp.code).toBe(0);
    expect(JSON.parse(imp.stdout)).toMatchObject({
      rows: 2,
      partitions: 1,
      symbols: ['ABC'],
      interval: '1d',
    });

    const sql = `SELECT symbol, close FROM bars WHERE symbol = 'ABC' ORDER BY ts`;
    const asJson = await quant('query', sql, '--format', 'json');
    expect(JSON.parse(asJson.stdout)).toEqual([
      { symbol: 'ABC', close: 10.5 },
      { symbol: 'ABC', close: 11.5 },
    ]);
    expect((await quant('query', sql, '--format', 'csv')).stdout).toBe('symbol,close\nABC,10.5\nABC,11.5\n');
    expect((await quant('query', sql)).stdout).toContain('(2 rows)');

    // The same pid served every command: nothing was started beside it.
    expect(JSON.parse((await quant('local', 'status', '--json')).stdout).pid).toBe(state.pid);
    const down = await quant('local', 'down');
    expect(down.stdout).toContain('local cloud stopped');
    expect(JSON.parse((await quant('local', 'status', '--json')).stdout).running).toBe(false);
  });

  it('finds the data again with an on-demand cloud after the background one stopped', async () => {
    const r = await quant('query', `SELECT count(*) AS n FROM bars WHERE symbol = 'ABC'`, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([{ n: 2 }]);
  });

  it('fails clearly on bad SQL, bad options and unknown tables', async () => {
    const bad = await quant('query', 'SELEKT 1');
    expect(bad.code).toBe(2); // the SQL is the user's input
    expect(bad.stderr).toMatch(/^error: sql: syntax error at or near "SELEKT"/);
    const fmt = await quant('query', 'SELECT 1', '--format', 'xml');
    expect(fmt.code).toBe(2);
    expect(fmt.stderr).toContain('--format: "xml" is not one of table, csv, json');
    const table = await quant('lake', 'import', '--table', 'trades', '--file', 'x.csv');
    expect(table.code).toBe(2);
    expect(table.stderr).toContain('--table: "trades" cannot be imported');
    const missing = await quant(
      'lake',
      'import',
      '--table',
      'bars',
      '--file',
      path.join(dataDir, 'nope.csv'),
      '--symbol',
      'X',
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.csv: cannot read the file (ENOENT)');
  });
});
