import { describe, expect, it } from 'vitest';
import { OrderBookBuilder, priceKey, type TopOfBook } from '../../../src/feed/order-book';
import { SbeCodec, type DecodedMessage } from '../../../src/sbe/codec';
import { Decimal } from '../../../src/sbe/decimal';
import { loadSchema } from '../../../src/sbe/schema';
import { SCHEMA } from './helpers';

// CME's version 9 templates (43, 44: price exponent -7) are in test/conformance/feed/order-book-v9.test.ts.
const codec = new SbeCodec(loadSchema(SCHEMA));

/** Encoded with the real codec and decoded again: the builder sees exactly what the feed path gives it. */
function msg(name: string, body: Record<string, unknown>, c = codec): DecodedMessage {
  const buf = c.encode(name, body);
  return c.decode(buf, 0, buf.length);
}

interface O {
  id: bigint;
  prio?: bigint | null;
  px: string;
  qty: number | null;
  side?: 'Bid' | 'Offer' | 'ImpliedBid' | 'BookReset';
  action?: 'New' | 'Change' | 'Delete';
  sec?: number;
}

/** MDIncrementalRefreshOrderBook47: one entry per order. */
function ob47(orders: O[], end = true): DecodedMessage {
  return msg('MDIncrementalRefreshOrderBook47', {
    TransactTime: 1n,
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

/** Orders of a side as [orderId, price, qty] in book order (best price, then priority). */
function side(b: OrderBookBuilder, s: 'bids' | 'asks', id = 7): Array<[bigint, number, number]> {
  return (b.book(id)?.[s] ?? []).flatMap((l) =>
    l.orders.map((o) => [o.orderId, o.price, o.qty] as [bigint, number, number]),
  );
}

function snapshot53(
  sec: number,
  lastSeq: number,
  chunk: number,
  chunks: number,
  orders: O[],
  tot = 1,
): DecodedMessage {
  return msg('SnapshotFullRefreshOrderBook53', {
    LastMsgSeqNumProcessed: lastSeq,
    TotNumReports: tot,
    SecurityID: sec,
    NoChunks: chunks,
    CurrentChunk: chunk,
    TransactTime: 5n,
    NoMDEntries: orders.map((o) => ({
      OrderID: o.id,
      MDOrderPriority: o.prio === undefined ? o.id : o.prio,
      MDEntryPx: o.px,
      MDDisplayQty: o.qty,
      MDEntryType: o.side ?? 'Bid',
    })),
  });
}

describe('market-by-order books', () => {
  it('adds orders by price (bids descending, asks ascending) and by MDOrderPriority within a price', () => {
    const b = new OrderBookBuilder();
    b.onMessage(
      ob47([
        { id: 10n, prio: 300n, px: '100.25', qty: 5 },
        { id: 11n, prio: 100n, px: '100.25', qty: 7 },
        { id: 12n, prio: 50n, px: '100', qty: 1 },
        { id: 13n, prio: 200n, px: '100.5', qty: 2 },
        { id: 20n, prio: 9n, px: '101', qty: 3, side: 'Offer' },
        { id: 21n, prio: 8n, px: '100.75', qty: 4, side: 'Offer' },
      ]),
      1,
    );
    expect(side(b, 'bids')).toEqual([
      [13n, 100.5, 2],
      [11n, 100.25, 7], // lower priority value first, though it arrived second
      [10n, 100.25, 5],
      [12n, 100, 1],
    ]);
    expect(side(b, 'asks')).toEqual([
      [21n, 100.75, 4],
      [20n, 101, 3],
    ]);
    expect(b.top(7)).toEqual({
      bid: { price: 100.5, size: 2, orders: 1 },
      ask: { price: 100.75, size: 4, orders: 1 },
    });
    expect(b.levels(7, 'bid')).toEqual([
      { price: 100.5, size: 2, orders: 1 },
      { price: 100.25, size: 12, orders: 2 },
      { price: 100, size: 1, orders: 1 },
    ]);
    expect(b.stats).toMatchObject({ added: 6, rejectedEntries: 0 });
  });

  it('Update re-positions by the new priority (a size increase loses priority), moves price, Delete removes', () => {
    const b = new OrderBookBuilder();
    b.onMessage(
      ob47([
        { id: 1n, prio: 10n, px: '50', qty: 5 },
        { id: 2n, prio: 20n, px: '50', qty: 5 },
        { id: 3n, prio: 30n, px: '49', qty: 5 },
      ]),
      1,
    );
    // Decrease keeps priority 10: still first.
    b.onMessage(ob47([{ id: 1n, prio: 10n, px: '50', qty: 2, action: 'Change' }]), 2);
    expect(side(b, 'bids')).toEqual([
      [1n, 50, 2],
      [2n, 50, 5],
      [3n, 49, 5],
    ]);
    // Increase arrives with a new, later priority: behind order 2.
    b.onMessage(ob47([{ id: 1n, prio: 40n, px: '50', qty: 9, action: 'Change' }]), 3);
    expect(side(b, 'bids')).toEqual([
      [2n, 50, 5],
      [1n, 50, 9],
      [3n, 49, 5],
    ]);
    // Price change: order 2 joins 49 and the 50 level keeps order 1 only.
    b.onMessage(ob47([{ id: 2n, prio: 41n, px: '49', qty: 5, action: 'Change' }]), 4);
    expect(side(b, 'bids')).toEqual([
      [1n, 50, 9],
      [3n, 49, 5],
      [2n, 49, 5],
    ]);
    b.onMessage(ob47([{ id: 1n, px: '50', qty: 9, action: 'Delete' }]), 5);
    expect(side(b, 'bids')).toEqual([
      [3n, 49, 5],
      [2n, 49, 5],
    ]);
    expect(b.book(7)!.orders.size).toBe(2);
    expect(b.top(7).bid).toEqual({ price: 49, size: 10, orders: 2 });
    expect(b.stats).toMatchObject({ added: 3, updated: 3, deleted: 1, unknownOrders: 0 });
  });

  it('MDIncrementalRefreshBook46 order entries take instrument, price and side from the entry ReferenceID points at (1-based)', () => {
    const b = new OrderBookBuilder();
    const m = msg('MDIncrementalRefreshBook46', {
      TransactTime: 1n,
      MatchEventIndicator: ['EndOfEvent'],
      NoMDEntries: [
        {
          MDEntryPx: '4275.25',
          MDEntrySize: 10,
          SecurityID: 1,
          RptSeq: 1,
          NumberOfOrders: 2,
          MDPriceLevel: 1,
          MDUpdateAction: 'New',
          MDEntryType: 'Bid',
          TradeableSize: null,
        },
        {
          MDEntryPx: '4276',
          MDEntrySize: 3,
          SecurityID: 2,
          RptSeq: 1,
          NumberOfOrders: 1,
          MDPriceLevel: 1,
          MDUpdateAction: 'New',
          MDEntryType: 'Offer',
          TradeableSize: null,
        },
      ],
      NoOrderIDEntries: [
        { OrderID: 900n, MDOrderPriority: 2n, MDDisplayQty: 4, ReferenceID: 1, OrderUpdateAction: 'New' },
        { OrderID: 901n, MDOrderPriority: 1n, MDDisplayQty: 6, ReferenceID: 1, OrderUpdateAction: 'New' },
        { OrderID: 902n, MDOrderPriority: 3n, MDDisplayQty: 3, ReferenceID: 2, OrderUpdateAction: 'New' },
        { OrderID: 903n, MDOrderPriority: 3n, MDDisplayQty: 3, ReferenceID: 3, OrderUpdateAction: 'New' }, // no entry 3
        { OrderID: 904n, MDOrderPriority: 3n, MDDisplayQty: 3, ReferenceID: null, OrderUpdateAction: 'New' },
      ],
    });
    b.onMessage(m, 1);
    expect(side(b, 'bids', 1)).toEqual([
      [901n, 4275.25, 6],
      [900n, 4275.25, 4],
    ]);
    expect(side(b, 'asks', 2)).toEqual([[902n, 4276, 3]]);
    expect(b.stats.rejectedEntries).toBe(2);
    // Update and Delete through 46 as well.
    const m2 = msg('MDIncrementalRefreshBook46', {
      TransactTime: 2n,
      MatchEventIndicator: ['EndOfEvent'],
      NoMDEntries: [
        {
          MDEntryPx: '4275.25',
          MDEntrySize: 4,
          SecurityID: 1,
          RptSeq: 2,
          NumberOfOrders: 1,
          MDPriceLevel: 1,
          MDUpdateAction: 'Change',
          MDEntryType: 'Bid',
          TradeableSize: null,
        },
      ],
      NoOrderIDEntries: [
        {
          OrderID: 901n,
          MDOrderPriority: null,
          MDDisplayQty: null,
          ReferenceID: 1,
          OrderUpdateAction: 'Delete',
        },
        { OrderID: 900n, MDOrderPriority: 2n, MDDisplayQty: 1, ReferenceID: 1, OrderUpdateAction: 'Update' },
      ],
    });
    b.onMessage(m2, 2);
    expect(side(b, 'bids', 1)).toEqual([[900n, 4275.25, 1]]);
  });

  it('exact prices: one level per price whatever the decimal spelling; 64-bit ids and priorities stay exact', () => {
    const b = new OrderBookBuilder();
    const big = 2n ** 63n + 12345n;
    b.onMessage(ob47([{ id: big, prio: 2n ** 60n, px: '0.1234567', qty: 1, side: 'Offer' }]), 1);
    b.onMessage(ob47([{ id: big + 1n, prio: 2n ** 60n - 1n, px: '0.123456700', qty: 2, side: 'Offer' }]), 2);
    expect(b.book(7)!.asks).toHaveLength(1);
    expect(side(b, 'asks')).toEqual([
      [big + 1n, 0.1234567, 2],
      [big, 0.1234567, 1],
    ]);
    expect(priceKey(new Decimal(1234567n, -7))).toBe(123456700n);
    expect(priceKey(new Decimal(5n, -10))).toBeNull(); // finer than 1e-9: not a level key
    expect(priceKey(123)).toBeNull();
  });

  it('bad input is counted, never thrown, and never changes the book', () => {
    const b = new OrderBookBuilder();
    b.onMessage(ob47([{ id: 1n, px: '10', qty: 5 }]), 1);
    const before = side(b, 'bids');
    b.onMessage(
      ob47([
        { id: 99n, px: '10', qty: 5, action: 'Delete' }, // unknown order
        { id: 2n, px: '10', qty: -1 }, // negative quantity
        { id: 3n, px: '10', qty: null }, // no quantity on a New
        { id: 4n, px: '10', qty: 1, side: 'ImpliedBid' }, // MBO has no implied orders
      ]),
      2,
    );
    b.onMessage(
      msg('MDIncrementalRefreshOrderBook47', {
        TransactTime: 1n,
        MatchEventIndicator: ['EndOfEvent'],
        NoMDEntries: [
          // null OrderID, null price
          {
            OrderID: null,
            MDOrderPriority: 1n,
            MDEntryPx: '10',
            MDDisplayQty: 1,
            SecurityID: 7,
            MDUpdateAction: 'New',
            MDEntryType: 'Bid',
          },
          {
            OrderID: 5n,
            MDOrderPriority: 1n,
            MDEntryPx: null,
            MDDisplayQty: 1,
            SecurityID: 7,
            MDUpdateAction: 'New',
            MDEntryType: 'Bid',
          },
          // DeleteFrom is not an order action
          {
            OrderID: 1n,
            MDOrderPriority: 1n,
            MDEntryPx: '10',
            MDDisplayQty: 1,
            SecurityID: 7,
            MDUpdateAction: 'DeleteFrom',
            MDEntryType: 'Bid',
          },
        ],
      }),
      3,
    );
    expect(side(b, 'bids')).toEqual(before);
    expect(b.stats).toMatchObject({ unknownOrders: 1, rejectedEntries: 6 });
    // Huge but valid values: the largest non-null Int32 quantity, uInt64 max priority, a price near the int64 limit.
    b.onMessage(
      ob47([{ id: 2n ** 64n - 2n, prio: 2n ** 64n - 2n, px: '9223372035.854775806', qty: 2 ** 31 - 2 }]),
      4,
    );
    expect(b.top(7).bid).toEqual({ price: 9223372035.854776, size: 2 ** 31 - 2, orders: 1 });
    expect(b.book(7)!.bids[0].px9).toBe(9223372035854775806n);
    // Hand-made bodies (not from the codec) with wrong types are rejected too.
    const forged: DecodedMessage = {
      templateId: 47,
      schemaId: 1,
      version: 13,
      blockLength: 11,
      size: 0,
      name: 'MDIncrementalRefreshOrderBook47',
      body: {
        NoMDEntries: [
          {
            OrderID: 8,
            MDEntryPx: 10,
            MDDisplayQty: 1.5,
            SecurityID: 7,
            MDUpdateAction: 'New',
            MDEntryType: 'Bid',
          },
          { SecurityID: 'x' },
        ],
      },
    };
    b.onMessage(forged, 5);
    expect(b.stats.rejectedEntries).toBe(8);
  });

  it('a duplicate New replaces the order; an Update of an unknown order inserts it (both counted)', () => {
    const b = new OrderBookBuilder();
    b.onMessage(ob47([{ id: 1n, px: '10', qty: 5 }]), 1);
    b.onMessage(ob47([{ id: 1n, px: '11', qty: 6 }]), 2);
    b.onMessage(ob47([{ id: 2n, px: '9', qty: 1, action: 'Change' }]), 3);
    expect(side(b, 'bids')).toEqual([
      [1n, 11, 6],
      [2n, 9, 1],
    ]);
    expect(b.stats).toMatchObject({ duplicateOrders: 1, unknownOrders: 1 });
  });

  it('BookReset clears the instrument; ChannelReset clears every order book', () => {
    const b = new OrderBookBuilder();
    b.onMessage(
      ob47([
        { id: 1n, px: '10', qty: 5 },
        { id: 2n, px: '10', qty: 5, sec: 8 },
      ]),
      1,
    );
    b.onMessage(ob47([{ id: 0n, px: '0', qty: 0, side: 'BookReset' }]), 2);
    expect(b.book(7)!.orders.size).toBe(0);
    expect(b.book(8)!.orders.size).toBe(1);
    b.onMessage(
      msg('ChannelReset4', {
        TransactTime: 3n,
        MatchEventIndicator: ['EndOfEvent'],
        NoMDEntries: [{ ApplID: 1 }],
      }),
      3,
    );
    expect(b.instruments()).toEqual([]);
    expect(b.stats.channelResets).toBe(1);
  });

  it('reports top-of-book changes at EndOfEvent only, once per change', () => {
    const tops: Array<[number, TopOfBook]> = [];
    const b = new OrderBookBuilder({ onTop: (id, top) => tops.push([id, top]) });
    b.onMessage(ob47([{ id: 1n, px: '10', qty: 5 }], false), 1);
    expect(tops).toEqual([]);
    b.onMessage(ob47([{ id: 2n, px: '11', qty: 1, side: 'Offer' }]), 1);
    expect(tops).toEqual([
      [7, { bid: { price: 10, size: 5, orders: 1 }, ask: { price: 11, size: 1, orders: 1 } }],
    ]);
    b.onMessage(ob47([{ id: 3n, px: '9', qty: 1 }]), 2); // below the touch: no change
    expect(tops).toHaveLength(1);
  });

  it('rebuilds a stale book from a chunked snapshot and replays the queued entries after LastMsgSeqNumProcessed', () => {
    const b = new OrderBookBuilder();
    b.onMessage(
      ob47([
        { id: 1n, px: '10', qty: 5 },
        { id: 2n, px: '12', qty: 5, side: 'Offer' },
      ]),
      1,
    );
    // Packets 2..4 lost on both feeds; recovery starts and packets after the gap are queued.
    b.markStale(4);
    expect(b.staleInstruments()).toEqual([7]);
    b.onMessage(ob47([{ id: 3n, prio: 3n, px: '10', qty: 1 }]), 5); // in the snapshot (LastMsgSeqNumProcessed 5)
    b.onMessage(ob47([{ id: 4n, prio: 4n, px: '10', qty: 2 }]), 6); // after it: replayed
    expect(b.stats.staleEntries).toBe(2);
    // A snapshot older than the gap cannot recover it.
    expect(b.onSnapshot(snapshot53(7, 3, 1, 1, []))).toBeNull();
    expect(b.stats.snapshotsTooOld).toBe(1);
    // Three chunks, bid and ask interleaved by priority.
    expect(
      b.onSnapshot(
        snapshot53(7, 5, 1, 3, [
          { id: 1n, prio: 1n, px: '10', qty: 4 },
          { id: 2n, prio: 2n, px: '12', qty: 5, side: 'Offer' },
        ]),
      ),
    ).toBeNull();
    expect(b.onSnapshot(snapshot53(7, 5, 2, 3, [{ id: 3n, prio: 3n, px: '10', qty: 1 }]))).toBeNull();
    expect(b.isRecovering).toBe(true);
    expect(b.onSnapshot(snapshot53(7, 5, 3, 3, [{ id: 5n, prio: 5n, px: '9.5', qty: 8 }]))).toBe(7);
    expect(b.staleInstruments()).toEqual([]);
    expect(side(b, 'bids')).toEqual([
      [1n, 10, 4],
      [3n, 10, 1],
      [4n, 10, 2],
      [5n, 9.5, 8],
    ]);
    expect(b.stats).toMatchObject({ snapshots: 1, snapshotChunks: 4, replayedEntries: 1 });
    expect(b.isRecovering).toBe(false); // a whole loop (TotNumReports 1) seen
    // Packets up to the snapshot's LastMsgSeqNumProcessed arriving late are skipped.
    b.onMessage(ob47([{ id: 3n, prio: 3n, px: '10', qty: 1 }]), 5);
    expect(b.stats.duplicateEntries).toBe(1);
    expect(b.book(7)!.orders.size).toBe(5);
  });

  it('a missing or out-of-order chunk abandons the snapshot until the next chunk 1', () => {
    const b = new OrderBookBuilder();
    b.startStale();
    b.onMessage(ob47([{ id: 1n, px: '10', qty: 5 }]), 10);
    expect(b.staleInstruments()).toEqual([7]);
    expect(b.onSnapshot(snapshot53(7, 9, 1, 2, [{ id: 1n, px: '10', qty: 5 }]))).toBeNull();
    expect(b.onSnapshot(snapshot53(7, 11, 2, 2, [{ id: 2n, px: '10', qty: 5 }]))).toBeNull(); // another snapshot's chunk
    expect(b.onSnapshot(snapshot53(7, 9, 2, 2, []))).toBeNull(); // chunk 1 of it was abandoned
    expect(b.stats.incompleteSnapshots).toBe(2);
    // Bad chunk numbering is rejected.
    expect(b.onSnapshot(snapshot53(7, 9, 3, 2, []))).toBeNull();
    expect(b.onSnapshot(snapshot53(7, 9, 1, 0, []))).toBeNull();
    expect(b.stats.rejectedEntries).toBe(2);
    // Joining: the snapshot must include the packet before the first one seen (9 here).
    expect(b.onSnapshot(snapshot53(7, 8, 1, 1, []))).toBeNull();
    expect(b.stats.snapshotsTooOld).toBe(1);
    expect(b.onSnapshot(snapshot53(7, 9, 1, 1, []))).toBe(7);
    expect(side(b, 'bids')).toEqual([[1n, 10, 5]]); // packet 10 replayed onto the empty snapshot
  });

  it('a snapshot seen before the gap was declared (recovery feed ahead) recovers the book at once', () => {
    const b = new OrderBookBuilder();
    b.onMessage(ob47([{ id: 1n, px: '10', qty: 5 }]), 1);
    // The loop already includes packets 2..8, which the incremental feeds have not delivered yet.
    expect(b.onSnapshot(snapshot53(7, 8, 1, 1, [{ id: 2n, px: '10.5', qty: 3 }]))).toBeNull();
    expect(b.stats.snapshotsIgnored).toBe(1);
    b.markStale(6); // packets 2..6 lost on both feeds
    expect(b.staleInstruments()).toEqual([]);
    expect(b.isRecovering).toBe(false);
    expect(side(b, 'bids')).toEqual([[2n, 10.5, 3]]);
    b.onMessage(ob47([{ id: 3n, px: '10.25', qty: 1 }]), 7); // in the snapshot: skipped
    b.onMessage(ob47([{ id: 4n, px: '10.25', qty: 1 }]), 9);
    expect(side(b, 'bids')).toEqual([
      [2n, 10.5, 3],
      [4n, 10.25, 1],
    ]);
    // A gap beyond the cached snapshot waits for the loop.
    b.markStale(12);
    expect(b.staleInstruments()).toEqual([7]);
    expect(b.stats.snapshotsTooOld).toBe(1);
  });

  it('ChannelReset during recovery drops the queue and pending chunks', () => {
    const b = new OrderBookBuilder();
    b.onMessage(ob47([{ id: 1n, px: '10', qty: 5 }]), 1);
    b.markStale(2);
    b.onMessage(ob47([{ id: 2n, px: '10', qty: 5 }]), 3);
    b.onSnapshot(snapshot53(7, 2, 1, 2, [{ id: 1n, px: '10', qty: 5 }]));
    b.onMessage(
      msg('ChannelReset4', {
        TransactTime: 3n,
        MatchEventIndicator: ['EndOfEvent'],
        NoMDEntries: [{ ApplID: 1 }],
      }),
      4,
    );
    expect(b.instruments()).toEqual([]);
    // After the reset the book starts empty and in sync; the rest of the old snapshot is ignored.
    expect(b.onSnapshot(snapshot53(7, 2, 2, 2, [{ id: 9n, px: '10', qty: 5 }]))).toBeNull();
    b.onMessage(ob47([{ id: 3n, px: '11', qty: 1 }]), 5);
    expect(side(b, 'bids')).toEqual([[3n, 11, 1]]);
  });
});
