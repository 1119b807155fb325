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
}

export class SyntheticChannel {
  private readonly r: () => number;
  private readonly states: State[];
  private readonly depth: number;
  private seq = 0;
  private time: bigint;

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
    }));
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
    return this.states.map((st, i) => {
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
