/**
 * A synthetic MDP 3.0 channel: instrument definitions, incremental book updates and trades for a few
 * instruments, and snapshot-loop messages of the current state, all encoded with the real codec.
 * Used by the simulator, the demo, tests and benchmarks. Deterministic for a given seed.
 *
 * The simulator publishes 10,000 packets/s from one thread, so the per-packet path is kept cheap:
 * incremental packets are written by `MessageLayout`/`PacketWriter` (the codec's bytes, patched in
 * place) rather than `SbeCodec.encode`, and the MBO generator keeps its orders in price levels that
 * are updated per change instead of sorting every order on every step. Definitions and snapshot
 * loops (rare) still go through `SbeCodec.encode`.
 */
import type { SbeCodec } from '../sbe/codec';
import { Decimal } from '../sbe/decimal';
import { applyAction, type PriceLevel } from './book';
import { MessageLayout, PacketWriter } from './message-writer';
import { buildPacket } from './packet';
import { mulberry32 } from '../synthetic/random';

export interface SyntheticInstrument {
  readonly securityId: number;
  readonly symbol: string;
  /** Price in ticks of `tick`. */
  readonly mid: number;
  readonly tick: number;
}

export interface SyntheticChannelOptions {
  readonly seed?: number;
  readonly instruments?: readonly SyntheticInstrument[];
  readonly depth?: number;
  /** Epoch ns of the first packet. */
  readonly startTime?: bigint;
  /**
   * Market by order: the book is built from individual orders; each event changes one or two orders
   * and carries both the MBP level entries (46) and the order entries, as 46 NoOrderIDEntries when the
   * order's price has an MBP entry in the message, else in an MDIncrementalRefreshOrderBook47 before it.
   * The snapshot loop then also carries SnapshotFullRefreshOrderBook53, `chunkSize` orders per chunk.
   * Without it the generator is the price-level one (its packets are unchanged).
   */
  readonly mbo?: boolean | { readonly chunkSize?: number };
}

type Side = 'bid' | 'ask';
type MbpAction = 'New' | 'Change' | 'Delete';

/** An order of the MBO generator (the truth the order books are compared against). */
export interface SyntheticOrder {
  readonly orderId: bigint;
  readonly side: Side;
  readonly ticks: number;
  readonly price: number;
  readonly qty: number;
  readonly priority: bigint;
}

interface MboChange {
  readonly order: SyntheticOrder;
  readonly action: 'New' | 'Update' | 'Delete';
  /** Index into the message's NoMDEntries of the MBP entry at the order's price, or -1. */
  readonly ref: number;
}

/** One NoMDEntries entry of an MDIncrementalRefreshBook46. */
interface MbpEntry {
  readonly side: Side;
  readonly ticks: number;
  readonly size: number;
  readonly orders: number;
  readonly level: number;
  readonly action: MbpAction;
  readonly rptSeq: number;
}

/** The one entry of an MDIncrementalRefreshTradeSummary48. */
interface TradeEntry {
  /** Price as the PRICE9 mantissa. */
  readonly mantissa: number;
  readonly size: number;
  readonly rptSeq: number;
  readonly aggressor: 'Buy' | 'Sell';
}

/** A price level of the MBO generator's book: its orders in priority order, and their total quantity. */
interface OrderLevel {
  readonly ticks: number;
  size: number;
  readonly orders: SyntheticOrder[];
}

const DEFAULT_INSTRUMENTS: SyntheticInstrument[] = [
  { securityId: 1001, symbol: 'ESZ6', mid: 24000, tick: 0.25 },
  { securityId: 1002, symbol: 'NQZ6', mid: 84000, tick: 0.25 },
  { securityId: 1003, symbol: 'CLF7', mid: 7000, tick: 0.01 },
];

interface State {
  readonly inst: SyntheticInstrument;
  /** The tick as a PRICE9 mantissa: a price in ticks is `ticks * tickMantissa` × 10^-9, exactly. */
  readonly tickMantissa: number;
  rptSeq: number;
  /** The MBP book (depth-limited), as the handler's MBP book must be. */
  readonly bids: PriceLevel[];
  readonly asks: PriceLevel[];
  /**
   * MBO: live orders in the order they were added (a price change re-adds the order at the end); the
   * random pick draws from this order, so it is part of what a seed produces.
   */
  readonly orders: SyntheticOrder[];
  /** MBO: every price level of each side, best first (not depth-limited). */
  readonly bidLevels: OrderLevel[];
  readonly askLevels: OrderLevel[];
}

export class SyntheticChannel {
  private readonly r: () => number;
  private readonly states: State[];
  private readonly depth: number;
  private seq = 0;
  private time: bigint;
  private readonly mbo: { chunkSize: number } | null;
  private readonly writer: IncrementalWriter;
  // Both cross 2^53 early, so exactness of 64-bit ids and priorities is exercised.
  private nextOrderId = 2n ** 53n - 5n;
  private nextPriority = 2n ** 53n - 50n;

  constructor(
    private readonly codec: SbeCodec,
    opts: SyntheticChannelOptions = {},
  ) {
    this.r = mulberry32(opts.seed ?? 1);
    this.depth = opts.depth ?? 5;
    this.time = opts.startTime ?? 1_763_700_000_000_000_000n;
    this.states = (opts.instruments ?? DEFAULT_INSTRUMENTS).map((inst, i) => ({
      inst,
      tickMantissa: tickMantissa(inst.tick, `instruments[${i}].tick`),
      rptSeq: 0,
      bids: [],
      asks: [],
      orders: [],
      bidLevels: [],
      askLevels: [],
    }));
    this.mbo = opts.mbo
      ? { chunkSize: Math.max(1, (typeof opts.mbo === 'object' ? opts.mbo.chunkSize : undefined) ?? 4) }
      : null;
    this.writer = new IncrementalWriter(codec, this.mbo !== null);
  }

  /** Sequence number of the last packet produced. */
  get lastSeq(): number {
    return this.seq;
  }

  private px(st: State, ticks: number): string {
    // Exact decimal text: ticks * tick without float error.
    const decimals = String(st.inst.tick).split('.')[1]?.length ?? 0;
    return (ticks * st.inst.tick).toFixed(decimals);
  }

  /** The price of `ticks` as a number: the nearest double, as the decoder's Decimal.toNumber gives it. */
  private price(st: State, ticks: number): number {
    return (ticks * st.tickMantissa) / 1e9;
  }

  /** Advances the packet sequence and the sending time (one draw), as every packet does. */
  private advance(): void {
    this.seq++;
    this.time += 1_000_000n + BigInt(Math.floor(this.r() * 1_000_000));
  }

  private packet(messages: Buffer[]): Buffer {
    this.advance();
    return buildPacket(this.seq, this.time, messages);
  }

  /** One packet of instrument definitions (MDInstrumentDefinitionFuture54), all instruments. */
  definitions(): Buffer {
    const def = this.codec.schema.messagesByName.get('MDInstrumentDefinitionFuture54');
    if (!def) throw new Error('the schema has no MDInstrumentDefinitionFuture54');
    const blank: Record<string, unknown> = {};
    for (const f of def.fields) {
      if (f.constant) continue;
      const t = f.type;
      blank[f.name] =
        t.kind === 'type'
          ? t.primitive === 'char'
            ? ''
            : t.presence === 'optional'
              ? null
              : 0
          : t.kind === 'set'
            ? []
            : t.kind === 'enum'
              ? t.encoding.presence === 'optional'
                ? null
                : [...t.values.values()][0]
              : t.decimal
                ? null
                : {};
    }
    const msgs = this.states.map((st) =>
      this.codec.encode(def.id, {
        ...blank,
        MatchEventIndicator: ['EndOfEvent'],
        SecurityUpdateAction: 'Add',
        Symbol: st.inst.symbol,
        SecurityID: st.inst.securityId,
        SecurityExchange: 'XCME',
        MinPriceIncrement: String(st.inst.tick),
        DisplayFactor: '1',
        MaturityMonthYear: { year: 2026, month: 12, day: null, week: null },
        Currency: 'USD',
        SettlCurrency: 'USD',
        NoEvents: [],
        NoMDFeedTypes: [
          { MDFeedType: 'GBX', MarketDepth: this.depth },
          { MDFeedType: 'GBI', MarketDepth: 2 },
        ],
        NoInstAttrib: [],
        NoLotTypeRules: [],
      }),
    );
    return this.packet(msgs);
  }

  /** One incremental packet: a book event (1-3 level updates) on one instrument, sometimes with a trade first. */
  next(): Buffer {
    if (this.mbo) return this.nextMbo();
    const st = this.states[Math.floor(this.r() * this.states.length)];
    const tx = this.time;
    let trade: TradeEntry | null = null;
    if (this.r() < 0.2 && st.bids.length > 0) {
      const bid = st.bids[0];
      trade = {
        mantissa: Math.round(bid.price / st.inst.tick) * st.tickMantissa,
        size: 1 + Math.floor(this.r() * 5),
        rptSeq: ++st.rptSeq,
        aggressor: 'Sell',
      };
    }
    const entries: MbpEntry[] = [];
    const n = 1 + Math.floor(this.r() * 3);
    for (let i = 0; i < n; i++) entries.push(this.bookEntry(st));
    this.advance();
    return this.writer.event(this.seq, this.time, tx, st, trade, entries, []);
  }

  private bookEntry(st: State): MbpEntry {
    const bidSide = this.r() < 0.5;
    const side = bidSide ? st.bids : st.asks;
    const other = bidSide ? st.asks : st.bids;
    const better = bidSide ? 1 : -1;
    const t = (l: PriceLevel): number => Math.round(l.price / st.inst.tick);
    let action: MbpAction = 'Change';
    let level = 1;
    let ticks = NaN;
    const u = this.r();
    if (side.length === 0 || (u < 0.4 && side.length < this.depth)) {
      level = 1 + Math.floor(this.r() * (side.length + 1));
      if (side.length === 0) ticks = st.inst.mid - better * (1 + Math.floor(this.r() * 3));
      else if (level === 1) ticks = t(side[0]) + better;
      else if (level === side.length + 1) ticks = t(side[side.length - 1]) - better;
      else if (Math.abs(t(side[level - 2]) - t(side[level - 1])) >= 2) ticks = t(side[level - 2]) - better;
      // Never cross the other side; otherwise fall back to a Change of an existing level.
      const crosses = other.length > 0 && (bidSide ? ticks >= t(other[0]) : ticks <= t(other[0]));
      if (Number.isNaN(ticks) || crosses) ticks = NaN;
      else action = 'New';
    } else if (u >= 0.75) {
      action = 'Delete';
    }
    if (action !== 'New') {
      if (side.length === 0) return this.bookEntry(st);
      level = 1 + Math.floor(this.r() * side.length);
      ticks = t(side[level - 1]);
    }
    const size = action === 'Delete' ? 0 : 1 + Math.floor(this.r() * 100);
    const orders = action === 'Delete' ? 0 : 1 + Math.floor(this.r() * 9);
    applyAction(side, this.depth, action, level, { price: this.price(st, ticks), size, orders });
    return { side: bidSide ? 'bid' : 'ask', ticks, size, orders, level, action, rptSeq: ++st.rptSeq };
  }

  /**
   * The snapshot loop as of now: one packet per instrument (SnapshotFullRefresh52) carrying
   * LastMsgSeqNumProcessed = the last incremental packet and the instrument's RptSeq. Snapshot
   * packets have their own sequence numbers (`loopSeq`, the recovery feed's numbering).
   */
  snapshotLoop(loopSeq = 1): Buffer[] {
    const packets = this.states.map((st, i) => {
      const levels = (side: PriceLevel[], type: string): Record<string, unknown>[] =>
        side.map((l, k) => ({
          MDEntryPx: this.px(st, Math.round(l.price / st.inst.tick)),
          MDEntrySize: l.size,
          NumberOfOrders: l.orders,
          MDPriceLevel: k + 1,
          TradingReferenceDate: null,
          OpenCloseSettlFlag: null,
          SettlPriceType: [],
          MDEntryType: type,
        }));
      const msg = this.codec.encode('SnapshotFullRefresh52', {
        LastMsgSeqNumProcessed: this.seq,
        TotNumReports: this.states.length,
        SecurityID: st.inst.securityId,
        RptSeq: st.rptSeq,
        TransactTime: this.time,
        LastUpdateTime: this.time,
        TradeDate: 20413,
        MDSecurityTradingStatus: 'ReadyToTrade',
        HighLimitPrice: null,
        LowLimitPrice: null,
        MaxPriceVariation: null,
        NoMDEntries: [...levels(st.bids, 'Bid'), ...levels(st.asks, 'Offer')],
      });
      return buildPacket(loopSeq + i, this.time, [msg]);
    });
    if (!this.mbo) return packets;
    return [...packets, ...this.orderSnapshotLoop(loopSeq + packets.length)];
  }

  /**
   * SnapshotFullRefreshOrderBook53 for every instrument: its orders, bids and asks interleaved from
   * best (as CME sends them), `chunkSize` per chunk, one chunk per packet.
   */
  orderSnapshotLoop(loopSeq: number): Buffer[] {
    const size = this.mbo?.chunkSize ?? 4;
    const out: Buffer[] = [];
    for (const st of this.states) {
      const bids = this.sideOrders(st, 'bid');
      const asks = this.sideOrders(st, 'ask');
      const all: SyntheticOrder[] = [];
      for (let i = 0; i < Math.max(bids.length, asks.length); i++) {
        if (bids[i]) all.push(bids[i]);
        if (asks[i]) all.push(asks[i]);
      }
      const noChunks = Math.max(1, Math.ceil(all.length / size));
      for (let c = 0; c < noChunks; c++) {
        const msg = this.codec.encode('SnapshotFullRefreshOrderBook53', {
          LastMsgSeqNumProcessed: this.seq,
          TotNumReports: this.states.length,
          SecurityID: st.inst.securityId,
          NoChunks: noChunks,
          CurrentChunk: c + 1,
          TransactTime: this.time,
          NoMDEntries: all.slice(c * size, (c + 1) * size).map((o) => ({
            OrderID: o.orderId,
            MDOrderPriority: o.priority,
            MDEntryPx: this.px(st, o.ticks),
            MDDisplayQty: o.qty,
            MDEntryType: o.side === 'bid' ? 'Bid' : 'Offer',
          })),
        });
        out.push(buildPacket(loopSeq + out.length, this.time, [msg]));
      }
    }
    return out;
  }

  /** The generator's orders of an instrument: bids then asks, each best price first, then by priority. */
  orders(securityId: number): SyntheticOrder[] {
    const st = this.states.find((s) => s.inst.securityId === securityId);
    return st ? [...this.sideOrders(st, 'bid'), ...this.sideOrders(st, 'ask')] : [];
  }

  private sideOrders(st: State, side: Side): SyntheticOrder[] {
    return (side === 'bid' ? st.bidLevels : st.askLevels).flatMap((l) => l.orders);
  }

  // --- the MBO book: orders kept in price levels, updated per change -------------------------------

  private addOrder(st: State, o: SyntheticOrder): void {
    st.orders.push(o);
    this.joinLevel(st, o);
  }

  private removeOrder(st: State, o: SyntheticOrder): void {
    st.orders.splice(indexOrThrow(st.orders, o), 1);
    this.leaveLevel(st, o);
  }

  /** Same order id at the same price, new quantity and/or priority: keeps its place in `st.orders`. */
  private replaceOrder(st: State, old: SyntheticOrder, o: SyntheticOrder): void {
    st.orders[indexOrThrow(st.orders, old)] = o;
    this.leaveLevel(st, old);
    this.joinLevel(st, o);
  }

  private joinLevel(st: State, o: SyntheticOrder): void {
    const levels = o.side === 'bid' ? st.bidLevels : st.askLevels;
    const better = o.side === 'bid' ? 1 : -1;
    let i = 0;
    while (i < levels.length && (levels[i].ticks - o.ticks) * better > 0) i++;
    let l = levels[i];
    if (!l || l.ticks !== o.ticks) {
      l = { ticks: o.ticks, size: 0, orders: [] };
      levels.splice(i, 0, l);
    }
    // Priority order; a new priority is the highest yet, so this is nearly always an append.
    let k = l.orders.length;
    while (k > 0 && l.orders[k - 1].priority > o.priority) k--;
    l.orders.splice(k, 0, o);
    l.size += o.qty;
  }

  private leaveLevel(st: State, o: SyntheticOrder): void {
    const levels = o.side === 'bid' ? st.bidLevels : st.askLevels;
    const i = levelIndex(levels, o.ticks);
    if (i < 0) throw new Error(`internal: order ${o.orderId} has no level at ${o.ticks}`);
    const l = levels[i];
    l.orders.splice(indexOrThrow(l.orders, o), 1);
    l.size -= o.qty;
    if (l.orders.length === 0) levels.splice(i, 1);
  }

  /**
   * Changes one order (`mutate`) and appends the MBP entries that turn the depth-limited price book
   * into the new one: Change of a level that stays, New of a level that appears, Delete of a level
   * that goes (plus a New filling the last level from below the depth).
   */
  private mboStep(st: State, side: Side, ticks: number, mutate: () => void, entries: MbpEntry[]): void {
    const levels = side === 'bid' ? st.bidLevels : st.askLevels;
    const bi = levelIndex(levels, ticks);
    mutate();
    const ai = levelIndex(levels, ticks);
    if (bi >= 0 && ai >= 0) {
      if (ai < this.depth) this.mbpEntry(st, side, 'Change', ai + 1, levels[ai], entries);
    } else if (ai >= 0) {
      if (ai < this.depth) this.mbpEntry(st, side, 'New', ai + 1, levels[ai], entries);
    } else if (bi >= 0 && bi < this.depth) {
      this.mbpEntry(st, side, 'Delete', bi + 1, { ticks, size: 0, orders: [] }, entries);
      if (levels.length >= this.depth)
        this.mbpEntry(st, side, 'New', this.depth, levels[this.depth - 1], entries);
    }
  }

  /** Applies an MBP entry to the generator's MBP book and appends it to the event. */
  private mbpEntry(
    st: State,
    side: Side,
    action: MbpAction,
    level: number,
    l: OrderLevel,
    entries: MbpEntry[],
  ): void {
    const size = action === 'Delete' ? 0 : l.size;
    const orders = action === 'Delete' ? 0 : l.orders.length;
    const mbpSide = side === 'bid' ? st.bids : st.asks;
    applyAction(mbpSide, this.depth, action, level, { price: this.price(st, l.ticks), size, orders });
    entries.push({ side, ticks: l.ticks, size, orders, level, action, rptSeq: ++st.rptSeq });
  }

  private change(
    st: State,
    entries: MbpEntry[],
    changes: MboChange[],
    action: MboChange['action'],
    order: SyntheticOrder,
    old?: SyntheticOrder,
  ): void {
    if (old && old.ticks !== order.ticks) {
      // A price change: the order leaves its old level, then joins the new one (as a new arrival).
      this.mboStep(st, old.side, old.ticks, () => this.removeOrder(st, old), entries);
    }
    const inPlace = old && old.ticks === order.ticks ? old : undefined;
    const first = entries.length;
    this.mboStep(
      st,
      order.side,
      order.ticks,
      () => {
        if (action === 'Delete') this.removeOrder(st, order);
        else if (inPlace) this.replaceOrder(st, inPlace, order);
        else this.addOrder(st, order);
      },
      entries,
    );
    let ref = -1;
    for (let i = first; i < entries.length; i++)
      if (entries[i].ticks === order.ticks && entries[i].side === order.side) ref = i;
    changes.push({ order, action, ref });
  }

  private makeOrder(st: State, side: Side, ticks: number, qty: number, orderId?: bigint): SyntheticOrder {
    return {
      orderId: orderId ?? this.nextOrderId++,
      side,
      ticks,
      price: this.price(st, ticks),
      qty,
      priority: this.nextPriority++,
    };
  }

  /** A price for a `side` order near the touch that does not cross the other side. */
  private orderTicks(st: State, side: Side, from?: number): number {
    const better = side === 'bid' ? 1 : -1;
    const own = (side === 'bid' ? st.bidLevels : st.askLevels)[0];
    const other = (side === 'bid' ? st.askLevels : st.bidLevels)[0];
    let ticks =
      from !== undefined
        ? from + better * (this.r() < 0.5 ? 1 : -1) * (1 + Math.floor(this.r() * 2))
        : own
          ? own.ticks - better * (Math.floor(this.r() * 8) - 1)
          : st.inst.mid - better * (1 + Math.floor(this.r() * 3));
    if (other && (side === 'bid' ? ticks >= other.ticks : ticks <= other.ticks)) ticks = other.ticks - better;
    return ticks;
  }

  /** One MBO event on one instrument: new orders, modifications, cancels or a trade against the touch. */
  private nextMbo(): Buffer {
    const st = this.states[Math.floor(this.r() * this.states.length)];
    const tx = this.time;
    let trade: TradeEntry | null = null;
    const entries: MbpEntry[] = [];
    const changes: MboChange[] = [];
    const n = this.r() < 0.3 ? 2 : 1;
    for (let k = 0; k < n; k++) {
      const count = st.orders.length;
      const u = this.r();
      // Drawn on every step (also when unused), so the series of draws does not depend on the branch.
      const pick = st.orders[Math.floor(this.r() * count)];
      if (count < 6 || (u < 0.4 && count < 80)) {
        const side = this.r() < 0.5 ? 'bid' : 'ask';
        this.change(
          st,
          entries,
          changes,
          'New',
          this.makeOrder(st, side, this.orderTicks(st, side), 1 + Math.floor(this.r() * 50)),
        );
      } else if (u < 0.6) {
        // Quantity change: a decrease keeps the order's priority, an increase loses it.
        const qty = 1 + Math.floor(this.r() * 50);
        const o =
          qty > pick.qty ? this.makeOrder(st, pick.side, pick.ticks, qty, pick.orderId) : { ...pick, qty };
        this.change(st, entries, changes, 'Update', o, pick);
      } else if (u < 0.68) {
        const o = this.makeOrder(
          st,
          pick.side,
          this.orderTicks(st, pick.side, pick.ticks),
          pick.qty,
          pick.orderId,
        );
        this.change(st, entries, changes, 'Update', o, pick);
      } else if (u < 0.9 || count >= 80) {
        this.change(st, entries, changes, 'Delete', pick);
      } else if (k === 0) {
        // A trade: an aggressor takes from the first order at the touch of one side. Only as the
        // event's first change, so the trade's RptSeq precedes the book entries' (its message goes first).
        const side = this.r() < 0.5 ? 'bid' : 'ask';
        const resting = (side === 'bid' ? st.bidLevels : st.askLevels)[0]?.orders[0];
        if (!resting) continue;
        const fill = Math.min(resting.qty, 1 + Math.floor(this.r() * 5));
        trade = {
          mantissa: resting.ticks * st.tickMantissa,
          size: fill,
          rptSeq: ++st.rptSeq,
          aggressor: side === 'bid' ? 'Sell' : 'Buy',
        };
        if (fill === resting.qty) this.change(st, entries, changes, 'Delete', resting);
        else this.change(st, entries, changes, 'Update', { ...resting, qty: resting.qty - fill }, resting);
      }
    }
    this.advance();
    return this.writer.event(this.seq, this.time, tx, st, trade, entries, changes);
  }

  /** The generator's own view of an instrument's book (the truth tests compare against). */
  truth(securityId: number): { bids: PriceLevel[]; asks: PriceLevel[]; rptSeq: number } | undefined {
    const st = this.states.find((s) => s.inst.securityId === securityId);
    return (
      st && { bids: st.bids.map((l) => ({ ...l })), asks: st.asks.map((l) => ({ ...l })), rptSeq: st.rptSeq }
    );
  }

  get securityIds(): number[] {
    return this.states.map((s) => s.inst.securityId);
  }
}

function levelIndex(levels: readonly OrderLevel[], ticks: number): number {
  for (let i = 0; i < levels.length; i++) if (levels[i].ticks === ticks) return i;
  return -1;
}

/** Index of `o` (by identity); the generator's bookkeeping is broken if it is missing. */
function indexOrThrow(list: readonly SyntheticOrder[], o: SyntheticOrder): number {
  const i = list.indexOf(o);
  if (i < 0) throw new Error(`internal: order ${o.orderId} is not where the generator keeps it`);
  return i;
}

function tickMantissa(tick: number, field: string): number {
  let m: bigint;
  try {
    m = Decimal.at(tick, -9).mantissa;
  } catch (err) {
    throw new RangeError(`${field}: ${(err as Error).message}`);
  }
  if (m <= 0n) throw new RangeError(`${field}: ${tick} is not a positive price increment`);
  return Number(m);
}

/**
 * Writes an event's incremental packet: [TradeSummary48], [OrderBook47 for order entries without an
 * MBP entry at their price], and Book46 (MBP entries + order entries referencing them), the last
 * message carrying EndOfEvent. Field layouts come from the schema once, at construction.
 */
class IncrementalWriter {
  private readonly w = new PacketWriter();
  private readonly book: MessageLayout;
  private readonly trade: MessageLayout;
  private readonly orderBook: MessageLayout | null;
  private readonly b: ReturnType<typeof bookSlots>;
  private readonly t: ReturnType<typeof tradeSlots>;
  private readonly o: ReturnType<typeof orderBookSlots> | null;

  constructor(codec: SbeCodec, mbo: boolean) {
    // The sample messages' values only fix the layouts; every field sent is patched per packet.
    const root = { TransactTime: 0n, MatchEventIndicator: [] };
    const level = { MDEntryPx: '0', MDEntrySize: 0, SecurityID: 0, RptSeq: 0, NumberOfOrders: 0 };
    this.book = new MessageLayout(codec, 'MDIncrementalRefreshBook46', {
      ...root,
      NoMDEntries: [
        {
          ...level,
          MDPriceLevel: 1,
          MDUpdateAction: 'New',
          MDEntryType: 'Bid',
          TradeableSize: null, // never patched: not sent
        },
      ],
      NoOrderIDEntries: [
        { OrderID: 0n, MDOrderPriority: 0n, MDDisplayQty: 0, ReferenceID: 1, OrderUpdateAction: 'New' },
      ],
    });
    this.b = bookSlots(this.book);
    this.trade = new MessageLayout(codec, 'MDIncrementalRefreshTradeSummary48', {
      ...root,
      NoMDEntries: [
        {
          ...level,
          AggressorSide: 'Buy',
          MDUpdateAction: 'New',
          MDTradeEntryID: 0,
        },
      ],
      NoOrderIDEntries: [],
    });
    this.t = tradeSlots(this.trade);
    this.orderBook = mbo
      ? new MessageLayout(codec, 'MDIncrementalRefreshOrderBook47', {
          ...root,
          NoMDEntries: [
            {
              OrderID: 0n,
              MDOrderPriority: 0n,
              MDEntryPx: '0',
              MDDisplayQty: 0,
              SecurityID: 0,
              MDUpdateAction: 'New',
              MDEntryType: 'Bid',
            },
          ],
        })
      : null;
    this.o = this.orderBook && orderBookSlots(this.orderBook);
  }

  event(
    seq: number,
    sendingTime: bigint,
    tx: bigint,
    st: State,
    trade: TradeEntry | null,
    entries: readonly MbpEntry[],
    changes: readonly MboChange[],
  ): Buffer {
    const w = this.w;
    const secId = st.inst.securityId;
    const tm = st.tickMantissa;
    w.begin();
    if (trade) {
      const t = this.t;
      const root = w.message(this.trade);
      w.put(root, t.transactTime, tx);
      w.put(root, t.mei, t.lastTrade);
      const e = w.group(t.entries, 1);
      w.put(e, t.px, trade.mantissa);
      w.put(e, t.size, trade.size);
      w.put(e, t.securityId, secId);
      w.put(e, t.rptSeq, trade.rptSeq);
      w.put(e, t.numberOfOrders, 2);
      w.put(e, t.aggressor, t.aggressorValue[trade.aggressor]);
      w.put(e, t.action, t.actionNew);
      w.put(e, t.tradeEntryId, trade.rptSeq);
      w.group(t.orderIds, 0);
    }
    let orphans = 0;
    for (const c of changes) if (c.ref < 0) orphans++;
    const referenced = changes.length - orphans;
    if (orphans > 0) {
      // Orders beyond the MBP depth have no price-level entry to reference: the MBO-only template.
      const o = this.o!;
      const root = w.message(this.orderBook!);
      w.put(root, o.transactTime, tx);
      w.put(root, o.mei, entries.length === 0 ? o.quoteEnd : 0);
      let e = w.group(o.entries, orphans);
      for (const c of changes) {
        if (c.ref >= 0) continue;
        w.put(e, o.orderId, c.order.orderId);
        w.put(e, o.priority, c.order.priority);
        w.put(e, o.px, c.order.ticks * tm);
        w.put(e, o.qty, c.order.qty);
        w.put(e, o.securityId, secId);
        w.put(e, o.action, o.actionValue[c.action === 'Update' ? 'Change' : c.action]);
        w.put(e, o.type, o.typeValue[c.order.side]);
        e += o.blockLength;
      }
    }
    if (entries.length > 0 || orphans === 0) {
      const b = this.b;
      const root = w.message(this.book);
      w.put(root, b.transactTime, tx);
      w.put(root, b.mei, b.quoteEnd);
      let e = w.group(b.entries, entries.length);
      for (const x of entries) {
        w.put(e, b.px, x.ticks * tm);
        w.put(e, b.size, x.size);
        w.put(e, b.securityId, secId);
        w.put(e, b.rptSeq, x.rptSeq);
        w.put(e, b.numberOfOrders, x.orders);
        w.put(e, b.level, x.level);
        w.put(e, b.action, b.actionValue[x.action]);
        w.put(e, b.type, b.typeValue[x.side]);
        e += b.entryLength;
      }
      let oe = w.group(b.orderIds, referenced);
      for (const c of changes) {
        if (c.ref < 0) continue;
        w.put(oe, b.orderId, c.order.orderId);
        w.put(oe, b.priority, c.order.priority);
        w.put(oe, b.qty, c.order.qty);
        w.put(oe, b.referenceId, c.ref + 1);
        w.put(oe, b.orderAction, b.orderActionValue[c.action]);
        oe += b.orderIdLength;
      }
    }
    return w.finish(seq, sendingTime);
  }
}

// Slots of the three incremental templates, resolved by name once per channel.

function sideValues(l: MessageLayout, path: string): Record<Side, number> {
  return { bid: l.enumValue(path, 'Bid'), ask: l.enumValue(path, 'Offer') };
}

/** The encoded values of enum `path`'s `names`, by name. */
function enumValues<K extends string>(
  l: MessageLayout,
  path: string,
  names: readonly K[],
): Record<K, number> {
  return Object.fromEntries(names.map((n) => [n, l.enumValue(path, n)])) as Record<K, number>;
}

const mbpActionValues = (l: MessageLayout, path: string): Record<MbpAction, number> =>
  enumValues(l, path, ['New', 'Change', 'Delete']);

function bookSlots(l: MessageLayout) {
  const entries = l.group('NoMDEntries');
  const orderIds = l.group('NoOrderIDEntries');
  return {
    transactTime: l.slot('TransactTime'),
    mei: l.slot('MatchEventIndicator'),
    quoteEnd: l.setValue('MatchEventIndicator', ['LastQuoteMsg', 'EndOfEvent']),
    entries,
    entryLength: l.groups[entries].def.blockLength,
    px: l.slot('NoMDEntries.MDEntryPx', { exponent: -9 }),
    size: l.slot('NoMDEntries.MDEntrySize'),
    securityId: l.slot('NoMDEntries.SecurityID'),
    rptSeq: l.slot('NoMDEntries.RptSeq'),
    numberOfOrders: l.slot('NoMDEntries.NumberOfOrders'),
    level: l.slot('NoMDEntries.MDPriceLevel'),
    action: l.slot('NoMDEntries.MDUpdateAction'),
    actionValue: mbpActionValues(l, 'NoMDEntries.MDUpdateAction'),
    type: l.slot('NoMDEntries.MDEntryType'),
    typeValue: sideValues(l, 'NoMDEntries.MDEntryType'),
    orderIds,
    orderIdLength: l.groups[orderIds].def.blockLength,
    orderId: l.slot('NoOrderIDEntries.OrderID'),
    priority: l.slot('NoOrderIDEntries.MDOrderPriority'),
    qty: l.slot('NoOrderIDEntries.MDDisplayQty'),
    referenceId: l.slot('NoOrderIDEntries.ReferenceID'),
    orderAction: l.slot('NoOrderIDEntries.OrderUpdateAction'),
    orderActionValue: enumValues<MboChange['action']>(l, 'NoOrderIDEntries.OrderUpdateAction', [
      'New',
      'Update',
      'Delete',
    ]),
  };
}

function tradeSlots(l: MessageLayout) {
  return {
    transactTime: l.slot('TransactTime'),
    mei: l.slot('MatchEventIndicator'),
    lastTrade: l.setValue('MatchEventIndicator', ['LastTradeMsg']),
    entries: l.group('NoMDEntries'),
    orderIds: l.group('NoOrderIDEntries'),
    px: l.slot('NoMDEntries.MDEntryPx', { exponent: -9 }),
    size: l.slot('NoMDEntries.MDEntrySize'),
    securityId: l.slot('NoMDEntries.SecurityID'),
    rptSeq: l.slot('NoMDEntries.RptSeq'),
    numberOfOrders: l.slot('NoMDEntries.NumberOfOrders'),
    aggressor: l.slot('NoMDEntries.AggressorSide'),
    aggressorValue: enumValues(l, 'NoMDEntries.AggressorSide', ['Buy', 'Sell']),
    action: l.slot('NoMDEntries.MDUpdateAction'),
    actionNew: l.enumValue('NoMDEntries.MDUpdateAction', 'New'),
    tradeEntryId: l.slot('NoMDEntries.MDTradeEntryID'),
  };
}

function orderBookSlots(l: MessageLayout) {
  const entries = l.group('NoMDEntries');
  return {
    transactTime: l.slot('TransactTime'),
    mei: l.slot('MatchEventIndicator'),
    quoteEnd: l.setValue('MatchEventIndicator', ['LastQuoteMsg', 'EndOfEvent']),
    entries,
    blockLength: l.groups[entries].def.blockLength,
    orderId: l.slot('NoMDEntries.OrderID'),
    priority: l.slot('NoMDEntries.MDOrderPriority'),
    px: l.slot('NoMDEntries.MDEntryPx', { exponent: -9 }),
    qty: l.slot('NoMDEntries.MDDisplayQty'),
    securityId: l.slot('NoMDEntries.SecurityID'),
    action: l.slot('NoMDEntries.MDUpdateAction'),
    actionValue: mbpActionValues(l, 'NoMDEntries.MDUpdateAction'),
    type: l.slot('NoMDEntries.MDEntryType'),
    typeValue: sideValues(l, 'NoMDEntries.MDEntryType'),
  };
}
