/**
 * A synthetic MDP 3.0 channel: instrument definitions, incremental book updates and trades for a few
 * instruments, and snapshot-loop messages of the current state, all encoded with the real codec.
 * Used by the simulator, the demo, tests and benchmarks. Deterministic for a given seed.
 */
import type { SbeCodec } from '../sbe/codec';
import { applyAction, type PriceLevel } from './book';
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

/** An order of the MBO generator (the truth the order books are compared against). */
export interface SyntheticOrder {
  readonly orderId: bigint;
  readonly side: 'bid' | 'ask';
  readonly ticks: number;
  readonly price: number;
  readonly qty: number;
  readonly priority: bigint;
}

interface MboChange {
  readonly order: SyntheticOrder;
  readonly action: 'New' | 'Update' | 'Delete';
  /** Index into the message's NoMDEntries of the MBP entry at the order's price, or -1. */
  ref: number;
}

const DEFAULT_INSTRUMENTS: SyntheticInstrument[] = [
  { securityId: 1001, symbol: 'ESZ6', mid: 24000, tick: 0.25 },
  { securityId: 1002, symbol: 'NQZ6', mid: 84000, tick: 0.25 },
  { securityId: 1003, symbol: 'CLF7', mid: 7000, tick: 0.01 },
];

interface State {
  readonly inst: SyntheticInstrument;
  rptSeq: number;
  readonly bids: PriceLevel[];
  readonly asks: PriceLevel[];
  readonly orders: Map<bigint, SyntheticOrder>;
}

export class SyntheticChannel {
  private readonly r: () => number;
  private readonly states: State[];
  private readonly depth: number;
  private seq = 0;
  private time: bigint;
  private readonly mbo: { chunkSize: number } | null;
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
    this.states = (opts.instruments ?? DEFAULT_INSTRUMENTS).map((inst) => ({
      inst,
      rptSeq: 0,
      bids: [],
      asks: [],
      orders: new Map(),
    }));
    this.mbo = opts.mbo
      ? { chunkSize: Math.max(1, (typeof opts.mbo === 'object' ? opts.mbo.chunkSize : undefined) ?? 4) }
      : null;
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

  private packet(messages: Buffer[]): Buffer {
    this.seq++;
    this.time += 1_000_000n + BigInt(Math.floor(this.r() * 1_000_000));
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
    const messages: Buffer[] = [];
    if (this.r() < 0.2 && st.bids.length > 0) {
      const bid = st.bids[0];
      messages.push(
        this.codec.encode('MDIncrementalRefreshTradeSummary48', {
          TransactTime: tx,
          MatchEventIndicator: ['LastTradeMsg'],
          NoMDEntries: [
            {
              MDEntryPx: String(bid.price),
              MDEntrySize: 1 + Math.floor(this.r() * 5),
              SecurityID: st.inst.securityId,
              RptSeq: ++st.rptSeq,
              NumberOfOrders: 2,
              AggressorSide: 'Sell',
              MDUpdateAction: 'New',
              MDTradeEntryID: st.rptSeq,
            },
          ],
          NoOrderIDEntries: [],
        }),
      );
    }
    const entries: Record<string, unknown>[] = [];
    const n = 1 + Math.floor(this.r() * 3);
    for (let i = 0; i < n; i++) entries.push(this.bookEntry(st));
    messages.push(
      this.codec.encode('MDIncrementalRefreshBook46', {
        TransactTime: tx,
        MatchEventIndicator: ['LastQuoteMsg', 'EndOfEvent'],
        NoMDEntries: entries,
        NoOrderIDEntries: [],
      }),
    );
    return this.packet(messages);
  }

  private bookEntry(st: State): Record<string, unknown> {
    const bidSide = this.r() < 0.5;
    const side = bidSide ? st.bids : st.asks;
    const other = bidSide ? st.asks : st.bids;
    const better = bidSide ? 1 : -1;
    const t = (l: PriceLevel): number => Math.round(l.price / st.inst.tick);
    let action: 'New' | 'Change' | 'Delete' = 'Change';
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
    const price = this.px(st, ticks);
    const size = action === 'Delete' ? 0 : 1 + Math.floor(this.r() * 100);
    const orders = action === 'Delete' ? 0 : 1 + Math.floor(this.r() * 9);
    applyAction(side, this.depth, action, level, { price: Number(price), size, orders });
    return {
      MDEntryPx: price,
      MDEntrySize: size,
      SecurityID: st.inst.securityId,
      RptSeq: ++st.rptSeq,
      NumberOfOrders: orders,
      MDPriceLevel: level,
      MDUpdateAction: action,
      MDEntryType: bidSide ? 'Bid' : 'Offer',
      TradeableSize: null,
    };
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

  private sideOrders(st: State, side: 'bid' | 'ask'): SyntheticOrder[] {
    const dir = side === 'bid' ? -1 : 1;
    return [...st.orders.values()]
      .filter((o) => o.side === side)
      .sort(
        (a, b) =>
          (a.ticks - b.ticks) * dir || (a.priority < b.priority ? -1 : a.priority > b.priority ? 1 : 0),
      );
  }

  /** Price levels of a side (all of them, best first): ticks, displayed size, order count. */
  private levels(st: State, side: 'bid' | 'ask'): Array<{ ticks: number; size: number; orders: number }> {
    const out: Array<{ ticks: number; size: number; orders: number }> = [];
    for (const o of this.sideOrders(st, side)) {
      const last = out[out.length - 1];
      if (last && last.ticks === o.ticks) {
        last.size += o.qty;
        last.orders++;
      } else out.push({ ticks: o.ticks, size: o.qty, orders: 1 });
    }
    return out;
  }

  /**
   * Changes one order (`mutate`) and appends the MBP entries that turn the depth-limited price book
   * into the new one: Change of a level that stays, New of a level that appears, Delete of a level
   * that goes (plus a New filling the last level from below the depth).
   */
  private mboStep(
    st: State,
    side: 'bid' | 'ask',
    ticks: number,
    mutate: () => void,
    entries: Record<string, unknown>[],
  ): void {
    const before = this.levels(st, side);
    mutate();
    const after = this.levels(st, side);
    const bi = before.findIndex((l) => l.ticks === ticks);
    const ai = after.findIndex((l) => l.ticks === ticks);
    const mbpSide = side === 'bid' ? st.bids : st.asks;
    const push = (
      action: 'New' | 'Change' | 'Delete',
      level: number,
      l: { ticks: number; size: number; orders: number },
    ): void => {
      const price = this.px(st, l.ticks);
      const size = action === 'Delete' ? 0 : l.size;
      const orders = action === 'Delete' ? 0 : l.orders;
      applyAction(mbpSide, this.depth, action, level, { price: Number(price), size, orders });
      entries.push({
        MDEntryPx: price,
        MDEntrySize: size,
        SecurityID: st.inst.securityId,
        RptSeq: ++st.rptSeq,
        NumberOfOrders: orders,
        MDPriceLevel: level,
        MDUpdateAction: action,
        MDEntryType: side === 'bid' ? 'Bid' : 'Offer',
        TradeableSize: null,
      });
    };
    if (bi >= 0 && ai >= 0) {
      if (ai < this.depth) push('Change', ai + 1, after[ai]);
    } else if (ai >= 0) {
      if (ai < this.depth) push('New', ai + 1, after[ai]);
    } else if (bi >= 0 && bi < this.depth) {
      push('Delete', bi + 1, before[bi]);
      if (after.length >= this.depth) push('New', this.depth, after[this.depth - 1]);
    }
  }

  private change(
    st: State,
    entries: Record<string, unknown>[],
    changes: MboChange[],
    action: MboChange['action'],
    order: SyntheticOrder,
    old?: SyntheticOrder,
  ): void {
    if (old && old.ticks !== order.ticks) {
      // A price change: the order leaves its old level, then joins the new one.
      this.mboStep(st, old.side, old.ticks, () => st.orders.delete(old.orderId), entries);
    }
    const first = entries.length;
    this.mboStep(
      st,
      order.side,
      order.ticks,
      () => {
        if (action === 'Delete') st.orders.delete(order.orderId);
        else st.orders.set(order.orderId, order);
      },
      entries,
    );
    const px = this.px(st, order.ticks);
    let ref = -1;
    for (let i = first; i < entries.length; i++)
      if (entries[i].MDEntryPx === px && entries[i].MDEntryType === (order.side === 'bid' ? 'Bid' : 'Offer'))
        ref = i;
    changes.push({ order, action, ref });
  }

  private makeOrder(
    st: State,
    side: 'bid' | 'ask',
    ticks: number,
    qty: number,
    orderId?: bigint,
  ): SyntheticOrder {
    return {
      orderId: orderId ?? this.nextOrderId++,
      side,
      ticks,
      price: Number(this.px(st, ticks)),
      qty,
      priority: this.nextPriority++,
    };
  }

  /** A price for a `side` order near the touch that does not cross the other side. */
  private orderTicks(st: State, side: 'bid' | 'ask', from?: number): number {
    const better = side === 'bid' ? 1 : -1;
    const own = this.levels(st, side)[0];
    const other = this.levels(st, side === 'bid' ? 'ask' : 'bid')[0];
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
    const messages: Buffer[] = [];
    const entries: Record<string, unknown>[] = [];
    const changes: MboChange[] = [];
    const n = this.r() < 0.3 ? 2 : 1;
    for (let k = 0; k < n; k++) {
      const count = st.orders.size;
      const u = this.r();
      const list = [...st.orders.values()];
      const pick = list[Math.floor(this.r() * list.length)];
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
          qty > pick.qty
            ? { ...this.makeOrder(st, pick.side, pick.ticks, qty, pick.orderId) }
            : { ...pick, qty };
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
        const resting = this.sideOrders(st, side)[0];
        if (!resting) continue;
        const fill = Math.min(resting.qty, 1 + Math.floor(this.r() * 5));
        messages.push(
          this.codec.encode('MDIncrementalRefreshTradeSummary48', {
            TransactTime: tx,
            MatchEventIndicator: ['LastTradeMsg'],
            NoMDEntries: [
              {
                MDEntryPx: this.px(st, resting.ticks),
                MDEntrySize: fill,
                SecurityID: st.inst.securityId,
                RptSeq: ++st.rptSeq,
                NumberOfOrders: 2,
                AggressorSide: side === 'bid' ? 'Sell' : 'Buy',
                MDUpdateAction: 'New',
                MDTradeEntryID: st.rptSeq,
              },
            ],
            NoOrderIDEntries: [],
          }),
        );
        if (fill === resting.qty) this.change(st, entries, changes, 'Delete', resting);
        else this.change(st, entries, changes, 'Update', { ...resting, qty: resting.qty - fill }, resting);
      }
    }
    const orphans = changes.filter((c) => c.ref < 0);
    const orderEntry = (c: MboChange) => ({
      OrderID: c.order.orderId,
      MDOrderPriority: c.order.priority,
      MDDisplayQty: c.order.qty,
    });
    const last = entries.length === 0 ? 'mbo' : 'mbp';
    if (orphans.length > 0) {
      // Orders beyond the MBP depth have no price-level entry to reference: the MBO-only template.
      messages.push(
        this.codec.encode('MDIncrementalRefreshOrderBook47', {
          TransactTime: tx,
          MatchEventIndicator: last === 'mbo' ? ['LastQuoteMsg', 'EndOfEvent'] : [],
          NoMDEntries: orphans.map((c) => ({
            ...orderEntry(c),
            MDEntryPx: this.px(st, c.order.ticks),
            SecurityID: st.inst.securityId,
            MDUpdateAction: c.action === 'Update' ? 'Change' : c.action,
            MDEntryType: c.order.side === 'bid' ? 'Bid' : 'Offer',
          })),
        }),
      );
    }
    if (entries.length > 0 || orphans.length === 0) {
      messages.push(
        this.codec.encode('MDIncrementalRefreshBook46', {
          TransactTime: tx,
          MatchEventIndicator: ['LastQuoteMsg', 'EndOfEvent'],
          NoMDEntries: entries,
          NoOrderIDEntries: changes
            .filter((c) => c.ref >= 0)
            .map((c) => ({ ...orderEntry(c), ReferenceID: c.ref + 1, OrderUpdateAction: c.action })),
        }),
      );
    }
    return this.packet(messages);
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
