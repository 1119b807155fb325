/**
 * Helpers for the order-event and top-orders tests: real v13 SBE messages in real MDP packets,
 * decoded by the feed path (decodePacketMessages) before the order books see them.
 */
import { decodePacketMessages, newDecodeStats } from '../../../src/feed/decode';
import { OrderBookBuilder, type OrderBookBuilderOptions, type TopOfBook } from '../../../src/feed/order-book';
import { buildPacket } from '../../../src/feed/packet';
import type { OrderEvent } from '../../../src/market-data/events';
import { SbeCodec } from '../../../src/sbe/codec';
import { loadSchema } from '../../../src/sbe/schema';
import { randomBody, rng, SCHEMA } from './helpers';

export const codec = new SbeCodec(loadSchema(SCHEMA));

export interface O {
  id: bigint;
  prio?: bigint | null;
  px: string;
  qty: number | null;
  side?: 'Bid' | 'Offer' | 'ImpliedBid' | 'BookReset';
  action?: 'New' | 'Change' | 'Delete';
  sec?: number;
}

/** MDIncrementalRefreshOrderBook47: one entry per order (SecurityID 7 unless given). */
export function ob47(orders: O[], tx = 1n, end = true): Buffer {
  return codec.encode('MDIncrementalRefreshOrderBook47', {
    TransactTime: tx,
    MatchEventIndicator: end ? ['EndOfEvent'] : [],
    NoMDEntries: orders.map((o) => ({
      OrderID: o.id,
      MDOrderPriority: o.prio === undefined ? o.id : o.prio,
      MDEntryPx: o.px,
      MDDisplayQty: o.qty,
      SecurityID: o.sec ?? 7,
      MDUpdateAction: o.action ?? 'New',
      MDEntryType: o.side ?? 'Bid',
    })),
  });
}

/** SnapshotFullRefreshOrderBook53, one chunk of `chunks`. */
export function snapshot53(
  sec: number,
  lastSeq: number,
  chunk: number,
  chunks: number,
  orders: O[],
  tx = 5n,
  tot = 1,
): Buffer {
  return codec.encode('SnapshotFullRefreshOrderBook53', {
    LastMsgSeqNumProcessed: lastSeq,
    TotNumReports: tot,
    SecurityID: sec,
    NoChunks: chunks,
    CurrentChunk: chunk,
    TransactTime: tx,
    NoMDEntries: orders.map((o) => ({
      OrderID: o.id,
      MDOrderPriority: o.prio === undefined ? o.id : o.prio,
      MDEntryPx: o.px,
      MDDisplayQty: o.qty,
      MDEntryType: o.side ?? 'Bid',
    })),
  });
}

/** SnapshotRefreshTopOrders59: the instrument's MBOLD book, entries in the given (sent) order. */
export function top59(sec: number, orders: O[], tx = 9n, end = true): Buffer {
  return codec.encode('SnapshotRefreshTopOrders59', {
    TransactTime: tx,
    MatchEventIndicator: end ? ['EndOfEvent'] : [],
    SecurityID: sec,
    NoMDEntries: orders.map((o) => ({
      OrderID: o.id,
      MDOrderPriority: o.prio === undefined || o.prio === null ? o.id : o.prio,
      MDEntryPx: o.px,
      MDDisplayQty: o.qty,
      MDEntryType: o.side ?? 'Bid',
    })),
  });
}

export function channelReset4(tx = 3n): Buffer {
  return codec.encode('ChannelReset4', {
    TransactTime: tx,
    MatchEventIndicator: ['EndOfEvent'],
    NoMDEntries: [{ MDUpdateAction: 'New', MDEntryType: 'ChannelReset', ApplID: 310 }],
  });
}

/** A valid MDInstrumentDefinitionFuture54 (random filler) with the given SecurityID and Symbol. */
export function definition54(id: number, symbol: string): Buffer {
  const def = codec.schema.messagesByName.get('MDInstrumentDefinitionFuture54')!;
  return codec.encode(54, { ...randomBody(def, 13, rng(id)), SecurityID: id, Symbol: symbol });
}

/** An order book builder fed through real packets, recording its order events and tops. */
export class Feed {
  readonly events: OrderEvent[] = [];
  readonly tops: Array<{ id: number; top: TopOfBook }> = [];
  readonly stats = newDecodeStats();
  readonly books: OrderBookBuilder;

  constructor(opts: OrderBookBuilderOptions = {}, withEvents = true) {
    this.books = new OrderBookBuilder({
      receiveTs: () => 42n,
      onOrder: withEvents ? (e) => this.events.push(e) : undefined,
      onTop: (id, top) => this.tops.push({ id, top }),
      ...opts,
    });
  }

  /** One incremental packet. */
  send(seq: number, ...messages: Buffer[]): void {
    this.sendRaw(seq, buildPacket(seq, 1n, messages));
  }

  sendRaw(seq: number, pkt: Buffer): void {
    for (const m of decodePacketMessages(codec, pkt, this.stats)) this.books.onMessage(m, seq);
  }

  /** One packet of the recovery (snapshot) feed. */
  snapshot(...messages: Buffer[]): void {
    for (const m of decodePacketMessages(codec, buildPacket(1, 1n, messages), this.stats))
      this.books.onSnapshot(m);
  }

  /** The events recorded since the last call, briefly (see `brief`). */
  take(): string[] {
    return this.events.splice(0).map(brief);
  }
}

/** `add 7 #11 bid 100.25x5 p300 incremental@3` or `clear 7 snapshot@10`. */
export function brief(e: OrderEvent): string {
  if (e.action === 'clear') return `clear ${e.securityId} ${e.source}@${e.packetSeq}`;
  return `${e.action} ${e.securityId} #${e.orderId} ${e.side} ${e.price}x${e.qty} p${e.priority} ${e.source}@${e.packetSeq}`;
}

/** Orders of a side as [orderId, price, qty] in book order (best price, then priority). */
export function side(b: OrderBookBuilder, s: 'bids' | 'asks', id = 7): Array<[bigint, number, number]> {
  return (b.book(id)?.[s] ?? []).flatMap((l) =>
    l.orders.map((o) => [o.orderId, o.price, o.qty] as [bigint, number, number]),
  );
}
