/**
 * The KPL aggregated-record format, hand-written so the producer needs no protobuf runtime:
 *   magic F3 89 9A C2 | protobuf AggregatedRecord | MD5(protobuf bytes)
 * AggregatedRecord { repeated string partition_key_table = 1; repeated string explicit_hash_key_table = 2;
 *                    repeated Record records = 3; }
 * Record { required uint64 partition_key_index = 1; optional uint64 explicit_hash_key_index = 2;
 *          required bytes data = 3; repeated Tag tags = 4; }
 * Any standard de-aggregator (the KCL, aws-kinesis-agg) reads what `aggregate` writes.
 */
import { createHash } from 'node:crypto';

export const KPL_MAGIC = Buffer.from([0xf3, 0x89, 0x9a, 0xc2]);
const MD5_LEN = 16;

function varintLen(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function writeVarint(buf: Buffer, o: number, v: number): number {
  while (v >= 0x80) {
    buf[o++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[o++] = v;
  return o;
}

/** Bytes one user record adds to an aggregated record (partition key index 0 assumed small). */
export function aggregatedEntrySize(dataLen: number, keyIndex = 0): number {
  // Record body: tag+varint(index) + tag+len+data.
  const body = 1 + varintLen(keyIndex) + 1 + varintLen(dataLen) + dataLen;
  return 1 + varintLen(body) + body;
}

/** Fixed overhead: magic + MD5 + the partition key table entries. */
export function aggregateOverhead(partitionKeys: readonly string[]): number {
  let n = KPL_MAGIC.length + MD5_LEN;
  for (const k of partitionKeys) {
    const l = Buffer.byteLength(k);
    n += 1 + varintLen(l) + l;
  }
  return n;
}

export interface UserRecord {
  readonly partitionKey: string;
  readonly data: Uint8Array;
}

/** Encodes user records as one KPL aggregated record. */
export function aggregate(records: readonly UserRecord[]): Buffer {
  const keys: string[] = [];
  const keyIndex = new Map<string, number>();
  const idx: number[] = new Array(records.length);
  for (let i = 0; i < records.length; i++) {
    const k = records[i].partitionKey;
    let j = keyIndex.get(k);
    if (j === undefined) {
      j = keys.length;
      keys.push(k);
      keyIndex.set(k, j);
    }
    idx[i] = j;
  }
  const keyBytes = keys.map((k) => Buffer.from(k, 'utf8'));
  let size = KPL_MAGIC.length;
  for (const kb of keyBytes) size += 1 + varintLen(kb.length) + kb.length;
  for (let i = 0; i < records.length; i++) size += aggregatedEntrySize(records[i].data.length, idx[i]);
  size += MD5_LEN;

  const buf = Buffer.allocUnsafe(size);
  KPL_MAGIC.copy(buf, 0);
  let o = KPL_MAGIC.length;
  for (const kb of keyBytes) {
    buf[o++] = (1 << 3) | 2;
    o = writeVarint(buf, o, kb.length);
    o += kb.copy(buf, o);
  }
  for (let i = 0; i < records.length; i++) {
    const d = records[i].data;
    const body = 1 + varintLen(idx[i]) + 1 + varintLen(d.length) + d.length;
    buf[o++] = (3 << 3) | 2;
    o = writeVarint(buf, o, body);
    buf[o++] = (1 << 3) | 0;
    o = writeVarint(buf, o, idx[i]);
    buf[o++] = (3 << 3) | 2;
    o = writeVarint(buf, o, d.length);
    buf.set(d, o);
    o += d.length;
  }
  createHash('md5').update(buf.subarray(KPL_MAGIC.length, o)).digest().copy(buf, o);
  return buf;
}

export class DeaggregationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeaggregationError';
  }
}

export function isAggregated(data: Uint8Array): boolean {
  return (
    data.length >= KPL_MAGIC.length + MD5_LEN &&
    data[0] === 0xf3 &&
    data[1] === 0x89 &&
    data[2] === 0x9a &&
    data[3] === 0xc2
  );
}

function readVarint(buf: Uint8Array, pos: { o: number }, end: number): number {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 8; i++) {
    if (pos.o >= end) throw new DeaggregationError('truncated varint');
    const b = buf[pos.o++];
    result += (b & 0x7f) * mul;
    if (b < 0x80) return result;
    mul *= 128;
  }
  throw new DeaggregationError('varint too long');
}

export interface DeaggregatedRecord {
  readonly partitionKey: string;
  /** Position inside the aggregated record (the KCL's sub-sequence number). */
  readonly subSequence: number;
  readonly data: Buffer;
}

/**
 * User records of one Kinesis record as byte ranges of `buf` (no copies, no per-record objects):
 * record i is `buf[starts[i], ends[i])` with partition key `keys[keyIndex[i]]`. Reused between calls
 * by the consumer's hot loop; valid until the next call with the same instance.
 */
export class UserRecordSpans {
  buf: Buffer = Buffer.alloc(0);
  count = 0;
  keys: string[] = [];
  starts: Int32Array = new Int32Array(1024);
  ends: Int32Array = new Int32Array(1024);
  keyIndex: Int32Array = new Int32Array(1024);

  push(start: number, end: number, key: number): void {
    if (this.count === this.starts.length) {
      const grow = (a: Int32Array): Int32Array => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.starts = grow(this.starts);
      this.ends = grow(this.ends);
      this.keyIndex = grow(this.keyIndex);
    }
    this.starts[this.count] = start;
    this.ends[this.count] = end;
    this.keyIndex[this.count] = key;
    this.count++;
  }
}

/**
 * Splits a Kinesis record into user record spans. A record without the magic prefix is one user
 * record with the fallback key (producers may mix aggregated and plain records). The whole record is
 * checked (checksum, protobuf structure, key indexes) before anything is returned: on a
 * DeaggregationError the caller quarantines the record as a whole.
 */
export function deaggregateSpans(
  data: Uint8Array,
  fallbackPartitionKey: string,
  out: UserRecordSpans = new UserRecordSpans(),
): UserRecordSpans {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length);
  out.buf = buf;
  out.count = 0;
  out.keys = [];
  if (!isAggregated(buf)) {
    out.keys.push(fallbackPartitionKey);
    out.push(0, buf.length, 0);
    return out;
  }
  const end = buf.length - MD5_LEN;
  const digest = createHash('md5').update(buf.subarray(KPL_MAGIC.length, end)).digest();
  if (!digest.equals(buf.subarray(end))) throw new DeaggregationError('MD5 checksum mismatch');
  const keys = out.keys;
  const pos = { o: KPL_MAGIC.length };
  const inner = { o: 0 };
  while (pos.o < end) {
    const tag = readVarint(buf, pos, end);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) {
      readVarint(buf, pos, end);
      continue;
    }
    if (wire !== 2) throw new DeaggregationError(`unsupported wire type ${wire}`);
    const len = readVarint(buf, pos, end);
    const start = pos.o;
    const stop = start + len;
    if (stop > end) throw new DeaggregationError('field runs past the end of the record');
    pos.o = stop;
    if (field === 1) keys.push(buf.toString('utf8', start, stop));
    else if (field === 3) {
      let keyIdx = -1;
      let payloadStart = -1;
      let payloadEnd = -1;
      inner.o = start;
      while (inner.o < stop) {
        const t = readVarint(buf, inner, stop);
        const w = t & 7;
        if (w === 0) {
          const v = readVarint(buf, inner, stop);
          if (t >>> 3 === 1) keyIdx = v;
        } else if (w === 2) {
          const l = readVarint(buf, inner, stop);
          if (inner.o + l > stop) throw new DeaggregationError('record data runs past its message');
          if (t >>> 3 === 3) {
            payloadStart = inner.o;
            payloadEnd = inner.o + l;
          }
          inner.o += l;
        } else throw new DeaggregationError(`unsupported wire type ${w} in record`);
      }
      if (payloadStart < 0) throw new DeaggregationError('record without data');
      // The key table precedes the records in every KPL record; an index past it is malformed.
      if (keyIdx < 0 || keyIdx >= keys.length)
        throw new DeaggregationError(`partition key index ${keyIdx} not in table`);
      out.push(payloadStart, payloadEnd, keyIdx);
    }
    // Field 2 (explicit hash keys) and unknown fields are skipped.
  }
  return out;
}

/**
 * Splits a Kinesis record into user records (objects; see deaggregateSpans for the rules). Throws
 * DeaggregationError when the checksum does not match or the protobuf is malformed.
 */
export function deaggregate(data: Uint8Array, fallbackPartitionKey: string): DeaggregatedRecord[] {
  const s = deaggregateSpans(data, fallbackPartitionKey);
  const out: DeaggregatedRecord[] = [];
  for (let i = 0; i < s.count; i++) {
    out.push({
      partitionKey: s.keys[s.keyIndex[i]],
      subSequence: i,
      data: s.buf.subarray(s.starts[i], s.ends[i]),
    });
  }
  return out;
}
