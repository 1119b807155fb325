/**
 * Feed handler metrics: a log-linear latency histogram, a point-in-time snapshot of every counter,
 * and two renderings of it: Prometheus text (served on loopback at /metrics) and CloudWatch embedded
 * metric format (one JSON document per interval on stdout, which the CloudWatch agent or Lambda turns
 * into metrics). The names FeedHandlerStack alarms on come from src/contract/metrics.ts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FEED_METRICS } from '../contract/metrics';

/** Sub-buckets per power of two: 16 gives at most 1/16 (6.25%) relative error. */
const SUB_BITS = 4;
const SUB = 1 << SUB_BITS;
/** Values are clamped to 2^32 - 1 ns (4.29 s). */
const MAX_NS = 0xffffffff;
const BUCKETS = SUB + (32 - SUB_BITS) * SUB;

/**
 * Log-linear histogram of nanosecond values (HdrHistogram-like): exact below 16 ns, then 16 linear
 * sub-buckets per power of two. Recording is O(1) with no allocation.
 */
export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  /** Sum of recorded values in nanoseconds. */
  sum = 0;
  min = Infinity;
  max = 0;

  static index(ns: number): number {
    const v = ns <= 0 ? 0 : ns >= MAX_NS ? MAX_NS : Math.floor(ns);
    if (v < SUB) return v;
    const e = 31 - Math.clz32(v);
    return SUB + (e - SUB_BITS) * SUB + ((v >>> (e - SUB_BITS)) - SUB);
  }

  /** Smallest value of bucket `i` and the first value past it. */
  static bounds(i: number): [number, number] {
    if (i < SUB) return [i, i + 1];
    const e = Math.floor((i - SUB) / SUB) + SUB_BITS;
    const sub = (i - SUB) % SUB;
    const shift = 2 ** (e - SUB_BITS);
    return [(SUB + sub) * shift, (SUB + sub + 1) * shift];
  }

  record(ns: number): void {
    this.counts[LatencyHistogram.index(ns)]++;
    this.count++;
    this.sum += ns;
    if (ns < this.min) this.min = ns;
    if (ns > this.max) this.max = ns;
  }

  /**
   * The q-quantile (0..1) in nanoseconds: the upper edge of the bucket holding it, capped at the
   * largest value recorded (so it never under-reports). 0 when empty.
   */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(LatencyHistogram.bounds(i)[1] - 1, this.max);
    }
    return this.max;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = 0;
  }
}

export interface SubscriberMetrics {
  /** `udp:host:port` or `tcp:host:port`. */
  readonly id: string;
  readonly sent: number;
  /** Packets not delivered to this subscriber (send errors, or cut off for being slow). */
  readonly drops: number;
}

/** Everything the handler counts, at one instant. Counters are totals since start. */
export interface FeedMetricsSnapshot {
  readonly feeds: Record<'A' | 'B', { packets: number; duplicates: number; malformed: number }>;
  readonly delivered: number;
  readonly gaps: number;
  readonly gapPackets: number;
  readonly restarts: number;
  readonly recoveriesStarted: number;
  /** Recoveries completed from the snapshot loop. */
  readonly snapshotRecoveries: number;
  /** Gaps filled by TCP replay. */
  readonly replayRecoveries: number;
  /** TCP replays that failed and fell back to the snapshot loop. */
  readonly replayFailures: number;
  readonly recovering: boolean;
  readonly decodeErrors: Readonly<Record<string, number>>;
  readonly trades: number;
  readonly quotes: number;
  readonly subscribers: readonly SubscriberMetrics[];
  /** Events acknowledged by Kinesis and events that failed for good (when publishing to Kinesis). */
  readonly kinesis?: { readonly eventsSent: number; readonly eventsFailed: number; readonly records: number };
  /** Market-by-order books, when the handler builds them (`--books mbo|both`). */
  readonly orderBooks?: {
    readonly books: number;
    readonly staleBooks: number;
    readonly orders: number;
    readonly entries: number;
    readonly rejectedEntries: number;
    readonly unknownOrders: number;
    readonly snapshots: number;
    readonly snapshotsTooOld: number;
    readonly queueOverflows: number;
  };
  /** The decoder worker, when decoding runs on one (`decoder: 'worker'`). */
  readonly decoder?: {
    /** Bytes of packets relayed and not yet decoded. */
    readonly backlogBytes: number;
    /** Packets and snapshot packets not decoded because the worker was a whole ring behind. */
    readonly droppedPackets: number;
    readonly droppedSnapshots: number;
    /** Workers replaced after dying. */
    readonly restarts: number;
  };
  /** Receive (first copy) -> relayed and decoded (inline) or relayed and queued for the decoder worker, ns. */
  readonly latency: LatencyHistogram;
}

const M = FEED_METRICS;

const sum = (r: Readonly<Record<string, number>>): number => Object.values(r).reduce((a, b) => a + b, 0);
const drops = (s: FeedMetricsSnapshot): number => s.subscribers.reduce((a, x) => a + x.drops, 0);
const escapeLabel = (v: string): string =>
  v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** HELP text of each metric. A name ending in `_total` is a counter, feed_latency_seconds a summary, the others gauges. */
const HELP: Readonly<Record<string, string>> = {
  feed_packets_total: 'UDP packets received per feed, duplicates included.',
  feed_packets_per_second: 'Packets received per second per feed over the last interval.',
  feed_duplicates_total: 'Packets dropped by A/B arbitration as duplicates.',
  feed_malformed_packets_total: 'Packets shorter than the 12-byte header.',
  feed_delivered_packets_total: 'Unique packets delivered in sequence order.',
  feed_gaps_total: 'Gaps (packets lost on both feeds).',
  feed_gap_packets_total: 'Sequence numbers lost on both feeds.',
  feed_sequence_restarts_total: 'Sequence restarts at 1.',
  feed_recoveries_started_total: 'Snapshot-loop recoveries started.',
  feed_recoveries_total: 'Recoveries completed, by method.',
  feed_replay_failures_total: 'TCP replays that failed and fell back to the snapshot loop.',
  feed_recovering: '1 while books are stale and recovering.',
  feed_decode_errors_total: 'Framing and SBE errors, counted and skipped.',
  feed_events_total: 'Normalized events published.',
  feed_subscriber_packets_total: 'Packets relayed per subscriber.',
  feed_subscriber_drops_total:
    'Packets not delivered per subscriber (send errors, slow TCP subscriber cut off).',
  feed_kinesis_events_total: 'Events put into Kinesis, by outcome.',
  feed_kinesis_records_total: 'Kinesis records acknowledged.',
  feed_decoder_backlog_bytes: 'Packets relayed and waiting for the decoder worker.',
  feed_decoder_dropped_total: 'Packets not decoded (the decoder was a ring behind).',
  feed_decoder_restarts_total: 'Decoder workers replaced after dying.',
  feed_order_books: 'Market-by-order books, by state.',
  feed_orders_resting: 'Orders resting in the market-by-order books.',
  feed_order_entries_total: 'Market-by-order entries, by outcome.',
  feed_order_snapshots_total: 'Market-by-order snapshots (53/44), by outcome.',
  feed_order_queue_overflows_total: 'Order entries dropped because a stale book queued too many.',
  feed_latency_seconds: 'Packet receipt (first copy) to relayed and decoded.',
};

/** Prometheus text exposition format (version 0.0.4). `rates`: packets/s per feed over the last interval. */
export function prometheusText(
  s: FeedMetricsSnapshot,
  channel: string,
  rates: Record<'A' | 'B', number>,
): string {
  const out: string[] = [];
  const ch = `channel="${escapeLabel(channel)}"`;
  /** `rows`: one unlabelled value, or [labels, value] pairs. */
  const metric = (name: string, rows: number | Array<[string, number]>): void => {
    const type = name === 'feed_latency_seconds' ? 'summary' : name.endsWith('_total') ? 'counter' : 'gauge';
    out.push(`# HELP ${name} ${HELP[name]}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of typeof rows === 'number' ? [['', rows] as const] : rows)
      out.push(`${name}{${ch}${labels ? `,${labels}` : ''}} ${v}`);
  };
  /** One row per key: `label="key"`. */
  const by = (label: string, values: Record<string, number>): Array<[string, number]> =>
    Object.entries(values).map(([k, v]) => [`${label}="${escapeLabel(k)}"`, v]);
  const perFeed = (k: keyof FeedMetricsSnapshot['feeds']['A']) =>
    by('feed', { A: s.feeds.A[k], B: s.feeds.B[k] });
  const perSubscriber = (k: 'sent' | 'drops'): Array<[string, number]> =>
    s.subscribers.map((x) => [`subscriber="${escapeLabel(x.id)}"`, x[k]]);
  metric('feed_packets_total', perFeed('packets'));
  metric('feed_packets_per_second', by('feed', rates));
  metric('feed_duplicates_total', perFeed('duplicates'));
  metric('feed_malformed_packets_total', perFeed('malformed'));
  metric('feed_delivered_packets_total', s.delivered);
  metric('feed_gaps_total', s.gaps);
  metric('feed_gap_packets_total', s.gapPackets);
  metric('feed_sequence_restarts_total', s.restarts);
  metric('feed_recoveries_started_total', s.recoveriesStarted);
  metric(
    'feed_recoveries_total',
    by('method', { snapshot: s.snapshotRecoveries, replay: s.replayRecoveries }),
  );
  metric('feed_replay_failures_total', s.replayFailures);
  metric('feed_recovering', s.recovering ? 1 : 0);
  metric('feed_decode_errors_total', by('code', s.decodeErrors));
  metric('feed_events_total', by('type', { trade: s.trades, quote: s.quotes }));
  metric('feed_subscriber_packets_total', perSubscriber('sent'));
  metric('feed_subscriber_drops_total', perSubscriber('drops'));
  if (s.kinesis) {
    const k = s.kinesis;
    metric('feed_kinesis_events_total', by('outcome', { sent: k.eventsSent, failed: k.eventsFailed }));
    metric('feed_kinesis_records_total', k.records);
  }
  if (s.decoder) {
    const d = s.decoder;
    metric('feed_decoder_backlog_bytes', d.backlogBytes);
    metric(
      'feed_decoder_dropped_total',
      by('feed', { incremental: d.droppedPackets, snapshot: d.droppedSnapshots }),
    );
    metric('feed_decoder_restarts_total', d.restarts);
  }
  if (s.orderBooks) {
    const o = s.orderBooks;
    metric('feed_order_books', by('state', { live: o.books - o.staleBooks, stale: o.staleBooks }));
    metric('feed_orders_resting', o.orders);
    const entries = { received: o.entries, rejected: o.rejectedEntries, unknown_order: o.unknownOrders };
    metric('feed_order_entries_total', by('outcome', entries));
    metric('feed_order_snapshots_total', by('outcome', { applied: o.snapshots, too_old: o.snapshotsTooOld }));
    metric('feed_order_queue_overflows_total', o.queueOverflows);
  }
  const l = s.latency;
  const quantiles = ['0.5', '0.99', '0.999'];
  metric(
    'feed_latency_seconds',
    quantiles.map((q) => [`quantile="${q}"`, l.quantile(Number(q)) / 1e9]),
  );
  out.push(`feed_latency_seconds_sum{${ch}} ${l.sum / 1e9}`, `feed_latency_seconds_count{${ch}} ${l.count}`);
  return `${out.join('\n')}\n`;
}

/**
 * One CloudWatch embedded-metric-format document: counts since `prev` (deltas, summed by
 * CloudWatch per period), packets/s per feed and latency percentiles of the interval's histogram.
 * Per-subscriber drops ride along as a property (searchable in Logs Insights).
 */
export function emfDocument(
  s: FeedMetricsSnapshot,
  prev: FeedMetricsSnapshot | undefined,
  channel: string,
  rates: Record<'A' | 'B', number>,
  interval: LatencyHistogram,
  timestamp = Date.now(),
): Record<string, unknown> {
  const d = (f: (x: FeedMetricsSnapshot) => number): number => f(s) - (prev ? f(prev) : 0);
  const values: Array<[string, string, number]> = [
    [M.packetsA, 'Count', d((x) => x.feeds.A.packets)],
    [M.packetsB, 'Count', d((x) => x.feeds.B.packets)],
    ['PacketsPerSecondA', 'Count/Second', rates.A],
    ['PacketsPerSecondB', 'Count/Second', rates.B],
    [M.duplicates, 'Count', d((x) => x.feeds.A.duplicates + x.feeds.B.duplicates)],
    [M.gaps, 'Count', d((x) => x.gaps)],
    ['GapPackets', 'Count', d((x) => x.gapPackets)],
    [M.recoveries, 'Count', d((x) => x.snapshotRecoveries + x.replayRecoveries)],
    ['ReplayFailures', 'Count', d((x) => x.replayFailures)],
    [M.subscriberDrops, 'Count', d(drops)],
    ['DecodeErrors', 'Count', d((x) => sum(x.decodeErrors))],
    ['Events', 'Count', d((x) => x.trades + x.quotes)],
    ...(s.decoder
      ? ([
          ['DecoderBacklogBytes', 'Bytes', s.decoder.backlogBytes],
          ['DecoderDropped', 'Count', d((x) => x.decoder?.droppedPackets ?? 0)],
        ] as Array<[string, string, number]>)
      : []),
    ...(s.orderBooks
      ? ([
          ['OrderBooksStale', 'Count', s.orderBooks.staleBooks],
          ['OrderEntriesRejected', 'Count', d((x) => x.orderBooks?.rejectedEntries ?? 0)],
          ['OrderSnapshots', 'Count', d((x) => x.orderBooks?.snapshots ?? 0)],
        ] as Array<[string, string, number]>)
      : []),
    [M.latencyP50, 'Microseconds', interval.quantile(0.5) / 1e3],
    [M.latencyP99, 'Microseconds', interval.quantile(0.99) / 1e3],
    [M.latencyP999, 'Microseconds', interval.quantile(0.999) / 1e3],
  ];
  const doc: Record<string, unknown> = {
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: M.namespace,
          Dimensions: [[M.dimension]],
          Metrics: values.map(([Name, Unit]) => ({ Name, Unit })),
        },
      ],
    },
    [M.dimension]: channel,
  };
  for (const [name, , v] of values) doc[name] = v;
  const prevDrops = new Map(prev?.subscribers.map((x) => [x.id, x.drops]));
  doc.subscriberDrops = Object.fromEntries(
    s.subscribers.map((x) => [x.id, x.drops - (prevDrops.get(x.id) ?? 0)]),
  );
  doc.recovering = s.recovering;
  return doc;
}

export interface MetricsReporterOptions {
  /** Channel id: the `Channel` dimension and label. */
  readonly channel: string;
  /** Serve Prometheus text at http://127.0.0.1:<port>/metrics (0: any free port). Omit for none. */
  readonly port?: number;
  /** Where EMF documents go, one JSON line each (e.g. stdout). Omit for none. */
  readonly emf?: (line: string) => void;
  /** Seconds between EMF documents (and packets/s windows). @default 10 */
  readonly intervalSeconds?: number;
}

/** Periodic EMF output and the /metrics endpoint over a snapshot function. */
export class MetricsReporter {
  private prev: FeedMetricsSnapshot | undefined;
  private prevPackets = { A: 0, B: 0 };
  private prevAt = performance.now();
  private rates = { A: 0, B: 0 };
  /** Latency of the current EMF interval (the cumulative histogram is in the snapshot). */
  private readonly intervalLatency = new LatencyHistogram();
  private constructor(
    private readonly snapshot: () => FeedMetricsSnapshot,
    private readonly opts: MetricsReporterOptions,
    private readonly server: http.Server | null,
    private timer: NodeJS.Timeout | null,
  ) {}

  static async start(
    snapshot: () => FeedMetricsSnapshot,
    opts: MetricsReporterOptions,
  ): Promise<MetricsReporter> {
    let server: http.Server | null = null;
    if (opts.port !== undefined) {
      server = http.createServer();
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(opts.port, '127.0.0.1', () => resolve());
      });
    }
    const r = new MetricsReporter(snapshot, opts, server, null);
    server?.on('request', (req, res) => r.serve(req, res));
    const ms = (opts.intervalSeconds ?? 10) * 1000;
    r.timer = setInterval(() => r.tick(), ms);
    r.timer.unref();
    return r;
  }

  /** The port /metrics is served on. */
  get port(): number | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? (a as AddressInfo).port : undefined;
  }

  /** Records one latency sample in the EMF interval histogram too. */
  recordLatency(ns: number): void {
    this.intervalLatency.record(ns);
  }

  /** Current Prometheus text (rates from the last completed interval). */
  text(): string {
    return prometheusText(this.snapshot(), this.opts.channel, this.rates);
  }

  /** Closes an interval: updates packets/s and writes one EMF document. Called by the timer and on stop. */
  tick(): void {
    const s = this.snapshot();
    const now = performance.now();
    const dt = (now - this.prevAt) / 1000;
    if (dt > 0)
      this.rates = {
        A: Math.round((s.feeds.A.packets - this.prevPackets.A) / dt),
        B: Math.round((s.feeds.B.packets - this.prevPackets.B) / dt),
      };
    this.prevPackets = { A: s.feeds.A.packets, B: s.feeds.B.packets };
    this.prevAt = now;
    if (this.opts.emf) {
      const doc = emfDocument(s, this.prev, this.opts.channel, this.rates, this.intervalLatency);
      this.opts.emf(JSON.stringify(doc));
    }
    this.intervalLatency.reset();
    // Counters are copied: the snapshot's objects are live.
    this.prev = structuredClone({ ...s, latency: undefined }) as unknown as FeedMetricsSnapshot;
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    const body = this.text();
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body);
  }

  /** Writes a final EMF document (the last partial interval) and closes the endpoint. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.opts.emf) this.tick();
    if (this.server) {
      this.server.closeAllConnections();
      await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    }
  }
}
