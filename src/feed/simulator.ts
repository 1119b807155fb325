/**
 * `quant feed simulate`: publishes a synthetic channel as feeds A and B on (loopback) multicast, with
 * per-feed loss, duplication and reordering, plus a snapshot loop on the recovery feed. And
 * `quant feed run`: joins the feeds, runs the handler and relays arbitrated packets.
 */
import type { MarketEvent } from '../market-data/events';
import type { SbeCodec } from '../sbe/codec';
import { FeedHandler, type BookKinds, type HandlerStatus } from './handler';
import { LatencyHistogram, MetricsReporter, type FeedMetricsSnapshot } from './metrics';
import type { OrderBookBuilder } from './order-book';
import { ReplayClient, type ReplayCredentials } from './tcp-replay';
import {
  joinMulticast,
  multicastSender,
  Relay,
  type Endpoint,
  type MulticastReceiver,
  type RelayOptions,
} from './net';
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

export interface FeedRunnerOptions {
  readonly feedA: Endpoint;
  readonly feedB: Endpoint;
  readonly snapshot?: Endpoint;
  readonly relay?: RelayOptions;
  readonly iface?: string;
  readonly gapPacketThreshold?: number;
  readonly gapTimeoutMs?: number;
  readonly onEvent?: (e: MarketEvent) => void;
  readonly onStatus?: (s: HandlerStatus) => void;
  /** Wait for the snapshot loop before publishing quotes (joining a running session). @default true */
  readonly recoverAtStart?: boolean;
  /** Books to build: market by price, by order (MBOFD, quotes from it), or both. @default 'mbp' */
  readonly books?: BookKinds;
  /** Channel id (metrics dimension, replay ApplID). @default '1' */
  readonly channel?: string;
  /** TCP replay server for gaps of at most `maxGapPackets` (default 2000); larger gaps use the snapshot loop. */
  readonly replay?: {
    readonly server: Endpoint;
    /** Username and password of the replay service's FIX logon. */
    readonly credentials: ReplayCredentials;
    readonly maxGapPackets?: number;
    readonly timeoutMs?: number;
  };
  /** Prometheus /metrics on 127.0.0.1:port (0: any free port) and/or EMF lines to `emf`. */
  readonly metrics?: {
    readonly port?: number;
    readonly emf?: (line: string) => void;
    readonly intervalSeconds?: number;
  };
  /** Kinesis counters for the metrics (the producer's stats, when events go to Kinesis). */
  readonly kinesisStats?: () => { eventsSent: number; eventsFailed: number; recordsSent: number };
}

/** The running handler: multicast receivers, FeedHandler, relay, metrics and a gap-timeout poller. */
export class FeedRunner {
  readonly latency = new LatencyHistogram();
  readonly events = { trades: 0, quotes: 0 };
  metrics: MetricsReporter | null = null;
  replayClient: ReplayClient | null = null;
  private receivers: MulticastReceiver[] = [];
  private timer: NodeJS.Timeout | undefined;
  // Assigned in start() before any packet can arrive.
  handler!: FeedHandler;

  private constructor(
    readonly relay: Relay | null,
    private readonly opts: FeedRunnerOptions,
  ) {}

  static async start(codec: SbeCodec, opts: FeedRunnerOptions): Promise<FeedRunner> {
    const relay = opts.relay ? await Relay.start(opts.relay) : null;
    const runner = new FeedRunner(relay, opts);
    const channel = opts.channel ?? '1';
    if (opts.replay) {
      const applId = Number(channel);
      runner.replayClient = new ReplayClient({
        server: opts.replay.server,
        channel: Number.isInteger(applId) ? applId : 0,
        credentials: opts.replay.credentials,
        timeoutMs: opts.replay.timeoutMs,
      });
    }
    const onEvent = opts.onEvent;
    const client = runner.replayClient;
    const handler = new FeedHandler(
      codec,
      (e) => {
        if (e.type === 'trade') runner.events.trades++;
        else runner.events.quotes++;
        onEvent?.(e);
      },
      opts.onStatus ?? (() => {}),
      {
        arbiter: { gapPacketThreshold: opts.gapPacketThreshold ?? 64, gapTimeoutMs: opts.gapTimeoutMs ?? 20 },
        onArbitrated: relay ? (buf) => relay.send(buf) : undefined,
        recoverAtStart: opts.recoverAtStart ?? true,
        books: opts.books,
        onLatency: opts.metrics
          ? (ns) => {
              runner.latency.record(ns);
              runner.metrics?.recordLatency(ns);
            }
          : undefined,
        replay: client
          ? { request: (from, to) => client.request(from, to), maxGapPackets: opts.replay?.maxGapPackets }
          : undefined,
      },
    );
    runner.handler = handler;
    if (opts.metrics)
      runner.metrics = await MetricsReporter.start(() => runner.snapshot(), { channel, ...opts.metrics });
    const iface = opts.iface ?? '127.0.0.1';
    runner.receivers.push(
      await joinMulticast(opts.feedA, (b) => handler.onIncremental('A', b), iface),
      await joinMulticast(opts.feedB, (b) => handler.onIncremental('B', b), iface),
    );
    if (opts.snapshot)
      runner.receivers.push(await joinMulticast(opts.snapshot, (b) => handler.onSnapshot(b), iface));
    runner.timer = setInterval(() => handler.poll(), 5);
    return runner;
  }

  /** Every counter now (what /metrics and EMF report). */
  snapshot(): FeedMetricsSnapshot {
    const h = this.handler;
    const a = h.arbiter.stats;
    const feed = (f: 'A' | 'B') => ({
      packets: a.feeds[f].packets,
      duplicates: a.feeds[f].duplicates,
      malformed: a.feeds[f].malformed,
    });
    const k = this.opts.kinesisStats?.();
    return {
      feeds: { A: feed('A'), B: feed('B') },
      delivered: a.delivered,
      gaps: a.gaps,
      gapPackets: a.gapPackets,
      restarts: a.restarts,
      recoveriesStarted: h.recovery.started,
      snapshotRecoveries: h.recovery.completed,
      replayRecoveries: h.recovery.replayRecovered,
      replayFailures: h.recovery.replayFailed,
      recovering: h.isRecovering,
      decodeErrors: { ...h.decodeStats.errors },
      trades: this.events.trades,
      quotes: this.events.quotes,
      subscribers: this.relay?.subscribers() ?? [],
      kinesis: k && { eventsSent: k.eventsSent, eventsFailed: k.eventsFailed, records: k.recordsSent },
      orderBooks: h.orderBooks ? orderBookMetrics(h.orderBooks) : undefined,
      latency: this.latency,
    };
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.receivers.map((r) => r.close()));
    // Outstanding TCP replays settle (answer or time out) and their packets are relayed first.
    await this.handler.idle();
    await this.relay?.close();
    await this.metrics?.stop();
  }
}

/** The metrics' view of the market-by-order books. */
function orderBookMetrics(b: OrderBookBuilder): NonNullable<FeedMetricsSnapshot['orderBooks']> {
  return {
    books: b.instruments().length,
    staleBooks: b.staleInstruments().length,
    orders: b.orderCount(),
    entries: b.stats.orderEntries,
    rejectedEntries: b.stats.rejectedEntries,
    unknownOrders: b.stats.unknownOrders,
    snapshots: b.stats.snapshots,
    snapshotsTooOld: b.stats.snapshotsTooOld,
    queueOverflows: b.stats.queueOverflows,
  };
}
