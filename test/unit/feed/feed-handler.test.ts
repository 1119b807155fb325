import { describe, expect, it } from 'vitest';
import type { QuoteEvent, TradeEvent } from '../../../src/market-data/events';
import { FeedHandler, type HandlerStatus } from '../../../src/feed/handler';
import { SyntheticChannel } from '../../../src/feed/synthetic';
import { SbeCodec } from '../../../src/sbe/codec';
import { loadSchema } from '../../../src/sbe/schema';
import { SCHEMA_V13 } from './helpers';

const codec = new SbeCodec(loadSchema(SCHEMA_V13));

function setup(seed: number) {
  const ch = new SyntheticChannel(codec, { seed });
  const events: Array<TradeEvent | QuoteEvent> = [];
  const status: HandlerStatus[] = [];
  const h = new FeedHandler(
    codec,
    (e) => events.push(e),
    (s) => status.push(s),
    { arbiter: { gapPacketThreshold: 8, gapTimeoutMs: 1e9 } },
  );
  const both = (p: Buffer): void => {
    h.onIncremental('A', p);
    h.onIncremental('B', p);
  };
  both(ch.definitions());
  const expectBooksMatchTruth = (): void => {
    for (const id of ch.securityIds) {
      const truth = ch.truth(id)!;
      const book = h.books.book(id)!;
      expect({ bids: book.bids, asks: book.asks, rptSeq: book.rptSeq, stale: book.stale }).toEqual({
        ...truth,
        stale: false,
      });
    }
  };
  return { ch, h, events, status, both, expectBooksMatchTruth };
}

describe('feed handler: arbitration, books and snapshot recovery', () => {
  it('builds the same books as the generator when one feed loses packets (no gap, no recovery)', () => {
    const { ch, h, status, expectBooksMatchTruth } = setup(1);
    for (let i = 0; i < 500; i++) {
      const p = ch.next();
      if (i % 7 !== 3) h.onIncremental('A', p);
      if (i % 7 !== 5) h.onIncremental('B', p);
    }
    expectBooksMatchTruth();
    expect(status.filter((s) => s.type === 'gap' || s.type === 'recoveryStarted')).toEqual([]);
    expect(h.decodeStats.errors).toEqual({});
  });

  it('recovers from a gap on both feeds with a snapshot taken mid-recovery plus the queued incrementals', () => {
    const { ch, h, events, status, both, expectBooksMatchTruth } = setup(2);
    for (let i = 0; i < 100; i++) both(ch.next());
    expectBooksMatchTruth();
    for (let i = 0; i < 5; i++) ch.next(); // lost on both feeds
    for (let i = 0; i < 45; i++) both(ch.next());
    expect(status.find((s) => s.type === 'gap')).toMatchObject({ type: 'gap', reason: 'packets' });
    expect(status.find((s) => s.type === 'recoveryStarted')).toEqual({
      type: 'recoveryStarted',
      reason: 'packetGap',
    });
    expect(h.isRecovering).toBe(true);
    // The snapshot loop is taken now (LastMsgSeqNumProcessed = this packet) but arrives later.
    const loop = ch.snapshotLoop();
    const quotesBefore = events.filter((e) => e.type === 'quote').length;
    for (let i = 0; i < 50; i++) both(ch.next());
    // Stale books publish no quotes while recovering.
    expect(events.filter((e) => e.type === 'quote').length).toBe(quotesBefore);
    for (const p of loop) h.onSnapshot(p);
    expect(h.isRecovering).toBe(false);
    expect(status.at(-1)).toMatchObject({ type: 'recoveryComplete', snapshots: 3 });
    expect(h.recovery.replayedEntries).toBeGreaterThan(0);
    expectBooksMatchTruth();
    // Live again: later updates apply and quotes flow.
    for (let i = 0; i < 100; i++) both(ch.next());
    expectBooksMatchTruth();
    expect(events.filter((e) => e.type === 'quote').length).toBeGreaterThan(quotesBefore);
    expect(h.recovery).toMatchObject({ started: 1, completed: 1, snapshotsApplied: 3 });
  });

  it('ignores the snapshot feed when not recovering, and stays stale until every instrument is recovered', () => {
    const { ch, h, both, expectBooksMatchTruth } = setup(3);
    for (let i = 0; i < 50; i++) both(ch.next());
    for (const p of ch.snapshotLoop()) h.onSnapshot(p);
    expect(h.recovery.snapshotsIgnored).toBe(3);
    for (let i = 0; i < 3; i++) ch.next();
    for (let i = 0; i < 20; i++) both(ch.next());
    expect(h.isRecovering).toBe(true);
    const loop = ch.snapshotLoop();
    h.onSnapshot(loop[0]);
    h.onSnapshot(loop[1]);
    expect(h.isRecovering).toBe(true);
    h.onSnapshot(loop[2]);
    expect(h.isRecovering).toBe(false);
    expectBooksMatchTruth();
  });
});
