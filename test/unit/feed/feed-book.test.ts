import { describe, expect, it } from 'vitest';
import type { QuoteEvent, TradeEvent } from '../../../src/market-data/events';
import { BookBuilder, type BookStatusEvent } from '../../../src/feed/book';
import { SbeCodec } from '../../../src/sbe/codec';
import { loadSchema } from '../../../src/sbe/schema';
import { SCHEMA } from './helpers';

// The real CME capture through the builder: test/conformance/feed/book-capture.test.ts.
const codec = new SbeCodec(loadSchema(SCHEMA));
const ES = 1001;

type Action = 'New' | 'Change' | 'Delete' | 'DeleteThru' | 'DeleteFrom' | 'Overlay';
interface E {
  a: Action;
  t: 'Bid' | 'Offer' | 'ImpliedBid' | 'ImpliedOffer' | 'BookReset';
  l: number;
  px?: string;
  sz?: number;
  seq: number;
  id?: number;
}

/** Encodes and decodes for real, so the builder sees exactly what the wire would give it. */
function bookMsg(entries: E[], end = true) {
  const bytes = codec.encode('MDIncrementalRefreshBook46', {
    TransactTime: 1_700_000_000_000_000_000n,
    MatchEventIndicator: end ? ['LastQuoteMsg', 'EndOfEvent'] : ['LastQuoteMsg'],
    NoMDEntries: entries.map((e) => ({
      MDEntryPx: e.px ?? null,
      MDEntrySize: e.sz ?? null,
      SecurityID: e.id ?? ES,
      RptSeq: e.seq,
      NumberOfOrders: e.sz === undefined ? null : 1,
      MDPriceLevel: e.l,
      MDUpdateAction: e.a,
      MDEntryType: e.t,
      TradeableSize: null,
    })),
    NoOrderIDEntries: [],
  });
  return codec.decode(bytes, 0, bytes.length);
}

function definition(id: number, symbol: string, depth: number, implied: number) {
  const def = codec.schema.messagesByName.get('MDInstrumentDefinitionFuture54')!;
  // Minimal valid definition: zero/empty values for every field, then the ones the book uses.
  const bytes = codec.encode(54, {
    ...Object.fromEntries(
      def.fields
        .filter((f) => !f.constant)
        .map((f) => [
          f.name,
          f.type.kind === 'type' && f.type.primitive === 'char'
            ? ''
            : f.type.kind === 'set'
              ? []
              : f.type.kind === 'enum'
                ? [...f.type.values.values()][0]
                : f.type.kind === 'composite' && !f.type.decimal
                  ? {}
                  : f.type.kind === 'composite'
                    ? '0'
                    : 0,
        ]),
    ),
    MaturityMonthYear: { year: 2026, month: 12, day: null, week: null },
    SecurityID: id,
    Symbol: symbol,
    NoEvents: [],
    NoMDFeedTypes: [
      { MDFeedType: 'GBX', MarketDepth: depth },
      { MDFeedType: 'GBI', MarketDepth: implied },
    ],
    NoInstAttrib: [],
    NoLotTypeRules: [],
  });
  return codec.decode(bytes, 0, bytes.length);
}

function harness() {
  const events: Array<TradeEvent | QuoteEvent> = [];
  const status: BookStatusEvent[] = [];
  const b = new BookBuilder(
    (e) => events.push(e),
    (s) => status.push(s),
    { receiveTs: () => 42n },
  );
  b.onMessage(definition(ES, 'ESZ6', 3, 2));
  const px = (side: 'bids' | 'asks' | 'impliedBids' | 'impliedAsks') =>
    b.book(ES)![side].map((l) => [l.price, l.size]);
  return { b, events, status, px };
}

describe('book builder', () => {
  it('uses the depth from the instrument definition and applies New/Change/Delete with shifting', () => {
    const { b, events, px } = harness();
    b.onMessage(
      bookMsg([
        { a: 'New', t: 'Bid', l: 1, px: '100.25', sz: 5, seq: 1 },
        { a: 'New', t: 'Bid', l: 2, px: '100', sz: 7, seq: 2 },
        { a: 'New', t: 'Bid', l: 3, px: '99.75', sz: 9, seq: 3 },
        { a: 'New', t: 'Offer', l: 1, px: '100.5', sz: 4, seq: 4 },
      ]),
    );
    expect(b.book(ES)!.symbol).toBe('ESZ6');
    expect(px('bids')).toEqual([
      [100.25, 5],
      [100, 7],
      [99.75, 9],
    ]);
    b.onMessage(bookMsg([{ a: 'New', t: 'Bid', l: 1, px: '100.5', sz: 1, seq: 5 }])); // depth 3: 99.75 falls off
    expect(px('bids')).toEqual([
      [100.5, 1],
      [100.25, 5],
      [100, 7],
    ]);
    b.onMessage(bookMsg([{ a: 'Change', t: 'Bid', l: 2, px: '100.25', sz: 50, seq: 6 }]));
    b.onMessage(bookMsg([{ a: 'Delete', t: 'Bid', l: 1, px: '100.5', seq: 7 }]));
    expect(px('bids')).toEqual([
      [100.25, 50],
      [100, 7],
    ]);
    // Quotes after the first event, the new best bid and the delete; the level-2 change keeps the top.
    expect(events.map((e) => e.type)).toEqual(['quote', 'quote', 'quote']);
    expect(events.at(-1)).toEqual({
      type: 'quote',
      symbol: 'ESZ6',
      venue: 'XCME',
      seq: events.length,
      exchangeTs: 1_700_000_000_000_000_000n,
      receiveTs: 42n,
      bid: 100.25,
      bidSize: 50,
      ask: 100.5,
      askSize: 4,
    });
  });

  it('DeleteFrom removes the top L levels, DeleteThru clears the side, Overlay replaces in place, BookReset clears all', () => {
    const { b, px } = harness();
    const fill = (seq: number) =>
      bookMsg([
        { a: 'New', t: 'Offer', l: 1, px: '10', sz: 1, seq },
        { a: 'New', t: 'Offer', l: 2, px: '11', sz: 2, seq: seq + 1 },
        { a: 'New', t: 'Offer', l: 3, px: '12', sz: 3, seq: seq + 2 },
      ]);
    b.onMessage(fill(1));
    b.onMessage(bookMsg([{ a: 'DeleteFrom', t: 'Offer', l: 2, seq: 4 }]));
    expect(px('asks')).toEqual([[12, 3]]);
    b.onMessage(bookMsg([{ a: 'Overlay', t: 'Offer', l: 1, px: '11.5', sz: 8, seq: 5 }]));
    expect(px('asks')).toEqual([[11.5, 8]]);
    b.onMessage(bookMsg([{ a: 'DeleteThru', t: 'Offer', l: 1, seq: 6 }]));
    expect(px('asks')).toEqual([]);
    b.onMessage(fill(7));
    b.onMessage(bookMsg([{ a: 'New', t: 'ImpliedBid', l: 1, px: '9', sz: 1, seq: 10 }]));
    b.onMessage(bookMsg([{ a: 'New', t: 'Bid', l: 1, px: '0', sz: 0, seq: 11, id: ES }]));
    b.onMessage(bookMsg([{ a: 'New', t: 'BookReset', l: 1, seq: 12 }]));
    expect([px('asks'), px('bids'), px('impliedBids')]).toEqual([[], [], []]);
  });

  it('keeps the implied book 2 deep and merges it into the top of book', () => {
    const { b, events, px } = harness();
    b.onMessage(
      bookMsg([
        { a: 'New', t: 'Bid', l: 1, px: '100', sz: 5, seq: 1 },
        { a: 'New', t: 'Offer', l: 1, px: '101', sz: 5, seq: 2 },
        { a: 'New', t: 'ImpliedBid', l: 1, px: '100', sz: 3, seq: 3 },
        { a: 'New', t: 'ImpliedBid', l: 2, px: '99', sz: 3, seq: 4 },
        { a: 'New', t: 'ImpliedBid', l: 1, px: '100.25', sz: 2, seq: 5 },
        { a: 'New', t: 'ImpliedOffer', l: 1, px: '101', sz: 1, seq: 6 },
      ]),
    );
    expect(px('impliedBids')).toEqual([
      [100.25, 2],
      [100, 3],
    ]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'quote', bid: 100.25, bidSize: 2, ask: 101, askSize: 6 });
  });

  it('commits at EndOfEvent only: nothing is published in the middle of an event', () => {
    const { b, events } = harness();
    b.onMessage(bookMsg([{ a: 'New', t: 'Bid', l: 1, px: '100', sz: 5, seq: 1 }], false));
    b.onMessage(bookMsg([{ a: 'New', t: 'Offer', l: 1, px: '101', sz: 5, seq: 2 }], false));
    expect(events).toEqual([]);
    const trade = codec.encode('MDIncrementalRefreshTradeSummary48', {
      TransactTime: 5n,
      MatchEventIndicator: ['LastTradeMsg', 'EndOfEvent'],
      NoMDEntries: [
        {
          MDEntryPx: '100',
          MDEntrySize: 2,
          SecurityID: ES,
          RptSeq: 3,
          NumberOfOrders: 2,
          AggressorSide: 'Sell',
          MDUpdateAction: 'New',
          MDTradeEntryID: 1,
        },
      ],
      NoOrderIDEntries: [],
    });
    b.onMessage(codec.decode(trade, 0, trade.length));
    expect(events).toEqual([
      {
        type: 'trade',
        symbol: 'ESZ6',
        venue: 'XCME',
        seq: 1,
        exchangeTs: 5n,
        receiveTs: 42n,
        price: 100,
        size: 2,
      },
      {
        type: 'quote',
        symbol: 'ESZ6',
        venue: 'XCME',
        seq: 2,
        exchangeTs: 5n,
        receiveTs: 42n,
        bid: 100,
        bidSize: 5,
        ask: 101,
        askSize: 5,
      },
    ]);
  });

  it('detects per-instrument RptSeq gaps, skips duplicates, suppresses quotes until a snapshot recovers', () => {
    const { b, events, status, px } = harness();
    b.onMessage(
      bookMsg([
        { a: 'New', t: 'Bid', l: 1, px: '100', sz: 5, seq: 1 },
        { a: 'New', t: 'Offer', l: 1, px: '101', sz: 5, seq: 2 },
      ]),
    );
    expect(events).toHaveLength(1);
    b.onMessage(bookMsg([{ a: 'Change', t: 'Bid', l: 1, px: '100', sz: 6, seq: 2 }])); // duplicate RptSeq
    expect(px('bids')).toEqual([[100, 5]]);
    expect(b.stats.staleEntries).toBe(1);
    b.onMessage(bookMsg([{ a: 'Change', t: 'Bid', l: 1, px: '100', sz: 9, seq: 5 }])); // 3 and 4 missing
    expect(status).toEqual([{ type: 'instrumentGap', securityId: ES, expected: 3, received: 5 }]);
    expect(b.book(ES)!.stale).toBe(true);
    expect(events).toHaveLength(1);
    const snap = codec.encode('SnapshotFullRefresh52', {
      LastMsgSeqNumProcessed: 100,
      TotNumReports: 1,
      SecurityID: ES,
      RptSeq: 8,
      TransactTime: 9n,
      LastUpdateTime: 9n,
      TradeDate: 20000,
      MDSecurityTradingStatus: 'ReadyToTrade',
      HighLimitPrice: null,
      LowLimitPrice: null,
      MaxPriceVariation: null,
      NoMDEntries: [
        {
          MDEntryPx: '100.25',
          MDEntrySize: 4,
          NumberOfOrders: 1,
          MDPriceLevel: 1,
          TradingReferenceDate: null,
          OpenCloseSettlFlag: null,
          SettlPriceType: [],
          MDEntryType: 'Bid',
        },
        {
          MDEntryPx: '100',
          MDEntrySize: 9,
          NumberOfOrders: 1,
          MDPriceLevel: 2,
          TradingReferenceDate: null,
          OpenCloseSettlFlag: null,
          SettlPriceType: [],
          MDEntryType: 'Bid',
        },
        {
          MDEntryPx: '100.5',
          MDEntrySize: 2,
          NumberOfOrders: 1,
          MDPriceLevel: 1,
          TradingReferenceDate: null,
          OpenCloseSettlFlag: null,
          SettlPriceType: [],
          MDEntryType: 'Offer',
        },
        {
          MDEntryPx: '4000',
          MDEntrySize: 1,
          NumberOfOrders: null,
          MDPriceLevel: null,
          TradingReferenceDate: null,
          OpenCloseSettlFlag: null,
          SettlPriceType: [],
          MDEntryType: 'SettlementPrice',
        },
      ],
    });
    b.onMessage(codec.decode(snap, 0, snap.length));
    expect(status.at(-1)).toEqual({ type: 'instrumentRecovered', securityId: ES, rptSeq: 8 });
    expect(px('bids')).toEqual([
      [100.25, 4],
      [100, 9],
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'quote', bid: 100.25, ask: 100.5, exchangeTs: 9n });
    b.onMessage(bookMsg([{ a: 'Change', t: 'Bid', l: 1, px: '100.25', sz: 1, seq: 8 }])); // already in the snapshot
    b.onMessage(bookMsg([{ a: 'Change', t: 'Bid', l: 1, px: '100.25', sz: 3, seq: 9 }]));
    expect(px('bids')[0]).toEqual([100.25, 3]);
  });

  it('rejects impossible levels and actions without corrupting the book', () => {
    const { b, px } = harness();
    b.onMessage(bookMsg([{ a: 'New', t: 'Bid', l: 1, px: '100', sz: 5, seq: 1 }]));
    b.onMessage(
      bookMsg([
        { a: 'New', t: 'Bid', l: 3, px: '99', sz: 5, seq: 2 }, // level 2 does not exist yet
        { a: 'Change', t: 'Bid', l: 2, px: '99', sz: 5, seq: 3 },
        { a: 'Delete', t: 'Offer', l: 1, seq: 4 },
        { a: 'New', t: 'Bid', l: 4, px: '98', sz: 5, seq: 5 }, // beyond depth 3
        { a: 'New', t: 'Bid', l: 0, px: '98', sz: 5, seq: 6 },
      ]),
    );
    expect(px('bids')).toEqual([[100, 5]]);
    expect(b.stats.rejectedEntries).toBe(5);
  });

  it('ChannelReset (template 4) clears books and statistics', () => {
    const { b, status } = harness();
    b.onMessage(bookMsg([{ a: 'New', t: 'Bid', l: 1, px: '100', sz: 5, seq: 1 }]));
    const reset = codec.encode('ChannelReset4', {
      TransactTime: 1n,
      MatchEventIndicator: ['EndOfEvent'],
      NoMDEntries: [{ ApplID: 310 }],
    });
    b.onMessage(codec.decode(reset, 0, reset.length));
    expect(b.book(ES)).toBeUndefined();
    expect(status).toEqual([{ type: 'channelReset' }]);
    b.onMessage(bookMsg([{ a: 'New', t: 'Bid', l: 1, px: '101', sz: 1, seq: 1 }]));
    expect(b.book(ES)!.bids).toEqual([{ price: 101, size: 1, orders: 1 }]);
    expect(b.book(ES)!.symbol).toBe('ESZ6'); // definitions survive a reset
  });
});
