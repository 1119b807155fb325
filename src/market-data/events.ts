/**
 * Normalized market-data events. Every feed handler and vendor adapter emits these; the ingestion
 * pipeline carries them to the lake's `ticks` table unchanged. Timestamps are nanoseconds since the
 * Unix epoch (bigint: a double loses precision past 2^53 ns, i.e. after 1970-04-15).
 */

export type TickType = 'trade' | 'quote' | 'book';

interface EventBase {
  /** Instrument symbol, e.g. `ESZ6` or `AAPL`. */
  readonly symbol: string;
  /** Venue / market identifier code, e.g. `XCME`. */
  readonly venue: string;
  /** Venue sequence number; strictly increasing per (symbol, venue). */
  readonly seq: number;
  /** Exchange (matching engine) timestamp, ns since epoch. */
  readonly exchangeTs: bigint;
  /** Local receive timestamp, ns since epoch. */
  readonly receiveTs: bigint;
}

export interface TradeEvent extends EventBase {
  readonly type: 'trade';
  readonly price: number;
  readonly size: number;
}

/** Top of book. */
export interface QuoteEvent extends EventBase {
  readonly type: 'quote';
  readonly bid: number;
  readonly bidSize: number;
  readonly ask: number;
  readonly askSize: number;
}

export type BookSide = 'bid' | 'ask';
export type BookAction = 'new' | 'change' | 'delete';

/** One price level of the order book changed (market by price). */
export interface BookUpdateEvent extends EventBase {
  readonly type: 'book';
  readonly side: BookSide;
  readonly action: BookAction;
  /** Book level, 1 = best. */
  readonly level: number;
  readonly price: number;
  /** Size at the level after the update (0 for delete). */
  readonly size: number;
}

export type MarketEvent = TradeEvent | QuoteEvent | BookUpdateEvent;

export type BarInterval = '1m' | '1d';

/** OHLCV bar, labelled by its close time (UTC), as in the lake's `bars` table. */
export interface Bar {
  readonly symbol: string;
  readonly interval: BarInterval;
  /** Bar close time (exclusive end of the interval), ns since epoch. */
  readonly ts: bigint;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  /** Volume-weighted average trade price. */
  readonly vwap: number;
  /** Number of trades. */
  readonly trades: number;
}

export const BAR_INTERVAL_NS: Readonly<Record<BarInterval, bigint>> = {
  '1m': 60_000_000_000n,
  '1d': 86_400_000_000_000n,
};

/**
 * One row of the lake's `ticks` table (snake_case, nulls where a field does not apply).
 * A book update maps its level to the side's columns (bid/bid_size or ask/ask_size).
 */
export interface TickRow {
  symbol: string;
  venue: string;
  type: TickType;
  exchange_ts: bigint;
  receive_ts: bigint;
  seq: number;
  price: number | null;
  size: number | null;
  bid: number | null;
  bid_size: number | null;
  ask: number | null;
  ask_size: number | null;
}

export function toTickRow(e: MarketEvent): TickRow {
  const base = {
    symbol: e.symbol,
    venue: e.venue,
    type: e.type,
    exchange_ts: e.exchangeTs,
    receive_ts: e.receiveTs,
    seq: e.seq,
  };
  switch (e.type) {
    case 'trade':
      return { ...base, price: e.price, size: e.size, bid: null, bid_size: null, ask: null, ask_size: null };
    case 'quote':
      return {
        ...base,
        price: null,
        size: null,
        bid: e.bid,
        bid_size: e.bidSize,
        ask: e.ask,
        ask_size: e.askSize,
      };
    case 'book':
      return e.side === 'bid'
        ? { ...base, price: null, size: null, bid: e.price, bid_size: e.size, ask: null, ask_size: null }
        : { ...base, price: null, size: null, bid: null, bid_size: null, ask: e.price, ask_size: e.size };
  }
}
