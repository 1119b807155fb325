/**
 * A local stand-in for a vendor's market-data service: the WebSocket stream and the REST history
 * endpoint of Polygon or Alpaca on one loopback port (ws://HOST:PORT and http://HOST:PORT), speaking
 * their message shapes (see polygon.ts and alpaca.ts). Used by the tests, the benchmark and
 * `quant ingest simulate`.
 *
 * It generates trades and quotes for every symbol a client subscribed to, keeps all of them (the
 * record: what happened, served by the REST endpoint) and remembers what it sent over the
 * WebSocket. Faults on demand: refused keys and keys that expire, dropped connections (and refusing
 * new ones for a while), stalls (no data, no pongs), malformed frames, out-of-order and duplicated
 * messages, bursts, REST answers 429/5xx, and a clock offset.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Vendor } from '../contract/vendor-stream';
import { mulberry32 } from '../synthetic/random';
import { nsToRfc3339, rfc3339ToNs } from './time';

export interface SimEvent {
  readonly symbol: string;
  readonly kind: 'trade' | 'quote';
  /** Trade id, or the quote's sequence number (Polygon) / index (Alpaca). */
  readonly id: string;
  readonly exchange: string;
  readonly tsNs: bigint;
  readonly price?: number;
  readonly size?: number;
  readonly bid?: number;
  readonly bidSize?: number;
  readonly ask?: number;
  readonly askSize?: number;
}

export interface SimulatorOptions {
  readonly vendor: Vendor;
  /** @default 0 (any free port) */
  readonly port?: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** Accepted keys (Alpaca: `KEY_ID:SECRET`). @default ['test-key'] (Alpaca: ['test-id:test-secret']) */
  readonly keys?: readonly string[];
  /** Added to every timestamp the vendor sends: its clock runs this far ahead of ours. @default 0 */
  readonly clockOffsetMs?: number;
  /** Events per frame. @default 50 */
  readonly frameSize?: number;
  /** REST page size (smaller than the client asks, to exercise paging). @default 1000 */
  readonly pageSize?: number;
  /** Swap neighbouring events inside frames. @default false */
  readonly outOfOrder?: boolean;
  /** Send every n-th event twice. @default 0 (never) */
  readonly duplicateEvery?: number;
  /** Keep every generated event (the record, served by REST); off for benchmarks. @default true */
  readonly record?: boolean;
  /** Keep at most this many events per symbol in the record (oldest go first). @default unbounded */
  readonly historyLimit?: number;
  /** @default 1 */
  readonly seed?: number;
}

interface Client {
  readonly ws: WebSocket;
  authed: boolean;
  trades: Set<string>;
  quotes: Set<string>;
  bars: Set<string>;
}

interface SymbolTape {
  price: number;
  trades: number;
  quotes: number;
  /** Polygon's per-ticker sequence (trades and quotes). */
  q: number;
  lastNs: bigint;
  readonly history: SimEvent[];
}

export interface SimulatorCounts {
  connections: number;
  authFailures: number;
  sentEvents: number;
  sentFrames: number;
  restRequests: number;
  restFaults: number;
}

export class VendorSimulator {
  readonly counts: SimulatorCounts = {
    connections: 0,
    authFailures: 0,
    sentEvents: 0,
    sentFrames: 0,
    restRequests: 0,
    restFaults: 0,
  };
  /** Every data event sent over the WebSocket (when `record`). */
  readonly sent: SimEvent[] = [];
  private readonly tapes = new Map<string, SymbolTape>();
  private readonly clients = new Set<Client>();
  private readonly keys: Set<string>;
  private readonly random: () => number;
  private refusing = false;
  private restFaults: Array<{ status: number; retryAfterS?: number }> = [];
  private timer: NodeJS.Timeout | undefined;
  private server!: http.Server;
  private wss!: WebSocketServer;
  port = 0;

  constructor(readonly o: SimulatorOptions) {
    this.keys = new Set(o.keys ?? [o.vendor === 'alpaca' ? 'test-id:test-secret' : 'test-key']);
    this.random = mulberry32(o.seed ?? 1);
  }

  static async start(o: SimulatorOptions): Promise<VendorSimulator> {
    const s = new VendorSimulator(o);
    await s.listen();
    return s;
  }

  get url(): string {
    return `ws://${this.o.host ?? '127.0.0.1'}:${this.port}`;
  }
  get restUrl(): string {
    return `http://${this.o.host ?? '127.0.0.1'}:${this.port}`;
  }

  private async listen(): Promise<void> {
    this.server = http.createServer((req, res) => this.rest(req, res));
    this.server.keepAliveTimeout = 1000;
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
    this.server.on('upgrade', (req, socket, head) => {
      if (this.refusing) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
    });
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.o.port ?? 0, this.o.host ?? '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    for (const c of this.clients) c.ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  // ---- faults ---------------------------------------------------------------------------------

  /** Drops every connection (no close handshake, like a network failure). */
  dropConnections(): void {
    for (const c of this.clients) c.ws.terminate();
  }
  /** While true, new WebSocket connections are refused (HTTP 503). */
  refuseConnections(on: boolean): void {
    this.refusing = on;
  }
  /** Stops reading from every connection: no data, and pings go unanswered. */
  stall(): void {
    for (const c of this.clients) (c.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  }
  expireKey(key: string): void {
    this.keys.delete(key);
  }
  /** The next REST requests are answered with these statuses, in order (then normally). */
  failRest(...faults: Array<{ status: number; retryAfterS?: number }>): void {
    this.restFaults.push(...faults);
  }
  /** Sends a raw text frame to every subscribed client. */
  sendRaw(text: string): void {
    for (const c of this.clients) if (c.authed) c.ws.send(text);
  }

  // ---- the tape -------------------------------------------------------------------------------

  private tape(symbol: string): SymbolTape {
    let t = this.tapes.get(symbol);
    if (!t) {
      t = {
        price: 100 + Math.floor(this.random() * 100),
        trades: 0,
        quotes: 0,
        q: 0,
        lastNs: 0n,
        history: [],
      };
      this.tapes.set(symbol, t);
    }
    return t;
  }

  /** Symbols anyone subscribed to (trades or quotes). */
  subscribedSymbols(): string[] {
    const s = new Set<string>();
    for (const c of this.clients) for (const x of [...c.trades, ...c.quotes]) s.add(x);
    for (const k of this.tapes.keys()) s.add(k);
    return [...s].sort();
  }

  /** The record: every event generated for a symbol, in order. */
  history(symbol: string): readonly SimEvent[] {
    return this.tapes.get(symbol)?.history ?? [];
  }

  private clockNs(t: SymbolTape): bigint {
    const ms = Date.now() + (this.o.clockOffsetMs ?? 0);
    // Polygon streams millisecond timestamps; Alpaca nanoseconds (kept distinct and increasing).
    let ns = BigInt(ms) * 1_000_000n;
    if (this.o.vendor === 'alpaca' && ns <= t.lastNs) ns = t.lastNs + 1n;
    if (ns < t.lastNs) ns = t.lastNs;
    t.lastNs = ns;
    return ns;
  }

  private generate(symbol: string): SimEvent {
    const t = this.tape(symbol);
    const tsNs = this.clockNs(t);
    t.price = Math.max(1, Math.round((t.price + (this.random() - 0.5) * 0.2) * 100) / 100);
    t.q++;
    let e: SimEvent;
    if ((t.trades + t.quotes) % 2 === 0) {
      t.trades++;
      e = {
        symbol,
        kind: 'trade',
        id: String(t.trades),
        exchange: this.o.vendor === 'alpaca' ? 'V' : '4',
        tsNs,
        price: t.price,
        size: 1 + Math.floor(this.random() * 500),
      };
    } else {
      t.quotes++;
      e = {
        symbol,
        kind: 'quote',
        id: this.o.vendor === 'alpaca' ? String(t.quotes) : String(t.q),
        exchange: '',
        tsNs,
        bid: Math.round((t.price - 0.01) * 100) / 100,
        bidSize: 100 * (1 + Math.floor(this.random() * 5)),
        ask: Math.round((t.price + 0.01) * 100) / 100,
        askSize: 100 * (1 + Math.floor(this.random() * 5)),
      };
    }
    if (this.o.record !== false) {
      t.history.push(e);
      const max = this.o.historyLimit;
      if (max !== undefined && t.history.length > max * 1.5) t.history.splice(0, t.history.length - max);
    }
    return e;
  }

  /** The WebSocket message of an event, in the vendor's shape. */
  wsMessage(e: SimEvent): string {
    if (this.o.vendor === 'polygon') {
      const t = Number(e.tsNs / 1_000_000n);
      return e.kind === 'trade'
        ? `{"ev":"T","sym":"${e.symbol}","x":${e.exchange},"i":"${e.id}","z":3,"p":${e.price},"s":${e.size},"c":[0],"t":${t},"q":${e.id}}`
        : `{"ev":"Q","sym":"${e.symbol}","bx":4,"bp":${e.bid},"bs":${e.bidSize},"ax":7,"ap":${e.ask},"as":${e.askSize},"c":0,"t":${t},"q":${e.id},"z":3}`;
    }
    const t = nsToRfc3339(e.tsNs);
    return e.kind === 'trade'
      ? `{"T":"t","S":"${e.symbol}","i":${e.id},"x":"${e.exchange}","p":${e.price},"s":${e.size},"t":"${t}","c":["@"],"z":"C"}`
      : `{"T":"q","S":"${e.symbol}","bx":"","bp":${e.bid},"bs":${e.bidSize},"ax":"","ap":${e.ask},"as":${e.askSize},"t":"${t}","c":["R"],"z":"C"}`;
  }

  /**
   * Generates `perSymbol` events for every subscribed symbol now and sends them to the subscribers
   * (a burst when large). Events generated while nobody is connected only reach the record.
   */
  emit(perSymbol = 1, symbols = this.subscribedSymbols()): SimEvent[] {
    const out: SimEvent[] = [];
    for (let i = 0; i < perSymbol; i++) for (const s of symbols) out.push(this.generate(s));
    this.send(out);
    return out;
  }

  /** Generates `perSymbolPerSecond` events per symbol on a timer until `stopTicking`. */
  startTicking(perSymbolPerSecond: number, everyMs = 10): void {
    clearInterval(this.timer);
    let due = 0;
    this.timer = setInterval(() => {
      due += (perSymbolPerSecond * everyMs) / 1000;
      const n = Math.floor(due);
      due -= n;
      if (n > 0) this.emit(n);
    }, everyMs);
  }
  stopTicking(): void {
    clearInterval(this.timer);
  }

  private send(events: readonly SimEvent[]): void {
    const size = this.o.frameSize ?? 50;
    for (const c of this.clients) {
      if (!c.authed) continue;
      const mine = events.filter((e) => (e.kind === 'trade' ? c.trades : c.quotes).has(e.symbol));
      for (let i = 0; i < mine.length; i += size) {
        const frame = mine.slice(i, i + size);
        if (this.o.outOfOrder)
          for (let j = 0; j + 1 < frame.length; j += 2) [frame[j], frame[j + 1]] = [frame[j + 1], frame[j]];
        const msgs = frame.map((e) => this.wsMessage(e));
        if (this.o.duplicateEvery)
          for (let j = 0; j < frame.length; j++)
            if ((this.counts.sentEvents + j + 1) % this.o.duplicateEvery === 0) msgs.push(msgs[j]);
        c.ws.send(`[${msgs.join(',')}]`);
        this.counts.sentFrames++;
        this.counts.sentEvents += frame.length;
        if (this.o.record !== false && this.o.historyLimit === undefined) this.sent.push(...frame);
      }
    }
  }

  /**
   * Benchmark load: `frames` pre-encoded frames of `frameSize` trades each, cycling over the
   * symbols, sent as fast as the client reads them (bounded by the socket's buffered amount).
   */
  async blast(frames: number, symbols = this.subscribedSymbols()): Promise<number> {
    const size = this.o.frameSize ?? 50;
    let sent = 0;
    const clients = [...this.clients].filter((c) => c.authed);
    for (let f = 0; f < frames; f++) {
      const evs: SimEvent[] = [];
      for (let i = 0; i < size; i++) evs.push(this.generate(symbols[(f * size + i) % symbols.length]));
      const frame = `[${evs.map((e) => this.wsMessage(e)).join(',')}]`;
      for (const c of clients) {
        while (c.ws.bufferedAmount > 4 * 1024 * 1024) await new Promise((r) => setTimeout(r, 1));
        c.ws.send(frame);
      }
      sent += evs.length;
      this.counts.sentEvents += evs.length;
      this.counts.sentFrames++;
      if (f % 64 === 63) await new Promise((r) => setImmediate(r));
    }
    return sent;
  }

  // ---- WebSocket protocol ---------------------------------------------------------------------

  private accept(ws: WebSocket): void {
    this.counts.connections++;
    const c: Client = { ws, authed: false, trades: new Set(), quotes: new Set(), bars: new Set() };
    this.clients.add(c);
    ws.on('close', () => this.clients.delete(c));
    ws.on('error', () => this.clients.delete(c));
    const polygon = this.o.vendor === 'polygon';
    /** A status message: Polygon's `{ev: 'status', …}`, or Alpaca's message `alpaca`. */
    const reply = (status: string, message: string, alpaca?: object): void =>
      ws.send(JSON.stringify([polygon ? { ev: 'status', status, message } : alpaca]));
    reply('connected', 'Connected Successfully', { T: 'success', msg: 'connected' });
    ws.on('message', (data) => {
      let m: Record<string, unknown>;
      try {
        m = JSON.parse(data.toString()) as Record<string, unknown>;
      } catch {
        reply('error', 'invalid JSON', { T: 'error', code: 400, msg: 'invalid syntax' });
        return;
      }
      if (m.action === 'auth') {
        const key = polygon ? String(m.params) : `${String(m.key)}:${String(m.secret)}`;
        if (!this.keys.has(key)) {
          this.counts.authFailures++;
          reply('auth_failed', 'authentication failed', { T: 'error', code: 402, msg: 'auth failed' });
          ws.close(1008, 'auth failed');
          return;
        }
        c.authed = true;
        reply('auth_success', 'authenticated', { T: 'success', msg: 'authenticated' });
        return;
      }
      if (!c.authed) {
        reply('error', 'not authenticated', { T: 'error', code: 401, msg: 'not authenticated' });
        return;
      }
      const on = m.action === 'subscribe';
      if (!on && m.action !== 'unsubscribe') return;
      const apply = (set: Set<string>, syms: string[]): void => {
        for (const s of syms) {
          if (on) set.add(s);
          else set.delete(s);
          if (on) this.tape(s);
        }
      };
      if (polygon) {
        const parts = String(m.params ?? '')
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean);
        for (const p of parts) {
          const [ch, s] = [p.slice(0, p.indexOf('.')), p.slice(p.indexOf('.') + 1)];
          apply(ch === 'T' ? c.trades : ch === 'Q' ? c.quotes : c.bars, [s]);
          reply('success', `${on ? 'subscribed to' : 'unsubscribed from'}: ${p}`);
        }
      } else {
        apply(c.trades, (m.trades as string[] | undefined) ?? []);
        apply(c.quotes, (m.quotes as string[] | undefined) ?? []);
        apply(c.bars, (m.bars as string[] | undefined) ?? []);
        ws.send(
          JSON.stringify([
            { T: 'subscription', trades: [...c.trades], quotes: [...c.quotes], bars: [...c.bars] },
          ]),
        );
      }
    });
  }

  // ---- REST history ---------------------------------------------------------------------------

  private rest(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.counts.restRequests++;
    const u = new URL(req.url ?? '/', this.restUrl);
    const json = (status: number, body: string, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(body);
    };
    const fault = this.restFaults.shift();
    if (fault) {
      this.counts.restFaults++;
      json(
        fault.status,
        JSON.stringify(
          this.o.vendor === 'polygon'
            ? { status: 'ERROR', error: `simulated ${fault.status}` }
            : { message: `simulated ${fault.status}` },
        ),
        fault.retryAfterS !== undefined ? { 'retry-after': String(fault.retryAfterS) } : {},
      );
      return;
    }
    const polygon = this.o.vendor === 'polygon';
    const key = polygon
      ? (req.headers.authorization ?? '').replace(/^Bearer /, '') || (u.searchParams.get('apiKey') ?? '')
      : `${String(req.headers['apca-api-key-id'] ?? '')}:${String(req.headers['apca-api-secret-key'] ?? '')}`;
    if (!this.keys.has(key)) {
      json(
        401,
        polygon ? '{"status":"ERROR","error":"Unknown API Key"}' : '{"message":"request is not authorized"}',
      );
      return;
    }
    const m = polygon
      ? /^\/v3\/(trades|quotes)\/([^/]+)$/.exec(u.pathname)
      : /^\/v2\/stocks\/([^/]+)\/(trades|quotes)$/.exec(u.pathname);
    if (!m) {
      json(404, '{"message":"not found"}');
      return;
    }
    const channel = (polygon ? m[1] : m[2]) as 'trades' | 'quotes';
    const symbol = decodeURIComponent(polygon ? m[2] : m[1]);
    let from: bigint;
    let to: bigint;
    let offset: number;
    try {
      if (polygon) {
        from = BigInt(u.searchParams.get('timestamp.gte') ?? '0');
        to = BigInt(u.searchParams.get('timestamp.lte') ?? '9223372036854775807');
        offset = Number(u.searchParams.get('cursor') ?? '0');
      } else {
        from = rfc3339ToNs(u.searchParams.get('start') ?? '') ?? 0n;
        to = rfc3339ToNs(u.searchParams.get('end') ?? '') ?? 9223372036854775807n;
        offset = Number(u.searchParams.get('page_token') ?? '0');
      }
    } catch {
      json(400, '{"message":"bad query"}');
      return;
    }
    const limit = Math.min(Number(u.searchParams.get('limit') ?? '1000') || 1000, this.o.pageSize ?? 1000);
    const all = this.history(symbol).filter(
      (e) => e.kind === channel.slice(0, 5) && e.tsNs >= from && e.tsNs <= to,
    );
    const page = all.slice(offset, offset + limit);
    const more = offset + limit < all.length;
    if (polygon) {
      const results = page.map((e) =>
        e.kind === 'trade'
          ? `{"conditions":[0],"exchange":${e.exchange},"id":"${e.id}","participant_timestamp":${e.tsNs - 1000n},"price":${e.price},"sequence_number":${e.id},"sip_timestamp":${e.tsNs},"size":${e.size},"tape":3}`
          : `{"ask_exchange":7,"ask_price":${e.ask},"ask_size":${e.askSize},"bid_exchange":4,"bid_price":${e.bid},"bid_size":${e.bidSize},"participant_timestamp":${e.tsNs - 1000n},"sequence_number":${e.id},"sip_timestamp":${e.tsNs},"tape":3}`,
      );
      const next = new URL(u.toString());
      next.searchParams.set('cursor', String(offset + limit));
      json(
        200,
        `{"status":"OK","request_id":"sim-${this.counts.restRequests}","results":[${results.join(',')}]${more ? `,"next_url":${JSON.stringify(next.toString())}` : ''}}`,
      );
    } else {
      const rows = page.map((e) => {
        const msg = JSON.parse(this.wsMessage(e)) as Record<string, unknown>;
        delete msg.T;
        delete msg.S;
        return JSON.stringify(msg);
      });
      json(
        200,
        `{"${channel}":[${rows.join(',')}],"symbol":"${symbol}","next_page_token":${more ? `"${offset + limit}"` : 'null'}}`,
      );
    }
  }
}
