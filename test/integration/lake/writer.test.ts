/**
 * The lake writer's staging (JS columns served to DuckDB by a table function, slice by slice) and
 * an append-mode ticks write through the local S3 server: every column shape reads back exactly,
 * including NULLs on and around the 2,048-row slice boundaries.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients, type AwsClients } from '../../../src/aws/clients';
import { InputError } from '../../../src/errors';
import { lakeBuckets } from '../../../src/lake/buckets';
import { openDuckDb, stageColumns } from '../../../src/lake/duckdb';
import { DuckDbQueryEngine, localObjectGlob } from '../../../src/lake/query';
import { TICKS } from '../../../src/contract/lake';
import { writeTable } from '../../../src/lake/writer';
import { LocalCloud } from '../../../src/local/cloud';

const N = 5_000; // three slices: 2,048 + 2,048 + 904
const NULL_AT = new Set([0, 63, 64, 2047, 2048, 2049, 4095, 4096, N - 1]);

describe('stageColumns', () => {
  it('serves every column shape exactly, NULLs included, across slice boundaries', async () => {
    const f64 = Float64Array.from({ length: N }, (_, i) => (NULL_AT.has(i) ? NaN : i / 7));
    const plainNum = Array.from({ length: N }, (_, i) => (NULL_AT.has(i) ? null : i * 1.5));
    const i64 = BigInt64Array.from({ length: N }, (_, i) => BigInt(i) * 1_000_000_007n - 3n);
    const bigFromNumbers = Array.from({ length: N }, (_, i) => (NULL_AT.has(i) ? undefined : i * 3));
    const int32 = Int32Array.from({ length: N }, (_, i) => i - 2_500);
    const intPlain = Array.from({ length: N }, (_, i) => (NULL_AT.has(i) ? null : -i));
    const ts = Array.from({ length: N }, (_, i) =>
      NULL_AT.has(i) ? null : new Date(Date.UTC(2026, 0, 1) + i * 60_000),
    );
    const day = Array.from({ length: N }, (_, i) => (NULL_AT.has(i) ? null : `2026-01-0${1 + (i % 5)}`));
    const sym = Array.from({ length: N }, (_, i) => (NULL_AT.has(i) ? null : ['ES', 'NQ', "O'K"][i % 3]));
    const unique = Array.from({ length: N }, (_, i) => `id-${i}`); // above the dictionary limit
    const flag = Array.from({ length: N }, (_, i) => (NULL_AT.has(i) ? null : i % 2 === 0));

    const db = await openDuckDb();
    try {
      const select = await stageColumns(
        db.con,
        'incoming',
        [
          { name: 'f64', type: 'DOUBLE', values: f64 },
          { name: 'plain_num', type: 'DOUBLE', values: plainNum },
          { name: 'i64', type: 'BIGINT', values: i64 },
          { name: 'big_num', type: 'BIGINT', values: bigFromNumbers },
          { name: 'int32', type: 'INTEGER', values: int32 },
          { name: 'int_plain', type: 'INTEGER', values: intPlain },
          { name: 'ts', type: 'TIMESTAMP', values: ts },
          { name: 'day', type: 'DATE', values: day },
          { name: 'sym', type: 'VARCHAR', values: sym },
          { name: 'uniq', type: 'VARCHAR', values: unique },
          { name: 'flag', type: 'BOOLEAN', values: flag },
        ],
        N,
      );
      // Scanned twice: each scan starts from the first row.
      const count = await db.con.runAndReadAll(`SELECT count(*) FROM incoming`);
      expect(Number(count.getRows()[0][0])).toBe(N);
      const rows = (
        await db.con.runAndReadAll(
          `SELECT *, strftime(ts, '%Y-%m-%dT%H:%M:%S') AS ts_text, CAST(day AS VARCHAR) AS day_text
           FROM (SELECT ${select} FROM incoming)`,
        )
      ).getRowObjectsJS();
      expect(rows).toHaveLength(N);
      rows.forEach((r, i) => {
        const isNull = NULL_AT.has(i);
        expect(r.f64, `f64[${i}]`).toBe(isNull ? null : f64[i]);
        expect(r.plain_num, `plain_num[${i}]`).toBe(plainNum[i]);
        expect(r.i64, `i64[${i}]`).toBe(i64[i]);
        expect(r.big_num, `big_num[${i}]`).toBe(isNull ? null : BigInt(i * 3));
        expect(r.int32, `int32[${i}]`).toBe(int32[i]);
        expect(r.int_plain, `int_plain[${i}]`).toBe(intPlain[i]);
        expect(r.ts_text, `ts[${i}]`).toBe(isNull ? null : ts[i]!.toISOString().slice(0, 19));
        expect(r.day_text, `day[${i}]`).toBe(day[i]);
        expect(r.sym, `sym[${i}]`).toBe(sym[i]);
        expect(r.uniq, `uniq[${i}]`).toBe(unique[i]);
        expect(r.flag, `flag[${i}]`).toBe(flag[i]);
      });
    } finally {
      db.close();
    }
  });
});

describe('writeTable (append, ticks)', () => {
  let dataDir: string;
  let cloud: LocalCloud;
  let clients: AwsClients;
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'lake-writer-'));
    cloud = await LocalCloud.start({ dataDir });
    clients = createClients(cloud.runtime);
  });
  afterAll(async () => {
    clients?.destroy();
    await cloud?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const ticks = (n: number, symbolOf: (i: number) => string | null) => ({
    length: n,
    columns: {
      venue: new Array<string>(n).fill('XCME'),
      type: Array.from({ length: n }, (_, i) => (i % 4 === 0 ? 'trade' : 'quote')),
      exchange_ts: BigInt64Array.from({ length: n }, (_, i) => 1_700_000_000_000_000_000n + BigInt(i)),
      receive_ts: BigInt64Array.from({ length: n }, (_, i) => 1_700_000_000_000_025_000n + BigInt(i)),
      seq: BigInt64Array.from({ length: n }, (_, i) => BigInt(i)),
      price: Float64Array.from({ length: n }, (_, i) => (i % 4 === 0 ? 100 + i / 100 : NaN)),
      size: Float64Array.from({ length: n }, (_, i) => (i % 4 === 0 ? 1 + (i % 7) : NaN)),
      bid: Float64Array.from({ length: n }, (_, i) => 99.75 + i / 100),
      bid_size: Float64Array.from({ length: n }, () => 5),
      ask: Float64Array.from({ length: n }, (_, i) => 100.25 + i / 100),
      ask_size: Float64Array.from({ length: n }, () => 6),
      dt: Array.from({ length: n }, (_, i) => (i < n / 2 ? '2026-11-18' : '2026-11-19')),
      symbol: Array.from({ length: n }, (_, i) => symbolOf(i)),
    },
  });

  it('writes one object per (dt, symbol) that reads back row for row, in arrival order', async () => {
    const writer = { clients, buckets: lakeBuckets(cloud.runtime), tmpDir: dataDir };
    const data = ticks(N, (i) => (i % 2 === 0 ? 'ES' : 'NQ'));
    const report = await writeTable(writer, TICKS, data, { mode: 'append', fileName: 'part-0001' });
    expect(report.rows).toBe(N);
    expect(report.keys).toEqual([
      'ticks/dt=2026-11-18/symbol=ES/part-0001.parquet',
      'ticks/dt=2026-11-18/symbol=NQ/part-0001.parquet',
      'ticks/dt=2026-11-19/symbol=ES/part-0001.parquet',
      'ticks/dt=2026-11-19/symbol=NQ/part-0001.parquet',
    ]);
    const engine = await DuckDbQueryEngine.create(cloud.runtime);
    try {
      const rows = await engine.query(
        `SELECT seq, price, size, bid, type, symbol, CAST(dt AS VARCHAR) AS dt FROM ticks ORDER BY seq`,
      );
      expect(rows).toHaveLength(N);
      rows.forEach((r, i) => {
        expect(r.seq).toBe(BigInt(i));
        expect(r.price).toBe(i % 4 === 0 ? data.columns.price[i] : null);
        expect(r.size).toBe(i % 4 === 0 ? data.columns.size[i] : null);
        expect(r.bid).toBe(data.columns.bid[i]);
        expect(r.symbol).toBe(data.columns.symbol[i]);
        expect(r.dt).toBe(data.columns.dt[i]);
      });
      // Within a file the rows keep the order they arrived in (file_row_number is the physical order).
      const file = localObjectGlob(dataDir, lakeBuckets(cloud.runtime).raw, 'ticks/dt=2026-11-18/symbol=NQ');
      const inFile = await engine.query(
        `SELECT seq FROM read_parquet('${file}', file_row_number = true) ORDER BY file_row_number`,
      );
      expect(inFile.map((r) => Number(r.seq))).toEqual(Array.from({ length: N / 4 }, (_, k) => 2 * k + 1));
    } finally {
      await engine.close();
    }
  });

  it('rejects rows without a partition value, naming the key and the count, and writes nothing', async () => {
    const writer = { clients, buckets: lakeBuckets(cloud.runtime), tmpDir: dataDir };
    const data = ticks(3_000, (i) => (i === 10 || i === 2_500 ? null : 'YM'));
    const err = await writeTable(writer, TICKS, data, { mode: 'append', fileName: 'bad' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe('ticks.symbol: 2 row(s) have no value for this partition key');
    const engine = await DuckDbQueryEngine.create(cloud.runtime);
    try {
      const [{ n }] = await engine.query(`SELECT count(*) AS n FROM ticks WHERE symbol = 'YM'`);
      expect(Number(n)).toBe(0);
    } finally {
      await engine.close();
    }
  });
});
