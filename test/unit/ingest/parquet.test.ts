import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TickColumns } from '../../../src/ingest/parquet';
import { PARQUET_DECOMPRESSORS } from '../../../src/lake/parquet-read';
import { literal, openDuckDb } from '../../../src/lake/duckdb';
import { toTickRow, type MarketEvent } from '../../../src/market-data';

const T0 = 1_767_571_200_000_000_000n; // 2026-01-05
const base = (i: number) => ({
  symbol: 'PQT',
  venue: i % 5 === 0 ? 'XNAS' : 'XNYS',
  // Above 2^32 to exercise the high word.
  seq: 5_000_000_000 + i,
  exchangeTs: T0 + BigInt(i) * 1_000_003n,
  receiveTs: T0 + BigInt(i) * 1_000_003n + 777n,
});
// Every kind of row: trades, quotes, book updates on both sides (nulls in different columns).
const events: MarketEvent[] = Array.from({ length: 2500 }, (_, i): MarketEvent => {
  switch (i % 4) {
    case 0:
      return { type: 'trade', ...base(i), price: 100 + i / 8, size: 1 + (i % 9) };
    case 1:
      return { type: 'quote', ...base(i), bid: 99.5, bidSize: i, ask: 100.25, askSize: 0 };
    case 2:
      return { type: 'book', ...base(i), side: 'bid', action: 'change', level: 2, price: 99, size: 7 };
    default:
      return { type: 'book', ...base(i), side: 'ask', action: 'delete', level: 1, price: 101, size: 0 };
  }
});
const expected = events.map((e) => {
  const { symbol: _symbol, ...row } = toTickRow(e);
  return { ...row, seq: BigInt(row.seq) };
});

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ingest-parquet-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function encode(): Promise<Uint8Array> {
  const cols = new TickColumns(4); // grows many times
  for (const e of events) cols.push(e);
  expect(cols.length).toBe(events.length);
  return cols.toParquet();
}

describe('TickColumns.toParquet (the consumer file writer)', () => {
  let bytes: Uint8Array;
  beforeAll(async () => {
    bytes = await encode();
  });

  it('is read back exactly by hyparquet, nulls where a column does not apply', async () => {
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const rows = await parquetReadObjects({ file, compressors: PARQUET_DECOMPRESSORS });
    expect(rows).toEqual(expected);
    const meta = parquetMetadata(file);
    expect(meta.schema.map((s) => s.name)).toEqual([
      'schema',
      'venue',
      'type',
      'exchange_ts',
      'receive_ts',
      'seq',
      'price',
      'size',
      'bid',
      'bid_size',
      'ask',
      'ask_size',
    ]);
    expect(meta.row_groups[0].columns.every((c) => c.meta_data?.codec === 'GZIP')).toBe(true);
    // Min/max of the time column let readers skip files.
    const ts = meta.row_groups[0].columns[2].meta_data!.statistics!;
    expect([ts.min_value, ts.max_value]).toEqual([expected[0].exchange_ts, expected.at(-1)!.exchange_ts]);
  });

  it('is read back exactly by DuckDB, with the types of the ticks table', async () => {
    const file = path.join(dir, 'ticks.parquet');
    fs.writeFileSync(file, bytes);
    const db = await openDuckDb();
    try {
      const types = (
        await db.con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${literal(file)})`)
      ).getRowObjectsJS() as Array<{ column_name: string; column_type: string }>;
      expect(Object.fromEntries(types.map((t) => [t.column_name, t.column_type]))).toEqual({
        venue: 'VARCHAR',
        type: 'VARCHAR',
        exchange_ts: 'BIGINT',
        receive_ts: 'BIGINT',
        seq: 'BIGINT',
        price: 'DOUBLE',
        size: 'DOUBLE',
        bid: 'DOUBLE',
        bid_size: 'DOUBLE',
        ask: 'DOUBLE',
        ask_size: 'DOUBLE',
      });
      const rows = (
        await db.con.runAndReadAll(`SELECT * FROM read_parquet(${literal(file)}) ORDER BY seq`)
      ).getRowObjectsJS();
      expect(rows).toEqual(expected);
    } finally {
      db.close();
    }
  });

  it('toArrays gives the same rows column by column', () => {
    const cols = new TickColumns();
    for (const e of events.slice(0, 8)) cols.push(e);
    const a = cols.toArrays();
    expect(a.venue).toEqual(expected.slice(0, 8).map((r) => r.venue));
    expect(a.seq).toEqual(expected.slice(0, 8).map((r) => r.seq));
    expect(a.bid_size).toEqual(expected.slice(0, 8).map((r) => r.bid_size));
  });
});
