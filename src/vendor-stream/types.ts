/**
 * The vendor adapter interface: what differs between vendors' market-data WebSocket and REST
 * protocols (message shapes, auth, subscription, history endpoints). Everything else (connection,
 * heartbeats, reconnect, backfill, de-duplication, publishing) is vendor-neutral, in session.ts.
 */
import type { Vendor } from '../contract/vendor-stream';

export type Channel = 'trades' | 'quotes' | 'bars';
export const CHANNELS: readonly Channel[] = ['trades', 'quotes', 'bars'];

/** A vendor key: Polygon has one API key; Alpaca a key id and a secret (`KEY_ID:SECRET`). */
export interface VendorKey {
  readonly id: string;
  readonly secret?: string;
}

export interface VendorTrade {
  readonly kind: 'trade';
  readonly symbol: string;
  /** Vendor trade id; with symbol and exchange it identifies the trade (de-duplication). */
  readonly id: string;
  readonly exchange: string;
  readonly price: number;
  readonly size: number;
  /** Exchange (SIP) timestamp, ns since epoch. */
  readonly tsNs: bigint;
}

export interface VendorQuote {
  readonly kind: 'quote';
  readonly symbol: string;
  /** Identity for de-duplication: the vendor's sequence number, or the quote's content. */
  readonly id: string;
  readonly bid: number;
  readonly bidSize: number;
  readonly ask: number;
  readonly askSize: number;
  readonly tsNs: bigint;
}

export interface VendorBar {
  readonly kind: 'bar';
  readonly symbol: string;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  readonly vwap: number;
  /** Start of the minute, ns since epoch. */
  readonly tsNs: bigint;
}

export type VendorData = VendorTrade | VendorQuote | VendorBar;

/** Control messages of the protocol (connection, auth, subscription, errors). */
export type VendorControl =
  | { readonly kind: 'connected' }
  | { readonly kind: 'authenticated' }
  | { readonly kind: 'auth_failed'; readonly message: string }
  | { readonly kind: 'subscribed'; readonly message: string }
  /** `fatal`: retrying cannot help (a subscription the plan does not include, a bad request). */
  | { readonly kind: 'error'; readonly message: string; readonly fatal: boolean }
  | { readonly kind: 'status'; readonly message: string };

/** A message (or one element of a frame) that could not be understood: quarantined with its reason. */
export interface Malformed {
  readonly kind: 'malformed';
  readonly reason: string;
  readonly raw: string;
}

export type VendorItem = VendorData | VendorControl | Malformed;

export interface HttpRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface BackfillPage {
  readonly items: Array<VendorTrade | VendorQuote | Malformed>;
  /** The next page's request, when there is one. */
  readonly next?: HttpRequest;
}

export interface VendorAdapter {
  readonly vendor: Vendor;
  /** The `venue` of the events it produces (the ticks table's venue column). */
  readonly venue: string;
  readonly defaultUrl: string;
  readonly defaultRestUrl: string;
  parseKey(text: string): VendorKey;
  authMessage(key: VendorKey): string;
  subscribeMessage(channels: readonly Channel[], symbols: readonly string[]): string;
  unsubscribeMessage(channels: readonly Channel[], symbols: readonly string[]): string;
  /** Parses one text frame; appends what it holds to `out` (a frame may carry many messages). */
  parseFrame(frame: string, out: VendorItem[]): void;
  /** The first page of a symbol's history of `channel` in [fromNs, toNs]. */
  backfillRequest(
    restUrl: string,
    key: VendorKey,
    channel: 'trades' | 'quotes',
    symbol: string,
    fromNs: bigint,
    toNs: bigint,
  ): HttpRequest;
  parseBackfill(
    /** The request this page answers (the next page's request is built from it). */
    req: HttpRequest,
    key: VendorKey,
    channel: 'trades' | 'quotes',
    symbol: string,
    /** The response body as text (nanosecond integers do not survive JSON.parse as numbers). */
    body: string,
  ): BackfillPage;
}
