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

/** Decodes one event; throws DecodeError for anything that is not exactly one well-formed event. */
export function decodeEvent(input: Uint8Array): MarketEvent {
  const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.length);
  const n = bytes.length;
  if (n < 4) throw new DecodeError('truncated', `record of ${n} bytes is shorter than a header`);
  if (bytes[0] !== CODEC_VERSION) throw new DecodeError('bad_version', `unknown codec version ${bytes[0]}`);
  const code = bytes[1];
  if (code < 1 || code > 3) throw new DecodeError('bad_type', `unknown event type code ${code}`);
  let o = 2;
  const symLen = bytes[o++];
  const symEnd = o + symLen;
  if (symEnd + 1 > n) throw new DecodeError('truncated', 'record ends inside symbol');
  const symbol = readStr(bytes, o, symEnd);
  o = symEnd;
  const venLen = bytes[o++];
  const venEnd = o + venLen;
  const need = venEnd + 24 + BODY_LEN[code];
  if (need > n) throw new DecodeError('truncated', `record of ${n} bytes, expected ${need}`);
  if (need < n) throw new DecodeError('trailing_bytes', `record of ${n} bytes, expected ${need}`);
  const venue = readStr(bytes, o, venEnd);
  o = venEnd;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, n);
  const seqHi = dv.getUint32(o + 4, true);
  if (seqHi > 0x1fffff) throw new DecodeError('bad_seq', 'seq exceeds 2^53');
  const seq = seqHi * 4294967296 + dv.getUint32(o, true);
  const exchangeTs = dv.getBigInt64(o + 8, true);
  const receiveTs = dv.getBigInt64(o + 16, true);
  o += 24;
  if (code === 1) {
    return {
      type: 'trade',
      symbol,
      venue,
      seq,
      exchangeTs,
      receiveTs,
      price: dv.getFloat64(o, true),
      size: dv.getFloat64(o + 8, true),
    };
  }
  if (code === 2) {
    return {
      type: 'quote',
      symbol,
      venue,
      seq,
      exchangeTs,
      receiveTs,
      bid: dv.getFloat64(o, true),
      bidSize: dv.getFloat64(o + 8, true),
      ask: dv.getFloat64(o + 16, true),
      askSize: dv.getFloat64(o + 24, true),
    };
  }
  const side = SIDES[bytes[o]];
  const action = ACTIONS[bytes[o + 1]];
  if (side === undefined || action === undefined) {
    throw new DecodeError('bad_enum', `book update side code ${bytes[o]} / action code ${bytes[o + 1]}`);
  }
  return {
    type: 'book',
    symbol,
    venue,
    seq,
    exchangeTs,
    receiveTs,
    side,
    action,
    level: dv.getUint16(o + 2, true),
    price: dv.getFloat64(o + 4, true),
    size: dv.getFloat64(o + 12, true),
  };
}
