import { describe, expect, it } from 'vitest';
import type { QuoteEvent, TradeEvent } from '../../../src/market-data/events';
import { FeedHandler, type HandlerStatus } from '../../../src/feed/handler';
import { SyntheticChannel } from '../../../src/feed/synthetic';
import { buildPacket } from '../../../src/feed/packet';
import { SbeCodec } from '../../../src/sbe/codec';
import { loadSchema } from '../../../src/sbe/schema';
import { SCHEMA } from './helpers';

const codec = new SbeCodec(loadSchema(SCHEMA));

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

  it('keeps the newest snapshots: a loop that ran ahead of the incrementals also covers a later gap', () => {
    // Root cause of a flaky loopback test: the receiver worked through a backlog of incrementals
    // while the (short) recovery feed was already read to its end; a gap declared afterwards waited
    // for a loop that never came.
    const { ch, h, both, status, expectBooksMatchTruth } = setup(4);
    for (let i = 0; i < 50; i++) both(ch.next());
    for (let i = 0; i < 3; i++) ch.next(); // lost on both feeds
    const backlog = Array.from({ length: 120 }, () => ch.next());
    const loop = ch.snapshotLoop(); // LastMsgSeqNumProcessed = the end of the backlog
    for (const p of backlog.slice(0, 20)) both(p);
    expect(h.isRecovering).toBe(true);
    for (const p of loop) h.onSnapshot(p); // the loop arrives ahead of the backlog...
    expect(h.isRecovering).toBe(false);
    // ...and the backlog has another hole (lost on both feeds) after it.
    for (const p of backlog.slice(20, 60)) both(p);
    for (const p of backlog.slice(63)) both(p);
    expect(status.filter((s) => s.type === 'gap')).toHaveLength(2);
    expect(h.recovery).toMatchObject({ started: 2, completed: 2 });
    expect(h.isRecovering).toBe(false);
    expectBooksMatchTruth();
  });

  it('a cached snapshot older than the gap does not end recovery; a newer one does at once', () => {
    const { ch, h, both, expectBooksMatchTruth } = setup(5);
    for (let i = 0; i < 30; i++) both(ch.next());
    for (const p of ch.snapshotLoop()) h.onSnapshot(p); // older than the gap below: useless for it
    ch.next(); // lost on both feeds
    const rest = Array.from({ length: 40 }, () => ch.next());
    const loop = ch.snapshotLoop();
    for (const p of loop) h.onSnapshot(p); // cached while live (not recovering)
    expect(h.recovery.snapshotsIgnored).toBe(6);
    for (const p of rest) both(p);
    // The gap was declared after 8 waiting packets; the newer cached loop recovered it at once.
    expect(h.recovery).toMatchObject({ started: 1, completed: 1 });
    expect(h.isRecovering).toBe(false);
    expectBooksMatchTruth();
  });

  it('an RptSeq gap (packet sequence intact) is recovered from a cached snapshot that includes the packet', () => {
    const { ch, h, both, status, expectBooksMatchTruth } = setup(7);
    for (let i = 0; i < 30; i++) both(ch.next());
    const ahead = Array.from({ length: 30 }, () => ch.next());
    for (const p of ch.snapshotLoop()) h.onSnapshot(p);
    // Packet 5 of `ahead` arrives emptied (same sequence number, no messages): its entries' RptSeq are skipped.
    ahead[5] = buildPacket(ahead[5].readUInt32LE(0), ahead[5].readBigUInt64LE(4), []);
    for (const p of ahead) both(p);
    expect(status.some((s) => s.type === 'instrumentGap')).toBe(true);
    expect(status.some((s) => s.type === 'gap')).toBe(false);
    expect(h.recovery).toMatchObject({ started: 1, completed: 1 });
    expectBooksMatchTruth();
  });

  it('forgets cached snapshots on a sequence restart', () => {
    const { ch, h, status } = setup(6);
    for (let i = 0; i < 30; i++) h.onIncremental('A', ch.next());
    for (const p of ch.snapshotLoop()) h.onSnapshot(p);
    const restarted = new SyntheticChannel(codec, { seed: 6, startTime: 1_800_000_000_000_000_000n });
    h.onIncremental('A', restarted.definitions());
    expect(status.some((s) => s.type === 'restart')).toBe(true);
    restarted.next(); // packet 2 lost: the old snapshots (LastMsgSeqNumProcessed 31) must not count
    for (let i = 0; i < 10; i++) h.onIncremental('A', restarted.next());
    expect(h.isRecovering).toBe(true);
    expect(h.recovery.snapshotsApplied).toBe(0);
  });
});
