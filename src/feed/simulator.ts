/**
 * `quant feed simulate`: publishes a synthetic channel as feeds A and B on (loopback) multicast, with
 * per-feed loss, duplication and reordering, plus a snapshot loop on the recovery feed. (FeedRunner,
 * `quant feed run`, lives in runner.ts and is re-exported here for existing importers.)
 */
import type { SbeCodec } from '../sbe/codec';
import { multicastSender, type Endpoint } from './net';
import { SyntheticChannel } from './synthetic';
import { mulberry32 } from '../synthetic/random';

export interface FeedImpairment {
  /** Probability a packet is not sent on this feed. */
  readonly loss?: number;
  /** Probability a packet is sent twice. */
  readonly dup?: number;
  /** Probability a packet is held back and sent after the next one. */
  readonly reorder?: number;
}

export interface SimulatorOptions {
  readonly feedA: Endpoint;
  readonly feedB: Endpoint;
  readonly snapshot?: Endpoint;
  readonly packets: number;
  /** Packets per second. @default 10000 */
  readonly rate?: number;
  readonly a?: FeedImpairment;
  readonly b?: FeedImpairment;
  /** Probability a packet is lost on both feeds (a real gap). @default 0 */
  readonly lossBoth?: number;
  /** Publish a snapshot loop every this many packets. @default 1000 */
  readonly snapshotEvery?: number;
  readonly seed?: number;
  readonly iface?: string;
  /** Snapshot loops published after the last packet, 20 ms apart. @default 10 */
  readonly finalLoops?: number;
  /** Where published packets are recorded as they go (e.g. a replay server's history). @default a new Map */
  readonly history?: Map<number, Buffer>;
  /** Market by order: order entries (46/47) and the 53 order snapshots on the recovery feed. @default false */
  readonly mbo?: boolean | { readonly chunkSize?: number };
}

export interface SimulatorResult {
  readonly channel: SyntheticChannel;
  readonly sentA: number;
  readonly sentB: number;
  readonly lostBoth: number;
  /** Every incremental packet published, by sequence number (what receivers must see byte-exact). */
  readonly published: Map<number, Buffer>;
}

const rng = mulberry32;

export async function runSimulator(codec: SbeCodec, opts: SimulatorOptions): Promise<SimulatorResult> {
  const sender = await multicastSender(opts.iface ?? '127.0.0.1');
  const r = rng(opts.seed ?? 11);
  const channel = new SyntheticChannel(codec, { seed: opts.seed ?? 11, mbo: opts.mbo });
  const rate = opts.rate ?? 10_000;
  const snapshotEvery = opts.snapshotEvery ?? 1000;
  const published = opts.history ?? new Map<number, Buffer>();
  const held: Record<'A' | 'B', Buffer | null> = { A: null, B: null };
  let sentA = 0;
  let sentB = 0;
  let lostBoth = 0;
  let snapshotSeq = 1;
  const sendFeed = (feed: 'A' | 'B', p: Buffer, imp: FeedImpairment = {}): void => {
    const to = feed === 'A' ? opts.feedA : opts.feedB;
    if (r() < (imp.loss ?? 0)) return;
    const copies = r() < (imp.dup ?? 0) ? 2 : 1;
    if (held[feed] === null && r() < (imp.reorder ?? 0)) {
      held[feed] = p;
      return;
    }
    for (let i = 0; i < copies; i++) sender.send(p, to);
    if (feed === 'A') sentA += copies;
    else sentB += copies;
    const h = held[feed];
    if (h) {
      held[feed] = null;
      sender.send(h, to);
      if (feed === 'A') sentA++;
      else sentB++;
    }
  };
  const publish = (p: Buffer, reliable = false): void => {
    published.set(p.readUInt32LE(0), p);
    if (!reliable && r() < (opts.lossBoth ?? 0)) {
      lostBoth++;
      return;
    }
    sendFeed('A', p, reliable ? {} : opts.a);
    sendFeed('B', p, reliable ? {} : opts.b);
  };
  const snapshots = (): void => {
    if (!opts.snapshot) return;
    const loop = channel.snapshotLoop(snapshotSeq);
    snapshotSeq += loop.length;
    for (const p of loop) sender.send(p, opts.snapshot);
  };
  publish(channel.definitions(), true);
  const started = performance.now();
  let sent = 0;
  while (sent < opts.packets) {
    const due = Math.min(opts.packets, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
    while (sent < due) {
      publish(channel.next());
      sent++;
      if (sent % snapshotEvery === 0) snapshots();
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  for (const f of ['A', 'B'] as const) {
    const h = held[f];
    if (h) sender.send(h, f === 'A' ? opts.feedA : opts.feedB);
  }
  // The snapshot loop keeps cycling for a while after the last packet (as the exchange's does), so a
  // receiver that declares a gap late (timeout) still finds snapshots to recover from.
  for (let i = 0; i < (opts.finalLoops ?? 10); i++) {
    snapshots();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await sender.close();
  return { channel, sentA, sentB, lostBoth, published };
}

export { FeedRunner, type FeedRunnerOptions } from './runner';
