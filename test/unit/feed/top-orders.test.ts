import { describe, expect, it } from 'vitest';
import { FeedHandler } from '../../../src/feed/handler';
import { buildPacket } from '../../../src/feed/packet';
import {
  channelReset4,
  codec,
  definition54,
  Feed,
  ob47,
  side,
  snapshot53,
  top59,
  type O,
} from './order-event-helpers';

/** CME's MBOLD example (Book Processing, example 2): interleaved as sent, bid, ask, bid, bid. */
const CME_EXAMPLE: O[] = [
  { id: 557n, prio: 723766n, px: '101', qty: 50 },
  { id: 107n, prio: 833653n, px: '102', qty: 5, side: 'Offer' },
  { id: 809n, prio: 923768n, px: '101', qty: 30 },
  { id: 709n, prio: 583672n, px: '100', qty: 10 },
];

/** `n` bid orders at the given prices (cycled), priorities ascending. */
function bids(n: number, prices: string[], first = 1000n): O[] {
  return Array.from({ length: n }, (_, i) => ({
    id: first + BigInt(i),
    prio: first + BigInt(i),
    px: prices[i % prices.length],
    qty: 1,
  }));
}

describe('SnapshotRefreshTopOrders59 (MBOLD top orders)', () => {
  it('restates the book: sorted by price then MDOrderPriority; events are clear + the orders as add, in the sent order', () => {
    const f = new Feed();
    f.send(1, top59(7, CME_EXAMPLE, 1_700_000_000_000_000_000n));
    expect(side(f.books, 'bids')).toEqual([
      [557n, 101, 50],
      [809n, 101, 30],
      [709n, 100, 10],
    ]);
    expect(side(f.books, 'asks')).toEqual([[107n, 102, 5]]);
    expect(f.books.book(7)!.limited).toBe(true);
    expect(f.events[0]).toEqual({
      type: 'order',
      action: 'clear',
      source: 'topOrders',
      symbol: '7',
      venue: 'XCME',
      seq: 1,
      exchangeTs: 1_700_000_000_000_000_000n,
      receiveTs: 42n,
      securityId: 7,
      packetSeq: 1,
    });
    expect(f.take()).toEqual([
      'clear 7 topOrders@1',
      'add 7 #557 bid 101x50 p723766 topOrders@1',
      'add 7 #107 ask 102x5 p833653 topOrders@1',
      'add 7 #809 bid 101x30 p923768 topOrders@1',
      'add 7 #709 bid 100x10 p583672 topOrders@1',
    ]);
    expect(f.tops).toEqual([
      { id: 7, top: { bid: { price: 101, size: 80, orders: 2 }, ask: { price: 102, size: 5, orders: 1 } } },
    ]);
    // The next restatement replaces everything: an order that left the top is gone without a delete
    // (it may still rest behind the top orders), so consumers see clear + adds again.
    f.send(2, top59(7, [CME_EXAMPLE[0], CME_EXAMPLE[1]]));
    expect(f.take()).toEqual([
      'clear 7 topOrders@2',
      'add 7 #557 bid 101x50 p723766 topOrders@2',
      'add 7 #107 ask 102x5 p833653 topOrders@2',
    ]);
    expect(f.books.book(7)!.orders.size).toBe(2);
    // An empty book is a 59 without entries (assumed; CME's pages show none).
    f.send(3, top59(7, []));
    expect(f.take()).toEqual(['clear 7 topOrders@3']);
    expect(f.books.book(7)!.orders.size).toBe(0);
    expect(f.books.stats).toMatchObject({ topOrders: 3, rejectedEntries: 0, messages: 3 });
  });

  it('marks what a limited book cannot know: the last level of a full side may hide orders; such a top is not reported', () => {
    const f = new Feed();
    // Bids: 10 orders (the limit) over three prices; asks: 3 orders, fewer than the limit.
    const asks: O[] = [1n, 2n, 3n].map((i) => ({ id: i, px: '105', qty: 2, side: 'Offer' }));
    f.send(1, top59(7, [...bids(10, ['100', '99.75', '99.5']), ...asks]));
    expect(f.books.levels(7, 'bid')).toEqual([
      { price: 100, size: 4, orders: 4 },
      { price: 99.75, size: 3, orders: 3 },
      { price: 99.5, size: 3, orders: 3 },
    ]);
    expect(f.books.completeLevels(7, 'bid')).toBe(2); // 99.5 may hold more orders behind the top 10
    expect(f.books.completeLevels(7, 'ask')).toBe(1); // fewer than 10: the whole side
    expect(f.tops).toHaveLength(1);
    // Ten bids at one price: even the best level's size is a lower bound, so no top of book.
    f.send(2, top59(7, [...bids(10, ['100']), ...asks]));
    expect(f.books.completeLevels(7, 'bid')).toBe(0);
    expect(f.tops).toHaveLength(1);
    expect(f.books.stats.incompleteTops).toBe(1);
    // The depth is configurable; a full-depth (MBOFD) book is always complete.
    const g = new Feed({ topOrdersDepth: 20 });
    g.send(1, top59(7, bids(10, ['100'])));
    expect(g.books.completeLevels(7, 'bid')).toBe(1);
    g.send(2, ob47(bids(12, ['100'], 5000n).map((o) => ({ ...o, sec: 8 }))));
    expect(g.books.book(8)!.limited).toBe(false);
    expect(g.books.completeLevels(8, 'bid')).toBe(1);
    expect(() => new Feed({ topOrdersDepth: 0 })).toThrow(/topOrdersDepth/);
  });

  it('recovers stale books (no events while stale) and ends a recovery where every book is limited', () => {
    const f = new Feed();
    f.send(1, top59(7, CME_EXAMPLE), top59(8, [{ id: 1n, px: '5', qty: 1 }]));
    f.take();
    f.books.markStale(3); // packets 2..3 lost
    expect(f.books.staleInstruments().sort()).toEqual([7, 8]);
    f.send(4, ob47([{ id: 9n, px: '101', qty: 1 }])); // for stale 7: queued, no event
    expect(f.take()).toEqual([]);
    f.send(5, top59(7, [CME_EXAMPLE[0]]));
    expect(f.take()).toEqual(['clear 7 topOrders@5', 'add 7 #557 bid 101x50 p723766 topOrders@5']);
    expect(f.books.staleInstruments()).toEqual([8]);
    expect(f.books.isRecovering).toBe(true);
    f.send(6, top59(8, [{ id: 2n, px: '5.25', qty: 3 }]));
    expect(f.books.staleInstruments()).toEqual([]);
    expect(f.books.isRecovering).toBe(false);
    expect(f.books.stats).toMatchObject({ topOrdersRecoveries: 2, staleEntries: 1 });
    // With a full-depth book on the channel, recovery still waits for the 53 loop.
    const g = new Feed();
    g.send(1, top59(7, CME_EXAMPLE), ob47([{ id: 1n, px: '5', qty: 1, sec: 8 }]));
    g.books.markStale(2);
    g.send(3, top59(7, CME_EXAMPLE));
    expect(g.books.staleInstruments()).toEqual([8]);
    expect(g.books.isRecovering).toBe(true);
  });

  it('a full snapshot (53) makes the book full depth; a 59 from a packet that snapshot includes is skipped', () => {
    const f = new Feed();
    f.books.startStale();
    f.snapshot(snapshot53(7, 20, 1, 1, [{ id: 1n, px: '100', qty: 1 }]));
    expect(f.books.book(7)!.limited).toBe(false);
    f.take();
    f.send(18, top59(7, CME_EXAMPLE)); // the recovery feed ran ahead of this packet
    expect(f.take()).toEqual([]);
    expect(f.books.stats.duplicateEntries).toBe(4);
    expect(side(f.books, 'bids')).toEqual([[1n, 100, 1]]);
    f.send(21, top59(7, CME_EXAMPLE));
    expect(f.take()).toHaveLength(5);
    expect(f.books.book(7)!.limited).toBe(true);
  });

  it('a 59 for an instrument never seen creates its book (it needs no prior state); a definition then names it', () => {
    const f = new Feed();
    f.send(1, top59(99, [{ id: 5n, px: '1.5', qty: 2, side: 'Offer' }]));
    expect(f.books.instruments()).toEqual([99]);
    expect(f.events.map((e) => e.symbol)).toEqual(['99', '99']);
    f.take();
    f.send(2, definition54(99, 'ZNH7'));
    f.send(3, top59(99, [{ id: 5n, px: '1.5', qty: 2, side: 'Offer' }]));
    expect(f.events.map((e) => [e.symbol, e.seq])).toEqual([
      ['ZNH7', 3],
      ['ZNH7', 4],
    ]);
  });

  it('bad input: a truncated group never reaches the books; bad entries are rejected one by one', () => {
    const f = new Feed();
    f.send(1, top59(7, CME_EXAMPLE));
    f.take();
    // The SBE message is cut inside its NoMDEntries group (the size prefix agrees with the cut length).
    const whole = top59(7, [{ id: 1n, px: '1', qty: 1 }, ...CME_EXAMPLE]);
    f.sendRaw(2, buildPacket(2, 1n, [whole.subarray(0, whole.length - 10)]));
    expect(f.stats.errors).toEqual({ truncated: 1 });
    // The packet is cut inside the message.
    const pkt = buildPacket(3, 1n, [whole]);
    f.sendRaw(3, pkt.subarray(0, pkt.length - 1));
    expect(f.stats.errors).toEqual({ truncated: 1, messageBeyondPacket: 1 });
    expect(f.take()).toEqual([]);
    expect(f.books.book(7)!.orders.size).toBe(4); // as the last good 59 left it
    // Entries with a bad side, quantity or a repeated OrderID are skipped; the others applied.
    f.send(
      4,
      top59(7, [
        { id: 1n, px: '100', qty: 1 },
        { id: 2n, px: '100', qty: 1, side: 'ImpliedBid' },
        { id: 3n, px: '100', qty: -5 },
        { id: 1n, px: '99', qty: 1 },
        { id: 4n, px: '101', qty: 0, side: 'BookReset' },
        { id: 5n, px: '101', qty: 2, side: 'Offer' },
      ]),
    );
    expect(f.take()).toEqual([
      'clear 7 topOrders@4',
      'add 7 #1 bid 100x1 p1 topOrders@4',
      'add 7 #5 ask 101x2 p5 topOrders@4',
    ]);
    expect(f.books.stats.rejectedEntries).toBe(4);
  });

  it('ChannelReset empties limited books too', () => {
    const f = new Feed();
    f.send(1, top59(7, CME_EXAMPLE));
    f.take();
    f.send(2, channelReset4());
    expect(f.take()).toEqual(['clear 7 channelReset@2']);
    expect(f.books.book(7)).toBeUndefined();
  });

  it('reaches the order books through FeedHandler (books: both) with no handler change', () => {
    const h = new FeedHandler(
      codec,
      () => {},
      () => {},
      { books: 'both' },
    );
    h.onIncremental('A', buildPacket(1, 1n, [top59(7, CME_EXAMPLE)]));
    const book = h.orderBooks!.book(7)!;
    expect(book.limited).toBe(true);
    expect(book.orders.size).toBe(4);
    expect(h.books.stats.ignoredMessages).toBe(1); // the MBP books leave it alone
  });
});
