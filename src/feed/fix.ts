/**
 * FIX tag=value (classic FIX 4.x framing): `8=BeginString SOH 9=BodyLength SOH 35=MsgType SOH ...
 * 10=CheckSum SOH`. BodyLength counts the bytes after the `9=` field up to and including the SOH
 * before `10=`; CheckSum is the sum of every byte before `10=` modulo 256, as three digits. Used by
 * the CME TCP replay client (its Logon, MarketDataRequest and Logout are tag=value) and by the local
 * replay server that checks them. Malformed input is an error that names the tag and the problem;
 * an incomplete message (more bytes may come) is not.
 */

export const SOH = '\x01';
const SOH_BYTE = 0x01;
const EQUALS = 0x3d;
/** Longest BodyLength accepted: the replay session's messages are a few hundred bytes. */
export const MAX_FIX_BODY_LENGTH = 65_536;

/** Names of the tags this code uses, for error messages. */
export const FIX_TAG_NAMES: Readonly<Record<number, string>> = {
  8: 'BeginString',
  9: 'BodyLength',
  10: 'CheckSum',
  34: 'MsgSeqNum',
  35: 'MsgType',
  49: 'SenderCompID',
  52: 'SendingTime',
  56: 'TargetCompID',
  58: 'Text',
  98: 'EncryptMethod',
  108: 'HeartBtInt',
  262: 'MDReqID',
  553: 'Username',
  554: 'Password',
  1180: 'ApplID',
  1182: 'ApplBegSeqNum',
  1183: 'ApplEndSeqNum',
};

export const tagName = (tag: number): string =>
  FIX_TAG_NAMES[tag] ? `${FIX_TAG_NAMES[tag]} (${tag})` : `tag ${tag}`;

/** A malformed FIX message; `tag` is the field at fault when there is one. */
export class FixError extends Error {
  constructor(
    message: string,
    readonly tag?: number,
  ) {
    super(message);
    this.name = 'FixError';
  }
}

export type FixValue = string | number;

/** A decoded message: the header's BeginString and MsgType, and every field in order (8, 9 and 10 included). */
export class FixMessage {
  constructor(
    readonly fields: ReadonlyArray<readonly [number, string]>,
    /** Bytes the message took in the input. */
    readonly length: number,
  ) {}

  get beginString(): string {
    return this.fields[0]![1];
  }

  get msgType(): string {
    return this.fields[2]![1];
  }

  /** First value of `tag`, or undefined. */
  get(tag: number): string | undefined {
    for (const [t, v] of this.fields) if (t === tag) return v;
    return undefined;
  }

  /** Value of `tag`; a FixError naming it when absent. */
  require(tag: number): string {
    const v = this.get(tag);
    if (v === undefined) throw new FixError(`MsgType ${this.msgType}: missing required ${tagName(tag)}`, tag);
    return v;
  }

  /** Value of `tag` as an integer in [min, max]; a FixError naming it otherwise. */
  requireInt(tag: number, min: number, max: number): number {
    const v = this.require(tag);
    const n = Number(v);
    if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max)
      throw new FixError(`${tagName(tag)}: "${v}" is not an integer ${min}..${max}`, tag);
    return n;
  }
}

function checkField(tag: number, value: string): void {
  if (!Number.isInteger(tag) || tag < 1) throw new FixError(`tag ${tag}: not a positive integer tag`, tag);
  if (value === '') throw new FixError(`${tagName(tag)}: empty value`, tag);
  if (value.includes(SOH)) throw new FixError(`${tagName(tag)}: value contains SOH`, tag);
}

/**
 * Encodes one message: BeginString, BodyLength and MsgType first, then `fields` in the given order
 * (the caller puts the standard header fields first), then CheckSum. Values are sent as latin1.
 */
export function encodeFix(
  msgType: string,
  fields: ReadonlyArray<readonly [number, FixValue]>,
  beginString = 'FIX.4.2',
): Buffer {
  checkField(8, beginString);
  checkField(35, msgType);
  let body = `35=${msgType}${SOH}`;
  for (const [tag, raw] of fields) {
    if ([8, 9, 10, 35].includes(tag)) throw new FixError(`${tagName(tag)}: set by the encoder`, tag);
    const value = String(raw);
    checkField(tag, value);
    body += `${tag}=${value}${SOH}`;
  }
  const head = `8=${beginString}${SOH}9=${Buffer.byteLength(body, 'latin1')}${SOH}`;
  const bytes = Buffer.from(head + body, 'latin1');
  return Buffer.concat([bytes, Buffer.from(`10=${checksumText(bytes)}${SOH}`, 'latin1')]);
}

/** Sum of the bytes modulo 256, as the three digits of tag 10. */
export function checksumText(bytes: Buffer, end = bytes.length): string {
  let sum = 0;
  for (let i = 0; i < end; i++) sum += bytes[i]!;
  return String(sum % 256).padStart(3, '0');
}

/** Reads `tag=` at `p` expecting `want`; returns the value's start, or -1 when more bytes are needed. */
function expectTag(buf: Buffer, p: number, want: number, position: string): number {
  const prefix = `${want}=`;
  for (let i = 0; i < prefix.length; i++) {
    if (p + i >= buf.length) return -1;
    if (buf[p + i] !== prefix.charCodeAt(i))
      throw new FixError(`${tagName(want)} must be the ${position} field`, want);
  }
  return p + prefix.length;
}

/** End (index of the SOH) of the value starting at `p`, or -1 when not within `limit` bytes yet. */
function valueEnd(buf: Buffer, p: number, limit: number, tag: number): number {
  const stop = Math.min(buf.length, p + limit);
  for (let i = p; i < stop; i++) if (buf[i] === SOH_BYTE) return i;
  if (buf.length >= p + limit) throw new FixError(`${tagName(tag)}: no SOH within ${limit} bytes`, tag);
  return -1;
}

/**
 * Decodes the message starting at `offset`: the message, or null when the bytes end before it does
 * (a stream decoder waits for more). Throws FixError when the bytes cannot be a valid message.
 */
export function tryDecodeFix(buf: Buffer, offset = 0): FixMessage | null {
  let p = expectTag(buf, offset, 8, 'first');
  if (p < 0) return null;
  let end = valueEnd(buf, p, 32, 8);
  if (end < 0) return null;
  if (end === p) throw new FixError(`${tagName(8)}: empty value`, 8);
  const beginString = buf.toString('latin1', p, end);
  p = expectTag(buf, end + 1, 9, 'second');
  if (p < 0) return null;
  end = valueEnd(buf, p, 8, 9);
  if (end < 0) return null;
  const lengthText = buf.toString('latin1', p, end);
  const bodyLength = Number(lengthText);
  if (!/^\d+$/.test(lengthText) || bodyLength < 1 || bodyLength > MAX_FIX_BODY_LENGTH)
    throw new FixError(`${tagName(9)}: "${lengthText}" is not a length 1..${MAX_FIX_BODY_LENGTH}`, 9);
  const bodyStart = end + 1;
  const trailer = bodyStart + bodyLength;
  // "10=" + three digits + SOH
  const total = trailer + 7 - offset;
  if (buf.length < offset + total) return null;
  if (buf[trailer - 1] !== SOH_BYTE || buf.toString('latin1', trailer, trailer + 3) !== '10=')
    throw new FixError(`${tagName(9)}: ${bodyLength} does not end where ${tagName(10)} starts`, 9);
  const sumText = buf.toString('latin1', trailer + 3, trailer + 6);
  if (!/^\d{3}$/.test(sumText) || buf[trailer + 6] !== SOH_BYTE)
    throw new FixError(`${tagName(10)}: "${sumText}" is not three digits followed by SOH`, 10);
  const computed = checksumText(buf.subarray(offset, trailer));
  if (sumText !== computed) throw new FixError(`${tagName(10)}: ${sumText}, computed ${computed}`, 10);

  const fields: Array<[number, string]> = [
    [8, beginString],
    [9, lengthText],
  ];
  let q = bodyStart;
  while (q < trailer) {
    const soh = buf.indexOf(SOH_BYTE, q);
    const eq = buf.indexOf(EQUALS, q);
    if (eq < 0 || eq > soh)
      throw new FixError(`field at byte ${q - offset}: "${buf.toString('latin1', q, soh)}" has no "="`);
    const tagText = buf.toString('latin1', q, eq);
    const tag = Number(tagText);
    if (!/^[1-9]\d{0,8}$/.test(tagText))
      throw new FixError(`field at byte ${q - offset}: "${tagText}" is not a tag number`);
    if (tag === 8 || tag === 9 || tag === 10)
      throw new FixError(`${tagName(tag)}: only allowed in the header or trailer`, tag);
    if (soh === eq + 1) throw new FixError(`${tagName(tag)}: empty value`, tag);
    if (fields.length === 2 && tag !== 35) throw new FixError(`${tagName(35)} must be the third field`, 35);
    fields.push([tag, buf.toString('latin1', eq + 1, soh)]);
    q = soh + 1;
  }
  if (fields.length === 2) throw new FixError(`${tagName(35)} must be the third field`, 35);
  fields.push([10, sumText]);
  return new FixMessage(fields, total);
}

/** Decodes exactly one complete message: truncated input and trailing bytes are errors too. */
export function decodeFix(buf: Buffer): FixMessage {
  const m = tryDecodeFix(buf, 0);
  if (!m) throw new FixError(`truncated message: ${buf.length} bytes end before ${tagName(10)}`);
  if (m.length !== buf.length)
    throw new FixError(`${buf.length - m.length} bytes after ${tagName(10)} (one message expected)`);
  return m;
}

/** FIX UTCTimestamp with milliseconds: YYYYMMDD-HH:MM:SS.sss. */
export function fixTimestamp(d: Date): string {
  const iso = d.toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 23)}`;
}
