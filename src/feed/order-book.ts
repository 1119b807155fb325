/**
 * Market-by-order (MBOFD) books for CME MDP 3.0: every resting order per instrument, by OrderID.
 *
 * Sources (CME Client Systems wiki, "MDP 3.0 - Market by Order Full Depth - Book Management" and
 * "MDP 3.0 Market Recovery"; schema templates_FixBinary v9/v13):
 * - MDIncrementalRefreshOrderBook47 (v9 also 43): one order per NoMDEntries entry with its own
 *   SecurityID, MDEntryPx, MDEntryType and MDUpdateAction (0 New, 1 Change = update, 2 Delete).
 * - MDIncrementalRefreshBook46: the NoOrderIDEntries group carries OrderID, MDOrderPriority,
 *   MDDisplayQty and OrderUpdateAction (New/Update/Delete); ReferenceID links each order entry to the
 *   NoMDEntries (MBP) entry of the same message that gives its SecurityID, price and side. ReferenceID
 *   counts from 1 (the entry's position in the message).
 * - SnapshotFullRefreshOrderBook53 (v9 also 44): the instrument's whole order list, split over
 *   NoChunks messages (CurrentChunk 1..NoChunks), with LastMsgSeqNumProcessed, the incremental packet
 *   the snapshot includes.
 * - Priority: orders sort by side, then price (bids descending, asks ascending), then
 *   MDOrderPriority ascending (lower = better) within a price. An Update carries the order's current
 *   priority (a quantity increase or a price change loses priority), so Update re-positions.
 * - MDDisplayQty is the visible quantity; hidden quantity is never disseminated, so the book's level
 *   sizes are displayed sizes, which is what MBP MDEntrySize aggregates.
 * - Implied orders are not disseminated as MBO: implied entry types are rejected.
 *
 * Sequencing: MBO entries carry no RptSeq (47 has none; 53 has none), so an order book is sequenced
 * by packet: it goes stale on a packet gap (or an MBP RptSeq gap of its instrument), queued entries are
 * replayed onto the snapshot from the packet after its LastMsgSeqNumProcessed, and entries of packets
 * at or before the snapshot's LastMsgSeqNumProcessed are skipped (already in the snapshot).
 *
 * Top orders (MBOLD): SnapshotRefreshTopOrders59 (schema v10+) is the Market by Order Limited Depth
 * book of CME's conflated market data groups (Conflated UDP and Conflated TCP; CME Client Systems
 * wiki, "MDP 3.0 - Market By Order Limited Depth Book Processing" and "MDP 3.0 - Market Data Snapshot
 * - MBOLD Book Processing"): the top 10 bid and top 10 ask orders of one instrument, bids and asks
 * interleaved, sorted by price then MDOrderPriority, implied orders never included. It is an overlay:
 * each message restates the instrument's whole MBOLD book, so it needs no sequencing and no prior
 * state. Here a 59 replaces the instrument's orders with its entries and marks the book `limited`
 * (only the top orders are known); it also recovers a stale book, since nothing before it matters.
 * It carries no RptSeq and no LastMsgSeqNumProcessed; it travels in the incremental packets and is
 * conflated (its TransactTime is that of the last event in the conflation interval).
 * Not confirmed by CME's pages (assumed): a side with fewer than `topOrdersDepth` (10) orders in a 59
 * holds no other orders, so only the last level shown of a side at the limit may hide orders; an
 * instrument whose book empties is sent as a 59 with no entries; one 59 holds the whole MBOLD book
 * (20 entries fit one message, and the page shows no chunking).
 *
 * Order events (`onOrder`): every change applied to a book, as an OrderEvent (market-data/events.ts),
 * in the order the exchange sent it, released with the top of book at EndOfEvent (and after a
 * snapshot rebuild). Entries skipped (already in a snapshot, for a stale book, rejected, unknown
 * OrderID on Delete) produce none. A stale book emits nothing until it is recovered; recovery emits
 * 'clear', then the snapshot's orders as 'add' (in the snapshot's order), then the queued entries
 * replayed onto it; a 59 emits 'clear' then its orders as 'add'; ChannelReset emits 'clear' for
 * every book. Applying the events in order reproduces every fresh book exactly.
 *
 * Assumptions not confirmed by the public pages (stated where applied): a New for an OrderID already
 * in the book replaces it; an Update for an unknown OrderID inserts it; an MBO MDEntryType BookReset
 * (J) clears the instrument's order book; a null MDOrderPriority sorts last at its price; an
 * instrument with no orders is sent as one chunk with no entries.
 */
import type { OrderAction, OrderEvent, OrderEventSource } from '../market-data/events';
import type { DecodedMessage } from '../sbe/codec';
import { Decimal } from '../sbe/decimal';

export type OrderSide = 'bid' | 'ask';

export interface BookOrder {
  readonly orderId: bigint;
  readonly side: OrderSide;
  /** Price as a number (for display and events). */
  readonly price: number;
  /** Price exactly, as a mantissa at exponent -9 (the level key). */
  readonly px9: bigint;
  /** Displayed quantity (MDDisplayQty). */
  readonly qty: number;
  /** MDOrderPriority: lower is earlier in the level's queue. */
  readonly priority: bigint;
}

export interface OrderLevel {
  readonly price: number;
  readonly px9: bigint;
  /** FIFO: ascending priority. */
  readonly orders: BookOrder[];
}

export interface OrderBook {
  readonly securityId: number;
  /** Best first. */
  readonly bids: OrderLevel[];
  readonly asks: OrderLevel[];
  readonly orders: Map<bigint, BookOrder>;
  /** Out of sync (packet gap, instrument gap, startup) until a snapshot rebuilds it. */
  stale: boolean;
  /** A snapshot must include this packet to recover the book. */
  needSeq: number;
  /** LastMsgSeqNumProcessed of the snapshot the book was rebuilt from (0: none); older packets are skipped. */
  snapshotSeq: number;
  /**
   * Restated by SnapshotRefreshTopOrders59 (MBOLD): only the top orders of each side are known. See
   * `completeLevels` for which levels hold all their orders. False for full-depth (MBOFD) books.
   */
  limited: boolean;
  lastTop: string;
}

/** Aggregate of one price level, comparable with a market-by-price level. */
export interface AggregatedLevel {
  readonly price: number;
  readonly size: number;
  readonly orders: number;
}

export interface TopOfBook {
  readonly bid: AggregatedLevel | null;
  readonly ask: AggregatedLevel | null;
}

export type OrderBookStats = OrderBookBuilder['stats'];

export interface OrderBookBuilderOptions {
  /** Messages queued per recovery; beyond it the oldest go and books wait for a newer snapshot. @default 200_000 */
  readonly maxQueuedMessages?: number;
  /** Called at EndOfEvent (and after a rebuild) for each fresh book whose top of book changed. */
  readonly onTop?: (securityId: number, top: TopOfBook, transactTime: bigint) => void;
  /**
   * Called with every order change applied to a book, in the exchange's order, released at EndOfEvent
   * (before `onTop`), after a snapshot rebuild and at a ChannelReset. Without it no event is built.
   */
  readonly onOrder?: (e: OrderEvent) => void;
  /** Venue code on order events. @default 'XCME' */
  readonly venue?: string;
  /** Local receive time in ns on order events. @default wall clock */
  readonly receiveTs?: () => bigint;
  /** Orders per side in a SnapshotRefreshTopOrders59 (CME: the top 10). @default 10 */
  readonly topOrdersDepth?: number;
}

type Entry = Record<string, unknown>;

interface PendingSnapshot {
  lastSeq: number;
  noChunks: number;
  next: number;
  entries: Entry[];
  totNumReports: number;
  transactTime: bigint;
}

const NO_PRIORITY = 1n << 64n; // beyond any uInt64: a null priority sorts last
const MAX_QTY = 2 ** 31 - 1;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Priority as the events carry it: a number when exact, else a decimal string; null when none was sent. */
function priorityValue(p: bigint): number | string | null {
  if (p === NO_PRIORITY) return null;
  return p <= MAX_SAFE ? Number(p) : p.toString();
}

/** Exact price as mantissa at exponent -9, or null when absent or not representable. */
export function priceKey(v: unknown): bigint | null {
  if (!(v instanceof Decimal)) return null;
  const e = v.exponent;
  if (e >= -9) return v.mantissa * 10n ** BigInt(e + 9);
  const div = 10n ** BigInt(-9 - e);
  return v.mantissa % div === 0n ? v.mantissa / div : null;
}

function sideOf(type: unknown): OrderSide | null {
  return type === 'Bid' ? 'bid' : type === 'Offer' ? 'ask' : null;
}

/** The order action of a 47/43 MDUpdateAction or a 46 OrderUpdateAction. */
function actionOf(a: unknown): 'new' | 'update' | 'delete' | null {
  if (a === 'New') return 'new';
  if (a === 'Change' || a === 'Update') return 'update';
  if (a === 'Delete') return 'delete';
  return null;
}

export class OrderBookBuilder {
  readonly stats = {
    messages: 0,
    orderEntries: 0,
    added: 0,
    updated: 0,
    deleted: 0,
    bookResets: 0,
    channelResets: 0,
    /** Complete snapshots applied, and snapshot chunks received. */
    snapshots: 0,
    snapshotChunks: 0,
    /** Complete snapshots not needed (book not stale) and chunk sets abandoned (a chunk missing or out of order). */
    snapshotsIgnored: 0,
    incompleteSnapshots: 0,
    /** Snapshots that could not recover the book: older than the gap, or than the oldest queued packet. */
    snapshotsTooOld: 0,
    /** Entries at or before the book's snapshot (already in it), and entries for stale books (queued). */
    duplicateEntries: 0,
    staleEntries: 0,
    /** Delete or Update of an OrderID not in the book, New of one already in it. */
    unknownOrders: 0,
    duplicateOrders: 0,
    /** Entries with a bad field: missing/negative/non-integer qty, bad price, side, action, ReferenceID. */
    rejectedEntries: 0,
    replayedEntries: 0,
    queueOverflows: 0,
    /** SnapshotRefreshTopOrders59 messages applied (MBOLD restatements), and stale books they recovered. */
    topOrders: 0,
    topOrdersRecoveries: 0,
    /** Top-of-book changes of limited books not reported: a side's best level may hide orders. */
    incompleteTops: 0,
  };
  /** Books created while this is true start stale (a handler joining mid-session). */
  newBooksStale = false;
  private readonly books = new Map<number, OrderBook>();
  private readonly dirty = new Set<OrderBook>();
  private readonly pending = new Map<number, PendingSnapshot>();
  /**
   * The newest complete snapshot per instrument, kept also when not recovering: the recovery feed can
   * run ahead of the incrementals, so a gap declared later may already be covered by one seen earlier
   * (and at the end of a session the loop may not come round again).
   */
  private readonly latest = new Map<number, PendingSnapshot>();
  /** A snapshot for an instrument without a book must include this packet (this recovery's gaps). */
  private recoveryNeed = 0;
  /** While recovering: MBO messages with their packet sequence numbers. */
  private queue: Array<{ seq: number; m: DecodedMessage }> = [];
  private recovering = false;
  /** Packets up to here are not in the queue. */
  private queueFloor = 0;
  private lastSeq = 0;
  /** Recovery began before any packet: the floor is set by the first packet seen. */
  private floorFromFirst = false;
  /** Instruments rebuilt from a snapshot in this recovery, and the loop size (TotNumReports). */
  private readonly loopSeen = new Set<number>();
  private loopTotal = 0;
  private readonly maxQueued: number;
  private readonly onTop: OrderBookBuilderOptions['onTop'];
  private readonly onOrder: OrderBookBuilderOptions['onOrder'];
  private readonly venue: string;
  private readonly receiveTs: () => bigint;
  private readonly topDepth: number;
  /** Order events applied but not yet released (EndOfEvent releases them). */
  private pendingOrders: OrderEvent[] = [];
  /** Order events' `seq` per instrument; survives ChannelReset so it only ever increases. */
  private readonly eventSeqs = new Map<number, number>();
  /** Symbols from the instrument definitions seen on the incremental feed. */
  private readonly symbols = new Map<number, string>();
  /** TransactTime and packet of the message being applied (for order events). */
  private curTx = 0n;
  private curSeq = 0;

  constructor(opts: OrderBookBuilderOptions = {}) {
    this.maxQueued = opts.maxQueuedMessages ?? 200_000;
    this.onTop = opts.onTop;
    this.onOrder = opts.onOrder;
    this.venue = opts.venue ?? 'XCME';
    this.receiveTs = opts.receiveTs ?? (() => BigInt(Date.now()) * 1_000_000n);
    this.topDepth = opts.topOrdersDepth ?? 10;
    if (!(Number.isInteger(this.topDepth) && this.topDepth >= 1))
      throw new RangeError(`topOrdersDepth: must be an integer >= 1, got ${opts.topOrdersDepth}`);
  }

  book(securityId: number): Readonly<OrderBook> | undefined {
    return this.books.get(securityId);
  }

  instruments(): number[] {
    return [...this.books.keys()];
  }

  staleInstruments(): number[] {
    return [...this.books.values()].filter((b) => b.stale).map((b) => b.securityId);
  }

  /** Resting orders over all books (a gauge for the metrics). */
  orderCount(): number {
    let n = 0;
    for (const b of this.books.values()) n += b.orders.size;
    return n;
  }

  get isRecovering(): boolean {
    return this.recovering;
  }

  /**
   * True when no book is stale and a whole snapshot loop (TotNumReports instruments) was applied, or
   * when every book is limited (MBOLD: each 59 restates its book; there is no order loop to wait for).
   */
  get recoveryComplete(): boolean {
    if (this.staleInstruments().length > 0) return false;
    if (this.loopTotal > 0 && this.loopSeen.size >= this.loopTotal) return true;
    if (this.books.size === 0) return false;
    for (const b of this.books.values()) if (!b.limited) return false;
    return true;
  }

  /**
   * Price levels of a side (best first) known to hold all their orders: every level of a full-depth
   * book; for a limited (59) book every level when the side shows fewer than `topOrdersDepth`
   * orders, else all but the last level shown (orders behind the top ones may rest at its price).
   */
  completeLevels(securityId: number, side: OrderSide): number {
    const b = this.books.get(securityId);
    if (!b) return 0;
    const levels = side === 'bid' ? b.bids : b.asks;
    if (!b.limited) return levels.length;
    let n = 0;
    for (const l of levels) n += l.orders.length;
    return n < this.topDepth ? levels.length : Math.max(0, levels.length - 1);
  }

  /** Best bid and ask: price, displayed size and order count. */
  top(securityId: number): TopOfBook {
    const b = this.books.get(securityId);
    return { bid: b ? aggregate(b.bids[0]) : null, ask: b ? aggregate(b.asks[0]) : null };
  }

  /** The first `n` price levels of a side aggregated as a market-by-price book would show them. */
  levels(securityId: number, side: OrderSide, n = Infinity): AggregatedLevel[] {
    const b = this.books.get(securityId);
    if (!b) return [];
    return (side === 'bid' ? b.bids : b.asks).slice(0, n).map((l) => aggregate(l)!);
  }

  /** Applies one decoded incremental message from packet `seq` (arbitrated, in sequence order). */
  onMessage(m: DecodedMessage, seq: number): void {
    if (this.floorFromFirst) {
      this.floorFromFirst = false;
      this.queueFloor = Math.max(this.queueFloor, seq - 1);
    }
    this.lastSeq = seq;
    const name = m.name;
    if (name.startsWith('ChannelReset')) {
      const tx = m.body.TransactTime;
      this.channelReset(typeof tx === 'bigint' ? tx : 0n, seq);
      return;
    }
    const b = m.body;
    if (name.startsWith('MDInstrumentDefinition')) this.definition(b);
    const isOrderBook = name.startsWith('MDIncrementalRefreshOrderBook');
    const isTop = name.startsWith('SnapshotRefreshTopOrders');
    const orderEntries =
      !isOrderBook && name.startsWith('MDIncrementalRefreshBook')
        ? (b.NoOrderIDEntries as Entry[] | undefined)
        : undefined;
    if (isOrderBook || isTop || (orderEntries && orderEntries.length > 0)) {
      this.stats.messages++;
      if (this.recovering) this.enqueue(seq, m);
      this.apply(m, seq, null);
      // A 59 may have recovered the last stale book of an MBOLD channel.
      if (isTop && this.recovering && this.recoveryComplete) this.endRecovery();
    }
    const mei = b.MatchEventIndicator as string[] | undefined;
    if (mei && mei.includes('EndOfEvent')) this.flush((b.TransactTime as bigint | undefined) ?? 0n);
  }

  /** The symbol of an instrument definition, for order events (as the MBP books name instruments). */
  private definition(b: Record<string, unknown>): void {
    const id = b.SecurityID;
    if (typeof id !== 'number') return;
    const sym = typeof b.Symbol === 'string' ? b.Symbol.trim() : '';
    this.symbols.set(id, sym !== '' ? sym : String(id));
  }

  /** Applies the order entries of one message; `only` restricts them to one instrument (replay). */
  private apply(m: DecodedMessage, seq: number, only: number | null): number {
    const b = m.body;
    let applied = 0;
    this.curTx = typeof b.TransactTime === 'bigint' ? b.TransactTime : 0n;
    this.curSeq = seq;
    if (m.name.startsWith('SnapshotRefreshTopOrders')) return this.topOrders(b, seq, only);
    if (m.name.startsWith('MDIncrementalRefreshOrderBook')) {
      for (const e of (b.NoMDEntries as Entry[] | undefined) ?? []) {
        if (only !== null && e.SecurityID !== only) continue;
        if (this.entry(seq, e.SecurityID, e.MDEntryType, e.MDUpdateAction, e, e.MDEntryPx)) applied++;
      }
      return applied;
    }
    const md = (b.NoMDEntries as Entry[] | undefined) ?? [];
    for (const o of (b.NoOrderIDEntries as Entry[] | undefined) ?? []) {
      const ref = o.ReferenceID;
      const e = typeof ref === 'number' && ref >= 1 ? md[ref - 1] : undefined;
      if (only !== null && e?.SecurityID !== only) continue;
      if (!e) {
        this.stats.orderEntries++;
        this.stats.rejectedEntries++; // no MBP entry to take the instrument, price and side from
        continue;
      }
      if (this.entry(seq, e.SecurityID, e.MDEntryType, o.OrderUpdateAction, o, e.MDEntryPx)) applied++;
    }
    return applied;
  }

  /** One order entry; true when it changed a book. */
  private entry(
    seq: number,
    securityId: unknown,
    entryType: unknown,
    actionField: unknown,
    o: Entry,
    px: unknown,
  ): boolean {
    this.stats.orderEntries++;
    if (typeof securityId !== 'number') {
      this.stats.rejectedEntries++;
      return false;
    }
    const book = this.instrument(securityId);
    if (book.stale) {
      this.stats.staleEntries++; // queued; replayed onto the snapshot
      return false;
    }
    if (seq <= book.snapshotSeq) {
      this.stats.duplicateEntries++;
      return false;
    }
    if (entryType === 'BookReset') {
      // Assumption: as in MBP, J clears the instrument (CME's pages show no MBO example).
      this.stats.bookResets++;
      clear(book);
      this.emit('clear', 'incremental', securityId, this.curSeq, this.curTx);
      this.dirty.add(book);
      return true;
    }
    const action = actionOf(actionField);
    const orderId = o.OrderID;
    if (action === null || typeof orderId !== 'bigint') {
      this.stats.rejectedEntries++;
      return false;
    }
    if (action === 'delete') {
      const gone = removeOrder(book, orderId);
      if (!gone) {
        this.stats.unknownOrders++;
        return false;
      }
      this.stats.deleted++;
      this.emit('delete', 'incremental', securityId, this.curSeq, this.curTx, gone);
      this.dirty.add(book);
      return true;
    }
    const prio = o.MDOrderPriority;
    const order =
      prio === null || prio === undefined || typeof prio === 'bigint'
        ? toOrder(orderId, entryType, px, o.MDDisplayQty, prio)
        : null;
    if (!order) {
      this.stats.rejectedEntries++;
      return false;
    }
    const existed = removeOrder(book, orderId) !== undefined;
    if (action === 'new') {
      if (existed) this.stats.duplicateOrders++; // assumption: the New replaces it
      this.stats.added++;
    } else {
      if (!existed) this.stats.unknownOrders++; // assumption: the Update inserts it
      this.stats.updated++;
    }
    insertOrder(book, order);
    // The event says what happened to the book: a replacing New is a modify, an inserting Update an add.
    this.emit(existed ? 'modify' : 'add', 'incremental', securityId, this.curSeq, this.curTx, order);
    this.dirty.add(book);
    return true;
  }

  /**
   * SnapshotRefreshTopOrders59 (MBOLD): replaces the instrument's orders with the message's top orders
   * and marks the book limited. An instrument without a book (never defined, or joined late) gets one:
   * the message needs no prior state. A stale book is recovered by it. Returns 1 when applied.
   */
  private topOrders(b: Record<string, unknown>, seq: number, only: number | null): number {
    const securityId = b.SecurityID;
    if (typeof securityId !== 'number') {
      this.stats.rejectedEntries++;
      return 0;
    }
    if (only !== null && securityId !== only) return 0;
    const entries = (b.NoMDEntries as Entry[] | undefined) ?? [];
    const book = this.instrument(securityId);
    this.stats.orderEntries += entries.length;
    if (seq <= book.snapshotSeq) {
      // A full snapshot that includes this packet is newer than this restatement.
      this.stats.duplicateEntries += entries.length;
      return 0;
    }
    this.restate(book, entries, 'topOrders', seq, this.curTx);
    book.limited = true;
    if (book.stale) {
      // The restatement is the whole MBOLD book: nothing queued before it matters.
      book.stale = false;
      book.needSeq = 0;
      this.stats.topOrdersRecoveries++;
    }
    this.stats.topOrders++;
    this.dirty.add(book);
    return 1;
  }

  /** Replaces a book's orders with a snapshot's (53/44, 59) entries: events 'clear', then each order as 'add'. */
  private restate(
    book: OrderBook,
    entries: Entry[],
    source: OrderEventSource,
    packetSeq: number,
    transactTime: bigint,
  ): void {
    clear(book);
    this.emit('clear', source, book.securityId, packetSeq, transactTime);
    for (const e of entries) {
      const order = toOrder(e.OrderID, e.MDEntryType, e.MDEntryPx, e.MDDisplayQty, e.MDOrderPriority);
      if (!order || book.orders.has(order.orderId)) {
        this.stats.rejectedEntries++;
        continue;
      }
      insertOrder(book, order);
      this.emit('add', source, book.securityId, packetSeq, transactTime, order);
    }
  }

  /** The `seq` of the instrument's next order event. */
  private nextEventSeq(securityId: number): number {
    const n = (this.eventSeqs.get(securityId) ?? 0) + 1;
    this.eventSeqs.set(securityId, n);
    return n;
  }

  /** Queues an order event (`o`: the order added, modified or deleted; none for 'clear'). */
  private emit(
    action: OrderAction,
    source: OrderEventSource,
    securityId: number,
    packetSeq: number,
    transactTime: bigint,
    o?: BookOrder,
  ): void {
    if (!this.onOrder) return;
    // Two literals rather than a spread of the common fields: a spread here costs several times the
    // whole book update (bench/feed.bench.ts does not cover order events; measured separately).
    const symbol = this.symbols.get(securityId) ?? String(securityId);
    const venue = this.venue;
    const seq = this.nextEventSeq(securityId);
    const receiveTs = this.receiveTs();
    const exchangeTs = transactTime;
    this.pendingOrders.push(
      action === 'clear' || !o
        ? {
            type: 'order',
            action: 'clear',
            source,
            symbol,
            venue,
            seq,
            exchangeTs,
            receiveTs,
            securityId,
            packetSeq,
          }
        : {
            type: 'order',
            action,
            source,
            symbol,
            venue,
            seq,
            exchangeTs,
            receiveTs,
            securityId,
            packetSeq,
            orderId: o.orderId.toString(),
            side: o.side,
            price: o.price,
            qty: o.qty,
            priority: priorityValue(o.priority),
          },
    );
  }

  /** Releases the pending order events, in the order they were applied. */
  private releaseOrders(): void {
    if (this.pendingOrders.length === 0 || !this.onOrder) return;
    const events = this.pendingOrders;
    this.pendingOrders = [];
    for (const e of events) this.onOrder(e);
  }

  private instrument(securityId: number): OrderBook {
    let book = this.books.get(securityId);
    if (!book) {
      book = {
        securityId,
        bids: [],
        asks: [],
        orders: new Map(),
        stale: this.newBooksStale,
        needSeq: 0,
        snapshotSeq: 0,
        limited: false,
        lastTop: '',
      };
      this.books.set(securityId, book);
    }
    return book;
  }

  private enqueue(seq: number, m: DecodedMessage): void {
    this.queue.push({ seq, m });
    if (this.queue.length > this.maxQueued) {
      const dropped = this.queue.splice(0, this.queue.length - this.maxQueued);
      this.queueFloor = dropped[dropped.length - 1].seq;
      this.stats.queueOverflows++;
      // Snapshots applied in this recovery stay valid; the others must now be newer than the floor.
      this.loopSeen.clear();
    }
  }

  /** Starts queueing (recovery): snapshots must include every packet not queued from here on. */
  beginRecovery(): void {
    if (this.recovering) return;
    this.recovering = true;
    this.queue = [];
    this.queueFloor = this.lastSeq;
    this.floorFromFirst = this.lastSeq === 0;
    this.recoveryNeed = 0;
    this.loopSeen.clear();
    this.loopTotal = 0;
  }

  /** Joining a running session: every book (existing or new) is stale until the snapshot loop. */
  startStale(): void {
    this.newBooksStale = true;
    this.markStale(0);
  }

  /** Ends recovery: the queue goes; new books start fresh. */
  endRecovery(): void {
    this.recovering = false;
    this.floorFromFirst = false;
    this.newBooksStale = false;
    this.queue = [];
    this.loopSeen.clear();
    this.loopTotal = 0;
  }

  /**
   * Marks books stale (all when no id is given) that no applied snapshot covers: a snapshot must then
   * include packet `needSeq` (the end of a packet gap, or the packet of an instrument's RptSeq gap).
   */
  markStale(needSeq: number, securityId?: number): void {
    this.beginRecovery();
    // A packet gap may hold the first orders of an instrument without a book yet.
    if (securityId === undefined) this.recoveryNeed = Math.max(this.recoveryNeed, needSeq);
    for (const book of securityId === undefined ? this.books.values() : [this.books.get(securityId)]) {
      if (!book) continue;
      if (book.snapshotSeq >= needSeq && !book.stale) continue; // its snapshot already includes the gap
      book.stale = true;
      book.needSeq = Math.max(book.needSeq, needSeq);
      this.loopSeen.delete(book.securityId);
    }
    // Snapshots seen earlier that include the gap recover at once.
    for (const [id, p] of this.latest) {
      if (!this.recovering) break;
      this.rebuild(id, p, p.transactTime);
    }
  }

  /** Packet sequence numbers restart: snapshot LastMsgSeqNumProcessed values of the old numbering mean nothing. */
  sequenceReset(): void {
    for (const b of this.books.values()) {
      b.snapshotSeq = 0;
      b.needSeq = 0;
    }
    this.queue = [];
    this.queueFloor = 0;
    this.lastSeq = 0;
    this.floorFromFirst = this.recovering;
    this.pending.clear();
    this.latest.clear();
  }

  /**
   * ChannelReset: every order book is emptied (and fresh: the reset is the new state). Order events:
   * those pending go first, then a 'clear' per book (stale ones too: empty is now their true state).
   */
  channelReset(transactTime = 0n, packetSeq = this.lastSeq): void {
    this.stats.channelResets++;
    if (this.onOrder) {
      for (const id of this.books.keys()) this.emit('clear', 'channelReset', id, packetSeq, transactTime);
      this.releaseOrders();
    }
    this.books.clear();
    this.dirty.clear();
    this.pending.clear();
    this.latest.clear();
    this.queue = [];
  }

  /**
   * One SnapshotFullRefreshOrderBook chunk. When its instrument's chunks are complete and the book
   * needs them, rebuilds the book, replays the queued entries after LastMsgSeqNumProcessed and
   * returns the SecurityID; else null.
   */
  onSnapshot(m: DecodedMessage): number | null {
    if (!m.name.startsWith('SnapshotFullRefreshOrderBook')) return null;
    const b = m.body;
    const securityId = b.SecurityID;
    const lastSeq = b.LastMsgSeqNumProcessed;
    const noChunks = b.NoChunks;
    const chunk = b.CurrentChunk;
    if (
      typeof securityId !== 'number' ||
      typeof lastSeq !== 'number' ||
      typeof noChunks !== 'number' ||
      typeof chunk !== 'number' ||
      noChunks < 1 ||
      chunk < 1 ||
      chunk > noChunks
    ) {
      this.stats.rejectedEntries++;
      return null;
    }
    this.stats.snapshotChunks++;
    let p = this.pending.get(securityId);
    if (chunk === 1) {
      if (p) this.stats.incompleteSnapshots++;
      p = { lastSeq, noChunks, next: 1, entries: [], totNumReports: 0, transactTime: 0n };
      this.pending.set(securityId, p);
    }
    if (!p || p.next !== chunk || p.lastSeq !== lastSeq || p.noChunks !== noChunks) {
      // A chunk was lost or belongs to another snapshot: wait for the next chunk 1.
      if (p) this.pending.delete(securityId);
      this.stats.incompleteSnapshots++;
      return null;
    }
    p.next++;
    for (const e of (b.NoMDEntries as Entry[] | undefined) ?? []) p.entries.push(e);
    if (typeof b.TotNumReports === 'number') p.totNumReports = b.TotNumReports;
    if (chunk < noChunks) return null;
    this.pending.delete(securityId);
    p.transactTime = (b.TransactTime as bigint | undefined) ?? 0n;
    const cached = this.latest.get(securityId);
    if (!cached || p.lastSeq >= cached.lastSeq) this.latest.set(securityId, p);
    return this.rebuild(securityId, p, p.transactTime);
  }

  private rebuild(securityId: number, p: PendingSnapshot, transactTime: bigint): number | null {
    const existing = this.books.get(securityId);
    // Without a book: needed when joining, or when a packet gap may have held its first orders.
    if (existing ? !existing.stale : !this.newBooksStale && !this.recovering) {
      // In sync already: it counts towards the loop of a recovery, but is not rebuilt.
      this.stats.snapshotsIgnored++;
      if (this.recovering) this.seen(securityId, p.totNumReports);
      return null;
    }
    const need = existing ? existing.needSeq : this.recoveryNeed;
    if (p.lastSeq < need || (this.recovering && p.lastSeq < this.queueFloor)) {
      // Packets between the snapshot and the queue were never seen: wait for a newer loop.
      this.stats.snapshotsTooOld++;
      return null;
    }
    const book = existing ?? this.instrument(securityId);
    // Events: 'clear', the snapshot's orders as 'add' in the snapshot's order, then the replayed entries.
    this.restate(book, p.entries, 'snapshot', p.lastSeq, transactTime);
    book.limited = false;
    book.stale = false;
    book.needSeq = 0;
    book.snapshotSeq = p.lastSeq;
    this.stats.snapshots++;
    for (const q of this.queue) {
      if (q.seq > p.lastSeq) this.stats.replayedEntries += this.apply(q.m, q.seq, securityId);
    }
    this.dirty.add(book);
    // The book is now as of the newest event received (the last queued), as the MBP replay reports it.
    const newest = this.queue[this.queue.length - 1]?.m.body.TransactTime;
    this.flush(typeof newest === 'bigint' ? newest : transactTime);
    if (this.recovering) this.seen(securityId, p.totNumReports);
    return securityId;
  }

  /** An instrument of the loop is in sync; recovery ends with a whole loop and no stale book. */
  private seen(securityId: number, totNumReports: number): void {
    this.loopSeen.add(securityId);
    if (totNumReports > 0) this.loopTotal = totNumReports;
    if (this.recoveryComplete) this.endRecovery();
  }

  /** EndOfEvent: releases the order events, then reports the fresh books whose top of book changed. */
  private flush(transactTime: bigint): void {
    this.releaseOrders();
    if (!this.onTop) {
      this.dirty.clear();
      return;
    }
    for (const book of this.dirty) {
      if (book.stale) continue;
      if (
        book.limited &&
        ((book.bids.length > 0 && this.completeLevels(book.securityId, 'bid') === 0) ||
          (book.asks.length > 0 && this.completeLevels(book.securityId, 'ask') === 0))
      ) {
        // Every order shown on a side is at its best price: the size there is only a lower bound.
        this.stats.incompleteTops++;
        continue;
      }
      const top = this.top(book.securityId);
      const key = `${top.bid?.price}:${top.bid?.size}:${top.ask?.price}:${top.ask?.size}`;
      if (key === book.lastTop) continue;
      book.lastTop = key;
      this.onTop(book.securityId, top, transactTime);
    }
    this.dirty.clear();
  }
}

function aggregate(l: OrderLevel | undefined): AggregatedLevel | null {
  if (!l) return null;
  let size = 0;
  for (const o of l.orders) size += o.qty;
  return { price: l.price, size, orders: l.orders.length };
}

function clear(book: OrderBook): void {
  book.bids.length = 0;
  book.asks.length = 0;
  book.orders.clear();
}

/** Index of the level with `px9` in a side, or -(insertion point) - 1. Bids descend, asks ascend. */
function findLevel(levels: OrderLevel[], px9: bigint, side: OrderSide): number {
  let lo = 0;
  let hi = levels.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const p = levels[mid].px9;
    if (p === px9) return mid;
    if (side === 'bid' ? p > px9 : p < px9) lo = mid + 1;
    else hi = mid;
  }
  return -lo - 1;
}

function insertOrder(book: OrderBook, o: BookOrder): void {
  const levels = o.side === 'bid' ? book.bids : book.asks;
  let i = findLevel(levels, o.px9, o.side);
  if (i < 0) {
    i = -i - 1;
    levels.splice(i, 0, { price: o.price, px9: o.px9, orders: [] });
  }
  const q = levels[i].orders;
  // After every order of lower or equal priority: equal priorities keep arrival order.
  let lo = 0;
  let hi = q.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (q[mid].priority <= o.priority) lo = mid + 1;
    else hi = mid;
  }
  q.splice(lo, 0, o);
  book.orders.set(o.orderId, o);
}

/**
 * An order from its entry's fields, or null when one is bad (missing/negative/non-integer qty, bad
 * price or side). A priority other than a uInt64 sorts last.
 */
function toOrder(
  orderId: unknown,
  type: unknown,
  px: unknown,
  qty: unknown,
  prio: unknown,
): BookOrder | null {
  const side = sideOf(type);
  const key = priceKey(px);
  if (
    side === null ||
    key === null ||
    typeof orderId !== 'bigint' ||
    typeof qty !== 'number' ||
    !Number.isInteger(qty) ||
    qty < 0 ||
    qty > MAX_QTY
  )
    return null;
  return {
    orderId,
    side,
    price: (px as Decimal).toNumber(),
    px9: key,
    qty,
    priority: typeof prio === 'bigint' ? prio : NO_PRIORITY,
  };
}

/** Removes an order; returns it, or undefined when it was not in the book. */
function removeOrder(book: OrderBook, orderId: bigint): BookOrder | undefined {
  const o = book.orders.get(orderId);
  if (!o) return undefined;
  book.orders.delete(orderId);
  const levels = o.side === 'bid' ? book.bids : book.asks;
  const i = findLevel(levels, o.px9, o.side);
  if (i < 0) return o;
  const q = levels[i].orders;
  const k = q.indexOf(o);
  if (k >= 0) q.splice(k, 1);
  if (q.length === 0) levels.splice(i, 1);
  return o;
}

export interface MbpLevelLike {
  readonly price: number;
  readonly size: number;
  readonly orders: number | null;
}

/**
 * Differences between the order book's first levels and a market-by-price side (outright levels):
 * price, size (displayed) and order count must agree level by level up to the MBP side's length
 * (its depth). Empty when consistent.
 */
export function compareWithMbp(
  orderBooks: OrderBookBuilder,
  securityId: number,
  side: OrderSide,
  mbp: readonly MbpLevelLike[],
  depth: number,
): string[] {
  const mbo = orderBooks.levels(securityId, side, depth);
  const out: string[] = [];
  const n = Math.max(mbo.length, Math.min(mbp.length, depth));
  for (let i = 0; i < n; i++) {
    const a = mbo[i];
    const b = mbp[i];
    if (!a || !b) {
      out.push(`${side} level ${i + 1}: ${a ? 'only in MBO' : 'only in MBP'}`);
      continue;
    }
    if (a.price !== b.price || a.size !== b.size || (b.orders !== null && a.orders !== b.orders))
      out.push(
        `${side} level ${i + 1}: MBO ${a.price} x ${a.size} (${a.orders}) vs MBP ${b.price} x ${b.size} (${b.orders})`,
      );
  }
  return out;
}
