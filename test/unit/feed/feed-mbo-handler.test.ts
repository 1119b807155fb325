import { describe, expect, it } from 'vitest';
import type { QuoteEvent, TradeEvent } from '../../../src/market-data/events';
import { decodePacketMessages, newDecodeStats } from '../../../src/feed/decode';
import { FeedHandler, type BookKinds, type HandlerStatus } from '../../../src/feed/handler';
import { compareWithMbp } from '../../../src/feed/order-book';
import { buildPacket } from '../../../src/feed/packet';
import { SyntheticChannel } from '../../../src/feed/synthetic';
import { SbeCodec } from '../../../src/sbe/codec';
import { loadSchema } from '../../../src/sbe/schema';
import { rng, SCHEMA } from './helpers';

const codec = new SbeCodec(loadSchema(SCHEMA));

function setup(seed: number, books: BookKinds = 'both', recoverAtStart = false, chunkSize = 3) {
  const ch = new SyntheticChannel(codec, { seed, mbo: { chunkSize } });
  const events: Array<TradeEvent | QuoteEvent> = [];
  const status: HandlerStatus[] = [];
  const h = new FeedHandler(
    codec,
    (e) => events.push(e),
    (s) => status.push(s),
    { arbiter: { gapPacketThreshold: 8, gapTimeoutMs: 1e9 }, books, recoverAtStart },
  );
  const both = (p: Buffer): void => {
    h.onIncremental('A', p);
    h.onIncremental('B', p);
  };
  let loopSeq = 1;
  const loop = (): void => {
    const packets = ch.snapshotLoop(loopSeq);
    loopSeq += packets.length;
    for (const p of packets) h.onSnapshot(p);
  };
  /** Order books equal the generator's orders, and agree with the MBP books level by level. */
  const expectInSync = (): void => {
    const ob = h.orderBooks!;
    for (const id of ch.securityIds) {
      const book = ob.book(id)!;
      const got = [...book.bids, ...book.asks].flatMap((l) =>
        l.orders.map((o) => ({
          orderId: o.orderId,
          side: o.side,
          price: o.price,
          qty: o.qty,
          priority: o.priority,
        })),
      );
      const want = ch
        .orders(id)
        .map((o) => ({ orderId: o.orderId, side: o.side, price: o.price, qty: o.qty, priority: o.priority }));
      expect(got).toEqual(want);
      expect(book.stale).toBe(false);
      const mbp = h.books.book(id)!;
      expect(compareWithMbp(ob, id, 'bid', mbp.bids, mbp.depth)).toEqual([]);
      expect(compareWithMbp(ob, id, 'ask', mbp.asks, mbp.depth)).toEqual([]);
    }
  };
  return { ch, h, events, status, both, loop, expectInSync };
}

describe('feed handler: market-by-order books', () => {
  it('builds order books from 46 order entries and 47 messages that agree with the generator and the MBP books', () => {
    const { ch, h, both, expectInSync } = setup(1);
    both(ch.definitions());
    const names = new Map<string, number>();
    let orderEntries46 = 0;
    for (let i = 0; i < 1500; i++) {
      const p = ch.next();
      for (const m of decodePacketMessages(codec, p, newDecodeStats())) {
        names.set(m.name, (names.get(m.name) ?? 0) + 1);
        if (m.name === 'MDIncrementalRefreshBook46')
          orderEntries46 += (m.body.NoOrderIDEntries as unknown[]).length;
      }
      both(p);
      if (i % 100 === 99) expectInSync();
    }
    // Both order-entry paths were exercised.
    expect(names.get('MDIncrementalRefreshOrderBook47')).toBeGreaterThan(50);
    expect(orderEntries46).toBeGreaterThan(500);
    const s = h.orderBooks!.stats;
    expect(s).toMatchObject({ rejectedEntries: 0, unknownOrders: 0, duplicateOrders: 0, staleEntries: 0 });
    expect(s.added).toBeGreaterThan(100);
    expect(s.updated).toBeGreaterThan(100);
    expect(s.deleted).toBeGreaterThan(100);
    expect(h.books.stats.instrumentGaps).toBe(0);
  });

  it('recovers order books from the chunked 53 snapshot loop after a gap on both feeds', () => {
    const { ch, h, status, both, loop, expectInSync } = setup(2);
    both(ch.definitions());
    for (let i = 0; i < 300; i++) both(ch.next());
    expectInSync();
    for (let i = 0; i < 6; i++) ch.next(); // lost on both feeds
    for (let i = 0; i < 20; i++) both(ch.next());
    expect(status.find((s) => s.type === 'gap')).toBeDefined();
    expect(h.orderBooks!.staleInstruments().sort()).toEqual([...ch.securityIds].sort());
    const chunksBefore = h.orderBooks!.stats.snapshotChunks;
    loop(); // snapshot taken now; more packets follow before recovery is checked
    for (let i = 0; i < 30; i++) both(ch.next());
    expect(h.orderBooks!.stats.snapshots).toBe(3);
    // Chunks: 3 orders per chunk, dozens of orders per instrument.
    expect(h.orderBooks!.stats.snapshotChunks - chunksBefore).toBeGreaterThan(20);
    expect(h.isRecovering).toBe(false);
    expect(status.filter((s) => s.type === 'recoveryComplete')).toHaveLength(1);
    expectInSync();
  });

  it('replays the entries queued after the snapshot (snapshot older than the newest packet)', () => {
    const { ch, h, both, expectInSync } = setup(3);
    both(ch.definitions());
    for (let i = 0; i < 200; i++) both(ch.next());
    for (let i = 0; i < 3; i++) ch.next(); // lost
    for (let i = 0; i < 12; i++) both(ch.next());
    const snapshot = ch.snapshotLoop(1); // includes everything so far
    for (let i = 0; i < 40; i++) both(ch.next()); // queued while waiting for the snapshot
    for (const p of snapshot) h.onSnapshot(p);
    expect(h.orderBooks!.stats.replayedEntries).toBeGreaterThan(0);
    expect(h.isRecovering).toBe(false);
    expectInSync();
  });

  it('joins a running session: stale until the MBP and MBO loops, then in sync', () => {
    const { ch, h, events, both, loop, expectInSync } = setup(4, 'both', true);
    both(ch.definitions());
    for (let i = 0; i < 200; i++) ch.next(); // before the handler joined
    for (let i = 0; i < 20; i++) both(ch.next());
    expect(h.isRecovering).toBe(true);
    expect(events.filter((e) => e.type === 'quote')).toEqual([]);
    loop();
    for (let i = 0; i < 20; i++) both(ch.next());
    expect(h.isRecovering).toBe(false);
    expectInSync();
  });

  it('a snapshot loop without 53 (MBP only) leaves the order books stale: recovery waits for them', () => {
    const { ch, h, both, expectInSync } = setup(5);
    both(ch.definitions());
    for (let i = 0; i < 100; i++) both(ch.next());
    for (let i = 0; i < 3; i++) ch.next();
    for (let i = 0; i < 12; i++) both(ch.next());
    const mbpOnly = ch
      .snapshotLoop(1)
      .filter((p) => decodePacketMessages(codec, p, newDecodeStats())[0].templateId === 52);
    for (const p of mbpOnly) h.onSnapshot(p);
    expect(h.books.staleInstruments()).toEqual([]);
    expect(h.orderBooks!.staleInstruments()).toHaveLength(3);
    expect(h.isRecovering).toBe(true);
    for (const p of ch.snapshotLoop(100)) h.onSnapshot(p);
    expect(h.isRecovering).toBe(false);
    expectInSync();
  });

  it('ChannelReset clears the order books; they rebuild from the following incrementals', () => {
    const { ch, h, both } = setup(6);
    both(ch.definitions());
    for (let i = 0; i < 100; i++) both(ch.next());
    expect(h.orderBooks!.instruments()).toHaveLength(3);
    const reset = codec.encode('ChannelReset4', {
      TransactTime: 1n,
      MatchEventIndicator: ['EndOfEvent'],
      NoMDEntries: [{ ApplID: 1 }],
    });
    both(buildPacket(ch.lastSeq + 1, 1n, [reset]));
    expect(h.orderBooks!.instruments()).toEqual([]);
    expect(h.orderBooks!.stats.channelResets).toBe(1);
    expect(h.books.instruments()).toEqual([]);
  });

  it("'mbo' publishes the order books' top of book as quotes: the same quotes as 'mbp' when there are no implied orders", () => {
    const run = (books: BookKinds) => {
      const { ch, h, events, both, loop } = setup(7, books);
      both(ch.definitions());
      for (let i = 0; i < 400; i++) both(ch.next());
      for (let i = 0; i < 4; i++) ch.next(); // a gap, recovered from the loop
      for (let i = 0; i < 12; i++) both(ch.next());
      loop();
      for (let i = 0; i < 100; i++) both(ch.next());
      expect(h.isRecovering).toBe(false);
      return events.map((e) => ({ ...e, receiveTs: 0n }));
    };
    const mbp = run('mbp');
    const mbo = run('mbo');
    expect(mbp.filter((e) => e.type === 'quote').length).toBeGreaterThan(100);
    // The same events; only the quotes published at recovery may carry another exchange time (MBP reports
    // the newest queued MBP message's, MBO the newest queued MBO message's).
    const noTs = (e: (typeof mbp)[number]) => ({ ...e, exchangeTs: 0n });
    expect(mbo.map(noTs)).toEqual(mbp.map(noTs));
    expect(mbo.filter((e, i) => e.exchangeTs !== mbp[i].exchangeTs).length).toBeLessThanOrEqual(3);
  });

  it('mutated MBO packets and 53 chunks (bytes overwritten in the order entries) are counted, never thrown', () => {
    const { ch, h, both } = setup(9);
    both(ch.definitions());
    const r = rng(99);
    const mutate = (p: Buffer): Buffer => {
      const b = Buffer.from(p);
      // Past the packet and SBE headers, so the messages still decode with damaged field values.
      for (let k = 0; k < 1 + Math.floor(r() * 6); k++)
        b[40 + Math.floor(r() * (b.length - 40))] = Math.floor(r() * 256);
      return b;
    };
    let loopSeq = 1;
    for (let i = 0; i < 3000; i++) {
      const p = ch.next();
      both(r() < 0.3 ? mutate(p) : p);
      if (i % 300 === 299) {
        const loop = ch.snapshotLoop(loopSeq);
        loopSeq += loop.length;
        for (const s of loop) h.onSnapshot(r() < 0.3 ? mutate(s) : s);
      }
    }
    const s = h.orderBooks!.stats;
    // Damage was seen and counted; the books kept going.
    expect(s.rejectedEntries + s.unknownOrders + s.duplicateOrders).toBeGreaterThan(50);
    expect(s.added).toBeGreaterThan(300);
    for (const id of h.orderBooks!.instruments()) {
      const book = h.orderBooks!.book(id)!;
      const n = [...book.bids, ...book.asks].reduce((k, l) => k + l.orders.length, 0);
      expect(n).toBe(book.orders.size); // the OrderID index and the levels agree
      // Price order across levels, priority order within each, no empty level.
      expect(book.bids.every((l, i) => i === 0 || l.px9 < book.bids[i - 1].px9)).toBe(true);
      expect(book.asks.every((l, i) => i === 0 || l.px9 > book.asks[i - 1].px9)).toBe(true);
      for (const l of [...book.bids, ...book.asks]) {
        expect(l.orders.length).toBeGreaterThan(0);
        expect(
          l.orders.every((o, i) => o.px9 === l.px9 && (i === 0 || o.priority >= l.orders[i - 1].priority)),
        ).toBe(true);
      }
    }
  });

  it("'mbp' (the default) builds no order books and ignores 53 snapshots", () => {
    const ch = new SyntheticChannel(codec, { seed: 8, mbo: true });
    const h = new FeedHandler(codec, () => {});
    expect(h.orderBooks).toBeNull();
    h.onIncremental('A', ch.definitions());
    for (let i = 0; i < 50; i++) h.onIncremental('A', ch.next());
    const before = h.recovery.snapshotsIgnored;
    for (const p of ch.snapshotLoop(1)) h.onSnapshot(p);
    expect(h.recovery.snapshotsIgnored - before).toBeGreaterThan(3);
    for (const id of ch.securityIds) expect(h.books.book(id)!.bids).toEqual(ch.truth(id)!.bids);
  });
});
