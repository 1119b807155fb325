/**
 * The synthetic channel's incremental packets (written by MessageLayout/PacketWriter, not by
 * SbeCodec.encode): byte-for-byte what the codec writes for the same values, deterministic for a
 * seed, and in MBO mode a stream whose order books agree with its MBP books after every event.
 */
import { describe, expect, it } from 'vitest';
import { FeedHandler } from '../../../src/feed/handler';
import { compareWithMbp } from '../../../src/feed/order-book';
import { forEachMessage } from '../../../src/feed/packet';
import { SyntheticChannel, type SyntheticOrder } from '../../../src/feed/synthetic';
import { SbeCodec, type DecodedMessage } from '../../../src/sbe/codec';
import { loadSchema } from '../../../src/sbe/schema';
import { SCHEMA } from './helpers';

// With CME's version 9 schema: test/conformance/feed/synthetic-v9.test.ts.
const codec = new SbeCodec(loadSchema(SCHEMA));

function messages(c: SbeCodec, p: Buffer): Array<{ m: DecodedMessage; bytes: Buffer }> {
  const out: Array<{ m: DecodedMessage; bytes: Buffer }> = [];
  const err = forEachMessage(p, 0, p.length, (o, l) =>
    out.push({ m: c.decode(p, o, l), bytes: p.subarray(o, o + l) }),
  );
  expect(err).toBeNull();
  return out;
}

/** Price levels (best first, at most `depth`) aggregated from the generator's own orders. */
function levelsOf(orders: SyntheticOrder[], side: 'bid' | 'ask', depth: number) {
  const out: Array<{ price: number; size: number; orders: number }> = [];
  for (const o of orders.filter((x) => x.side === side)) {
    const last = out[out.length - 1];
    if (last && last.price === o.price) {
      last.size += o.qty;
      last.orders++;
    } else out.push({ price: o.price, size: o.qty, orders: 1 });
  }
  return out.slice(0, depth);
}

describe('synthetic channel: incremental packets', () => {
  it('MBO: 4,000 packets from a fixed seed decode, and the order books equal the MBP books after every event', () => {
    const ch = new SyntheticChannel(codec, { seed: 21, mbo: true });
    const h = new FeedHandler(
      codec,
      () => {},
      () => {},
      {
        arbiter: { gapPacketThreshold: 8, gapTimeoutMs: 1e9 },
        books: 'both',
        recoverAtStart: false,
      },
    );
    h.onIncremental('A', ch.definitions());
    const templates = new Map<string, number>();
    let orderEntries = 0;
    for (let i = 0; i < 4000; i++) {
      const p = ch.next();
      const msgs = messages(codec, p);
      for (const { m } of msgs) {
        templates.set(m.name, (templates.get(m.name) ?? 0) + 1);
        orderEntries += ((m.body.NoOrderIDEntries as unknown[] | undefined) ?? []).length;
        if (m.name === 'MDIncrementalRefreshOrderBook47')
          orderEntries += (m.body.NoMDEntries as unknown[]).length;
      }
      // Every packet is one whole event: only its last message ends it.
      const ends = msgs.map(({ m }) => (m.body.MatchEventIndicator as string[]).includes('EndOfEvent'));
      expect(ends).toEqual(msgs.map((_, k) => k === msgs.length - 1));
      h.onIncremental('A', p);
      for (const id of ch.securityIds) {
        const mbp = h.books.book(id);
        if (!mbp) continue;
        expect(compareWithMbp(h.orderBooks!, id, 'bid', mbp.bids, mbp.depth)).toEqual([]);
        expect(compareWithMbp(h.orderBooks!, id, 'ask', mbp.asks, mbp.depth)).toEqual([]);
      }
      if (i % 250 === 249) {
        for (const id of ch.securityIds) {
          // The generator's MBP book is its orders aggregated, and the handler built both from the wire.
          const truth = ch.truth(id)!;
          const orders = ch.orders(id);
          expect(levelsOf(orders, 'bid', 5)).toEqual(truth.bids);
          expect(levelsOf(orders, 'ask', 5)).toEqual(truth.asks);
          expect(h.books.book(id)!.bids).toEqual(truth.bids);
          expect(h.books.book(id)!.asks).toEqual(truth.asks);
          const book = h.orderBooks!.book(id)!;
          const got = [...book.bids, ...book.asks].flatMap((l) =>
            l.orders.map((o) => ({ orderId: o.orderId, price: o.price, qty: o.qty, priority: o.priority })),
          );
          expect(got).toEqual(
            orders.map((o) => ({ orderId: o.orderId, price: o.price, qty: o.qty, priority: o.priority })),
          );
        }
      }
    }
    // All four templates, and many order entries, were exercised.
    expect(templates.get('MDIncrementalRefreshBook46')).toBeGreaterThan(3000);
    expect(templates.get('MDIncrementalRefreshOrderBook47')).toBeGreaterThan(100);
    expect(templates.get('MDIncrementalRefreshTradeSummary48')).toBeGreaterThan(50);
    expect(orderEntries).toBeGreaterThan(4000);
    expect(h.orderBooks!.stats).toMatchObject({ rejectedEntries: 0, unknownOrders: 0, duplicateOrders: 0 });
    expect(h.books.stats.instrumentGaps).toBe(0);
  });

  for (const mbo of [true, false]) {
    it(`${mbo ? 'MBO' : 'MBP'}: every incremental message is the codec's encoding of its decoded body`, () => {
      const ch = new SyntheticChannel(codec, { seed: 22, mbo });
      let n = 0;
      for (let i = 0; i < 1500; i++)
        for (const { m, bytes } of messages(codec, ch.next())) {
          expect(codec.encode(m.name, m.body).equals(bytes), `packet ${i} ${m.name}`).toBe(true);
          n++;
        }
      expect(n).toBeGreaterThan(1500);
    });
  }

  it('is deterministic for a seed: the same packets and snapshot loops; another seed differs', () => {
    const run = (seed: number, mbo: boolean): Buffer[] => {
      const ch = new SyntheticChannel(codec, { seed, mbo });
      const out = [ch.definitions()];
      for (let i = 0; i < 2000; i++) {
        out.push(ch.next());
        if (i % 500 === 499) out.push(...ch.snapshotLoop(i));
      }
      return out;
    };
    for (const mbo of [true, false]) {
      const a = run(31, mbo);
      const b = run(31, mbo);
      expect(b.length).toBe(a.length);
      expect(b.every((p, i) => p.equals(a[i]))).toBe(true);
      const c = run(32, mbo);
      expect(c.filter((p, i) => !p.equals(a[i])).length).toBeGreaterThan(1000);
    }
  });

  it('packets handed out are not overwritten by later ones (the writer reuses one scratch buffer)', () => {
    const ch = new SyntheticChannel(codec, { seed: 24, mbo: true });
    const first = ch.next();
    const copy = Buffer.from(first);
    for (let i = 0; i < 50; i++) ch.next();
    expect(first.equals(copy)).toBe(true);
    expect(first.readUInt32LE(0)).toBe(1);
  });

  it('an instrument tick finer than the PRICE9 exponent is rejected, naming the field', () => {
    expect(
      () =>
        new SyntheticChannel(codec, {
          instruments: [{ securityId: 1, symbol: 'X', mid: 100, tick: 1e-10 }],
        }),
    ).toThrow(/instruments\[0\]\.tick/);
  });
});
