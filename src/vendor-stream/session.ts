/**
 * One vendor connection, vendor-neutral: connect, authenticate, subscribe; heartbeats and an idle
 * timeout; reconnect with exponential backoff and full jitter, then resubscribe; over every
 * disconnect, backfill the gap from the vendor's REST history endpoint; de-duplicate by trade id;
 * normalise into the platform's trade and quote events and send them through the ingestion
 * producer (src/ingest/producer.ts: KPL aggregation, partition key = symbol).
 *
 * Order per symbol: events are published in exchange-time order per symbol. While a gap is being
 * backfilled, the symbol's live events wait (bounded) and are merged with the backfill, so the
 * stream never carries a backfilled tick after a later live one. An event older than the last one
 * published for its symbol (and not a duplicate) is quarantined as `out_of_order`.
 *
 * `seq` (strictly increasing per symbol and venue, what the consumer checks): the exchange time in
 * µs, or the previous seq + 1 when that is not larger. It depends only on the data, so a restart
 * that receives the same ticks again gives them the same seqs, and the consumer and compaction
 * recognise them as duplicates.
 *
 * Bounded memory: the queue to the producer (`maxQueue` events), the events held during a backfill
 * (`maxHeld`), the de-duplication window (`dedupWindow` ids per symbol) and the producer's own
 * buffer; what does not fit is dropped and counted (`drops`).
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import WebSocket from 'ws';
import { NetworkError } from '../aws/network';
import { TickProducer, backoffDelay, type ProducerOptions } from '../ingest/producer';
import type { MarketEvent } from '../market-data/events';
import { RecentIds } from './dedup';
import { VendorAuthError, VendorRequestError } from './errors';
import type { QuarantineSink } from './quarantine';
import { RestGiveUpError, vendorGet, type RestOptions } from './rest';
import { nowNs } from './time';
import type {
  Channel,
  VendorAdapter,
  VendorBar,
  VendorItem,
  VendorKey,
  VendorQuote,
  VendorTrade,
} from './types';

export interface StreamStats {
  /** Trade, quote and bar messages received over the WebSocket (malformed ones included). */
  received: number;
  /** Events acknowledged by Kinesis. */
  published: number;
  /** Successful reconnections after a lost connection. */
  reconnects: number;
  /** Events recovered from the REST history endpoint (new ones only). */
  backfilled: number;
  /** Events dropped because their trade id (quote sequence / content) was already seen. */
  duplicates: number;
  /** Messages refused with a reason (malformed, out of order), see QuarantineSink. */
  quarantined: number;
  /** Minute bars received (not published: bars are built from ticks in the lake). */
  bars: number;
  /** Events dropped because a bounded queue was full. */
  drops: number;
  /** Symbol gaps backfilled / left unfilled after every retry. */
  gapsBackfilled: number;
  gapsUnfilled: number;
  /** REST calls answered 429/5xx or failed on the network, then retried. */
  restRetries: number;
  authFailures: number;
  heartbeatTimeouts: number;
  /** Smallest (receive − exchange) time seen, ms (negative: the vendor's clock is ahead). */
  clockSkewMs: number | null;
}

export interface VendorStreamOptions {
  readonly adapter: VendorAdapter;
  readonly key: VendorKey;
  readonly symbols: readonly string[];
  /** @default ['trades', 'quotes'] */
  readonly channels?: readonly Channel[];
  /** @default the adapter's */
  readonly url?: string;
  /** @default the adapter's */
  readonly restUrl?: string;
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  readonly producer?: Partial<Omit<ProducerOptions, 'kinesis' | 'streamName'>>;
  readonly quarantine: QuarantineSink;
  /** @default 10000 */
  readonly heartbeatMs?: number;
  /** No message or pong for this long: the connection is dead. @default 30000 */
  readonly idleTimeoutMs?: number;
  /** Open, greeting, auth and subscription acknowledgement, each. @default 10000 */
  readonly connectTimeoutMs?: number;
  /** @default 250 */
  readonly reconnectBaseMs?: number;
  /** @default 30000 */
  readonly reconnectMaxMs?: number;
  /** Attempts for the first connection (a wrong URL should not wait forever). @default 3 */
  readonly initialAttempts?: number;
  readonly rest?: Omit<RestOptions, 'onRetry' | 'signal'>;
  /** @default 100000 */
  readonly maxQueue?: number;
  /** @default 500000 */
  readonly maxHeld?: number;
  /** @default 50000 */
  readonly dedupWindow?: number;
  /** Concurrent backfill requests. @default 4 */
  readonly backfillConcurrency?: number;
  readonly random?: () => number;
  readonly onBar?: (b: VendorBar) => void;
  readonly log?: (
    level: 'info' | 'warn' | 'error',
    message: string,
    fields?: Record<string, unknown>,
  ) => void;
}

interface SymbolState {
  lastTs: bigint;
  lastSeq: number;
  readonly ids: RecentIds;
  held: Array<VendorTrade | VendorQuote>;
  /** Receive time of each held event. */
  heldRecv: bigint[];
  /** A live event was dropped from the full hold since the current backfill pass sent its requests. */
  overflowed?: boolean;
}

/** Per drained batch: when its first event arrived and what the producer had accepted after it. */
interface Pending {
  readonly acceptedAfter: number;
  readonly recvNs: bigint;
  readonly exchangeNs: bigint;
}

const MAX_SAMPLES = 10_000;

export function p99(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.99 * s.length) - 1)];
}

export class VendorStream {
  readonly stats: StreamStats = {
    received: 0,
    published: 0,
    reconnects: 0,
    backfilled: 0,
    duplicates: 0,
    quarantined: 0,
    bars: 0,
    drops: 0,
    gapsBackfilled: 0,
    gapsUnfilled: 0,
    restRetries: 0,
    authFailures: 0,
    heartbeatTimeouts: 0,
    clockSkewMs: null,
  };
  /** Latency samples since the last `takeInterval()`, ms. */
  private latReceive: number[] = [];
  private latEndToEnd: number[] = [];
  private intervalSkewNs: bigint | null = null;
  private skewNs: bigint | null = null;

  private readonly o: VendorStreamOptions;
  private readonly producer: TickProducer;
  private readonly channels: readonly Channel[];
  private readonly url: string;
  private readonly restUrl: string;
  private readonly state = new Map<string, SymbolState>();
  private ws: WebSocket | undefined;
  private live = false;
  private holding = false;
  private stopping = false;
  private subscribedAtNs: bigint | undefined;
  private generation = 0;
  private queue: MarketEvent[] = [];
  private draining: Promise<void> | undefined;
  private readonly pending: Pending[] = [];
  private recovery: Promise<void> = Promise.resolve();
  private heartbeat: NodeJS.Timeout | undefined;
  private lastActivity = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private wakeReconnect: (() => void) | undefined;
  private failure: Error | undefined;
  private failed!: (e: Error) => void;
  /** Rejects when the stream cannot go on (a refused key, a refused subscription). */
  readonly done: Promise<void>;
  private readonly items: VendorItem[] = [];

  constructor(o: VendorStreamOptions) {
    this.o = o;
    this.channels = o.channels ?? ['trades', 'quotes'];
    this.url = o.url ?? o.adapter.defaultUrl;
    this.restUrl = o.restUrl ?? o.adapter.defaultRestUrl;
    const kinesis = o.kinesis;
    // Acknowledgements drive the latency measurement: check after every PutRecords answer.
    const watched = {
      send: async (cmd: unknown) => {
        try {
          return await (kinesis.send as (c: unknown) => Promise<unknown>)(cmd);
        } finally {
          queueMicrotask(() => this.checkAcks());
        }
      },
    } as unknown as KinesisClient;
    this.producer = new TickProducer({ ...o.producer, kinesis: watched, streamName: o.streamName });
    for (const s of o.symbols)
      this.state.set(s, {
        lastTs: -1n,
        lastSeq: 0,
        ids: new RecentIds(o.dedupWindow ?? 50_000),
        held: [],
        heldRecv: [],
      });
    this.done = new Promise<void>((_, reject) => {
      this.failed = reject;
    });
    this.done.catch(() => undefined);
  }

  /** Connects (retrying `initialAttempts` times), authenticates and subscribes. */
  async start(): Promise<void> {
    const attempts = this.o.initialAttempts ?? 3;
    for (let i = 0; ; i++) {
      try {
        await this.connect();
        return;
      } catch (err) {
        if (err instanceof VendorAuthError || err instanceof VendorRequestError || i + 1 >= attempts) {
          if (err instanceof VendorAuthError) this.stats.authFailures++;
          throw err;
        }
        await new Promise((r) => setTimeout(r, this.backoff(i)));
      }
    }
  }

  private backoff(attempt: number): number {
    const base = this.o.reconnectBaseMs ?? 250;
    const cap = this.o.reconnectMaxMs ?? 30_000;
    // Full jitter, but never less than a fifth of the step: a flapping server is not hammered.
    return Math.max(base / 5, backoffDelay(attempt, base, cap, this.o.random ?? Math.random));
  }

  /** One connection attempt: resolves once subscribed; rejects on any failure before that. */
  private connect(): Promise<void> {
    const { adapter } = this.o;
    const timeoutMs = this.o.connectTimeoutMs ?? 10_000;
    return new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(this.url, { handshakeTimeout: timeoutMs, perMessageDeflate: false });
      let phase: 'greeting' | 'auth' | 'subscribe' | 'live' = 'greeting';
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const step = (next: typeof phase): void => {
        phase = next;
        clearTimeout(timer);
        if (next !== 'live')
          timer = setTimeout(
            () => fail(new Error(`${adapter.vendor}: no ${next} answer within ${timeoutMs} ms`)),
            timeoutMs,
          );
      };
      step('greeting');
      const fail = (err: Error): void => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        ws.removeAllListeners();
        ws.on('error', () => undefined);
        ws.terminate();
        reject(err);
      };
      ws.on('error', (err) => {
        if (!settled)
          fail(new NetworkError(`${adapter.vendor}: cannot connect to ${this.url}: ${err.message}`));
      });
      ws.on('close', (code, reason) => {
        if (!settled)
          fail(
            new Error(`${adapter.vendor}: connection closed during ${phase} (${code} ${reason.toString()})`),
          );
        else if (this.ws === ws) this.lost(`closed (${code} ${reason.toString()})`);
      });
      ws.on('pong', () => {
        this.lastActivity = performance.now();
      });
      ws.on('message', (data, isBinary) => {
        this.lastActivity = performance.now();
        const text = isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString();
        if (phase === 'live') {
          this.onFrame(text);
          return;
        }
        const items: VendorItem[] = [];
        adapter.parseFrame(text, items);
        for (const it of items) {
          if (it.kind === 'connected' && phase === 'greeting') {
            ws.send(adapter.authMessage(this.o.key));
            step('auth');
          } else if (it.kind === 'authenticated' && phase === 'auth') {
            ws.send(adapter.subscribeMessage(this.channels, this.o.symbols));
            step('subscribe');
          } else if (it.kind === 'auth_failed') {
            return fail(new VendorAuthError(adapter.vendor, it.message, this.subscribedAtNs !== undefined));
          } else if (it.kind === 'error') {
            return fail(
              it.fatal
                ? new VendorRequestError(adapter.vendor, it.message)
                : new Error(`${adapter.vendor}: ${it.message}`),
            );
          } else if (it.kind === 'subscribed' && phase === 'subscribe') {
            step('live');
            settled = true;
            this.ws = ws;
            this.onSubscribed();
            resolve();
          }
        }
        // Data sent right after the subscription acknowledgement, in the same frame.
        if ((phase as string) === 'live') this.onItems(items, nowNs(), 0);
      });
    });
  }

  private onSubscribed(): void {
    this.live = true;
    this.lastActivity = performance.now();
    const first = this.subscribedAtNs === undefined;
    if (first) this.subscribedAtNs = nowNs();
    this.startHeartbeat();
    if (!first) {
      this.stats.reconnects++;
      const gen = this.generation;
      this.recovery = this.recovery.then(() => this.backfill(gen));
    }
  }

  private startHeartbeat(): void {
    clearInterval(this.heartbeat);
    const every = this.o.heartbeatMs ?? 10_000;
    const idle = this.o.idleTimeoutMs ?? 30_000;
    this.heartbeat = setInterval(
      () => {
        const ws = this.ws;
        if (!ws || !this.live) return;
        if (performance.now() - this.lastActivity > idle) {
          this.stats.heartbeatTimeouts++;
          this.o.log?.('warn', `no message or pong for ${idle} ms: reconnecting`);
          ws.terminate();
          return;
        }
        ws.ping();
      },
      Math.min(every, idle / 2),
    );
    this.heartbeat.unref?.();
  }

  /** The live connection is gone: hold live events until the gap is backfilled, reconnect. */
  private lost(why: string): void {
    if (!this.live) return;
    this.live = false;
    this.ws = undefined;
    this.generation++;
    clearInterval(this.heartbeat);
    if (this.stopping) return;
    this.holding = true;
    this.o.log?.('warn', `connection lost: ${why}; reconnecting`);
    void this.reconnectLoop();
  }

  private async reconnectLoop(): Promise<void> {
    for (let attempt = 0; !this.stopping; attempt++) {
      await new Promise<void>((r) => {
        this.wakeReconnect = r;
        this.reconnectTimer = setTimeout(r, this.backoff(attempt));
      });
      if (this.stopping) return;
      try {
        await this.connect();
        return;
      } catch (err) {
        if (err instanceof VendorAuthError || err instanceof VendorRequestError) {
          if (err instanceof VendorAuthError) this.stats.authFailures++;
          this.fail(err);
          return;
        }
        this.o.log?.('warn', `reconnect attempt ${attempt + 1} failed: ${(err as Error).message}`);
      }
    }
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.o.log?.('error', err.message);
    this.failed(err);
  }

  private onFrame(text: string): void {
    const recv = nowNs();
    const items = this.items;
    items.length = 0;
    this.o.adapter.parseFrame(text, items);
    this.onItems(items, recv, 0);
  }

  private onItems(items: VendorItem[], recv: bigint, from: number): void {
    // Out of order inside one frame: put the frame's data in exchange-time order first.
    let prev = -1n;
    let sorted = true;
    for (let i = from; i < items.length; i++) {
      const it = items[i];
      if (it.kind === 'trade' || it.kind === 'quote') {
        if (it.tsNs < prev) sorted = false;
        prev = it.tsNs;
      }
    }
    if (!sorted) {
      const data = items.slice(from).filter((it) => it.kind === 'trade' || it.kind === 'quote') as Array<
        VendorTrade | VendorQuote
      >;
      data.sort((a, b) => (a.tsNs < b.tsNs ? -1 : a.tsNs > b.tsNs ? 1 : 0));
      let j = 0;
      for (let i = from; i < items.length; i++) {
        const k = items[i].kind;
        if (k === 'trade' || k === 'quote') items[i] = data[j++];
      }
    }
    for (let i = from; i < items.length; i++) {
      const it = items[i];
      switch (it.kind) {
        case 'trade':
        case 'quote': {
          this.stats.received++;
          const d = recv - it.tsNs;
          if (this.intervalSkewNs === null || d < this.intervalSkewNs) this.intervalSkewNs = d;
          if (this.skewNs === null || d < this.skewNs) this.skewNs = d;
          const st = this.state.get(it.symbol);
          if (st === undefined) {
            this.quarantine(
              'unsubscribed_symbol',
              `${it.symbol} was not subscribed`,
              JSON.stringify(it, bigintJson),
              'live',
            );
          } else if (this.holding) {
            if (st.held.length >= (this.o.maxHeld ?? 500_000)) {
              this.stats.drops++;
              st.overflowed = true;
            } else {
              st.held.push(it);
              st.heldRecv.push(recv);
            }
          } else this.admit(it, st, recv, 'live');
          break;
        }
        case 'bar':
          this.stats.received++;
          this.stats.bars++;
          this.o.onBar?.(it);
          break;
        case 'malformed':
          this.stats.received++;
          this.quarantine('malformed', it.reason, it.raw, 'live');
          break;
        case 'auth_failed':
          this.stats.authFailures++;
          this.fail(new VendorAuthError(this.o.adapter.vendor, it.message, true));
          break;
        case 'error':
          if (it.fatal) this.fail(new VendorRequestError(this.o.adapter.vendor, it.message));
          else this.o.log?.('warn', `${this.o.adapter.vendor} error: ${it.message}`);
          break;
        default:
          break;
      }
    }
    this.kick();
  }

  private quarantine(reason: string, detail: string, raw: string, source: 'live' | 'backfill'): void {
    this.stats.quarantined++;
    this.o.quarantine.add({
      reason,
      detail,
      vendor: this.o.adapter.vendor,
      receivedAt: new Date().toISOString(),
      source,
      raw,
    });
  }

  /** De-duplicates, orders and normalises one event into the queue. Returns true when queued. */
  private admit(
    it: VendorTrade | VendorQuote,
    st: SymbolState,
    recv: bigint,
    source: 'live' | 'backfill',
  ): boolean {
    const id = it.kind === 'trade' ? `t${it.exchange}:${it.id}` : `q${it.id}`;
    if (st.ids.has(id)) {
      this.stats.duplicates++;
      return false;
    }
    if (it.tsNs < st.lastTs) {
      this.quarantine(
        'out_of_order',
        `${it.kind} ${it.id} of ${it.symbol} at ${it.tsNs} ns is older than the last published (${st.lastTs} ns)`,
        JSON.stringify(it, bigintJson),
        source,
      );
      return false;
    }
    if (this.queue.length >= (this.o.maxQueue ?? 100_000)) {
      this.stats.drops++;
      return false;
    }
    st.ids.add(id);
    const us = Number(it.tsNs / 1000n);
    const seq = us > st.lastSeq ? us : st.lastSeq + 1;
    st.lastSeq = seq;
    st.lastTs = it.tsNs;
    const at = { symbol: it.symbol, venue: this.o.adapter.venue, seq, exchangeTs: it.tsNs, receiveTs: recv };
    this.queue.push(
      it.kind === 'trade'
        ? { type: 'trade', ...at, price: it.price, size: it.size }
        : { type: 'quote', ...at, bid: it.bid, bidSize: it.bidSize, ask: it.ask, askSize: it.askSize },
    );
    return true;
  }

  private kick(): void {
    if (this.draining === undefined && this.queue.length > 0) {
      this.draining = this.drain().finally(() => {
        this.draining = undefined;
        if (this.queue.length > 0) this.kick();
      });
    }
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      await this.producer.putAll(batch);
      this.pending.push({
        acceptedAfter: this.producer.stats.eventsAccepted,
        recvNs: batch[0].receiveTs,
        exchangeNs: batch[0].exchangeTs,
      });
    }
  }

  private checkAcks(): void {
    const sent = this.producer.stats.eventsSent + this.producer.stats.eventsFailed;
    this.stats.published = this.producer.stats.eventsSent;
    if (this.pending.length === 0 || this.pending[0].acceptedAfter > sent) return;
    const now = nowNs();
    while (this.pending.length > 0 && this.pending[0].acceptedAfter <= sent) {
      const p = this.pending.shift() as Pending;
      if (this.latReceive.length < MAX_SAMPLES) {
        this.latReceive.push(Number(now - p.recvNs) / 1e6);
        this.latEndToEnd.push(Number(now - p.exchangeNs) / 1e6);
      }
    }
  }

  /** Backfills every symbol's gap since its last published event, then releases the held events. */
  private async backfill(gen: number, pass = 0): Promise<void> {
    const { adapter } = this.o;
    // Drops from here on may be newer than what this pass's answers hold: they call for another pass.
    for (const st of this.state.values()) st.overflowed = false;
    const skew = this.skewNs ?? 0n;
    // The vendor's "now" may be ahead of ours; overlap with live events is removed by de-duplication.
    const toNs = nowNs() + 2_000_000_000n + (skew < 0n ? -skew : 0n);
    const start = (this.subscribedAtNs ?? nowNs()) - (skew > 0n ? skew : 0n);
    const channels = this.channels.filter((c): c is 'trades' | 'quotes' => c !== 'bars');
    const jobs: Array<{ symbol: string; channel: 'trades' | 'quotes'; fromNs: bigint }> = [];
    for (const [symbol, st] of this.state)
      for (const channel of channels)
        jobs.push({ symbol, channel, fromNs: st.lastTs >= 0n ? st.lastTs : start });
    const got = new Map<string, Array<VendorTrade | VendorQuote>>();
    const failedSymbols = new Set<string>();
    let recv = nowNs();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < jobs.length && !this.failure) {
        const j = jobs[next++];
        try {
          let req = adapter.backfillRequest(this.restUrl, this.o.key, j.channel, j.symbol, j.fromNs, toNs);
          for (;;) {
            const text = await vendorGet(adapter.vendor, req, {
              ...this.o.rest,
              onRetry: (status, delayMs) => {
                this.stats.restRetries++;
                this.o.log?.(
                  'warn',
                  `backfill ${j.channel} ${j.symbol}: ${status || 'network error'}, retry in ${Math.round(delayMs)} ms`,
                );
              },
            });
            recv = nowNs();
            const page = adapter.parseBackfill(req, this.o.key, j.channel, j.symbol, text);
            let list = got.get(j.symbol);
            if (!list) got.set(j.symbol, (list = []));
            for (const it of page.items) {
              if (it.kind === 'malformed') this.quarantine('malformed', it.reason, it.raw, 'backfill');
              else list.push(it);
            }
            if (!page.next) break;
            req = page.next;
          }
        } catch (err) {
          if (err instanceof VendorAuthError) {
            this.stats.authFailures++;
            this.fail(err);
            return;
          }
          failedSymbols.add(j.symbol);
          this.o.log?.(
            'error',
            `backfill of ${j.symbol} ${j.channel} failed, the gap stays open: ${(err as Error).message}`,
            {
              symbol: j.symbol,
              fromNs: j.fromNs.toString(),
              toNs: toNs.toString(),
              retriable: err instanceof RestGiveUpError,
            },
          );
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.o.backfillConcurrency ?? 4, jobs.length) }, worker));
    // Merge per symbol: backfilled first (so an equal-time live copy is the duplicate), then held.
    for (const [symbol, st] of this.state) {
      const from = got.get(symbol) ?? [];
      const merged: Array<[VendorTrade | VendorQuote, bigint, boolean]> = from.map((it) => [it, recv, true]);
      for (let i = 0; i < st.held.length; i++) merged.push([st.held[i], st.heldRecv[i], false]);
      st.held = [];
      st.heldRecv = [];
      merged.sort((a, b) => (a[0].tsNs < b[0].tsNs ? -1 : a[0].tsNs > b[0].tsNs ? 1 : 0));
      for (const [it, r, backfilled] of merged)
        if (this.admit(it, st, r, backfilled ? 'backfill' : 'live') && backfilled) this.stats.backfilled++;
    }
    // A live event dropped from the full hold after its symbol's answer came back is in no answer
    // yet: ask again from what was admitted (bounded; the hold keeps taking live events meanwhile).
    const again = [...this.state.values()].some((st) => st.overflowed);
    if (again && pass < 8 && gen === this.generation && this.live && !this.failure)
      return this.backfill(gen, pass + 1);
    for (const symbol of this.state.keys())
      if (failedSymbols.has(symbol)) this.stats.gapsUnfilled++;
      else this.stats.gapsBackfilled++;
    // Still the connection this backfill was for: live events flow directly again.
    if (gen === this.generation && this.live) this.holding = false;
    this.kick();
  }

  /** Counters and p99 latencies of the interval since the last call (for the metrics). */
  takeInterval(): {
    latencyReceiveP99: number | null;
    latencyEndToEndP99: number | null;
    skewMs: number | null;
  } {
    this.checkAcks();
    const r = {
      latencyReceiveP99: p99(this.latReceive),
      latencyEndToEndP99: p99(this.latEndToEnd),
      skewMs: this.intervalSkewNs === null ? null : Number(this.intervalSkewNs) / 1e6,
    };
    this.latReceive = [];
    this.latEndToEnd = [];
    this.intervalSkewNs = null;
    return r;
  }

  /** All latency samples so far are in `takeInterval`; this is the running skew estimate. */
  private updateSkew(): void {
    this.stats.clockSkewMs = this.skewNs === null ? null : Number(this.skewNs) / 1e6;
  }

  /**
   * Stops: closes the connection, finishes a backfill in progress, sends everything received and
   * waits for Kinesis to acknowledge it. Returns the final counts.
   */
  async stop(): Promise<StreamStats> {
    this.stopping = true;
    clearTimeout(this.reconnectTimer);
    this.wakeReconnect?.();
    clearInterval(this.heartbeat);
    const ws = this.ws;
    this.live = false;
    this.ws = undefined;
    if (ws) {
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.close(1000, 'stopping');
      ws.terminate();
    }
    await this.recovery;
    while (this.draining || this.queue.length > 0) {
      this.kick();
      await this.draining;
    }
    const p = await this.producer.flush();
    await this.o.quarantine
      .flush()
      .catch((err: Error) => this.o.log?.('error', `quarantine write failed: ${err.message}`));
    this.checkAcks();
    this.stats.published = p.eventsSent;
    this.stats.drops += this.o.quarantine.dropped;
    this.updateSkew();
    return { ...this.stats };
  }

  /** A snapshot of the counters (skew included). */
  snapshot(): StreamStats {
    this.checkAcks();
    this.updateSkew();
    return { ...this.stats };
  }

  /** The producer's failures (events Kinesis never acknowledged). */
  get failedEvents(): number {
    return this.producer.stats.eventsFailed;
  }
}

function bigintJson(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}
