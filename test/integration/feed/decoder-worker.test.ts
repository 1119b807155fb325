/**
 * The decoder worker (a real worker thread, fed through the shared packet ring) against the inline
 * handler on the same packets: the same events in the same order and the same counters; a ring too
 * small for a burst drops packets for decoding only and the books come back from the snapshot loop;
 * a worker that dies is replaced and recovers the same way.
 */
import { describe, expect, it } from 'vitest';
import type { OrderEvent, QuoteEvent, TradeEvent } from '../../../src/market-data/events';
import { DecoderThread } from '../../../src/feed/decoder-thread';
import { engineStats } from '../../../src/feed/decoder-worker';
import { FeedHandler } from '../../../src/feed/handler';
import { PacketSequencer } from '../../../src/feed/sequencer';
import { SyntheticChannel } from '../../../src/feed/synthetic';
import { SbeCodec } from '../../../src/sbe/codec';
import { loadSchema } from '../../../src/sbe/schema';
import { mulberry32 } from '../../../src/synthetic/random';
import { SCHEMA } from '../../unit/feed/helpers';

const codec = new SbeCodec(loadSchema(SCHEMA));
type AnyEvent = TradeEvent | QuoteEvent | OrderEvent;

/** Events without the local receive time (each thread reads its own clock). */
const comparable = (events: AnyEvent[]): unknown[] =>
  events.map(({ receiveTs: _receiveTs, ...rest }) => rest);

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
}

/** A channel's packets with some lost on both feeds, and a snapshot loop every `every` packets. */
function stream(seed: number, packets: number, every: number, lossBoth: number) {
  const ch = new SyntheticChannel(codec, { seed, mbo: { chunkSize: 3 } });
  const rand = mulberry32(seed + 1);
  const steps: Array<{ kind: 'inc' | 'snap'; buf: Buffer }> = [];
  for (const buf of ch.snapshotLoop(1)) steps.push({ kind: 'snap', buf });
  let loop = 1_000;
  for (let i = 1; i <= packets; i++) {
    const buf = ch.next();
    if (rand() >= lossBoth) steps.push({ kind: 'inc', buf });
    if (i % every === 0) for (const s of ch.snapshotLoop((loop += 100))) steps.push({ kind: 'snap', buf: s });
  }
  for (const s of ch.snapshotLoop((loop += 100))) steps.push({ kind: 'snap', buf: s });
  return { ch, steps };
}

describe('decoder worker', () => {
  it('emits exactly what the inline handler emits (trades, quotes, order events) and ends with the same counters', async () => {
    const { steps } = stream(11, 3000, 400, 0.004);
    const opts = { books: 'both' as const, recoverAtStart: true, arbiter: { gapPacketThreshold: 4 } };

    const inlineEvents: AnyEvent[] = [];
    const inline = new FeedHandler(codec, (e) => inlineEvents.push(e), undefined, {
      ...opts,
      onOrder: (e) => inlineEvents.push(e),
    });
    for (const s of steps) {
      if (s.kind === 'snap') inline.onSnapshot(s.buf);
      else inline.onIncremental('A', s.buf);
    }

    const workerEvents: AnyEvent[] = [];
    const decoder = DecoderThread.start(codec, (e) => workerEvents.push(e), undefined, {
      books: opts.books,
      recoverAtStart: true,
      onOrder: (e) => workerEvents.push(e),
    });
    const sequencer = new PacketSequencer(decoder, { arbiter: opts.arbiter });
    for (const s of steps) {
      if (s.kind === 'snap') decoder.onSnapshot(s.buf);
      else sequencer.onIncremental('A', s.buf);
    }
    const stats = await decoder.close();

    expect(inline.arbiter.stats.gaps).toBeGreaterThan(3);
    expect(inline.recovery.completed).toBeGreaterThan(3);
    expect(inlineEvents.filter((e) => e.type === 'order').length).toBeGreaterThan(1000);
    expect(inlineEvents.filter((e) => e.type === 'trade').length).toBeGreaterThan(100);
    expect(workerEvents.length).toBe(inlineEvents.length);
    expect(comparable(workerEvents)).toEqual(comparable(inlineEvents));
    expect(stats).toEqual(engineStats(inline.engine));
    expect(decoder.stats).toMatchObject({ droppedPackets: 0, droppedSnapshots: 0, restarts: 0 });
  });

  it('a burst beyond the ring drops packets for decoding only; the books recover from the snapshot loop', async () => {
    const ch = new SyntheticChannel(codec, { seed: 5 });
    const quotes: QuoteEvent[] = [];
    // 1 KiB: a few packets. The worker is still starting (loading its modules) during the burst.
    const decoder = DecoderThread.start(codec, (e) => e.type === 'quote' && quotes.push(e), undefined, {
      recoverAtStart: true,
      ringBytes: 1024,
    });
    const relayed: number[] = [];
    const sequencer = new PacketSequencer(decoder, { onArbitrated: (b) => relayed.push(b.readUInt32LE(0)) });
    for (let i = 0; i < 2000; i++) sequencer.onIncremental('A', ch.next());
    expect(decoder.stats.droppedPackets).toBeGreaterThan(1000);
    // The relay saw every packet, in order, whatever the decoder dropped.
    expect(relayed).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));

    // Paced from here on: each packet once the worker has caught up.
    const paced = async (buf: Buffer, snapshot = false): Promise<void> => {
      await waitFor(() => decoder.backlogBytes === 0, 5000);
      if (snapshot) decoder.onSnapshot(buf);
      else sequencer.onIncremental('A', buf);
    };
    for (const s of ch.snapshotLoop(1)) await paced(s, true);
    await waitFor(() => decoder.engineStats?.recovering === false, 5000);
    expect(decoder.engineStats?.recovering).toBe(false);
    const dropped = decoder.stats.droppedPackets;
    quotes.length = 0;
    for (let i = 0; i < 300; i++) await paced(ch.next());
    const stats = await decoder.close();
    expect(decoder.stats.droppedPackets).toBe(dropped);
    expect(stats.recovery.completed).toBeGreaterThanOrEqual(1);
    expect(stats.decodeStats.errors).toEqual({});
    // The recovered books track the generator: each instrument's last quote is its true top of book.
    for (const id of ch.securityIds) {
      const truth = ch.truth(id)!;
      // Without instrument definitions, events name an instrument by its SecurityID.
      const last = quotes.filter((q) => q.symbol === String(id)).at(-1);
      expect(last, `a quote for ${id} after recovery`).toBeDefined();
      expect({ bid: last!.bid, ask: last!.ask }).toEqual({
        bid: truth.bids[0]!.price,
        ask: truth.asks[0]!.price,
      });
    }
  });

  it('a worker that dies is replaced: the new one starts in recovery and the snapshot loop restores the books', async () => {
    const ch = new SyntheticChannel(codec, { seed: 9 });
    const quotes: QuoteEvent[] = [];
    const decoder = DecoderThread.start(codec, (e) => e.type === 'quote' && quotes.push(e), undefined, {
      recoverAtStart: true,
    });
    const sequencer = new PacketSequencer(decoder);
    for (const s of ch.snapshotLoop(1)) decoder.onSnapshot(s);
    for (let i = 0; i < 200; i++) sequencer.onIncremental('A', ch.next());
    await waitFor(() => decoder.engineStats?.recovering === false && decoder.backlogBytes === 0, 10_000);
    expect(decoder.engineStats?.recovering).toBe(false);

    // As if decoding had crashed the thread.
    await (decoder as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await waitFor(() => decoder.stats.restarts === 1, 5000);
    expect(decoder.stats.restarts).toBe(1);
    for (let i = 0; i < 100; i++) sequencer.onIncremental('A', ch.next());
    for (const s of ch.snapshotLoop(500)) decoder.onSnapshot(s);
    quotes.length = 0;
    for (let i = 0; i < 300; i++) sequencer.onIncremental('A', ch.next());
    const stats = await decoder.close();
    expect(stats.recovering).toBe(false);
    expect(stats.recovery.completed).toBe(1);
    for (const id of ch.securityIds) {
      const truth = ch.truth(id)!;
      const last = quotes.filter((q) => q.symbol === String(id)).at(-1);
      expect(last, `a quote for ${id} after the restart`).toBeDefined();
      expect({ bid: last!.bid, ask: last!.ask }).toEqual({
        bid: truth.bids[0]!.price,
        ask: truth.asks[0]!.price,
      });
    }
  });
});
