/**
 * Alpaca market data v2 (stocks) WebSocket and REST protocols.
 *
 * WebSocket (`wss://stream.data.alpaca.markets/v2/{iex|sip}`): frames are JSON arrays. The server
 * greets with `{"T":"success","msg":"connected"}`; the client sends
 * `{"action":"auth","key":"<id>","secret":"<secret>"}` (answer `{"T":"success","msg":"authenticated"}`
 * or `{"T":"error","code":402,"msg":"auth failed"}`), then
 * `{"action":"subscribe","trades":[...],"quotes":[...],"bars":[...]}` (answer `{"T":"subscription",...}`).
 * Trades `{"T":"t","S","i","x","p","s","c","t","z"}`, quotes `{"T":"q","S","bx","bp","bs","ax","ap",
 * "as","c","t","z"}`, minute bars `{"T":"b","S","o","h","l","c","v","t","n","vw"}`; `t` is RFC 3339
 * with up to nine fraction digits. Quotes carry no id: their identity is their content.
 *
 * REST: `GET /v2/stocks/{symbol}/trades|quotes?start&end&limit&sort=asc&page_token`, headers
 * `APCA-API-KEY-ID` and `APCA-API-SECRET-KEY`; pages follow `next_page_token`.
 */
import { VENDOR_KEY_ENV } from '../contract/vendor-stream';
import { InputError } from '../errors';
import { FieldError, ident, isObject, eachObject, parseFrameWith, num, rawOf, sym, trimSlash } from './check';
import { nsToRfc3339, rfc3339ToNs } from './time';
import type {
  BackfillPage,
  HttpRequest,
  Malformed,
  VendorAdapter,
  VendorItem,
  VendorKey,
  VendorQuote,
  VendorTrade,
} from './types';

export const ALPACA_PAGE_LIMIT = 10_000;

/** Error codes after which reconnecting with the same request cannot help. */
const FATAL_CODES = new Set([400, 405, 409, 410]);

function ts(o: Record<string, unknown>, k: string, where: string): bigint {
  const v = o[k];
  const n = typeof v === 'string' ? rfc3339ToNs(v) : undefined;
  if (n === undefined || n < 946_684_800_000_000_000n || n >= 4_102_444_800_000_000_000n)
    throw new FieldError(
      `${where}.${k}: must be an RFC 3339 time between 2000 and 2100, got ${JSON.stringify(v)}`,
    );
  return n;
}

function exch(o: Record<string, unknown>, k: string): string {
  const v = o[k];
  return typeof v === 'string' ? v : '';
}

function trade(m: Record<string, unknown>, symbol: string, where: string): VendorTrade {
  return {
    kind: 'trade',
    symbol,
    id: ident(m, 'i', where),
    exchange: exch(m, 'x'),
    price: num(m, 'p', where),
    size: num(m, 's', where),
    tsNs: ts(m, 't', where),
  };
}

function quote(m: Record<string, unknown>, symbol: string, where: string): VendorQuote {
  const bid = num(m, 'bp', where);
  const ask = num(m, 'ap', where);
  if (bid > ask) throw new FieldError(`${where}.bp: bid ${bid} exceeds ask ${ask} (crossed quote)`);
  const bidSize = num(m, 'bs', where, false);
  const askSize = num(m, 'as', where, false);
  const tsNs = ts(m, 't', where);
  return {
    kind: 'quote',
    symbol,
    id: `${tsNs}|${exch(m, 'bx')}${bid}x${bidSize}|${exch(m, 'ax')}${ask}x${askSize}`,
    bid,
    bidSize,
    ask,
    askSize,
    tsNs,
  };
}

function parseMessage(m: Record<string, unknown>, out: VendorItem[]): void {
  switch (m.T) {
    case 't':
      out.push(trade(m, sym(m, 'S', 't'), 't'));
      return;
    case 'q':
      out.push(quote(m, sym(m, 'S', 'q'), 'q'));
      return;
    case 'b':
      out.push({
        kind: 'bar',
        symbol: sym(m, 'S', 'b'),
        open: num(m, 'o', 'b'),
        high: num(m, 'h', 'b'),
        low: num(m, 'l', 'b'),
        close: num(m, 'c', 'b'),
        volume: num(m, 'v', 'b', false),
        vwap: num(m, 'vw', 'b'),
        tsNs: ts(m, 't', 'b'),
      });
      return;
    case 'success':
      if (m.msg === 'connected') out.push({ kind: 'connected' });
      else if (m.msg === 'authenticated') out.push({ kind: 'authenticated' });
      else out.push({ kind: 'status', message: String(m.msg) });
      return;
    case 'subscription': {
      const lists = ['trades', 'quotes', 'bars']
        .filter((k) => Array.isArray(m[k]) && (m[k] as unknown[]).length > 0)
        .map((k) => `${k}: ${(m[k] as unknown[]).join(',')}`);
      out.push({ kind: 'subscribed', message: lists.join('; ') || 'nothing' });
      return;
    }
    case 'error': {
      const code = typeof m.code === 'number' ? m.code : 0;
      const message = `${code} ${typeof m.msg === 'string' ? m.msg : ''}`.trim();
      // 401 not authenticated, 402 auth failed, 404 auth timeout: the key (or its timing) is wrong.
      if (code === 402 || code === 401) out.push({ kind: 'auth_failed', message });
      else out.push({ kind: 'error', message, fatal: FATAL_CODES.has(code) });
      return;
    }
    default:
      out.push({
        kind: 'malformed',
        reason: `unknown message type T=${JSON.stringify(m.T)}`,
        raw: rawOf(m),
      });
  }
}

function headers(key: VendorKey): Record<string, string> {
  return { 'APCA-API-KEY-ID': key.id, 'APCA-API-SECRET-KEY': key.secret ?? '' };
}

function pageUrl(restUrl: string, channel: string, symbol: string, q: URLSearchParams): string {
  return `${trimSlash(restUrl)}/v2/stocks/${encodeURIComponent(symbol)}/${channel}?${q}`;
}

export const alpaca: VendorAdapter = {
  vendor: 'alpaca',
  venue: 'ALPACA',
  defaultUrl: 'wss://stream.data.alpaca.markets/v2/sip',
  defaultRestUrl: 'https://data.alpaca.markets',

  parseKey(text: string): VendorKey {
    const t = text.trim();
    const i = t.indexOf(':');
    if (i <= 0 || i === t.length - 1 || /\s/.test(t))
      throw new InputError(
        `${VENDOR_KEY_ENV}: an Alpaca key is KEY_ID:SECRET (the key id and its secret, colon-separated)`,
        VENDOR_KEY_ENV,
      );
    return { id: t.slice(0, i), secret: t.slice(i + 1) };
  },

  authMessage: (key) => JSON.stringify({ action: 'auth', key: key.id, secret: key.secret }),
  subscribeMessage: (channels, symbols) =>
    JSON.stringify({ action: 'subscribe', ...Object.fromEntries(channels.map((c) => [c, symbols])) }),
  unsubscribeMessage: (channels, symbols) =>
    JSON.stringify({ action: 'unsubscribe', ...Object.fromEntries(channels.map((c) => [c, symbols])) }),

  parseFrame: (frame, out) => parseFrameWith(frame, out, parseMessage),

  backfillRequest(restUrl, key, channel, symbol, fromNs, toNs): HttpRequest {
    const q = new URLSearchParams({
      start: nsToRfc3339(fromNs),
      end: nsToRfc3339(toNs),
      limit: String(ALPACA_PAGE_LIMIT),
      sort: 'asc',
    });
    return { url: pageUrl(restUrl, channel, symbol, q), headers: headers(key) };
  },

  parseBackfill(req, key, channel: 'trades' | 'quotes', symbol, text): BackfillPage {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new FieldError(`${channel} response is not JSON: ${(err as Error).message}`);
    }
    if (!isObject(body) || !(body[channel] === null || Array.isArray(body[channel])))
      throw new FieldError(`${channel} response: ${channel} must be an array`);
    const items: Array<VendorTrade | VendorQuote | Malformed> = [];
    eachObject((body[channel] as unknown[] | null) ?? [], items, `${channel} entry is not an object`, (r) =>
      items.push(channel === 'trades' ? trade(r, symbol, 'trades') : quote(r, symbol, 'quotes')),
    );
    const token =
      typeof body.next_page_token === 'string' && body.next_page_token !== ''
        ? body.next_page_token
        : undefined;
    if (!token) return { items };
    // The next page repeats this page's query with the token.
    const u = new URL(req.url);
    u.searchParams.set('page_token', token);
    return { items, next: { url: u.toString(), headers: headers(key) } };
  },
};
