/**
 * Market-by-order books end to end on loopback multicast: the simulator publishes an MBO channel
 * (order entries in 46 and 47, chunked 53 order snapshots on the recovery feed) with loss on each
 * feed and on both; the runner joins mid-stream, recovers from the snapshot loop and must end with
 * order books equal to the generator's orders and consistent with its MBP books.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FeedRunner, runSimulator } from '../../../src/feed/simulator';
import { emfDocument, prometheusText } from '../../../src/feed/metrics';
import { compareWithMbp } from '../../../src/feed/order-book';
import { SbeCodec } from '../../../src/sbe/codec';
import { loadSchema } from '../../../src/sbe/schema';
import { runQuant } from '../../helpers/quant-cli';
import { SCHEMA } from '../../unit/feed/helpers';

const codec = new SbeCodec(loadSchema(SCHEMA));
const base = 20000 + Math.floor(Math.random() * 30000);
const group = (n: number) => ({ host: `239.253.${(base >> 8) & 0xff}.${n}`, port: base + n });

const closers: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

describe('market-by-order feed on loopback multicast', () => {
  it('simulate --mbo -> run (books both): order books recover from gaps and match the generator and the MBP books', async () => {
    const runner = await FeedRunner.start(codec, {
      feedA: group(1),
      feedB: group(2),
      snapshot: group(3),
      gapPacketThreshold: 32,
      gapTimeoutMs: 50,
      books: 'both',
    });
    closers.push(() => runner.stop());
    const sim = await runSimulator(codec, {
      feedA: group(1),
      feedB: group(2),
      snapshot: group(3),
      packets: 2500,
      // Slow enough for the handler (same process as the generator) to keep up: the order books are
      // built incrementally, not only from the final snapshot loops.
      rate: 1000,
      a: { loss: 0.03, dup: 0.01, reorder: 0.02 },
      b: { loss: 0.03, dup: 0.01, reorder: 0.02 },
      lossBoth: 0.0008,
      snapshotEvery: 500,
      mbo: { chunkSize: 5 },
    });
    const last = sim.channel.lastSeq;
    const h = runner.handler;
    await waitFor(() => h.arbiter.nextSeq > last && !h.isRecovering, 10_000);
    expect(h.arbiter.nextSeq).toBe(last + 1);
    expect(h.isRecovering).toBe(false);
    expect(h.decodeStats.errors).toEqual({});
    expect(sim.lostBoth).toBeGreaterThan(0);
    expect(h.arbiter.stats.gaps).toBeGreaterThan(0);
    const ob = h.orderBooks!;
    // Startup and every gap were recovered from 53 snapshots (no TCP replay configured).
    expect(ob.stats.snapshots).toBeGreaterThanOrEqual(6);
    expect(ob.stats).toMatchObject({ rejectedEntries: 0, duplicateOrders: 0 });
    // Built incrementally between recoveries, and entries queued while stale were replayed.
    expect(ob.stats.added).toBeGreaterThan(300);
    expect(ob.stats.deleted).toBeGreaterThan(200);
    expect(ob.stats.replayedEntries).toBeGreaterThan(0);
    for (const id of sim.channel.securityIds) {
      const book = ob.book(id)!;
      expect(book.stale).toBe(false);
      const got = [...book.bids, ...book.asks].flatMap((l) =>
        l.orders.map((o) => ({ orderId: o.orderId, qty: o.qty, price: o.price, priority: o.priority })),
      );
      const want = sim.channel
        .orders(id)
        .map((o) => ({ orderId: o.orderId, qty: o.qty, price: o.price, priority: o.priority }));
      expect(got).toEqual(want);
      const mbp = h.books.book(id)!;
      expect(mbp.bids).toEqual(sim.channel.truth(id)!.bids);
      expect(compareWithMbp(ob, id, 'bid', mbp.bids, mbp.depth)).toEqual([]);
      expect(compareWithMbp(ob, id, 'ask', mbp.asks, mbp.depth)).toEqual([]);
    }
    // The metrics report the same books: /metrics text and the EMF document.
    const snap = runner.snapshot();
    const resting = sim.channel.securityIds.reduce((n, id) => n + sim.channel.orders(id).length, 0);
    expect(snap.orderBooks).toEqual({
      books: 3,
      staleBooks: 0,
      orders: resting,
      entries: ob.stats.orderEntries,
      rejectedEntries: 0,
      unknownOrders: ob.stats.unknownOrders,
      snapshots: ob.stats.snapshots,
      snapshotsTooOld: ob.stats.snapshotsTooOld,
      queueOverflows: 0,
    });
    const text = prometheusText(snap, '310', { A: 0, B: 0 });
    expect(text).toContain(`feed_orders_resting{channel="310"} ${resting}`);
    expect(text).toContain('feed_order_books{channel="310",state="stale"} 0');
    expect(text).toContain(
      `feed_order_snapshots_total{channel="310",outcome="applied"} ${ob.stats.snapshots}`,
    );
    const emf = emfDocument(snap, undefined, '310', { A: 0, B: 0 }, snap.latency);
    expect(emf).toMatchObject({
      OrderBooksStale: 0,
      OrderEntriesRejected: 0,
      OrderSnapshots: ob.stats.snapshots,
    });
  }, 30_000);

  it('quant feed run --books mbo --order-events: order books on the decoder worker, quotes from them, every order change in the JSONL; bad flags exit 2', async () => {
    const bad = await runQuant(['feed', 'run', '--schema', SCHEMA, '--books', 'l3']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--books: "l3" is not one of mbp, mbo, both');
    const badDecoder = await runQuant(['feed', 'run', '--schema', SCHEMA, '--decoder', 'gpu']);
    expect(badDecoder.code).toBe(2);
    expect(badDecoder.err).toContain('--decoder: "gpu" is not one of worker, inline');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'order-events-'));
    closers.push(() => rmSync(dir, { recursive: true, force: true }));
    const eventsFile = path.join(dir, 'orders.jsonl');
    const noMbo = await runQuant(['feed', 'run', '--schema', SCHEMA, '--order-events', eventsFile]);
    expect(noMbo.code).toBe(2);
    expect(noMbo.err).toContain('--order-events: needs market-by-order books (--books mbo or both)');
    const unwritable = await runQuant([
      'feed',
      'run',
      '--schema',
      SCHEMA,
      '--books',
      'mbo',
      '--order-events',
      path.join(dir, 'missing-dir', 'orders.jsonl'),
    ]);
    expect(unwritable.code).toBe(2);
    expect(unwritable.err).toContain('--order-events: cannot write');

    const ep = (n: number) => `${group(10 + n).host}:${group(10 + n).port}`;
    const cli = runQuant([
      'feed',
      'run',
      '--schema',
      SCHEMA,
      '--feed-a',
      ep(1),
      '--feed-b',
      ep(2),
      '--snapshot',
      ep(3),
      '--books',
      'mbo',
      '--order-events',
      eventsFile,
      '--duration',
      '3',
      '--json',
    ]);
    await new Promise((r) => setTimeout(r, 500)); // the handler joins before the simulator starts
    await runSimulator(codec, {
      feedA: group(11),
      feedB: group(12),
      snapshot: group(13),
      packets: 1200,
      rate: 1000,
      snapshotEvery: 400,
      mbo: true,
    });
    const r = await cli;
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out) as {
      quotes: number;
      orderEvents: number;
      decoder: { droppedPackets: number; restarts: number };
      orderBooks: { instruments: number; orders: number; snapshots: number; rejectedEntries: number };
    };
    expect(summary.decoder).toMatchObject({ droppedPackets: 0, restarts: 0 });
    // Replaying the order events rebuilds the books: as many resting orders as the summary counts.
    const lines = readFileSync(eventsFile, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(summary.orderEvents);
    const resting = new Map<string, Set<string>>();
    for (const line of lines) {
      const e = JSON.parse(line) as { type: string; action: string; securityId: number; orderId?: string };
      expect(e.type).toBe('order');
      const book = resting.get(String(e.securityId)) ?? new Set<string>();
      resting.set(String(e.securityId), book);
      if (e.action === 'clear') book.clear();
      else if (e.action === 'delete') expect(book.delete(e.orderId!)).toBe(true);
      else book.add(e.orderId!);
    }
    expect([...resting.values()].reduce((n, b) => n + b.size, 0)).toBe(summary.orderBooks.orders);
    expect(summary.quotes).toBeGreaterThan(0);
    expect(summary.orderBooks.instruments).toBe(3);
    expect(summary.orderBooks.orders).toBeGreaterThan(30);
    expect(summary.orderBooks.snapshots).toBeGreaterThanOrEqual(3);
    expect(summary.orderBooks.rejectedEntries).toBe(0);
  }, 30_000);
});
