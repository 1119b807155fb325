/**
 * A local news API in the shape of Polygon's `GET /v2/reference/news` (see src/news/client.ts),
 * over a seeded corpus: the same seed gives the same articles (ids, times, tickers, headlines) for
 * any day, generated on request. For tests and the demo it also:
 * - pages with `limit` and a `next_url` cursor;
 * - answers scripted faults to the next requests (`failNext`: 429 with `Retry-After`, 5xx);
 * - rejects an expired key with 401 as the vendor does (`expireKey`);
 * - lets a test change an article (`edit`) to show what a later revision does and does not reach.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mulberry32 } from '../synthetic/random';

export interface SimArticle {
  id: string;
  publisher: { name: string };
  title: string;
  description: string;
  published_utc: string;
  tickers: string[];
}

export interface NewsSimulatorOptions {
  /** @default 7 */
  readonly seed?: number;
  /** Tickers the corpus covers. @default the demo's macro universe */
  readonly symbols?: readonly string[];
  /** Articles per day. @default 8 */
  readonly perDay?: number;
  /** Keys accepted. @default [NEWS_SIM_KEY] */
  readonly keys?: readonly string[];
  /** @default 0 (any free port) */
  readonly port?: number;
  /** The simulator's clock minus the real one (its Date header), to show clock skew. @default 0 */
  readonly clockOffsetMs?: number;
}

/** The key the simulator accepts by default (the CLI and the demo use it when none is given). */
export const NEWS_SIM_KEY = 'sim-news-key';
export const NEWS_SIM_SYMBOLS = ['SPY', 'EFA', 'AGG', 'GLD', 'UUP', 'FXE'] as const;

export interface SimFault {
  readonly status: number;
  /** Seconds, sent as `Retry-After`. */
  readonly retryAfter?: number;
}

const PUBLISHERS = ['Newswire One', 'Market Daily', 'The Ledger', 'Street Wire'];
const GOOD = [
  '{n} shares surge after strong earnings beat',
  'Analysts upgrade {n}, citing robust growth and improving outlook',
  '{n} rallies as investors cheer record inflows',
  '{n} gains on upbeat economic data',
];
const BAD = [
  '{n} slumps as weak guidance disappoints investors',
  'Analysts downgrade {n} amid fears of losses',
  '{n} falls sharply on worries over slowing growth',
  '{n} hit by outflows as crisis concerns mount',
];
const NEUTRAL = ['{n} trading volume in line with average', '{n} to publish quarterly report next week'];

const DAY_MS = 86_400_000;

/** The seeded articles of one UTC day (index = days since 1970-01-01), in publication order. */
export function simulatedDay(
  day: number,
  seed = 7,
  symbols: readonly string[] = NEWS_SIM_SYMBOLS,
  perDay = 8,
): SimArticle[] {
  const r = mulberry32((seed * 1_000_003) ^ day);
  const out: SimArticle[] = [];
  for (let i = 0; i < perDay; i++) {
    const ms = day * DAY_MS + Math.floor(r() * DAY_MS);
    const a = symbols[Math.floor(r() * symbols.length)];
    const tickers = r() < 0.25 ? [a, symbols[Math.floor(r() * symbols.length)]] : [a];
    const mood = r();
    const pool = mood < 0.4 ? GOOD : mood < 0.8 ? BAD : NEUTRAL;
    const title = pool[Math.floor(r() * pool.length)].replace('{n}', a);
    out.push({
      id: `sim-${seed}-${day}-${i}`,
      publisher: { name: PUBLISHERS[Math.floor(r() * PUBLISHERS.length)] },
      title,
      description: '',
      published_utc: new Date(ms).toISOString().replace('.000Z', 'Z'),
      tickers: [...new Set(tickers)],
    });
  }
  return out.sort((x, y) => x.published_utc.localeCompare(y.published_utc) || x.id.localeCompare(y.id));
}

export class NewsSimulator {
  /** Requests answered, by status. */
  readonly responses: number[] = [];
  private readonly faults: SimFault[] = [];
  /** Requests still answered normally before `faults` apply. */
  private faultDelay = 0;
  private readonly expired = new Set<string>();
  private readonly edits = new Map<string, Partial<SimArticle>>();

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
    private readonly o: Required<Omit<NewsSimulatorOptions, 'port'>>,
  ) {}

  static async start(opts: NewsSimulatorOptions = {}): Promise<NewsSimulator> {
    const o = {
      seed: opts.seed ?? 7,
      symbols: opts.symbols ?? NEWS_SIM_SYMBOLS,
      perDay: opts.perDay ?? 8,
      keys: opts.keys ?? [NEWS_SIM_KEY],
      clockOffsetMs: opts.clockOffsetMs ?? 0,
    };
    const holder: { sim?: NewsSimulator } = {};
    const server = http.createServer((req, res) => holder.sim!.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, '127.0.0.1', resolve);
    });
    const { port } = server.address() as AddressInfo;
    holder.sim = new NewsSimulator(server, `http://127.0.0.1:${port}`, o);
    return holder.sim;
  }

  /** The next requests get these answers, in order (then the API answers normally again). */
  failNext(...faults: SimFault[]): void {
    this.faults.push(...faults);
  }

  /** As `failNext`, after `requests` more requests are answered normally (a fault mid-paging). */
  failAfter(requests: number, ...faults: SimFault[]): void {
    this.faultDelay = requests;
    this.faults.push(...faults);
  }

  /** From now on this key gets 401 (as a vendor answers an expired key). */
  expireKey(key: string): void {
    this.expired.add(key);
  }

  /** Changes an article (a later revision, as vendors do) for later requests. */
  edit(id: string, change: Partial<SimArticle>): void {
    this.edits.set(id, { ...this.edits.get(id), ...change });
  }

  /** The corpus of [fromMs, toMs), as the API returns it (edits applied). */
  corpus(fromMs: number, toMs: number, ticker?: string): SimArticle[] {
    const out: SimArticle[] = [];
    for (let d = Math.floor(fromMs / DAY_MS); d * DAY_MS < toMs; d++) {
      for (const a0 of simulatedDay(d, this.o.seed, this.o.symbols, this.o.perDay)) {
        const a = { ...a0, ...this.edits.get(a0.id) };
        const t = Date.parse(a.published_utc);
        if (t >= fromMs && t < toMs && (!ticker || a.tickers.includes(ticker))) out.push(a);
      }
    }
    return out;
  }

  private send(
    res: http.ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) {
    this.responses.push(status);
    res.writeHead(status, {
      'content-type': 'application/json',
      date: new Date(Date.now() + this.o.clockOffsetMs).toUTCString(),
      ...headers,
    });
    res.end(JSON.stringify(body));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    const requestId = `req-${this.responses.length + 1}`;
    const fault = this.faultDelay > 0 ? undefined : this.faults.shift();
    if (this.faultDelay > 0) this.faultDelay--;
    if (fault) {
      const headers: Record<string, string> =
        fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {};
      const error =
        fault.status === 429 ? "You've exceeded the maximum requests per minute" : 'Internal server error';
      return this.send(res, fault.status, { status: 'ERROR', request_id: requestId, error }, headers);
    }
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? url.searchParams.get('apiKey');
    if (!auth || !this.o.keys.includes(auth))
      return this.send(res, 401, { status: 'ERROR', request_id: requestId, error: 'Unknown API Key' });
    if (this.expired.has(auth))
      return this.send(res, 401, { status: 'ERROR', request_id: requestId, error: 'API key expired' });
    if (url.pathname !== '/v2/reference/news')
      return this.send(res, 404, { status: 'NOT_FOUND', request_id: requestId, error: 'not found' });

    // Cursor: the original query and an offset, as an opaque token.
    let q = url.searchParams;
    let offset = 0;
    const cursor = q.get('cursor');
    if (cursor) {
      try {
        const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { q: string; o: number };
        q = new URLSearchParams(c.q);
        offset = c.o;
      } catch {
        return this.send(res, 400, { status: 'ERROR', request_id: requestId, error: 'bad cursor' });
      }
    }
    const from = Date.parse(q.get('published_utc.gte') ?? '1970-01-01T00:00:00Z');
    const to = Date.parse(q.get('published_utc.lt') ?? new Date().toISOString());
    const limit = Math.min(1000, Math.max(1, Number(q.get('limit') ?? 10) || 10));
    if (Number.isNaN(from) || Number.isNaN(to))
      return this.send(res, 400, { status: 'ERROR', request_id: requestId, error: 'bad published_utc' });
    const all = this.corpus(from, to, q.get('ticker') ?? undefined);
    const results = all.slice(offset, offset + limit);
    const body: Record<string, unknown> = {
      results,
      status: 'OK',
      request_id: requestId,
      count: results.length,
    };
    if (offset + limit < all.length) {
      const token = Buffer.from(JSON.stringify({ q: q.toString(), o: offset + limit })).toString('base64url');
      body.next_url = `${this.url}/v2/reference/news?cursor=${token}`;
    }
    this.send(res, 200, body);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
