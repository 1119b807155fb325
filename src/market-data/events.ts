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

/**
 * What an order event did to the market-by-order book: the change made to the book, which is not
 * always the exchange's action (an Update of an OrderID not in the book inserts it: 'add'; a New for
 * an OrderID already in it replaces it: 'modify'). Applying the events in order reproduces the book.
 */
export type OrderAction = 'add' | 'modify' | 'delete' | 'clear';

/**
 * Where the change came from: an incremental order entry (46/47/43, also when replayed after a
 * snapshot), a full order-book snapshot (53/44: 'clear' then its orders as 'add'), a top-orders
 * restatement (59, MBOLD: 'clear' then the top orders as 'add'), or a ChannelReset ('clear').
 */
export type OrderEventSource = 'incremental' | 'snapshot' | 'topOrders' | 'channelReset';

interface OrderEventBase extends EventBase {
  readonly type: 'order';
  readonly source: OrderEventSource;
  /** Exchange instrument id (CME SecurityID). */
  readonly securityId: number;
  /**
   * MsgSeqNum of the incremental packet that carried the change; for snapshot adds (and their
   * 'clear') the snapshot's LastMsgSeqNumProcessed. 0 when unknown.
   */
  readonly packetSeq: number;
}

/** One order added, modified or deleted (market by order). */
export interface OrderChangeEvent extends OrderEventBase {
  readonly action: 'add' | 'modify' | 'delete';
  /** Exchange order id (a uint64), as a decimal string. */
  readonly orderId: string;
  readonly side: BookSide;
  /** 'add' and 'modify': the order as it now rests; 'delete': as it rested when removed. */
  readonly price: number;
  /** Displayed quantity. */
  readonly qty: number;
  /**
   * Queue priority at its price (lower is earlier): a number when exact (|v| <= 2^53-1), else a
   * decimal string, as decoded integers are everywhere else; null when the exchange sent none.
   */
  readonly priority: number | string | null;
}

/** Every order of the instrument's book is gone (book reset, snapshot rebuild, ChannelReset). */
export interface OrderClearEvent extends OrderEventBase {
  readonly action: 'clear';
}

/**
 * Order-level (market-by-order) event. Deliberately not part of MarketEvent: the `ticks` table,
 * its Kinesis codec and the ingestion consumer know trades, quotes and book levels only, so order
 * events cannot reach them by accident (the type checker refuses them); a consumer of both
 * switches on `FeedEvent`.
 */
export type OrderEvent = OrderChangeEvent | OrderClearEvent;

/** Everything a feed handler can emit: the ticks-table events and order events. */
export type FeedEvent = MarketEvent | OrderEvent;

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
