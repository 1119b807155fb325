/**
 * Parquet encoding of tick rows for the consumer, in pure JS (it runs unchanged in Lambda: DuckDB's
 * native module would need a linux-arm64 binary bundled next to the handler, ~60 MB).
 *
 * The schema is fixed (the lake's `ticks` columns minus the partition columns dt and symbol), so rows
 * are appended straight into typed column buffers, and the file is written by the lake's append
 * encoder (`src/lake/parquet-append.ts`: delta-encoded INT64s with min/max statistics,
 * dictionary-encoded strings and low-cardinality doubles, GZIP on the thread pool), the same
 * encoder as `quant lake import`'s appends, so every ticks file in the lake has one layout.
 */
import { encodeColumns, type TypedColumn } from '../lake/parquet-append';
import { TICKS } from '../contract/lake';
import type { MarketEvent, TickType } from '../market-data/events';

const TYPES: readonly TickType[] = ['trade', 'quote', 'book'];
const TYPE_CODE: Readonly<Record<TickType, number>> = { trade: 0, quote: 1, book: 2 };

const DOUBLE_COLUMNS = ['price', 'size', 'bid', 'bid_size', 'ask', 'ask_size'] as const;
type DoubleColumn = (typeof DOUBLE_COLUMNS)[number];

/** Column buffers of one partition (partition columns dt and symbol live in the path, not the file). */
export class TickColumns {
  length = 0;
  private cap: number;
  /** Venue per row, as an index into `venues`. */
  private venueIdx: Int32Array;
  private readonly venues: string[] = [];
  private readonly venueIndex = new Map<string, number>();
  /** Type per row: 0 trade, 1 quote, 2 book. */
  private typeCode: Int32Array;
  private exchangeTs: BigInt64Array;
  private receiveTs: BigInt64Array;
  /** seq as two little-endian 32-bit halves per row (no BigInt per row). */
  private seqWords: Uint32Array;
  /** The nullable DOUBLE columns, one value per row (NaN: the column does not apply to the row). */
  private doubles: Record<DoubleColumn, Float64Array>;

  constructor(capacity = 1024) {
    this.cap = capacity;
    this.venueIdx = new Int32Array(capacity);
    this.typeCode = new Int32Array(capacity);
    this.exchangeTs = new BigInt64Array(capacity);
    this.receiveTs = new BigInt64Array(capacity);
    this.seqWords = new Uint32Array(capacity * 2);
    this.doubles = Object.fromEntries(DOUBLE_COLUMNS.map((c) => [c, new Float64Array(capacity)])) as Record<
      DoubleColumn,
      Float64Array
    >;
  }

  private grow(): void {
    const n = (this.cap *= 2);
    const g = <T extends Int32Array | Uint32Array | BigInt64Array | Float64Array>(a: T, b: T): T => {
      b.set(a as never);
      return b;
    };
    this.venueIdx = g(this.venueIdx, new Int32Array(n));
    this.typeCode = g(this.typeCode, new Int32Array(n));
    this.exchangeTs = g(this.exchangeTs, new BigInt64Array(n));
    this.receiveTs = g(this.receiveTs, new BigInt64Array(n));
    this.seqWords = g(this.seqWords, new Uint32Array(n * 2));
    for (const c of DOUBLE_COLUMNS) this.doubles[c] = g(this.doubles[c], new Float64Array(n));
  }

  /** Appends one event (read only: the consumer passes a reused decode buffer). */
  push(e: MarketEvent): void {
    if (this.length === this.cap) this.grow();
    const i = this.length++;
    let v = this.venueIndex.get(e.venue);
    if (v === undefined) {
      v = this.venues.length;
      this.venues.push(e.venue);
      this.venueIndex.set(e.venue, v);
    }
    this.venueIdx[i] = v;
    this.typeCode[i] = TYPE_CODE[e.type];
    this.exchangeTs[i] = e.exchangeTs;
    this.receiveTs[i] = e.receiveTs;
    this.seqWords[2 * i] = e.seq >>> 0;
    this.seqWords[2 * i + 1] = Math.floor(e.seq / 4294967296);
    const d = this.doubles;
    let price = NaN;
    let size = NaN;
    let bid = NaN;
    let bidSize = NaN;
    let ask = NaN;
    let askSize = NaN;
    switch (e.type) {
      case 'trade':
        price = e.price;
        size = e.size;
        break;
      case 'quote':
        bid = e.bid;
        bidSize = e.bidSize;
        ask = e.ask;
        askSize = e.askSize;
        break;
      case 'book':
        // A book update maps its level to the side's columns (see toTickRow).
        if (e.side === 'bid') {
          bid = e.price;
          bidSize = e.size;
        } else {
          ask = e.price;
          askSize = e.size;
        }
        break;
    }
    d.price[i] = price;
    d.size[i] = size;
    d.bid[i] = bid;
    d.bid_size[i] = bidSize;
    d.ask[i] = ask;
    d.ask_size[i] = askSize;
  }

  /** The rows as plain arrays, one per column (nulls where a column does not apply); for tests and peers. */
  toArrays(): {
    venue: string[];
    type: TickType[];
    exchange_ts: bigint[];
    receive_ts: bigint[];
    seq: bigint[];
  } & Record<DoubleColumn, Array<number | null>> {
    const n = this.length;
    const nullable = (c: DoubleColumn) =>
      Array.from(this.doubles[c].subarray(0, n), (x) => (x === x ? x : null));
    return {
      venue: Array.from(this.venueIdx.subarray(0, n), (v) => this.venues[v]),
      type: Array.from(this.typeCode.subarray(0, n), (t) => TYPES[t]),
      exchange_ts: Array.from(this.exchangeTs.subarray(0, n)),
      receive_ts: Array.from(this.receiveTs.subarray(0, n)),
      seq: Array.from(new BigUint64Array(this.seqWords.buffer, 0, n)),
      price: nullable('price'),
      size: nullable('size'),
      bid: nullable('bid'),
      bid_size: nullable('bid_size'),
      ask: nullable('ask'),
      ask_size: nullable('ask_size'),
    };
  }

  /** Encodes the rows, in arrival order, as one Parquet file with the ticks table's columns. */
  toParquet(): Promise<Uint8Array> {
    const n = this.length;
    const int64 = (a: BigInt64Array | Uint32Array): TypedColumn => ({
      kind: 'INT64',
      words: new Int32Array(a.buffer, a.byteOffset, n * 2),
    });
    const byName: Record<string, TypedColumn> = {
      venue: { kind: 'DICT', codes: this.venueIdx.subarray(0, n), dict: this.venues },
      type: { kind: 'DICT', codes: this.typeCode.subarray(0, n), dict: TYPES },
      exchange_ts: int64(this.exchangeTs),
      receive_ts: int64(this.receiveTs),
      seq: int64(this.seqWords),
      ...Object.fromEntries(
        DOUBLE_COLUMNS.map((c): [string, TypedColumn] => [c, { kind: 'DOUBLE', values: this.doubles[c] }]),
      ),
    };
    const names = TICKS.columns.map((c) => c.name);
    const rows = new Int32Array(n);
    for (let i = 0; i < n; i++) rows[i] = i;
    return encodeColumns(
      names,
      names.map((c) => byName[c]),
      rows,
    );
  }
}
