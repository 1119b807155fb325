/**
 * The foundation against the real local stand-ins: S3 byte-exactness, Parquet partitions read back by
 * DuckDB, validation that writes nothing, atomic partitions under interruption, restart persistence.
 */
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  HeadObjectCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients, type AwsClients } from '../../../src/aws/clients';
import { InputError } from '../../../src/errors';
import { importBars, parseBarsCsv, readBars, readBarsFile } from '../../../src/lake/bars';
import { lakeBuckets } from '../../../src/lake/buckets';
import { openDuckDb } from '../../../src/lake/duckdb';
import { DuckDbQueryEngine } from '../../../src/lake/query';
import { LocalCloud } from '../../../src/local/cloud';
import { macroUniverse } from '../../../src/synthetic/macro-universe';

const repo = path.resolve(import.meta.dirname, '../../..');
let dataDir: string;
let cloud: LocalCloud;
let clients: AwsClients;

async function listKeys(bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await clients.s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token, MaxKeys: 50 }),
    );
    keys.push(...(page.Contents ?? []).map((o) => o.Key!));
    token = page.NextContinuationToken;
  } while (token);
  return keys.sort();
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'lake-test-'));
  cloud = await LocalCloud.start({ dataDir });
  clients = createClients(cloud.runtime);
});

afterAll(async () => {
  clients?.destroy();
  await cloud?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('local S3', () => {
  it('round-trips bytes exactly, streamed and multipart, with awkward keys', async () => {
    const small = randomBytes(1234);
    const big = randomBytes(12 * 1024 * 1024 + 7);
    const key1 = 'exact/space and ünïcødé/deep/a/b/c/small.bin';
    await clients.s3.send(
      new PutObjectCommand({
        Bucket: 'quant-raw',
        Key: key1,
        Body: Readable.from([small]),
        ContentLength: small.length,
      }),
    );
    await new Upload({
      client: clients.s3,
      params: {
        Bucket: 'quant-raw',
        Key: 'exact/big.bin',
        Body: Readable.from([big.subarray(0, 7e6), big.subarray(7e6)]),
      },
      partSize: 5 * 1024 * 1024,
    }).done();
    for (const [key, want] of [
      [key1, small],
      ['exact/big.bin', big],
    ] as const) {
      const got = Buffer.from(
        await (
          await clients.s3.send(new GetObjectCommand({ Bucket: 'quant-raw', Key: key }))
        ).Body!.transformToByteArray(),
      );
      expect(got.length).toBe(want.length);
      expect(createHash('sha256').update(got).digest('hex')).toBe(
        createHash('sha256').update(want).digest('hex'),
      );
    }
  });

  it('paginates ListObjectsV2 (continuation tokens need the legacy provider in the server)', async () => {
    await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        clients.s3.send(
          new PutObjectCommand({
            Bucket: 'quant-models',
            Key: `page/${String(i).padStart(3, '0')}`,
            Body: 'x',
          }),
        ),
      ),
    );
    const keys = await listKeys('quant-models', 'page/');
    expect(keys).toHaveLength(120);
    expect(keys[119]).toBe('page/119');
  });

  it('never shows an upload that was cut off (the object stays absent)', async () => {
    const port = Number(new URL(cloud.endpoints.s3).port);
    await new Promise<void>((resolve) => {
      const req = http.request({
        host: '127.0.0.1',
        port,
        method: 'PUT',
        path: '/quant-raw/cut/off.bin',
        headers: { 'content-length': 1_000_000 },
      });
      req.on('error', () => resolve());
      req.write(randomBytes(300_000));
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 200);
    });
    await new Promise((r) => setTimeout(r, 300));
    await expect(
      clients.s3.send(new HeadObjectCommand({ Bucket: 'quant-raw', Key: 'cut/off.bin' })),
    ).rejects.toThrow();
    expect(await listKeys('quant-raw', 'cut/')).toEqual([]);
  });
});

describe('bars in the lake', () => {
  it('writes Hive partitions that DuckDB reads back row for row', async () => {
    const bars = macroUniverse({ days: 300, seed: 7 });
    const writer = { clients, buckets: lakeBuckets(cloud.runtime) };
    const report = await importBars(writer, bars, { interval: '1d' });
    expect(report.rows).toBe(bars.ts.length);
    // 300 weekdays from 2015-01-02 span 2015 and 2016: 9 symbols x 2 years.
    expect(report.partitions).toBe(18);
    expect(report.keys).toContain('bars/interval=1d/symbol=SPY/year=2015/data.parquet');

    const engine = await DuckDbQueryEngine.create(cloud.runtime);
    try {
      for (const symbol of ['SPY', 'FXE']) {
        const got = await readBars(engine, { symbol, interval: '1d' });
        const idx = bars.symbol.flatMap((s, i) => (s === symbol ? [i] : []));
        expect(got.ts.length).toBe(idx.length);
        idx.forEach((i, k) => {
          expect(got.ts[k]).toBe(new Date(bars.ts[i]).toISOString());
          expect(got.open[k]).toBe(bars.open[i]);
          expect(got.high[k]).toBe(bars.high[i]);
          expect(got.low[k]).toBe(bars.low[i]);
          expect(got.close[k]).toBe(bars.close[i]);
          expect(got.volume[k]).toBe(bars.volume[i]);
        });
      }
      // A second import of the same data changes nothing (merge by key, not append).
      await importBars(writer, bars, { interval: '1d' });
      const [{ n }] = await engine.query(`SELECT count(*) AS n FROM bars WHERE symbol = 'SPY'`);
      expect(Number(n)).toBe(300);
      // Overlapping data: new values win, no duplicates.
      const spyFirst = {
        ...bars,
        symbol: ['SPY'],
        ts: [bars.ts[0]],
        open: [1],
        high: [3],
        low: [1],
        close: [2],
        volume: [5],
      };
      await importBars(writer, spyFirst, { interval: '1d' });
      const rows = await engine.query(
        `SELECT close, count(*) OVER () AS n FROM bars WHERE symbol = 'SPY' ORDER BY ts LIMIT 1`,
      );
      expect(rows[0].close).toBe(2);
      expect(Number(rows[0].n)).toBe(300);
    } finally {
      await engine.close();
    }
  });

  it('rejects a bad CSV with line numbers and writes nothing', async () => {
    const before = await listKeys('quant-curated', 'bars/interval=1d/symbol=BAD');
    const file = path.join(dataDir, 'bad.csv');
    writeFileSync(
      file,
      [
        'date,open,high,low,close,volume',
        '2024-01-02,10,11,9,10.5,100',
        '2024-01-03,10,11,9,abc,100',
        '2024-01-04,10,11,9,-1,100',
        '2024-02-30,10,11,9,10,100',
        '2024-01-02,10,11,9,10.5,100',
        '2024-01-08,10,9,9.5,10,100',
        '2024-01-09,10,1e308,9,10,100',
        '2024-01-10,10,11,9,10,1e300',
      ].join('\n'),
    );
    const err = await readBarsFile(file, { symbol: 'BAD' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    const msg = (err as Error).message;
    expect(msg).toContain('7 bad row(s)');
    expect(msg).toContain('bad.csv:8: high: 1e+308 is outside the sane price range 1e-9 to 10000000000');
    expect(msg).toContain('bad.csv:9: volume: 1e+300 is above the sane maximum 1000000000000000');
    expect(msg).toContain('bad.csv:3: close: not a finite number');
    expect(msg).toContain('bad.csv:4: close: -1 is not positive');
    expect(msg).toContain('bad.csv:5: date: "2024-02-30" is not a date');
    expect(msg).toContain('bad.csv:6: date: duplicate of line 2 for BAD');
    expect(msg).toMatch(/bad\.csv:7: high: 9 is below/);
    expect(await listKeys('quant-curated', 'bars/interval=1d/symbol=BAD')).toEqual(before);

    // Through the CLI: exit code 2, the message on stderr, nothing written.
    const res = await runCli(['lake', 'import', '--table', 'bars', '--file', file, '--symbol', 'BAD']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('bad.csv:3: close: not a finite number');
    expect(await listKeys('quant-curated', 'bars/interval=1d/symbol=BAD')).toEqual(before);
  });

  it('imports a Parquet file through the CLI once; a bad one is rejected by row and writes nothing', async () => {
    const db = await openDuckDb();
    const good = path.join(dataDir, 'good.parquet');
    const bad = path.join(dataDir, 'bad.parquet');
    try {
      const rows = (close: string) => `SELECT DATE '2024-01-01' + i::INTEGER AS date, 10.0 + i AS open,
        11.0 + i AS high, 9.0 + i AS low, ${close} AS close, 1000.0 AS volume FROM range(5) t(i)`;
      await db.con.run(`COPY (${rows('10.5 + i')}) TO '${good}' (FORMAT parquet)`);
      await db.con.run(
        `COPY (${rows('CASE WHEN i = 2 THEN -1.0 ELSE 10.5 + i END')}) TO '${bad}' (FORMAT parquet)`,
      );
    } finally {
      db.close();
    }
    for (let run = 0; run < 2; run++) {
      const res = await runCli(
        ['lake', 'import', '--table', 'bars', '--file', good, '--symbol', 'PQT', '--json'],
        { attach: true },
      );
      expect(res.code, res.stderr).toBe(0);
      expect(JSON.parse(res.stdout).rows).toBe(5);
    }
    const engine = await DuckDbQueryEngine.create(cloud.runtime);
    try {
      const got = await engine.query(`SELECT close FROM bars WHERE symbol = 'PQT' ORDER BY ts`);
      expect(got.map((r) => r.close)).toEqual([10.5, 11.5, 12.5, 13.5, 14.5]);
    } finally {
      await engine.close();
    }
    const res = await runCli(['lake', 'import', '--table', 'bars', '--file', bad, '--symbol', 'PQB'], {
      attach: true,
    });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('bad.parquet:3: close: -1 is not positive');
    expect(await listKeys('quant-curated', 'bars/interval=1d/symbol=PQB')).toEqual([]);
  });

  it('reports missing columns, empty files and unknown file types by name', () => {
    expect(() => parseBarsCsv('date,open,close\n2024-01-01,1,1', 'x.csv', { symbol: 'X' })).toThrow(
      'x.csv:1: missing column(s) high, low',
    );
    expect(() => parseBarsCsv('date,open,high,low,close\n', 'y.csv', { symbol: 'X' })).toThrow(
      'y.csv: no bars',
    );
    expect(() => parseBarsCsv('date,open,high,low,close\n2024-01-01,1,1,1,1', 'z.csv')).toThrow(
      'symbol: missing (the file has no symbol column; pass --symbol)',
    );
  });

  it('leaves no partial partition when an import is killed', async () => {
    // A big multi-symbol import in a child process, killed with SIGKILL while it commits partitions.
    const bars = macroUniverse({ days: 2520, seed: 11 });
    const lines = ['symbol,date,open,high,low,close,volume'];
    bars.ts.forEach((t, i) =>
      lines.push(
        `K${bars.symbol[i]},${new Date(t).toISOString().slice(0, 10)},${bars.open[i]},${bars.high[i]},${bars.low[i]},${bars.close[i]},${bars.volume[i]}`,
      ),
    );
    const file = path.join(dataDir, 'big.csv');
    writeFileSync(file, lines.join('\n'));
    const child = spawn(
      process.execPath,
      [path.join(repo, 'bin/quant.js'), 'lake', 'import', '--table', 'bars', '--file', file],
      {
        env: { ...process.env, QUANT_DATA_DIR: dataDir },
        stdio: 'ignore',
      },
    );
    // Attach to this test's cloud: the child must not start its own on the same data dir.
    writeFileSync(
      path.join(dataDir, 'local.json'),
      JSON.stringify({ pid: cloud.pid, endpoints: cloud.endpoints, region: 'us-east-1', startedAt: '' }),
    );
    // Kill as soon as the first partitions are committed.
    for (let i = 0; i < 400; i++) {
      await new Promise((r) => setTimeout(r, 25));
      if ((await listKeys('quant-curated', 'bars/interval=1d/symbol=K')).length >= 3) break;
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    rmSync(path.join(dataDir, 'local.json'));

    // A PUT the child had fully sent can still land after it died: wait until the listing settles.
    let keys = await listKeys('quant-curated', 'bars/interval=1d/symbol=K');
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const again = await listKeys('quant-curated', 'bars/interval=1d/symbol=K');
      if (again.length === keys.length) break;
      keys = again;
    }
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.length).toBeLessThan(90); // it really was interrupted
    expect(keys.every((k) => k.endsWith('/data.parquet'))).toBe(true);
    const engine = await DuckDbQueryEngine.create(cloud.runtime);
    try {
      // Every visible partition is complete: exactly the rows of that symbol and year.
      const rows = await engine.query(
        `SELECT symbol, year, count(*) AS n FROM bars WHERE symbol LIKE 'K%' GROUP BY ALL ORDER BY ALL`,
      );
      expect(rows.length).toBe(keys.length);
      for (const r of rows) {
        const want = bars.ts.filter(
          (t, i) => `K${bars.symbol[i]}` === r.symbol && new Date(t).getUTCFullYear() === r.year,
        ).length;
        expect(Number(r.n)).toBe(want);
      }
    } finally {
      await engine.close();
    }
    // Re-running the import completes it, without duplicates.
    const res = await runCli(['lake', 'import', '--table', 'bars', '--file', file, '--json'], {
      QUANT_DATA_DIR: dataDir,
      attach: true,
    });
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout).rows).toBe(bars.ts.length);
    const engine2 = await DuckDbQueryEngine.create(cloud.runtime);
    const [{ n }] = await engine2.query(`SELECT count(*) AS n FROM bars WHERE symbol LIKE 'K%'`);
    await engine2.close();
    expect(Number(n)).toBe(bars.ts.length);
  });
});

describe('local cloud lifecycle', () => {
  it('finds its data again after a restart', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lake-restart-'));
    try {
      const c1 = await LocalCloud.start({ dataDir: dir });
      const cl1 = createClients(c1.runtime);
      await cl1.s3.send(
        new PutObjectCommand({ Bucket: 'quant-vendor', Key: 'persist/me.txt', Body: 'still here' }),
      );
      cl1.destroy();
      await c1.stop();
      const c2 = await LocalCloud.start({ dataDir: dir });
      const cl2 = createClients(c2.runtime);
      const body = await (
        await cl2.s3.send(new GetObjectCommand({ Bucket: 'quant-vendor', Key: 'persist/me.txt' }))
      ).Body!.transformToString();
      cl2.destroy();
      await c2.stop();
      expect(body).toBe('still here');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

async function runCli(
  args: string[],
  opts: { QUANT_DATA_DIR?: string; attach?: boolean } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  if (opts.attach) {
    writeFileSync(
      path.join(dataDir, 'local.json'),
      JSON.stringify({ pid: cloud.pid, endpoints: cloud.endpoints, region: 'us-east-1', startedAt: '' }),
    );
  }
  try {
    return await new Promise((resolve) => {
      const child = spawn(process.execPath, [path.join(repo, 'bin/quant.js'), ...args], {
        env: { ...process.env, QUANT_DATA_DIR: opts.QUANT_DATA_DIR ?? dataDir },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  } finally {
    if (opts.attach) rmSync(path.join(dataDir, 'local.json'), { force: true });
  }
}
