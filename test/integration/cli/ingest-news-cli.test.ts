/**
 * `quant ingest news` as a user runs it (dist/ through bin/quant.js): against the news simulator on
 * loopback with `--url` and QUANT_VENDOR_KEY, a re-run that adds nothing, an expired key, and bad
 * input (exit 2 naming the field, nothing written).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NewsSimulator } from '../../../src/news/simulator';
import { removeDataDirs } from '../../helpers/quant-process';

const root = path.resolve(import.meta.dirname, '../../..');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ingest-news-cli-'));
let sim: NewsSimulator;

beforeAll(async () => {
  sim = await NewsSimulator.start({ seed: 5, keys: ['cli-key', 'old-key'] });
  sim.expireKey('old-key');
});
afterAll(async () => {
  await sim?.close();
  await removeDataDirs(dataDir);
});

/** Async (the simulator answers in this process), with the key in the environment. */
function quant(
  env: Record<string, string | undefined>,
  ...args: string[]
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'bin/quant.js'), '--data-dir', dataDir, ...args], {
      cwd: root,
      env: { ...process.env, QUANT_VENDOR_KEY: undefined, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

const rowsIn = (from: string, to: string): number =>
  sim
    .corpus(Date.parse(`${from}T00:00:00Z`), Date.parse(`${to}T00:00:00Z`) + 86_400_000)
    .reduce((n, a) => n + a.tickers.length, 0);

describe('quant ingest news', () => {
  it('pulls the window into news_sentiment; the second run adds nothing', async () => {
    const args = ['ingest', 'news', '--url', sim.url, '--from', '2024-02-05', '--to', '2024-02-06', '--json'];
    const first = await quant({ QUANT_VENDOR_KEY: 'cli-key' }, ...args);
    expect(first.stderr).not.toMatch(/error/i);
    expect(first.status).toBe(0);
    const r1 = JSON.parse(first.stdout) as Record<string, unknown>;
    expect(r1).toMatchObject({
      from: '2024-02-05T00:00:00.000Z',
      to: '2024-02-07T00:00:00.000Z',
      added: rowsIn('2024-02-05', '2024-02-06'),
      duplicates: 0,
    });
    const second = await quant({ QUANT_VENDOR_KEY: 'cli-key' }, ...args);
    expect(JSON.parse(second.stdout)).toMatchObject({ added: 0, duplicates: r1.added, partitions: 0 });
    const q = await quant({}, 'query', `SELECT count(*) AS n FROM news_sentiment`, '--json');
    expect(JSON.parse(q.stdout)).toEqual([{ n: r1.added }]);
  });

  it("an expired key: exit 2 with the vendor's answer, nothing written", async () => {
    const r = await quant(
      { QUANT_VENDOR_KEY: 'old-key' },
      'ingest',
      'news',
      '--url',
      sim.url,
      '--from',
      '2024-02-12',
      '--to',
      '2024-02-12',
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/rejected the key \(HTTP 401: API key expired\)/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace for this
    const q = await quant(
      {},
      'query',
      `SELECT count(*) AS n FROM news_sentiment WHERE dt = DATE '2024-02-12'`,
      '--json',
    );
    expect(JSON.parse(q.stdout)).toEqual([{ n: 0 }]);
  });

  it('bad input: exit 2 naming the field', async () => {
    const noKey = await quant({}, 'ingest', 'news', '--url', sim.url);
    expect(noKey.status).toBe(2);
    expect(noKey.stderr).toMatch(/QUANT_VENDOR_KEY/);
    const badDate = await quant(
      { QUANT_VENDOR_KEY: 'cli-key' },
      'ingest',
      'news',
      '--url',
      sim.url,
      '--from',
      '2024-02-30',
    );
    expect(badDate.status).toBe(2);
    expect(badDate.stderr).toMatch(/--from: "2024-02-30" is not a date/);
    const backwards = await quant(
      { QUANT_VENDOR_KEY: 'cli-key' },
      'ingest',
      'news',
      '--url',
      sim.url,
      '--from',
      '2024-02-10',
      '--to',
      '2024-02-01',
    );
    expect(backwards.status).toBe(2);
    expect(backwards.stderr).toMatch(/--from/);
    const badUrl = await quant({ QUANT_VENDOR_KEY: 'cli-key' }, 'ingest', 'news', '--url', 'not a url');
    expect(badUrl.status).toBe(2);
    expect(badUrl.stderr).toMatch(/url: "not a url" is not a URL/);
  });

  it('without --url runs against the built-in seeded simulator', async () => {
    const r = await quant({}, 'ingest', 'news', '--from', '2024-01-08', '--to', '2024-01-08', '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ articles: 8, rejected: 0 });
  });
});
