/**
 * Market-by-price book builder for MDP 3.0. Books are per instrument (SecurityID): a multi-depth
 * outright book (depth from the instrument definition's GBX feed type, else `defaultDepth`) and the
 * 2-deep implied book (GBI). Updates are applied as they arrive; normalized trade and top-of-book
 * events are released only at EndOfEvent, so consumers never see a half-applied event.
 *
 * MDUpdateAction semantics (per price level L = MDPriceLevel, 1 = best):
 *   New: insert at L, shift lower levels down, drop levels beyond the depth.
 *   Change: replace size/orders (and price) at L.
 *   Delete: remove L, shift lower levels up.
 *   DeleteThru: clear the whole side.
 *   DeleteFrom: remove levels 1..L, shift the rest up.
 *   Overlay: replace level L without shifting.
 * MDEntryType BookReset ('J') clears every book of the instrument.
 */
import type { QuoteEvent, TradeEvent } from '../market-data/events';
import type { DecodedMessage } from '../sbe/codec';
import { Decimal } from '../sbe/decimal';

export interface PriceLevel {
  price: number;
  size: number;
  orders: number | null;
}

export interface InstrumentBook {
  readonly securityId: number;
  symbol: string;
  depth: number;
  impliedDepth: number;
  readonly bids: PriceLevel[];
  readonly asks: PriceLevel[];
  readonly impliedBids: PriceLevel[];
  readonly impliedAsks: PriceLevel[];
  /** Last RptSeq applied (0 = none yet). */
  rptSeq: number;
  /** True after a RptSeq gap until a snapshot recovers the instrument; no quotes are published meanwhile. */
  stale: boolean;
  /** Per-instrument counter for the normalized events' `seq` (strictly increasing). */
  eventSeq: number;
  lastQuote: { bid: number; bidSize: number; ask: number; askSize: number } | null;
}

export type BookStatusEvent =
  | {
      readonly type: 'instrumentGap';
      readonly securityId: number;
      readonly expected: number;
      readonly received: number;
    }
  | { readonly type: 'instrumentRecovered'; readonly securityId: number; readonly rptSeq: number }
  | { readonly type: 'channelReset' };

export interface BookBuilderOptions {
  /** Venue code on normalized events. @default 'XCME' */
  readonly venue?: string;
  /** Outright depth for instruments without a definition. @default 10 */
  readonly defaultDepth?: number;
  /** Implied depth for instruments without a definition. @default 2 */
  readonly impliedDepth?: number;
  /** Local receive time in ns. @default wall clock */
  readonly receiveTs?: () => bigint;
  /**
   * Publish quotes from these market-by-price books; false when the top of book comes from elsewhere
   * (the market-by-order books, through `publishQuote`). @default true
   */
  readonly quotes?: boolean;
}

export type BookStats = BookBuilder['stats'];

type Entry = Record<string, unknown>;

const END_OF_EVENT = 'EndOfEvent';

function num(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Decimal) return v.toNumber();
  return null;
}

export class BookBuilder {
  readonly stats = {
    messages: 0,
    bookEntries: 0,
    trades: 0,
    quotes: 0,
    snapshots: 0,
    definitions: 0,
    channelResets: 0,
    instrumentGaps: 0,
    /** Entries with a RptSeq already applied (duplicates after recovery): skipped. */
    staleEntries: 0,
    /** Entries that could not apply: bad level, unknown action or entry type. */
    rejectedEntries: 0,
    /** Top-of-book changes not publishable as a quote (one-sided, crossed or non-positive). */
    unpublishableQuotes: 0,
    ignoredMessages: 0,
  };
  /** Books created while this is true start stale (a handler joining mid-session waits for snapshots). */
  newBooksStale = false;
  private readonly books = new Map<number, InstrumentBook>();
  private readonly definitions = new Map<number, { symbol: string; depth: number; impliedDepth: number }>();
  private readonly dirty = new Set<InstrumentBook>();
  private pendingTrades: TradeEvent[] = [];
  private readonly venue: string;
  private readonly defaultDepth: number;
  private readonly defaultImplied: number;
  private readonly receiveTs: () => bigint;
  private readonly quotes: boolean;

  constructor(
    private readonly onEvent: (e: TradeEvent | QuoteEvent) => void,
    private readonly onStatus: (e: BookStatusEvent) => void = () => {},
    opts: BookBuilderOptions = {},
  ) {
    this.venue = opts.venue ?? 'XCME';
    this.defaultDepth = opts.defaultDepth ?? 10;
    this.defaultImplied = opts.impliedDepth ?? 2;
    this.receiveTs = opts.receiveTs ?? (() => BigInt(Date.now()) * 1_000_000n);
    this.quotes = opts.quotes ?? true;
  }

  book(securityId: number): Readonly<InstrumentBook> | undefined {
    return this.books.get(securityId);
  }

  instruments(): number[] {
    return [...this.books.keys()];
  }

  /** Applies one decoded message (from the arbitrated incremental feed or the snapshot loop). */
  onMessage(m: DecodedMessage): void {
    this.stats.messages++;
    const b = m.body;
    const name = m.name;
    if (name.startsWith('MDIncrementalRefreshBook')) {
      for (const e of (b.NoMDEntries as Entry[] | undefined) ?? []) this.applyBookEntry(e);
    } else if (name.startsWith('MDIncrementalRefreshTradeSummary')) {
      const tx = (b.TransactTime as bigint | undefined) ?? 0n;
      for (const e of (b.NoMDEntries as Entry[] | undefined) ?? []) this.applyTrade(e, tx);
    } else if (name.startsWith('MDInstrumentDefinition')) {
      this.applyDefinition(b);
    } else if (this.applySnapshotMessage(m) !== null) {
      this.flush((b.TransactTime as bigint | undefined) ?? 0n);
      return;
    } else if (name.startsWith('ChannelReset')) {
      this.channelReset();
    } else {
      this.stats.ignoredMessages++;
    }
    const mei = b.MatchEventIndicator as string[] | undefined;
    if (mei && mei.includes(END_OF_EVENT)) this.flush((b.TransactTime as bigint | undefined) ?? 0n);
  }

  /** ChannelReset: every book and statistic is cleared; definitions stay. */
  channelReset(): void {
    this.stats.channelResets++;
    this.books.clear();
    this.dirty.clear();
    this.pendingTrades = [];
    this.onStatus({ type: 'channelReset' });
  }

  /** Marks instruments stale (all known ones when no id is given): no quotes until a snapshot. */
  markStale(securityId?: number): void {
    for (const book of securityId === undefined ? this.books.values() : [this.books.get(securityId)]) {
      if (book) book.stale = true;
    }
  }

  /** Instruments currently stale. */
  staleInstruments(): number[] {
    return [...this.books.values()].filter((b) => b.stale).map((b) => b.securityId);
  }

  /**
   * Re-applies the book entries of one instrument from queued incremental messages (recovery, after
   * its snapshot). Entries at or below the snapshot's RptSeq are skipped by the RptSeq check; trades
   * are not re-published. Publishes the resulting top of book.
   */
  replay(securityId: number, messages: Iterable<DecodedMessage>): number {
    let applied = 0;
    let tx = 0n;
    for (const m of messages) {
      const isBook = m.name.startsWith('MDIncrementalRefreshBook');
      if (!isBook && !m.name.startsWith('MDIncrementalRefreshTradeSummary')) continue;
      tx = (m.body.TransactTime as bigint | undefined) ?? tx;
      for (const e of (m.body.NoMDEntries as Entry[] | undefined) ?? []) {
        if (e.SecurityID !== securityId) continue;
        if (!isBook) {
          // Trades were published live; replay only advances the instrument's RptSeq.
          this.sequence(this.instrument(securityId), e.RptSeq);
          continue;
        }
        const before = this.stats.staleEntries;
        this.applyBookEntry(e);
        if (this.stats.staleEntries === before) applied++;
      }
    }
    this.flush(tx);
    return applied;
  }

  private instrument(securityId: number): InstrumentBook {
    let book = this.books.get(securityId);
    if (!book) {
      const def = this.definitions.get(securityId);
      book = {
        securityId,
        symbol: def?.symbol ?? String(securityId),
        depth: def?.depth ?? this.defaultDepth,
        impliedDepth: def?.impliedDepth ?? this.defaultImplied,
        bids: [],
        asks: [],
        impliedBids: [],
        impliedAsks: [],
        rptSeq: 0,
        stale: this.newBooksStale,
        eventSeq: 0,
        lastQuote: null,
      };
      this.books.set(securityId, book);
    }
    return book;
  }

  /** RptSeq check: false when the entry was already applied. Gaps mark the book stale. */
  private sequence(book: InstrumentBook, rptSeq: unknown): boolean {
    if (typeof rptSeq !== 'number' || rptSeq === 0) return true; // conflated TCP sends 0: no sequencing
    if (book.rptSeq !== 0) {
      if (rptSeq <= book.rptSeq) {
        this.stats.staleEntries++;
        return false;
      }
      if (rptSeq > book.rptSeq + 1) {
        this.stats.instrumentGaps++;
        if (!book.stale) {
          book.stale = true;
          this.onStatus({
            type: 'instrumentGap',
            securityId: book.securityId,
            expected: book.rptSeq + 1,
            received: rptSeq,
          });
        }
      }
    }
    book.rptSeq = rptSeq;
    return true;
  }

  private applyBookEntry(e: Entry): void {
    this.stats.bookEntries++;
    const securityId = e.SecurityID as number;
    const book = this.instrument(securityId);
    if (!this.sequence(book, e.RptSeq)) return;
    const type = e.MDEntryType;
    if (type === 'BookReset') {
      book.bids.length = book.asks.length = book.impliedBids.length = book.impliedAsks.length = 0;
      this.dirty.add(book);
      return;
    }
    const side = sideOf(book, type);
    if (!side) {
      this.stats.rejectedEntries++; // MarketBestBid/Offer and unknown types carry no MBP level
      return;
    }
    const level = e.MDPriceLevel as number;
    const price = num(e.MDEntryPx);
    const lvl: PriceLevel = {
      price: price ?? NaN,
      size: num(e.MDEntrySize) ?? 0,
      orders: num(e.NumberOfOrders),
    };
    if (!applyAction(side, depthOf(book, side), e.MDUpdateAction, level, lvl)) {
      this.stats.rejectedEntries++;
      return;
    }
    this.dirty.add(book);
  }

  private applyTrade(e: Entry, transactTime: bigint): void {
    const book = this.instrument(e.SecurityID as number);
    if (!this.sequence(book, e.RptSeq)) return;
    const price = num(e.MDEntryPx);
    const size = num(e.MDEntrySize);
    if (price === null || size === null) {
      this.stats.rejectedEntries++;
      return;
    }
    this.stats.trades++;
    this.pendingTrades.push({
      type: 'trade',
      symbol: book.symbol,
      venue: this.venue,
      seq: ++book.eventSeq,
      exchangeTs: transactTime,
      receiveTs: this.receiveTs(),
      price,
      size,
    });
  }

  private applyDefinition(b: Record<string, unknown>): void {
    const securityId = b.SecurityID as number;
    if (typeof securityId !== 'number') return;
    this.stats.definitions++;
    let depth = this.defaultDepth;
    let impliedDepth = this.defaultImplied;
    for (const f of (b.NoMDFeedTypes as Entry[] | undefined) ?? []) {
      const d = f.MarketDepth as number;
      if (!(d > 0)) continue;
      if (f.MDFeedType === 'GBX') depth = d;
      else if (f.MDFeedType === 'GBI') impliedDepth = d;
    }
    const symbol =
      typeof b.Symbol === 'string' && b.Symbol.trim() !== '' ? b.Symbol.trim() : String(securityId);
    this.definitions.set(securityId, { symbol, depth, impliedDepth });
    const book = this.books.get(securityId);
    if (book) {
      book.symbol = symbol;
      book.depth = depth;
      book.impliedDepth = impliedDepth;
      book.bids.length = Math.min(book.bids.length, depth);
      book.asks.length = Math.min(book.asks.length, depth);
    }
  }

  /**
   * A SnapshotFullRefresh replaces the instrument's books and sets its RptSeq (recovery) without
   * publishing; returns the SecurityID, or null when the message is not a book snapshot.
   */
  applySnapshotMessage(m: DecodedMessage): number | null {
    if (!m.name.startsWith('SnapshotFullRefresh') || m.name.includes('OrderBook')) return null;
    const b = m.body;
    const securityId = b.SecurityID as number;
    if (typeof securityId !== 'number') return null;
    this.stats.snapshots++;
    const book = this.instrument(securityId);
    book.bids.length = book.asks.length = book.impliedBids.length = book.impliedAsks.length = 0;
    for (const e of (b.NoMDEntries as Entry[] | undefined) ?? []) {
      const level = e.MDPriceLevel as number | null;
      const price = num(e.MDEntryPx);
      if (price === null || !(typeof level === 'number' && level >= 1)) continue;
      const lvl: PriceLevel = { price, size: num(e.MDEntrySize) ?? 0, orders: num(e.NumberOfOrders) };
      const side = sideOf(book, e.MDEntryType);
      if (!side) continue;
      if (level <= depthOf(book, side)) side[level - 1] = lvl;
    }
    for (const side of [book.bids, book.asks, book.impliedBids, book.impliedAsks]) {
      // Levels are contiguous from 1; drop holes a partial snapshot could leave.
      const firstHole = side.findIndex((x) => x === undefined);
      if (firstHole >= 0) side.length = firstHole;
    }
    if (typeof b.RptSeq === 'number') book.rptSeq = b.RptSeq;
    if (book.stale) {
      book.stale = false;
      this.onStatus({ type: 'instrumentRecovered', securityId, rptSeq: book.rptSeq });
    }
    this.dirty.add(book);
    return securityId;
  }

  /** EndOfEvent: release trades, then one quote per instrument whose top of book changed. */
  private flush(transactTime: bigint): void {
    for (const t of this.pendingTrades) this.onEvent(t);
    this.pendingTrades = [];
    if (this.quotes) {
      for (const book of this.dirty) {
        if (book.stale) continue;
        this.quote(
          book,
          best(book.bids[0], book.impliedBids[0], 1),
          best(book.asks[0], book.impliedAsks[0], -1),
          transactTime,
        );
      }
    }
    this.dirty.clear();
  }

  /**
   * Publishes a top of book computed elsewhere (the market-by-order books) with this builder's symbol,
   * event sequence and change and publishability checks. For `quotes: false`.
   */
  publishQuote(
    securityId: number,
    bid: { price: number; size: number } | null,
    ask: { price: number; size: number } | null,
    transactTime: bigint,
  ): void {
    this.quote(this.instrument(securityId), bid, ask, transactTime);
  }

  private quote(
    book: InstrumentBook,
    bid: { price: number; size: number } | null,
    ask: { price: number; size: number } | null,
    transactTime: bigint,
  ): void {
    const q = book.lastQuote;
    if (
      q &&
      bid &&
      ask &&
      q.bid === bid.price &&
      q.bidSize === bid.size &&
      q.ask === ask.price &&
      q.askSize === ask.size
    )
      return;
    if (!bid || !ask || !(bid.price > 0) || !(ask.price > 0) || bid.price > ask.price) {
      this.stats.unpublishableQuotes++;
      book.lastQuote = null;
      return;
    }
    book.lastQuote = { bid: bid.price, bidSize: bid.size, ask: ask.price, askSize: ask.size };
    this.stats.quotes++;
    this.onEvent({
      type: 'quote',
      symbol: book.symbol,
      venue: this.venue,
      seq: ++book.eventSeq,
      exchangeTs: transactTime,
      receiveTs: this.receiveTs(),
      bid: bid.price,
      bidSize: bid.size,
      ask: ask.price,
      askSize: ask.size,
    });
  }
}

/** The side of a book an MDEntryType updates; null for types that carry no MBP level. */
function sideOf(book: InstrumentBook, type: unknown): PriceLevel[] | null {
  switch (type) {
    case 'Bid':
      return book.bids;
    case 'Offer':
      return book.asks;
    case 'ImpliedBid':
      return book.impliedBids;
    case 'ImpliedOffer':
      return book.impliedAsks;
    default:
      return null;
  }
}

/** Levels a side of the book keeps: the implied depth for implied sides, else the outright depth. */
function depthOf(book: InstrumentBook, side: PriceLevel[]): number {
  return side === book.impliedBids || side === book.impliedAsks ? book.impliedDepth : book.depth;
}

/** Best of the outright and implied top levels (consolidated): `dir` 1 for bids, -1 for asks. */
function best(
  outright: PriceLevel | undefined,
  implied: PriceLevel | undefined,
  dir: 1 | -1,
): { price: number; size: number } | null {
  if (!outright && !implied) return null;
  if (!implied) return { price: outright!.price, size: outright!.size };
  if (!outright) return { price: implied.price, size: implied.size };
  if (outright.price === implied.price) return { price: outright.price, size: outright.size + implied.size };
  return (outright.price - implied.price) * dir > 0
    ? { price: outright.price, size: outright.size }
    : { price: implied.price, size: implied.size };
}

/** Applies one MDUpdateAction to a side; false when the level or action is invalid. */
export function applyAction(
  side: PriceLevel[],
  depth: number,
  action: unknown,
  level: number,
  lvl: PriceLevel,
): boolean {
  if (!(Number.isInteger(level) && level >= 1)) return false;
  const i = level - 1;
  switch (action) {
    case 'New':
      if (i > side.length || i >= depth) return false;
      side.splice(i, 0, lvl);
      if (side.length > depth) side.length = depth;
      return true;
    case 'Change':
      if (i >= side.length) return false;
      side[i] = lvl;
      return true;
    case 'Delete':
      if (i >= side.length) return false;
      side.splice(i, 1);
      return true;
    case 'DeleteThru':
      side.length = 0;
      return true;
    case 'DeleteFrom':
      side.splice(0, Math.min(level, side.length));
      return true;
    case 'Overlay':
      if (i > side.length || i >= depth) return false;
      side[i] = lvl;
      return true;
    default:
      return false;
  }
}
