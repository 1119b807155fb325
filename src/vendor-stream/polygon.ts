/**
 * Polygon.io stocks WebSocket and REST (v3) protocols.
 *
 * WebSocket (`wss://socket.polygon.io/stocks`): frames are JSON arrays. The server greets with
 * `{"ev":"status","status":"connected"}`; the client sends `{"action":"auth","params":"<key>"}`
 * (answer `auth_success` or `auth_failed`), then `{"action":"subscribe","params":"T.AAPL,Q.AAPL,AM.AAPL"}`.
 * Trades `{"ev":"T","sym","x","i","p","s","c","t","q","z"}`, quotes `{"ev":"Q","sym","bx","bp","bs",
 * "ax","ap","as","t","q","z"}`, minute aggregates `{"ev":"AM","sym","v","o","h","l","c","vw","s","e"}`;
 * `t`, `s`, `e` are Unix milliseconds, `q` the per-ticker sequence number.
 *
 * REST: `GET /v3/trades/{ticker}` and `/v3/quotes/{ticker}` with `timestamp.gte`/`timestamp.lte` in
 * ns, `order=asc`, `limit`, `Authorization: Bearer <key>`; pages follow `next_url`. Timestamps
 * (`sip_timestamp`) are ns integers, read as text.
 */
import { InputError } from '../errors';
import { VENDOR_KEY_ENV } from '../contract/vendor-stream';
import {
  FieldError,
  ident,
  isObject,
  eachObject,
  parseFrameWith,
  msTs,
  nsText,
  num,
  rawOf,
  sym,
  trimSlash,
} from './check';
import type {
  BackfillPage,
  Channel,
  HttpRequest,
  Malformed,
  VendorAdapter,
  VendorItem,
  VendorKey,
  VendorQuote,
  VendorTrade,
} from './types';

const PREFIX: Readonly<Record<Channel, string>> = { trades: 'T', quotes: 'Q', bars: 'AM' };

/** ns integers in a v3 response: quoted before JSON.parse so they keep every digit. */
const NS_FIELDS = /"(sip_timestamp|participant_timestamp|trf_timestamp)":(\d+)/g;

export const POLYGON_PAGE_LIMIT = 50_000;

function params(channels: readonly Channel[], symbols: readonly string[]): string {
  return channels.flatMap((c) => symbols.map((s) => `${PREFIX[c]}.${s}`)).join(',');
}

function parseMessage(m: Record<string, unknown>, out: VendorItem[]): void {
  switch (m.ev) {
    case 'T':
      out.push({
        kind: 'trade',
        symbol: sym(m, 'sym', 'T'),
        id: ident(m, 'i', 'T'),
        exchange: ident(m, 'x', 'T'),
        price: num(m, 'p', 'T'),
        size: num(m, 's', 'T'),
        tsNs: msTs(m, 't', 'T'),
      });
      return;
    case 'Q': {
      const bid = num(m, 'bp', 'Q');
      const ask = num(m, 'ap', 'Q');
      if (bid > ask) throw new FieldError(`Q.bp: bid ${bid} exceeds ask ${ask} (crossed quote)`);
      out.push({
        kind: 'quote',
        symbol: sym(m, 'sym', 'Q'),
        id: ident(m, 'q', 'Q'),
        bid,
        bidSize: num(m, 'bs', 'Q', false),
        ask,
        askSize: num(m, 'as', 'Q', false),
        tsNs: msTs(m, 't', 'Q'),
      });
      return;
    }
    case 'AM':
      out.push({
        kind: 'bar',
        symbol: sym(m, 'sym', 'AM'),
        open: num(m, 'o', 'AM'),
        high: num(m, 'h', 'AM'),
        low: num(m, 'l', 'AM'),
        close: num(m, 'c', 'AM'),
        volume: num(m, 'v', 'AM', false),
        vwap: num(m, 'vw', 'AM'),
        tsNs: msTs(m, 's', 'AM'),
      });
      return;
    case 'status': {
      const status = String(m.status);
      const message = typeof m.message === 'string' ? m.message : status;
      if (status === 'connected') out.push({ kind: 'connected' });
      else if (status === 'auth_success') out.push({ kind: 'authenticated' });
      else if (status === 'auth_failed') out.push({ kind: 'auth_failed', message });
      else if (status === 'success') out.push({ kind: 'subscribed', message });
      // max_connections: another session uses the key; retrying later can succeed.
      else if (status === 'max_connections' || status === 'auth_timeout')
        out.push({ kind: 'error', message: `${status}: ${message}`, fatal: false });
      else if (status === 'error') out.push({ kind: 'error', message, fatal: false });
      else out.push({ kind: 'status', message: `${status}: ${message}` });
      return;
    }
    default:
      out.push({
        kind: 'malformed',
        reason: `unknown event type ev=${JSON.stringify(m.ev)}`,
        raw: rawOf(m),
      });
  }
}

export const polygon: VendorAdapter = {
  vendor: 'polygon',
  venue: 'POLYGON',
  defaultUrl: 'wss://socket.polygon.io/stocks',
  defaultRestUrl: 'https://api.polygon.io',

  parseKey(text: string): VendorKey {
    const k = text.trim();
    if (k === '' || /\s/.test(k))
      throw new InputError(`${VENDOR_KEY_ENV}: a Polygon API key is one word without spaces`, VENDOR_KEY_ENV);
    return { id: k };
  },

  authMessage: (key) => JSON.stringify({ action: 'auth', params: key.id }),
  subscribeMessage: (channels, symbols) =>
    JSON.stringify({ action: 'subscribe', params: params(channels, symbols) }),
  unsubscribeMessage: (channels, symbols) =>
    JSON.stringify({ action: 'unsubscribe', params: params(channels, symbols) }),

  parseFrame: (frame, out) => parseFrameWith(frame, out, parseMessage),

  backfillRequest(restUrl, key, channel, symbol, fromNs, toNs): HttpRequest {
    const q = new URLSearchParams({
      'timestamp.gte': fromNs.toString(),
      'timestamp.lte': toNs.toString(),
      order: 'asc',
      sort: 'timestamp',
      limit: String(POLYGON_PAGE_LIMIT),
    });
    return {
      url: `${trimSlash(restUrl)}/v3/${channel}/${encodeURIComponent(symbol)}?${q}`,
      headers: { Authorization: `Bearer ${key.id}` },
    };
  },

  parseBackfill(_req, key, channel, symbol, text): BackfillPage {
    let body: unknown;
    try {
      body = JSON.parse(text.replace(NS_FIELDS, '"$1":"$2"'));
    } catch (err) {
      throw new FieldError(`v3/${channel} response is not JSON: ${(err as Error).message}`);
    }
    if (!isObject(body) || !(body.results === undefined || Array.isArray(body.results)))
      throw new FieldError(`v3/${channel} response: results must be an array`);
    const items: Array<VendorTrade | VendorQuote | Malformed> = [];
    eachObject((body.results as unknown[] | undefined) ?? [], items, 'result is not an object', (r) => {
      if (channel === 'trades')
        items.push({
          kind: 'trade',
          symbol,
          id: ident(r, 'id', 'trades'),
          exchange: ident(r, 'exchange', 'trades'),
          price: num(r, 'price', 'trades'),
          size: num(r, 'size', 'trades'),
          tsNs: nsText(r, 'sip_timestamp', 'trades'),
        });
      else {
        const bid = num(r, 'bid_price', 'quotes');
        const ask = num(r, 'ask_price', 'quotes');
        if (bid > ask)
          throw new FieldError(`quotes.bid_price: bid ${bid} exceeds ask ${ask} (crossed quote)`);
        items.push({
          kind: 'quote',
          symbol,
          id: ident(r, 'sequence_number', 'quotes'),
          bid,
          bidSize: num(r, 'bid_size', 'quotes', false),
          ask,
          askSize: num(r, 'ask_size', 'quotes', false),
          tsNs: nsText(r, 'sip_timestamp', 'quotes'),
        });
      }
    });
    const next = typeof body.next_url === 'string' && body.next_url !== '' ? body.next_url : undefined;
    return {
      items,
      next: next ? { url: next, headers: { Authorization: `Bearer ${key.id}` } } : undefined,
    };
  },
};
