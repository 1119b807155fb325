/**
 * Pure-JS Parquet encoding of tick rows (hyparquet-writer). Chosen for the consumer because it runs
 * unchanged in Lambda: DuckDB's native module would need a platform-specific (linux-arm64) binary
 * bundled next to the handler, which esbuild cannot do and which adds ~60 MB to the package.
 */
import { parquetWriteBuffer } from 'hyparquet-writer';
import { TICKS } from '../lake/tables';
import type { MarketEvent } from '../market-data/events';

/** Column buffers of one partition (partition columns dt and symbol live in the path, not the file). */
export class TickColumns {
  length = 0;
  private cap: number;
  venue: string[] = [];
  type: string[] = [];
  exchangeTs: BigInt64Array;
  receiveTs: BigInt64Array;
  seq: BigInt64Array;
  price: Array<number | null> = [];
  size: Array<number | null> = [];
  bid: Array<number | null> = [];
  bidSize: Array<number | null> = [];
  ask: Array<number | null> = [];
  askSize: Array<number | null> = [];

  constructor(capacity = 1024) {
    this.cap = capacity;
    this.exchangeTs = new BigInt64Array(capacity);
    this.receiveTs = new BigInt64Array(capacity);
    this.seq = new BigInt64Array(capacity);
  }

  private grow(): void {
    this.cap *= 2;
    const g = (a: BigInt64Array): BigInt64Array => {
      const b = new BigInt64Array(this.cap);
      b.set(a);
      return b;
    };
    this.exchangeTs = g(this.exchangeTs);
    this.receiveTs = g(this.receiveTs);
    this.seq = g(this.seq);
  }

  push(e: MarketEvent): void {
    if (this.length === this.cap) this.grow();
    const i = this.length++;
    this.venue.push(e.venue);
    this.type.push(e.type);
    this.exchangeTs[i] = e.exchangeTs;
    this.receiveTs[i] = e.receiveTs;
    this.seq[i] = BigInt(e.seq);
    switch (e.type) {
      case 'trade':
        this.price.push(e.price);
        this.size.push(e.size);
        this.bid.push(null);
        this.bidSize.push(null);
        this.ask.push(null);
        this.askSize.push(null);
        break;
      case 'quote':
        this.price.push(null);
        this.size.push(null);
        this.bid.push(e.bid);
        this.bidSize.push(e.bidSize);
        this.ask.push(e.ask);
        this.askSize.push(e.askSize);
        break;
      case 'book': {
        const bid = e.side === 'bid';
        this.price.push(null);
        this.size.push(null);
        this.bid.push(bid ? e.price : null);
        this.bidSize.push(bid ? e.size : null);
        this.ask.push(bid ? null : e.price);
        this.askSize.push(bid ? null : e.size);
        break;
      }
    }
  }

  /** Encodes the rows as one Parquet file with the ticks table's columns (snappy, one row group). */
  toParquet(): Uint8Array {
    const n = this.length;
    const data: Record<string, ArrayLike<unknown>> = {
      venue: this.venue,
      type: this.type,
      exchange_ts: this.exchangeTs.subarray(0, n),
      receive_ts: this.receiveTs.subarray(0, n),
      seq: this.seq.subarray(0, n),
      price: this.price,
      size: this.size,
      bid: this.bid,
      bid_size: this.bidSize,
      ask: this.ask,
      ask_size: this.askSize,
    };
    const buf = parquetWriteBuffer({
      columnData: TICKS.columns.map((c) => ({
        name: c.name,
        data: data[c.name] as never,
        type: c.type === 'VARCHAR' ? 'STRING' : c.type === 'BIGINT' ? 'INT64' : 'DOUBLE',
        // Identity and time columns are never null; only the side-specific price columns are.
        nullable: !(c.type === 'VARCHAR' || c.type === 'BIGINT'),
      })),
      rowGroupSize: Math.max(n, 1),
      createdBy: 'quant-platform ingest',
    });
    return new Uint8Array(buf);
  }
}
