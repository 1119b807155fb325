/**
 * The lake's JS append encoder (src/lake/parquet-append.ts): files it writes read back exactly in
 * DuckDB (the local Athena) and in hyparquet (a second, independent reader), for every column
 * shape and encoding choice it makes: NULLs, dictionary and PLAIN doubles, DELTA_BINARY_PACKED and
 * PLAIN int64s (deltas beyond what the delta encoder takes), several row groups, compressed and
 * uncompressed chunks. Values that need the DuckDB path go there and fail with its message.
 */
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients, type AwsClients } from '../../../src/aws/clients';
import { InputError } from '../../../src/errors';
import { PARQUET_DECOMPRESSORS } from '../../../src/lake/parquet-read';
import { lakeBuckets } from '../../../src/lake/buckets';
import { openDuckDb } from '../../../src/lake/duckdb';
import { deltaBinaryPacked, prepareAppend } from '../../../src/lake/parquet-append';
import { TICKS, type TableDef } from '../../../src/contract/lake';
import { writeTable } from '../../../src/lake/writer';
import { LocalCloud } from '../../../src/local/cloud';
import { mulberry32 } from '../../../src/synthetic/random';

const SHAPES: TableDef = {
  name: 'shapes',
  zone: 'raw',
  prefix: 'shapes',
  partitionKeys: [
    { name: 'dt', type: 'DATE' },
    { name: 'symbol', type: 'VARCHAR' },
  ],
  columns: [
    { name: 'label', type: 'VARCHAR' },
    { name: 'small', type: 'INTEGER' },
    { name: 'steady', type: 'BIGINT' },
    { name: 'wild', type: 'BIGINT' },
    { name: 'maybe', type: 'BIGINT' },
    { name: 'qty', type: 'DOUBLE' },
    { name: 'px', type: 'DOUBLE' },
  ],
};

const N = 7_000;
const I64_MAX = 2n ** 63n - 1n;
const I64_MIN = -(2n ** 63n);

/** Rows covering every encoding decision; partitions interleave row by row. */
function shapes() {
  const u = mulberry32(7);
  const wild = new BigInt64Array(N);
  for (let i = 0; i < N; i++) {
    // Small steps, then jumps across 2^31, 2^32 and the int64 range ends (PLAIN fallback).
    wild[i] =
      i === 4000
        ? I64_MAX
        : i === 4001
          ? I64_MIN
          : i % 1000 === 999
            ? BigInt(i) * 2n ** 33n
            : BigInt(i * 3 - 50);
  }
  return {
    length: N,
    columns: {
      label: Array.from({ length: N }, (_, i) => (i % 11 === 0 ? null : ['α', 'b c', "d'e", ''][i % 4])),
      small: Array.from({ length: N }, (_, i) => (i % 13 === 0 ? null : i - 3_500)),
      steady: BigInt64Array.from({ length: N }, (_, i) => 1_763_476_200_000_000_000n + BigInt(i) * 11_700n),
      wild,
      maybe: Array.from({ length: N }, (_, i) => (i % 5 === 0 ? null : i % 2 === 0 ? BigInt(-i) : i * 1000)),
      qty: Float64Array.from({ length: N }, (_, i) => (i % 3 === 0 ? NaN : 1 + (i % 20))),
      px: Float64Array.from({ length: N }, (_, i) => (i % 7 === 0 ? NaN : 100 + u() * 10 - 5)),
      dt: Array.from({ length: N }, (_, i) => (i % 3 === 0 ? '2026-11-18' : '2026-11-19')),
      symbol: Array.from({ length: N }, (_, i) => (i % 2 === 0 ? 'ES' : 'NQ')),
    },
  };
}

const asNumberOrNull = (v: unknown): number | null =>
  v === null || v === undefined ? null : typeof v === 'bigint' ? Number(v) : (v as number);

describe('prepareAppend + encode', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lake-append-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('encodes every column shape so that DuckDB and hyparquet read back exactly the input', async () => {
    const data = shapes();
    const prepared = prepareAppend(SHAPES, data.columns, N, 1_000)!;
    expect(prepared).toBeDefined();
    expect(prepared.partitions).toEqual([
      { dt: '2026-11-18', symbol: 'ES' },
      { dt: '2026-11-19', symbol: 'NQ' },
      { dt: '2026-11-19', symbol: 'ES' },
      { dt: '2026-11-18', symbol: 'NQ' },
    ]);
    const db = await openDuckDb();
    try {
      let seen = 0;
      for (let p = 0; p < prepared.partitions.length; p++) {
        const { dt, symbol } = prepared.partitions[p];
        const expected = [...Array(N).keys()].filter(
          (i) => data.columns.dt[i] === dt && data.columns.symbol[i] === symbol,
        );
        const file = await prepared.encode(p);
        expect(file.rows).toBe(expected.length);
        seen += file.rows;
        const meta = parquetMetadata(file.bytes.buffer.slice(0) as ArrayBuffer);
        expect(meta.row_groups.length).toBe(Math.ceil(expected.length / 1_000));
        const fileName = path.join(dir, `p${p}.parquet`);
        writeFileSync(fileName, file.bytes);

        const duck = (
          await db.con.runAndReadAll(
            `SELECT * FROM read_parquet('${fileName}', file_row_number = true) ORDER BY file_row_number`,
          )
        ).getRowObjectsJS();
        const hyp = await parquetReadObjects({
          file: file.bytes.buffer.slice(
            file.bytes.byteOffset,
            file.bytes.byteOffset + file.bytes.length,
          ) as ArrayBuffer,
          compressors: PARQUET_DECOMPRESSORS,
        });
        expect(duck).toHaveLength(expected.length);
        expect(hyp).toHaveLength(expected.length);
        expected.forEach((i, j) => {
          const want = {
            label: data.columns.label[i],
            small: data.columns.small[i],
            steady: data.columns.steady[i],
            wild: data.columns.wild[i],
            maybe:
              data.columns.maybe[i] === null
                ? null
                : typeof data.columns.maybe[i] === 'bigint'
                  ? data.columns.maybe[i]
                  : BigInt(data.columns.maybe[i] as number),
            qty: Number.isNaN(data.columns.qty[i]) ? null : data.columns.qty[i],
            px: Number.isNaN(data.columns.px[i]) ? null : data.columns.px[i],
          };
          for (const [name, reader] of [
            ['duckdb', duck[j]],
            ['hyparquet', hyp[j]],
          ] as const) {
            const row = reader as Record<string, unknown>;
            expect(row.label, `${name} label row ${i}`).toBe(want.label);
            expect(asNumberOrNull(row.small), `${name} small row ${i}`).toBe(want.small);
            expect(row.steady, `${name} steady row ${i}`).toBe(want.steady);
            expect(row.wild, `${name} wild row ${i}`).toBe(want.wild);
            expect(row.maybe, `${name} maybe row ${i}`).toBe(want.maybe);
            expect(row.qty, `${name} qty row ${i}`).toBe(want.qty);
            expect(row.px, `${name} px row ${i}`).toBe(want.px);
          }
        });
        // The choices the encoder made, read from the file's own metadata.
        const chunk = (col: string) =>
          meta.row_groups[0].columns.find((c) => c.meta_data!.path_in_schema[0] === col)!.meta_data!;
        expect(chunk('steady').encodings).toContain('DELTA_BINARY_PACKED');
        expect(chunk('qty').encodings).toContain('RLE_DICTIONARY');
        expect(chunk('px').encodings).not.toContain('RLE_DICTIONARY');
      }
      expect(seen).toBe(N);
      // The wild column's row group holding the int64 extremes fell back to PLAIN.
      const extremes = parquetMetadata(
        (
          await prepared.encode(
            prepared.partitions.findIndex((p) => p.dt === '2026-11-19' && p.symbol === 'NQ'),
          )
        ).bytes.buffer as ArrayBuffer,
      );
      const wildEncodings = extremes.row_groups.map(
        (g) => g.columns.find((c) => c.meta_data!.path_in_schema[0] === 'wild')!.meta_data!.encodings,
      );
      expect(wildEncodings.some((e) => !e.includes('DELTA_BINARY_PACKED'))).toBe(true);
      expect(wildEncodings.some((e) => e.includes('DELTA_BINARY_PACKED'))).toBe(true);
    } finally {
      db.close();
    }
  });

  it('delta-encodes edge cases (none, one, negative steps, 2^31 crossings) and refuses what it cannot', async () => {
    const words = (values: bigint[]) => new Int32Array(BigInt64Array.from(values).buffer);
    expect(deltaBinaryPacked(words([]), 0)).toBeDefined();
    expect(deltaBinaryPacked(words([5n]), 1)).toBeDefined();
    expect(deltaBinaryPacked(words([0n, I64_MAX]), 2)).toBeUndefined(); // delta beyond 2^52
    expect(deltaBinaryPacked(words([0n, 2n ** 40n, 0n]), 3)).toBeUndefined(); // miniblock needs > 32 bits
    // Round trip through DuckDB: an INT64 column written only by the delta encoder.
    const cases: bigint[][] = [
      [],
      [42n],
      [2n ** 31n - 2n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 31n + 1n, 2n ** 32n + 7n, -5n, -(2n ** 31n) - 3n],
      Array.from({ length: 1_000 }, (_, i) => BigInt((i * 7919) % 1000) - 500n), // 8 blocks, last partial
      Array.from({ length: 129 }, (_, i) => I64_MIN + BigInt(i) * 3n), // near the int64 floor
    ];
    const table: TableDef = { ...SHAPES, columns: [{ name: 'v', type: 'BIGINT' }] };
    const db = await openDuckDb();
    try {
      for (const [c, values] of cases.entries()) {
        const n = values.length;
        const prepared = prepareAppend(
          table,
          {
            v: BigInt64Array.from(values),
            dt: new Array(n).fill('2026-01-02'),
            symbol: new Array(n).fill('X'),
          },
          n,
        );
        if (n === 0) {
          expect(prepared!.partitions).toEqual([]);
          continue;
        }
        const file = path.join(dir, `delta-${c}.parquet`);
        writeFileSync(file, (await prepared!.encode(0)).bytes);
        const got = (
          await db.con.runAndReadAll(
            `SELECT v FROM read_parquet('${file}', file_row_number = true) ORDER BY file_row_number`,
          )
        ).getRowObjectsJS();
        expect(
          got.map((r) => r.v),
          `case ${c}`,
        ).toEqual(values);
      }
    } finally {
      db.close();
    }
  });

  it('hands values it cannot encode to the DuckDB path instead of guessing', () => {
    const data = shapes();
    const withString = { ...data.columns, px: Array.from(data.columns.px, (v, i) => (i === 9 ? 'abc' : v)) };
    expect(prepareAppend(SHAPES, withString, N)).toBeUndefined();
    const badDate = { ...data.columns, dt: data.columns.dt.map((d, i) => (i === 3 ? '2026-02-30' : d)) };
    expect(prepareAppend(SHAPES, badDate, N)).toBeUndefined();
    const unsafeNumber = {
      ...data.columns,
      maybe: data.columns.maybe.map((v, i) => (i === 1 ? 2 ** 60 : v)),
    };
    expect(prepareAppend(SHAPES, unsafeNumber, N)).toBeUndefined();
    const fractional = { ...data.columns, small: data.columns.small.map((v, i) => (i === 2 ? 1.5 : v)) };
    expect(prepareAppend(SHAPES, fractional, N)).toBeUndefined();
  });
});

describe('writeTable append through the local S3 server', () => {
  let dataDir: string;
  let cloud: LocalCloud;
  let clients: AwsClients;
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'lake-append-s3-'));
    cloud = await LocalCloud.start({ dataDir });
    clients = createClients(cloud.runtime);
  });
  afterAll(async () => {
    clients?.destroy();
    await cloud?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const ticks = (n: number) => ({
    length: n,
    columns: {
      venue: new Array<string>(n).fill('XCME'),
      type: new Array<string>(n).fill('trade'),
      exchange_ts: BigInt64Array.from({ length: n }, (_, i) => 1_700_000_000_000_000_000n + BigInt(i)),
      receive_ts: BigInt64Array.from({ length: n }, (_, i) => 1_700_000_000_000_025_000n + BigInt(i)),
      seq: BigInt64Array.from({ length: n }, (_, i) => BigInt(i)),
      price: Float64Array.from({ length: n }, (_, i) => 100 + i),
      size: Float64Array.from({ length: n }, () => 1),
      bid: new Float64Array(n).fill(NaN),
      bid_size: new Float64Array(n).fill(NaN),
      ask: new Float64Array(n).fill(NaN),
      ask_size: new Float64Array(n).fill(NaN),
      dt: new Array<string>(n).fill('2026-11-20'),
      symbol: Array.from({ length: n }, (_, i) => (i === n - 1 ? 'ES/../../x' : 'ES')),
    },
  });

  it('rejects an unsafe partition value before any PUT: nothing of the batch is written', async () => {
    const writer = { clients, buckets: lakeBuckets(cloud.runtime), tmpDir: dataDir };
    const err = await writeTable(writer, TICKS, ticks(500), { mode: 'append', fileName: 'bad' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).field).toBe('ticks.symbol');
    const listed = await clients.s3.send(
      new (await import('@aws-sdk/client-s3')).ListObjectsV2Command({
        Bucket: lakeBuckets(cloud.runtime).raw,
        Prefix: 'ticks/',
      }),
    );
    expect(listed.KeyCount ?? 0).toBe(0);
  });

  it('a wrong type in an append batch is refused with the column and row, and nothing is written', async () => {
    const writer = { clients, buckets: lakeBuckets(cloud.runtime), tmpDir: dataDir };
    const data = ticks(10);
    const columns = {
      ...data.columns,
      symbol: new Array<string>(10).fill('ES'),
      price: Array.from(data.columns.price, (v, i) => (i === 4 ? 'abc' : v)),
    };
    const err = await writeTable(
      writer,
      TICKS,
      { length: 10, columns },
      { mode: 'append', fileName: 'bad' },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).field).toBe('ticks.price');
    expect((err as Error).message).toBe('ticks.price: row 4: expected DOUBLE, got "abc"');
  });
});
