/**
 * MDP 3.0 packet framing. UDP: a 12-byte binary packet header (MsgSeqNum uint32, SendingTime
 * uint64, little-endian) and then messages, each prefixed by a uint16 size that counts itself.
 * TCP recovery: each frame starts with the technical header encodingType 0xCAFE (uint16),
 * MsgSeqNum (uint32), SendingTime (uint64), followed by size-prefixed messages.
 */

export const PACKET_HEADER_SIZE = 12;
export const TCP_HEADER_SIZE = 14;
export const TCP_ENCODING_TYPE = 0xcafe;
/** Smallest legal message size: the 2-byte size itself plus an 8-byte SBE header. */
export const MIN_MESSAGE_SIZE = 10;

export type FramingErrorCode =
  'truncatedPacket' | 'badMessageSize' | 'messageBeyondPacket' | 'tcpGarbage' | 'truncatedFrame';

/** One SBE message located inside a packet: bytes [offset, offset + length) of `buf` (no size prefix). */
export interface MessageRef {
  readonly buf: Buffer;
  readonly offset: number;
  readonly length: number;
}

export function packetSeq(buf: Buffer, start = 0): number {
  return buf.readUInt32LE(start);
}

export function packetSendingTime(buf: Buffer, start = 0): bigint {
  return buf.readBigUInt64LE(start + 4);
}

/**
 * Calls `visit(offset, length)` for each message of a UDP packet in buf[start, end). Returns null when
 * the packet was framed cleanly, else the error that stopped it (messages before it were visited).
 */
export function forEachMessage(
  buf: Buffer,
  start: number,
  end: number,
  visit: (offset: number, length: number) => void,
): FramingErrorCode | null {
  if (end - start < PACKET_HEADER_SIZE) return 'truncatedPacket';
  let p = start + PACKET_HEADER_SIZE;
  while (p < end) {
    if (p + 2 > end) return 'truncatedPacket';
    const size = buf[p] | (buf[p + 1] << 8);
    if (size < MIN_MESSAGE_SIZE) return 'badMessageSize';
    if (p + size > end) return 'messageBeyondPacket';
    visit(p + 2, size - 2);
    p += size;
  }
  return null;
}

/** Builds a UDP packet from encoded messages (used by the simulator, tests and benchmarks). */
export function buildPacket(seq: number, sendingTime: bigint, messages: readonly Buffer[]): Buffer {
  const size = PACKET_HEADER_SIZE + messages.reduce((s, m) => s + 2 + m.length, 0);
  const out = Buffer.allocUnsafe(size);
  out.writeUInt32LE(seq >>> 0, 0);
  out.writeBigUInt64LE(sendingTime, 4);
  let p = PACKET_HEADER_SIZE;
  for (const m of messages) {
    out.writeUInt16LE(m.length + 2, p);
    m.copy(out, p + 2);
    p += 2 + m.length;
  }
  return out;
}

/** Builds one TCP recovery frame (0xCAFE header + size-prefixed messages). */
export function buildTcpFrame(seq: number, sendingTime: bigint, messages: readonly Buffer[]): Buffer {
  const udp = buildPacket(seq, sendingTime, messages);
  const out = Buffer.allocUnsafe(udp.length + 2);
  out.writeUInt16LE(TCP_ENCODING_TYPE, 0);
  udp.copy(out, 2);
  return out;
}

export interface TcpMessage extends MessageRef {
  readonly seq: number;
  readonly sendingTime: bigint;
  /** Caller's tag of the chunk in which the frame started (the pcap record index). */
  readonly tag: number;
}

/**
 * Incremental parser of a TCP recovery byte stream. Bytes that do not start a frame are skipped up
 * to the next 0xCAFE marker and counted. After a message, a following 0xCAFE starts a new frame; a
 * size-prefixed message with the same SBE schema id is read as another message of the same frame;
 * anything else is garbage.
 */
export class TcpFrameParser {
  private buf: Buffer = Buffer.alloc(0);
  private tags: Array<{ at: number; tag: number }> = [];
  /** Inside a run of garbage already counted once. */
  private skipping = false;
  private frame: { seq: number; sendingTime: bigint; tag: number; schemaId: number } | null = null;

  constructor(private readonly onError: (code: FramingErrorCode) => void) {}

  /** Appends stream bytes and returns every message completed by them. */
  push(chunk: Buffer, tag: number): TcpMessage[] {
    this.tags.push({ at: this.buf.length, tag });
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: TcpMessage[] = [];
    let p = 0;
    const b = this.buf;
    for (;;) {
      const atMarker = p + 2 <= b.length && b.readUInt16LE(p) === TCP_ENCODING_TYPE;
      if (this.frame === null || atMarker) {
        if (p + 2 > b.length) break;
        if (!atMarker) {
          // Not at a frame start: skip to the next marker (garbage or the tail of a lost frame).
          let q = p + 1;
          while (q + 1 < b.length && !(b[q] === 0xfe && b[q + 1] === 0xca)) q++;
          if (!this.skipping) this.onError('tcpGarbage');
          this.skipping = true;
          p = q;
          if (q + 1 >= b.length) break;
          continue;
        }
        if (p + TCP_HEADER_SIZE > b.length) break;
        this.frame = {
          seq: b.readUInt32LE(p + 2),
          sendingTime: b.readBigUInt64LE(p + 6),
          tag: this.tagAt(p),
          schemaId: -1,
        };
        p += TCP_HEADER_SIZE;
        continue;
      }
      if (p + 2 > b.length) break;
      const size = b.readUInt16LE(p);
      if (this.frame.schemaId >= 0) {
        // A further message in the same frame must look like one: same schema id in its SBE header.
        if (p + 8 > b.length) break;
        if (size < MIN_MESSAGE_SIZE || b.readUInt16LE(p + 6) !== this.frame.schemaId) {
          this.frame = null;
          continue;
        }
      } else if (size < MIN_MESSAGE_SIZE) {
        this.onError('badMessageSize');
        this.frame = null;
        continue;
      }
      if (p + size > b.length) break;
      out.push({
        buf: b,
        offset: p + 2,
        length: size - 2,
        seq: this.frame.seq,
        sendingTime: this.frame.sendingTime,
        tag: this.frame.tag,
      });
      if (size >= 8) this.frame.schemaId = b.readUInt16LE(p + 6);
      p += size;
    }
    this.consume(p);
    return out;
  }

  /** Drops partial data (after a gap in the TCP stream); the next bytes resynchronise on 0xCAFE. */
  reset(): void {
    if (this.buf.length > 0) this.onError('truncatedFrame');
    this.buf = Buffer.alloc(0);
    this.tags = [];
    this.frame = null;
    this.skipping = false;
  }

  /** End of stream: reports a partial frame left in the buffer. */
  finish(): void {
    if (this.buf.length > 0) this.onError('truncatedFrame');
    this.buf = Buffer.alloc(0);
    this.tags = [];
  }

  private tagAt(pos: number): number {
    let tag = this.tags[0]?.tag ?? 0;
    for (const t of this.tags) if (t.at <= pos) tag = t.tag;
    return tag;
  }

  private consume(p: number): void {
    if (p === 0) return;
    // Messages handed out still reference the old buffer; keep it intact and slice the rest.
    this.buf = this.buf.subarray(p);
    const kept: Array<{ at: number; tag: number }> = [];
    let first: { at: number; tag: number } | undefined;
    for (const t of this.tags) {
      const at = t.at - p;
      if (at <= 0) first = { at: 0, tag: t.tag };
      else kept.push({ at, tag: t.tag });
    }
    this.tags = first ? [first, ...kept] : kept;
  }
}
