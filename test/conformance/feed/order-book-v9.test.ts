/**
 * Market-by-order books fed by CME's version 9 templates (MDIncrementalRefreshOrderBook43,
 * SnapshotFullRefreshOrderBook44: price exponent -7) next to version 13's (-9): the same price is
 * one level whatever its exponent.
 */
import { describe, expect, it } from 'vitest';
import { OrderBookBuilder, priceKey } from '../../../src/feed/order-book';
import { SbeCodec, type DecodedMessage } from '../../../src/sbe/codec';
import { Decimal } from '../../../src/sbe/decimal';
import { loadSchema } from '../../../src/sbe/schema';
import { SCHEMA_V13, SCHEMA_V9 } from '../cme-data';

const codec = new SbeCodec(loadSchema(SCHEMA_V13));
const codec9 = new SbeCodec(loadSchema(SCHEMA_V9));

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

describe('market-by-order books on CME version 9 templates', () => {
  it('exact prices: -7 (v9 template 43) and -9 exponents of the same price are one level; 64-bit ids and priorities stay exact', () => {
    const b = new OrderBookBuilder();
    const big = 2n ** 63n + 12345n;
    b.onMessage(
      msg(
        'MDIncrementalRefreshOrderBook43',
        {
          TransactTime: 1n,
          MatchEventIndicator: [],
          NoMDEntries: [
            {
              OrderID: big,
              MDOrderPriority: 2n ** 60n,
              MDEntryPx: '0.1234567',
              MDDisplayQty: 1,
              SecurityID: 7,
              MDUpdateAction: 'New',
              MDEntryType: 'Offer',
            },
          ],
        },
        codec9,
      ),
      1,
    );
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

  it('v9 SnapshotFullRefreshOrderBook44 (price exponent -7) rebuilds like 53', () => {
    const b = new OrderBookBuilder();
    b.startStale();
    const m = msg(
      'SnapshotFullRefreshOrderBook44',
      {
        LastMsgSeqNumProcessed: 0,
        TotNumReports: 1,
        SecurityID: 7,
        NoChunks: 1,
        CurrentChunk: 1,
        TransactTime: 1n,
        NoMDEntries: [
          { OrderID: 5n, MDOrderPriority: 2n, MDEntryPx: '99.5', MDDisplayQty: 3, MDEntryType: 'Offer' },
          { OrderID: 6n, MDOrderPriority: 1n, MDEntryPx: '99.5', MDDisplayQty: 4, MDEntryType: 'Offer' },
        ],
      },
      codec9,
    );
    expect(b.onSnapshot(m)).toBe(7);
    expect(side(b, 'asks')).toEqual([
      [6n, 99.5, 4],
      [5n, 99.5, 3],
    ]);
    expect(b.isRecovering).toBe(false);
    // A 47 (exponent -9) update of the same price lands in the same level.
    b.onMessage(ob47([{ id: 5n, prio: 2n, px: '99.5', qty: 1, side: 'Offer', action: 'Change' }]), 1);
    expect(b.book(7)!.asks).toHaveLength(1);
    expect(b.top(7).ask).toEqual({ price: 99.5, size: 5, orders: 2 });
  });
});
