import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors';
import {
  DecodeError,
  assertValidEvent,
  decodeEvent,
  encodeEvent,
  eventProblem,
  parseMarketEvent,
  toTickRow,
  type MarketEvent,
} from '../../../src/market-data';

const T0 = 1_767_225_600_000_000_000n; // 2026-01-01T00:00:00Z in ns
const trade: MarketEvent = {
  type: 'trade',
  symbol: 'ESZ6',
  venue: 'XCME',
  seq: 2 ** 40 + 7,
  exchangeTs: T0 + 123n,
  receiveTs: T0 + 456n,
  price: 5012.25,
  size: 3,
};
const quote: MarketEvent = {
  type: 'quote',
  symbol: 'AAPL',
  venue: 'XNAS',
  seq: 1,
  exchangeTs: T0,
  receiveTs: T0 + 1n,
  bid: 190.1,
  bidSize: 100,
  ask: 190.12,
  askSize: 200,
};
const book: MarketEvent = {
  type: 'book',
  symbol: 'Ünïcode', // utf8 symbols round-trip (validation rejects them separately)
  venue: 'XCME',
  seq: 9,
  exchangeTs: T0,
  receiveTs: T0,
  side: 'ask',
  action: 'delete',
  level: 3,
  price: 101.5,
  size: 0,
};

describe('binary codec', () => {
  it('round-trips every event type exactly, bigint timestamps included', () => {
    for (const e of [trade, quote, book]) expect(decodeEvent(encodeEvent(e))).toEqual(e);
  });

  it('decodes from a Uint8Array view at an offset', () => {
    const enc = encodeEvent(trade);
    const big = new Uint8Array(enc.length + 10);
    big.set(enc, 5);
    expect(decodeEvent(big.subarray(5, 5 + enc.length))).toEqual(trade);
  });

  it('rejects truncated, padded and unknown input with a reason', () => {
    const enc = encodeEvent(trade);
    for (let cut = 0; cut < enc.length; cut++) {
      expect(() => decodeEvent(enc.subarray(0, cut))).toThrow(DecodeError);
    }
    const padded = Buffer.concat([enc, Buffer.from([0])]);
    expect(() => decodeEvent(padded)).toThrow(expect.objectContaining({ reason: 'trailing_bytes' }));
    const badVersion = Buffer.from(enc);
    badVersion[0] = 9;
    expect(() => decodeEvent(badVersion)).toThrow(expect.objectContaining({ reason: 'bad_version' }));
    const badType = Buffer.from(enc);
    badType[1] = 7;
    expect(() => decodeEvent(badType)).toThrow(expect.objectContaining({ reason: 'bad_type' }));
    const badSide = encodeEvent(book);
    badSide[badSide.length - 20] = 5;
    expect(() => decodeEvent(badSide)).toThrow(expect.objectContaining({ reason: 'bad_enum' }));
    expect(() => decodeEvent(Buffer.from('{"type":"trade"}'))).toThrow(DecodeError);
  });
});

describe('validation', () => {
  it('accepts loose JSON/CSV input and converts timestamps to bigint', () => {
    const e = parseMarketEvent({
      type: 'trade',
      symbol: 'ESZ6',
      venue: 'XCME',
      seq: '12',
      exchangeTs: '1767225600000000123',
      receiveTs: 1767225600000000000n,
      price: '5012.25',
      size: 1,
    });
    expect(e).toMatchObject({ seq: 12, exchangeTs: 1_767_225_600_000_000_123n, price: 5012.25 });
    // A JSON number cannot carry nanoseconds exactly: refused rather than silently rounded.
    expect(() => parseMarketEvent({ ...trade, exchangeTs: Number('1767225600000000123') })).toThrow(
      /cannot hold nanoseconds/,
    );
  });

  it('names every bad field', () => {
    const bad = {
      type: 'quote',
      symbol: '',
      venue: 'XCME',
      seq: -1,
      exchangeTs: '1767225600000', // milliseconds: a unit mistake
      receiveTs: T0,
      bid: 'abc',
      bidSize: 1,
      ask: 10,
      askSize: 1,
    };
    let err: unknown;
    try {
      parseMarketEvent(bad, 'ticks.csv:3');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    const msg = (err as Error).message;
    expect(msg).toContain('ticks.csv:3.symbol');
    expect(msg).toContain('ticks.csv:3.seq');
    expect(msg).toContain('ticks.csv:3.exchangeTs: must be nanoseconds');
    expect(msg).toContain('ticks.csv:3.bid');
    expect(() => parseMarketEvent({ ...quote, bid: 11, ask: 10 })).toThrow(/crossed/);
    expect(() => parseMarketEvent({ ...trade, type: 'auction' })).toThrow(InputError);
  });

  it('fast check finds semantic problems in decoded events', () => {
    expect(eventProblem(trade)).toBeNull();
    expect(eventProblem(quote)).toBeNull();
    expect(eventProblem({ ...trade, price: Number.NaN })).toMatch(/^price/);
    expect(eventProblem({ ...trade, size: -1 })).toMatch(/^size/);
    expect(eventProblem({ ...trade, symbol: '' })).toMatch(/^symbol/);
    expect(eventProblem({ ...trade, exchangeTs: 1_767_225_600_000n })).toMatch(/^exchangeTs/);
    expect(eventProblem({ ...quote, bid: 200, ask: 100 } as MarketEvent)).toMatch(/crossed/);
    expect(eventProblem(book)).toMatch(/^symbol/);
    expect(() => assertValidEvent({ ...trade, price: Infinity })).toThrow(InputError);
  });

  it('maps events to ticks table rows', () => {
    expect(toTickRow(trade)).toMatchObject({ type: 'trade', price: 5012.25, size: 3, bid: null });
    expect(toTickRow(quote)).toMatchObject({ bid: 190.1, ask_size: 200, price: null });
    expect(toTickRow(book)).toMatchObject({ ask: 101.5, ask_size: 0, bid: null });
  });
});
