import { describe, expect, it } from 'vitest';
import { Arbiter, type ArbiterEvent, type ArbitratedPacket, type FeedId } from '../../../src/feed/arbiter';
import { buildPacket } from '../../../src/feed/packet';
import { rng } from './helpers';

function pkt(seq: number, t = 1_000n + BigInt(seq)): Buffer {
  return buildPacket(seq, t, [Buffer.from([10, 0, 0, 0, 12, 0, 1, 0, 9, 0])]);
}

function harness(opts: { gapPacketThreshold?: number; gapTimeoutMs?: number } = {}) {
  let clock = 0;
  const delivered: ArbitratedPacket[] = [];
  const events: ArbiterEvent[] = [];
  const arb = new Arbiter(
    (p) => delivered.push(p),
    (e) => events.push(e),
    { ...opts, now: () => clock },
  );
  return {
    arb,
    delivered,
    events,
    seqs: () => delivered.map((p) => p.seq),
    send: (feed: FeedId, ...seqs: number[]) => seqs.forEach((s) => arb.onPacket(feed, pkt(s))),
    advance: (ms: number) => {
      clock += ms;
      arb.poll();
    },
  };
}

describe('A/B arbitration', () => {
  it('delivers the first arrival and drops the other copy, whichever feed leads', () => {
    const h = harness();
    h.send('A', 1, 2);
    h.send('B', 1, 2, 3);
    h.send('A', 3, 4);
    h.send('B', 4);
    expect(h.seqs()).toEqual([1, 2, 3, 4]);
    expect(h.delivered.map((p) => p.feed)).toEqual(['A', 'A', 'B', 'A']);
    expect(h.arb.stats.feeds.A).toMatchObject({ packets: 4, won: 3, duplicates: 1 });
    expect(h.arb.stats.feeds.B).toMatchObject({ packets: 4, won: 1, duplicates: 3 });
    expect(h.events).toEqual([]);
  });

  it('loss on one feed only is filled by the other and is not a gap', () => {
    const h = harness({ gapPacketThreshold: 3 });
    h.send('A', 10, 11, 13, 14); // A lost 12
    h.send('B', 10, 11, 12, 13, 14);
    expect(h.seqs()).toEqual([10, 11, 12, 13, 14]);
    expect(h.events).toEqual([]);
    expect(h.arb.stats.reordered).toBe(2);
    expect(h.arb.stats.gaps).toBe(0);
  });

  it('a hole on both feeds becomes a gap after the packet threshold', () => {
    const h = harness({ gapPacketThreshold: 3, gapTimeoutMs: 1e9 });
    h.send('A', 1, 2, 5, 6);
    h.send('B', 1, 2, 5, 6);
    expect(h.seqs()).toEqual([1, 2]);
    h.send('A', 7);
    expect(h.events).toEqual([{ type: 'gap', from: 3, to: 4, reason: 'packets' }]);
    expect(h.seqs()).toEqual([1, 2, 5, 6, 7]);
    h.send('B', 3, 4, 7); // late copies after the gap are duplicates, never redelivered
    expect(h.seqs()).toEqual([1, 2, 5, 6, 7]);
    expect(h.arb.stats).toMatchObject({ gaps: 1, gapPackets: 2 });
  });

  it('a hole becomes a gap after the timeout even when no more packets come', () => {
    const h = harness({ gapPacketThreshold: 100, gapTimeoutMs: 20 });
    h.send('A', 1, 3);
    h.advance(19);
    expect(h.events).toEqual([]);
    h.advance(1);
    expect(h.events).toEqual([{ type: 'gap', from: 2, to: 2, reason: 'timeout' }]);
    expect(h.seqs()).toEqual([1, 3]);
  });

  it('handles a sequence restart at 1 but not a late duplicate of packet 1', () => {
    const h = harness();
    h.send('A', 1, 2, 3);
    h.arb.onPacket('B', pkt(1)); // late copy with the old SendingTime: duplicate
    expect(h.seqs()).toEqual([1, 2, 3]);
    h.arb.onPacket('B', pkt(1, 99_999n)); // newer SendingTime: the channel restarted
    h.arb.onPacket('A', pkt(1, 99_999n));
    h.arb.onPacket('A', pkt(2, 100_000n));
    expect(h.seqs()).toEqual([1, 2, 3, 1, 2]);
    expect(h.events).toEqual([{ type: 'restart', previous: 4 }]);
  });

  it('counts packets too short for a header as malformed', () => {
    const h = harness();
    h.arb.onPacket('A', Buffer.alloc(5));
    expect(h.arb.stats.feeds.A.malformed).toBe(1);
    expect(h.seqs()).toEqual([]);
  });

  it('random loss, duplication and reordering on both feeds: every packet once, in order, gaps exactly where both lost', () => {
    const r = rng(7);
    const n = 20_000;
    const lostOnBoth = new Set<number>();
    const streams: Record<FeedId, number[]> = { A: [], B: [] };
    for (let s = 1; s <= n; s++) {
      const lostA = r() < 0.05;
      const lostB = r() < 0.05;
      if (lostA && lostB) lostOnBoth.add(s);
      if (!lostA) streams.A.push(s);
      if (!lostB) streams.B.push(s);
      if (r() < 0.02) streams.A.push(s); // duplicated on the same feed
    }
    // Each copy arrives at its sequence number plus up to 3 packets of jitter: both feeds reorder
    // locally and either may lead, but skew stays below the gap threshold.
    const arrivals: Array<{ key: number; feed: FeedId; seq: number }> = [];
    for (const f of ['A', 'B'] as const)
      for (const s of streams[f]) arrivals.push({ key: s + r() * 3, feed: f, seq: s });
    arrivals.sort((x, y) => x.key - y.key);
    const h = harness({ gapPacketThreshold: 8, gapTimeoutMs: 1e9 });
    for (const a of arrivals) h.send(a.feed, a.seq);
    h.advance(2e9);
    const got = h.seqs();
    const expected = Array.from({ length: n }, (_, i) => i + 1).filter((s) => !lostOnBoth.has(s));
    // Strictly increasing: nothing delivered twice or out of order.
    for (let i = 1; i < got.length; i++) expect(got[i]).toBeGreaterThan(got[i - 1]);
    const gapSeqs = new Set<number>();
    for (const e of h.events) if (e.type === 'gap') for (let s = e.from; s <= e.to; s++) gapSeqs.add(s);
    // Neighbour swaps never push a packet past the threshold: gaps are exactly the double losses.
    const sorted = (x: Iterable<number>): number[] => [...x].sort((a, b) => a - b);
    expect(sorted(gapSeqs)).toEqual(sorted(lostOnBoth).filter((s) => s < n));
    expect(got).toEqual(expected);
    expect(lostOnBoth.size).toBeGreaterThan(10);
  });
});
