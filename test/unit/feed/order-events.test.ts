import { describe, expect, it } from 'vitest';
import type { OrderEvent } from '../../../src/market-data/events';
import { rng } from './helpers';
import {
  channelReset4,
  codec,
  definition54,
  Feed,
  ob47,
  side,
  snapshot53,
  type O,
} from './order-event-helpers';

describe('order events (OrderBookBuilder onOrder)', () => {
  it('add, modify and delete carry every field; the symbol comes from the instrument definition', () => {
    const f = new Feed();
    f.send(1, definition54(7, 'ESZ6'));
    f.send(
      2,
      ob47(
        [
          { id: 11n, prio: 300n, px: '4275.25', qty: 5 },
          { id: 12n, prio: 2n ** 60n, px: '4276', qty: 3, side: 'Offer' },
        ],
        1_700_000_000_000_000_001n,
      ),
    );
    f.send(
      3,
      ob47([{ id: 11n, prio: 301n, px: '4275.5', qty: 6, action: 'Change' }], 1_700_000_000_000_000_002n),
    );
    f.send(
      4,
      ob47([{ id: 12n, px: '4276', qty: 3, side: 'Offer', action: 'Delete' }], 1_700_000_000_000_000_003n),
    );
    const base = { type: 'order', symbol: 'ESZ6', venue: 'XCME', receiveTs: 42n, securityId: 7 } as const;
    expect(f.events).toEqual<OrderEvent[]>([
      {
        ...base,
        action: 'add',
        source: 'incremental',
        seq: 1,
        exchangeTs: 1_700_000_000_000_000_001n,
        packetSeq: 2,
        orderId: '11',
        side: 'bid',
        price: 4275.25,
        qty: 5,
        priority: 300,
      },
      {
        ...base,
        action: 'add',
        source: 'incremental',
        seq: 2,
        exchangeTs: 1_700_000_000_000_000_001n,
        packetSeq: 2,
        orderId: '12',
        side: 'ask',
        price: 4276,
        qty: 3,
        // Beyond 2^53: a decimal string, as decoded integers are everywhere else.
        priority: '1152921504606846976',
      },
      {
        ...base,
        action: 'modify',
        source: 'incremental',
        seq: 3,
        exchangeTs: 1_700_000_000_000_000_002n,
        packetSeq: 3,
        orderId: '11',
        side: 'bid',
        price: 4275.5,
        qty: 6,
        priority: 301,
      },
      {
        ...base,
        action: 'delete',
        source: 'incremental',
        seq: 4,
        exchangeTs: 1_700_000_000_000_000_003n,
        packetSeq: 4,
        orderId: '12',
        side: 'ask',
        price: 4276, // as it rested
        qty: 3,
        priority: '1152921504606846976',
      },
    ]);
  });

  it('reports what happened to the book: delete then re-add, replacing New = modify, inserting Update = add; skipped entries say nothing', () => {
    const f = new Feed();
    f.send(1, ob47([{ id: 1n, prio: 10n, px: '50', qty: 5 }]));
    f.send(
      2,
      ob47([
        { id: 1n, px: '50', qty: 5, action: 'Delete' },
        { id: 1n, prio: 20n, px: '49.5', qty: 2 }, // the same OrderID again: a new order
        { id: 1n, prio: 21n, px: '49.75', qty: 4 }, // New for an id in the book: replaces it
        { id: 2n, prio: 22n, px: '49', qty: 1, action: 'Change' }, // Update of an unknown id: inserts it
        { id: 3n, px: '49', qty: 1, action: 'Delete' }, // unknown: not applied
        { id: 4n, px: '49', qty: -1 }, // rejected
        { id: 5n, px: '49', qty: 1, side: 'ImpliedBid' }, // rejected: MBO has no implied orders
      ]),
    );
    expect(f.take()).toEqual([
      'add 7 #1 bid 50x5 p10 incremental@1',
      'delete 7 #1 bid 50x5 p10 incremental@2',
      'add 7 #1 bid 49.5x2 p20 incremental@2',
      'modify 7 #1 bid 49.75x4 p21 incremental@2',
      'add 7 #2 bid 49x1 p22 incremental@2',
    ]);
    expect(side(f.books, 'bids')).toEqual([
      [1n, 49.75, 4],
      [2n, 49, 1],
    ]);
    expect(f.books.stats).toMatchObject({ unknownOrders: 2, duplicateOrders: 1, rejectedEntries: 2 });
  });

  it('46 order entries take price and side from the MBP entry their ReferenceID points at; a null priority is null', () => {
    const f = new Feed();
    const m46 = codec.encode('MDIncrementalRefreshBook46', {
      TransactTime: 8n,
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
          MDEntryType: 'Offer',
          TradeableSize: null,
        },
      ],
      NoOrderIDEntries: [
        { OrderID: 900n, MDOrderPriority: null, MDDisplayQty: 4, ReferenceID: 1, OrderUpdateAction: 'New' },
        { OrderID: 901n, MDOrderPriority: 5n, MDDisplayQty: 6, ReferenceID: 1, OrderUpdateAction: 'New' },
      ],
    });
    f.send(1, m46);
    expect(f.take()).toEqual([
      'add 1 #900 ask 4275.25x4 pnull incremental@1',
      'add 1 #901 ask 4275.25x6 p5 incremental@1',
    ]);
  });

  it('events are released at EndOfEvent, before the top of book', () => {
    const order: string[] = [];
    const f = new Feed({
      onOrder: (e) => order.push(`order ${e.action}`),
      onTop: () => order.push('top'),
    });
    f.send(1, ob47([{ id: 1n, px: '50', qty: 5 }], 1n, false));
    expect(order).toEqual([]); // the event is not over yet
    f.send(2, ob47([{ id: 2n, px: '51', qty: 5, side: 'Offer' }], 1n, true));
    expect(order).toEqual(['order add', 'order add', 'top']);
  });

  it('recovery: nothing while stale, then clear + the snapshot orders as add + the queued entries after it', () => {
    const f = new Feed();
    f.send(1, ob47([{ id: 1n, prio: 1n, px: '50', qty: 5 }]));
    f.send(2, ob47([{ id: 2n, prio: 2n, px: '51', qty: 5, side: 'Offer' }]));
    expect(f.take()).toHaveLength(2);
    // Packets 3..4 lost on both feeds.
    f.books.markStale(4);
    f.send(5, ob47([{ id: 3n, prio: 3n, px: '49', qty: 1 }])); // in the snapshot below
    f.send(6, ob47([{ id: 2n, px: '51', qty: 5, side: 'Offer', action: 'Delete' }])); // after it
    f.send(7, ob47([{ id: 4n, prio: 4n, px: '48', qty: 2 }])); // after it
    expect(f.take()).toEqual([]); // the book is stale: entries are queued, not reported
    expect(f.books.stats.staleEntries).toBe(3);
    // Snapshot as of packet 5, in two chunks; its orders in the snapshot's order (not book order).
    f.snapshot(
      snapshot53(7, 5, 1, 2, [
        { id: 3n, prio: 3n, px: '49', qty: 1 },
        { id: 1n, prio: 1n, px: '50', qty: 5 },
      ]),
    );
    expect(f.take()).toEqual([]); // incomplete
    f.snapshot(snapshot53(7, 5, 2, 2, [{ id: 2n, prio: 2n, px: '51', qty: 5, side: 'Offer' }]));
    expect(f.take()).toEqual([
      'clear 7 snapshot@5',
      'add 7 #3 bid 49x1 p3 snapshot@5',
      'add 7 #1 bid 50x5 p1 snapshot@5',
      'add 7 #2 ask 51x5 p2 snapshot@5',
      'delete 7 #2 ask 51x5 p2 incremental@6',
      'add 7 #4 bid 48x2 p4 incremental@7',
    ]);
    expect(f.books.book(7)!.stale).toBe(false);
    // The recovery feed ran ahead: entries of packets the snapshot includes are skipped, silently.
    const g = new Feed();
    g.books.startStale();
    g.snapshot(snapshot53(7, 10, 1, 1, [{ id: 1n, prio: 1n, px: '50', qty: 5 }]));
    expect(g.take()).toEqual(['clear 7 snapshot@10', 'add 7 #1 bid 50x5 p1 snapshot@10']);
    g.send(9, ob47([{ id: 1n, px: '50', qty: 5, action: 'Delete' }]));
    g.send(10, ob47([{ id: 5n, px: '50', qty: 5 }]));
    expect(g.take()).toEqual([]);
    expect(g.books.stats.duplicateEntries).toBe(2);
    g.send(11, ob47([{ id: 1n, px: '50', qty: 5, action: 'Delete' }]));
    expect(g.take()).toEqual(['delete 7 #1 bid 50x5 p1 incremental@11']);
  });

  it('ChannelReset: pending events first, then a clear per book (stale ones too); seq keeps increasing', () => {
    const f = new Feed();
    f.send(1, ob47([{ id: 1n, px: '50', qty: 5 }]), ob47([{ id: 2n, px: '60', qty: 1, sec: 8 }], 1n, false));
    expect(f.take()).toEqual(['add 7 #1 bid 50x5 p1 incremental@1']); // 8's event is still pending
    f.books.markStale(5, 7);
    f.send(2, channelReset4(77n));
    const evs = f.events.slice();
    expect(f.take()).toEqual([
      'add 8 #2 bid 60x1 p2 incremental@1',
      'clear 7 channelReset@2',
      'clear 8 channelReset@2',
    ]);
    expect(evs[1]).toMatchObject({ exchangeTs: 77n, seq: 2, symbol: '7' });
    expect(f.books.instruments()).toEqual([]);
    f.send(3, ob47([{ id: 1n, px: '50', qty: 5 }]));
    const [again] = f.events;
    expect(again).toMatchObject({ action: 'add', seq: 3 }); // strictly increasing per instrument across the reset
  });

  it('an MDEntryType BookReset entry clears the instrument: one clear event', () => {
    const f = new Feed();
    f.send(1, ob47([{ id: 1n, px: '50', qty: 5 }]));
    f.send(2, ob47([{ id: 0n, px: '50', qty: 0, side: 'BookReset' }]));
    expect(f.take()).toEqual(['add 7 #1 bid 50x5 p1 incremental@1', 'clear 7 incremental@2']);
    expect(f.books.book(7)!.orders.size).toBe(0);
  });

  it('without onOrder the books and tops are exactly as with it', () => {
    const a = new Feed();
    const b = new Feed({}, false);
    for (const f of [a, b]) {
      f.send(
        1,
        ob47([
          { id: 1n, px: '50', qty: 5 },
          { id: 2n, px: '51', qty: 5, side: 'Offer' },
        ]),
      );
      f.send(2, ob47([{ id: 1n, px: '50', qty: 7, prio: 9n, action: 'Change' }]));
      f.books.markStale(3);
      f.snapshot(snapshot53(7, 3, 1, 1, [{ id: 9n, px: '50.5', qty: 1 }]));
    }
    expect(a.take()).toEqual([
      'add 7 #1 bid 50x5 p1 incremental@1',
      'add 7 #2 ask 51x5 p2 incremental@1',
      'modify 7 #1 bid 50x7 p9 incremental@2',
      'clear 7 snapshot@3',
      'add 7 #9 bid 50.5x1 p9 snapshot@3',
    ]);
    expect(b.events).toEqual([]);
    expect(b.tops).toEqual(a.tops);
    expect(b.books.stats).toEqual(a.books.stats);
  });

  it('applying the events in order reproduces every book (random adds, changes, deletes, resets, gaps and snapshots)', () => {
    const r = rng(7);
    const f = new Feed();
    type Row = { side: string; price: number; qty: number; priority: number | string | null };
    const mirror = new Map<number, Map<string, Row>>();
    const applyEvents = (): void => {
      for (const e of f.events.splice(0)) {
        let m = mirror.get(e.securityId);
        if (!m) mirror.set(e.securityId, (m = new Map()));
        if (e.action === 'clear') m.clear();
        else if (e.action === 'delete') {
          expect(m.has(e.orderId)).toBe(true);
          m.delete(e.orderId);
        } else {
          expect(m.has(e.orderId)).toBe(e.action === 'modify');
          m.set(e.orderId, { side: e.side, price: e.price, qty: e.qty, priority: e.priority });
        }
      }
    };
    const live = new Map<number, Map<bigint, O>>([
      [7, new Map()],
      [8, new Map()],
    ]);
    let prio = 1n;
    let asOf = -10;
    let saved = new Map<number, O[]>();
    for (let seq = 1; seq <= 400; seq++) {
      const entries: O[] = [];
      for (let k = 0; k < 1 + Math.floor(r() * 4); k++) {
        const sec = r() < 0.5 ? 7 : 8;
        const book = live.get(sec)!;
        const ids = [...book.keys()];
        const x = r();
        if (x < 0.5 || ids.length === 0) {
          const o: O = {
            id: BigInt(Math.floor(r() * 60)),
            prio: prio++,
            px: String(100 + Math.floor(r() * 8) / 4),
            qty: 1 + Math.floor(r() * 9),
            side: r() < 0.5 ? 'Bid' : 'Offer',
            sec,
          };
          book.set(o.id, o);
          entries.push(o);
        } else if (x < 0.75) {
          const o = {
            ...book.get(ids[Math.floor(r() * ids.length)])!,
            qty: 1 + Math.floor(r() * 9),
            prio: prio++,
          };
          book.set(o.id, o);
          entries.push({ ...o, action: 'Change' });
        } else if (x < 0.98) {
          const o = book.get(ids[Math.floor(r() * ids.length)])!;
          book.delete(o.id);
          entries.push({ ...o, action: 'Delete' });
        } else {
          book.clear();
          entries.push({ id: 0n, px: '0', qty: 0, side: 'BookReset', sec });
        }
      }
      f.send(seq, ob47(entries, BigInt(seq), r() < 0.8));
      if (seq % 97 === 0) {
        // A gap ending here: both books stale; their snapshots (as of this packet) come 3 packets later,
        // so the entries queued meanwhile are replayed onto them.
        f.books.markStale(seq);
        asOf = seq;
        saved = new Map([...live].map(([sec, b]) => [sec, [...b.values()]]));
      }
      if (seq === asOf + 3) {
        for (const [sec, orders] of saved) f.snapshot(snapshot53(sec, asOf, 1, 1, orders));
      }
      if (seq === 250) {
        f.send(seq, channelReset4());
        for (const b of live.values()) b.clear();
      }
    }
    f.send(401, ob47([], 401n, true)); // releases the last event's orders
    applyEvents();
    for (const sec of [7, 8]) {
      const book = f.books.book(sec)!;
      expect(book.stale).toBe(false);
      const fromBook = new Map(
        [...book.orders.values()].map((o) => [
          o.orderId.toString(),
          { side: o.side, price: o.price, qty: o.qty, priority: Number(o.priority) },
        ]),
      );
      expect(mirror.get(sec)).toEqual(fromBook);
      expect(fromBook.size).toBe(live.get(sec)!.size);
    }
    expect(f.books.stats.snapshots).toBe(8);
    expect(f.books.stats.replayedEntries).toBeGreaterThan(0);
  });
});
