/**
 * Compact binary encoding of one MarketEvent (the payload of one Kinesis user record).
 * Binary rather than JSON because the consumer must decode >500k events/s per core and bigint
 * timestamps have no JSON type. Layout (little-endian):
 *
 *   u8 version (=1) | u8 type (1 trade, 2 quote, 3 book) | u8 len + symbol utf8 | u8 len + venue utf8
 *   | u64 seq | i64 exchangeTs | i64 receiveTs | body
 *   trade: f64 price, f64 size          quote: f64 bid, f64 bidSize, f64 ask, f64 askSize
 *   book:  u8 side (0 bid, 1 ask), u8 action (0 new, 1 change, 2 delete), u16 level, f64 price, f64 size
 */
import type { BookAction, BookSide, MarketEvent, TickType } from './events';

export const CODEC_VERSION = 1;

/** The bytes could not be decoded; `reason` is a short machine-friendly code. */
export class DecodeError extends Error {
  constructor(
    readonly reason: 'truncated' | 'bad_version' | 'bad_type' | 'bad_enum' | 'trailing_bytes' | 'bad_seq',
    message: string,
  ) {
    super(message);
    this.name = 'DecodeError';
  }
}

const TYPE_CODE: Record<TickType, number> = { trade: 1, quote: 2, book: 3 };
const SIDES: readonly BookSide[] = ['bid', 'ask'];
const ACTIONS: readonly BookAction[] = ['new', 'change', 'delete'];
const BODY_LEN = [0, 16, 32, 20];

function strBytes(s: string, field: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  if (b.length > 255) throw new RangeError(`${field}: longer than 255 bytes`);
  return b;
}

export function encodeEvent(e: MarketEvent): Buffer {
  const sym = strBytes(e.symbol, 'symbol');
  const ven = strBytes(e.venue, 'venue');
  const code = TYPE_CODE[e.type];
  const len = 2 + 1 + sym.length + 1 + ven.length + 24 + BODY_LEN[code];
  const buf = Buffer.allocUnsafe(len);
  let o = 0;
  buf[o++] = CODEC_VERSION;
  buf[o++] = code;
  buf[o++] = sym.length;
  o += sym.copy(buf, o);
  buf[o++] = ven.length;
  o += ven.copy(buf, o);
  buf.writeBigUInt64LE(BigInt(e.seq), o);
  buf.writeBigInt64LE(e.exchangeTs, o + 8);
  buf.writeBigInt64LE(e.receiveTs, o + 16);
  o += 24;
  switch (e.type) {
    case 'trade':
      buf.writeDoubleLE(e.price, o);
      buf.writeDoubleLE(e.size, o + 8);
      break;
    case 'quote':
      buf.writeDoubleLE(e.bid, o);
      buf.writeDoubleLE(e.bidSize, o + 8);
      buf.writeDoubleLE(e.ask, o + 16);
      buf.writeDoubleLE(e.askSize, o + 24);
      break;
    case 'book':
      buf[o] = SIDES.indexOf(e.side);
      buf[o + 1] = ACTIONS.indexOf(e.action);
      buf.writeUInt16LE(e.level, o + 2);
      buf.writeDoubleLE(e.price, o + 4);
      buf.writeDoubleLE(e.size, o + 12);
      break;
  }
  return buf;
}

// Symbols and venues repeat endlessly: cache decoded strings by their bytes to skip utf8 decoding.
const stringCache = new Map<string, string>();
function readStr(buf: Buffer, start: number, end: number): string {
  const key = buf.toString('latin1', start, end);
  let s = stringCache.get(key);
  if (s === undefined) {
    s = buf.toString('utf8', start, end);
    if (stringCache.size < 100_000) stringCache.set(key, s);
  }
  return s;
}

/**
 * One decoded event in a reusable, fixed-shape object: every field of every event type is present
 * (fields of other types keep stale values). The consumer decodes millions of events per second into
 * one of these instead of allocating an object per event. Read it as `asEvent(t)`.
 */
export class DecodedTick {
  type: TickType = 'trade';
  symbol = '';
  venue = '';
  seq = 0;
  exchangeTs = 0n;
  receiveTs = 0n;
  /** Trade and book update price. */
  price = 0;
  /** Trade and book update size. */
  size = 0;
  bid = 0;
  bidSize = 0;
  ask = 0;
  askSize = 0;
  side: BookSide = 'bid';
  action: BookAction = 'new';
  level = 0;
  // Last strings seen, with their bytes: consecutive events of a record share symbol and venue.
  private lastSym = '';
  private lastSymBytes = Buffer.alloc(0);
  private lastVen = '';
  private lastVenBytes = Buffer.alloc(0);
  private dv: DataView | undefined;
  private dvBuf: ArrayBufferLike | undefined;

  /** The same string as last time when the bytes are the same; otherwise decoded (and cached). */
  private str(buf: Buffer, start: number, end: number, venue: boolean): string {
    const prev = venue ? this.lastVenBytes : this.lastSymBytes;
    const n = end - start;
    if (prev.length === n) {
      let i = 0;
      while (i < n && prev[i] === buf[start + i]) i++;
      if (i === n) return venue ? this.lastVen : this.lastSym;
    }
    const s = readStr(buf, start, end);
    const bytes = Buffer.from(buf.subarray(start, end));
    if (venue) {
      this.lastVen = s;
      this.lastVenBytes = bytes;
    } else {
      this.lastSym = s;
      this.lastSymBytes = bytes;
    }
    return s;
  }

  /** Decodes `buf[start, end)`; throws DecodeError for anything that is not exactly one well-formed event. */
  decode(buf: Buffer, start: number, end: number): this {
    const n = end - start;
    if (n < 4) throw new DecodeError('truncated', `record of ${n} bytes is shorter than a header`);
    if (buf[start] !== CODEC_VERSION)
      throw new DecodeError('bad_version', `unknown codec version ${buf[start]}`);
    const code = buf[start + 1];
    if (code < 1 || code > 3) throw new DecodeError('bad_type', `unknown event type code ${code}`);
    let o = start + 2;
    const symEnd = o + 1 + buf[o];
    if (symEnd + 1 > end) throw new DecodeError('truncated', 'record ends inside symbol');
    const venEnd = symEnd + 1 + buf[symEnd];
    const need = venEnd + 24 + BODY_LEN[code];
    if (need > end) throw new DecodeError('truncated', `record of ${n} bytes, expected ${need - start}`);
    if (need < end) throw new DecodeError('trailing_bytes', `record of ${n} bytes, expected ${need - start}`);
    if (this.dvBuf !== buf.buffer) {
      this.dvBuf = buf.buffer;
      this.dv = new DataView(buf.buffer);
    }
    const dv = this.dv as DataView;
    const base = buf.byteOffset;
    const seqHi = dv.getUint32(base + venEnd + 4, true);
    if (seqHi > 0x1fffff) throw new DecodeError('bad_seq', 'seq exceeds 2^53');
    this.symbol = this.str(buf, o + 1, symEnd, false);
    this.venue = this.str(buf, symEnd + 1, venEnd, true);
    o = base + venEnd;
    this.seq = seqHi * 4294967296 + dv.getUint32(o, true);
    this.exchangeTs = dv.getBigInt64(o + 8, true);
    this.receiveTs = dv.getBigInt64(o + 16, true);
    o += 24;
    if (code === 1) {
      this.type = 'trade';
      this.price = dv.getFloat64(o, true);
      this.size = dv.getFloat64(o + 8, true);
    } else if (code === 2) {
      this.type = 'quote';
      this.bid = dv.getFloat64(o, true);
      this.bidSize = dv.getFloat64(o + 8, true);
      this.ask = dv.getFloat64(o + 16, true);
      this.askSize = dv.getFloat64(o + 24, true);
    } else {
      const side = SIDES[dv.getUint8(o)];
      const action = ACTIONS[dv.getUint8(o + 1)];
      if (side === undefined || action === undefined) {
        throw new DecodeError(
          'bad_enum',
          `book update side code ${dv.getUint8(o)} / action code ${dv.getUint8(o + 1)}`,
        );
      }
      this.type = 'book';
      this.side = side;
      this.action = action;
      this.level = dv.getUint16(o + 2, true);
      this.price = dv.getFloat64(o + 4, true);
      this.size = dv.getFloat64(o + 12, true);
    }
    return this;
  }
}

/**
 * The tick as a MarketEvent for code that switches on `type` and reads only that type's fields
 * (validation, column building). Not a copy: do not keep it past the next decode.
 */
export function asEvent(t: DecodedTick): MarketEvent {
  return t as unknown as MarketEvent;
}

/** A fresh MarketEvent with exactly the fields of its type. */
export function toMarketEvent(t: DecodedTick): MarketEvent {
  const { symbol, venue, seq, exchangeTs, receiveTs } = t;
  if (t.type === 'trade')
    return { type: 'trade', symbol, venue, seq, exchangeTs, receiveTs, price: t.price, size: t.size };
  if (t.type === 'quote') {
    return {
      type: 'quote',
      symbol,
      venue,
      seq,
      exchangeTs,
      receiveTs,
      bid: t.bid,
      bidSize: t.bidSize,
      ask: t.ask,
      askSize: t.askSize,
    };
  }
  return {
    type: 'book',
    symbol,
    venue,
    seq,
    exchangeTs,
    receiveTs,
    side: t.side,
    action: t.action,
    level: t.level,
    price: t.price,
    size: t.size,
  };
}

/** Decodes one event; throws DecodeError for anything that is not exactly one well-formed event. */
export function decodeEvent(input: Uint8Array): MarketEvent {
  const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.length);
  return toMarketEvent(new DecodedTick().decode(bytes, 0, bytes.length));
}
