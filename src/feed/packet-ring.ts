/**
 * A single-producer single-consumer ring of records in shared memory: how the feed thread hands
 * packets to the decoder worker without a postMessage (and its structured clone) per packet. The
 * producer never blocks: when the ring is full `write` returns false and the caller decides what is
 * lost (the decoder then recovers from the snapshot loop; the relay is unaffected).
 *
 * Layout: records of a 16-byte header (u32 payload length, u32 kind, f64 value) and the payload,
 * each padded to 16 bytes; a WRAP record sends the reader back to offset 0. `head` (next write) and
 * `tail` (next read) are byte offsets; head == tail means empty, and the writer always leaves 16
 * bytes free so a full ring never looks empty.
 */

const HEAD = 0;
const TAIL = 1;
/** Bumped by the writer to wake a waiting reader. */
const SIGNAL = 2;
/** 1 while the reader is (about to be) asleep. */
const WAITING = 3;
const CONTROL_INTS = 4;
const HEADER = 16;
const WRAP = 0;

export interface PacketRingBuffers {
  readonly control: SharedArrayBuffer;
  readonly data: SharedArrayBuffer;
}

export interface RingRecord {
  readonly kind: number;
  /** A copy of the payload (the ring's bytes are reused as soon as the record is consumed). */
  readonly payload: Buffer;
  readonly value: number;
}

const pad = (n: number): number => (n + 15) & ~15;

/** Shared buffers for a ring of `capacity` bytes (rounded up to 16). */
export function createPacketRing(capacity: number): PacketRingBuffers {
  if (!Number.isInteger(capacity) || capacity < 1024 || capacity > 2 ** 30)
    throw new RangeError(`ring capacity: expected 1 KiB..1 GiB, got ${capacity}`);
  return {
    control: new SharedArrayBuffer(CONTROL_INTS * 4),
    data: new SharedArrayBuffer(pad(capacity)),
  };
}

abstract class RingEnd {
  protected readonly ctrl: Int32Array;
  protected readonly bytes: Buffer;
  protected readonly view: DataView;
  protected readonly capacity: number;

  constructor(buffers: PacketRingBuffers) {
    this.ctrl = new Int32Array(buffers.control);
    this.bytes = Buffer.from(buffers.data);
    this.view = new DataView(buffers.data);
    this.capacity = buffers.data.byteLength;
  }

  /** Bytes written and not yet read. */
  get pendingBytes(): number {
    const head = Atomics.load(this.ctrl, HEAD);
    const tail = Atomics.load(this.ctrl, TAIL);
    return head >= tail ? head - tail : this.capacity - tail + head;
  }
}

export class PacketRingWriter extends RingEnd {
  /**
   * Appends a record; false (and nothing written) when it does not fit. `kind` must be > 0;
   * `value` is any double (a receive time, a sequence number).
   */
  write(kind: number, value: number, payload?: Uint8Array): boolean {
    if (!(kind > 0 && kind <= 0xffffffff))
      throw new RangeError(`ring record kind: expected 1..2^32-1, got ${kind}`);
    const len = payload?.length ?? 0;
    const need = HEADER + pad(len);
    const cap = this.capacity;
    let head = Atomics.load(this.ctrl, HEAD);
    const tail = Atomics.load(this.ctrl, TAIL);
    if (head >= tail) {
      // Free: the end of the buffer, then the start up to the tail (16 bytes kept free before it).
      const atEnd = cap - head - (tail === 0 ? HEADER : 0);
      if (need > atEnd) {
        if (need > tail - HEADER) return false;
        this.view.setUint32(head, 0, true);
        this.view.setUint32(head + 4, WRAP, true);
        head = 0;
      }
    } else if (need > tail - head - HEADER) return false;
    this.view.setUint32(head, len, true);
    this.view.setUint32(head + 4, kind, true);
    this.view.setFloat64(head + 8, value, true);
    if (payload && len > 0) this.bytes.set(payload, head + HEADER);
    const next = head + need;
    // Publishing the head is the release: the record is complete before the reader can see it.
    Atomics.store(this.ctrl, HEAD, next === cap ? 0 : next);
    if (Atomics.load(this.ctrl, WAITING) === 1) {
      Atomics.store(this.ctrl, WAITING, 0);
      Atomics.add(this.ctrl, SIGNAL, 1);
      Atomics.notify(this.ctrl, SIGNAL);
    }
    return true;
  }
}

export class PacketRingReader extends RingEnd {
  /** The next record, or null when the ring is empty. */
  read(): RingRecord | null {
    let tail = Atomics.load(this.ctrl, TAIL);
    const head = Atomics.load(this.ctrl, HEAD);
    if (tail === head) return null;
    let kind = this.view.getUint32(tail + 4, true);
    if (kind === WRAP) {
      tail = 0;
      if (tail === head) {
        Atomics.store(this.ctrl, TAIL, 0);
        return null;
      }
      kind = this.view.getUint32(4, true);
    }
    const len = this.view.getUint32(tail, true);
    const value = this.view.getFloat64(tail + 8, true);
    const payload = Buffer.from(this.bytes.subarray(tail + HEADER, tail + HEADER + len));
    const next = tail + HEADER + pad(len);
    Atomics.store(this.ctrl, TAIL, next === this.capacity ? 0 : next);
    return { kind, payload, value };
  }

  /**
   * Blocks the calling thread until a record may be available (or `timeoutMs` passes). For a
   * worker whose only job is this ring: a blocking wait wakes in a few microseconds, where
   * Atomics.waitAsync would go through a task on the thread's event loop for every wake-up.
   */
  waitSync(timeoutMs: number): void {
    Atomics.store(this.ctrl, WAITING, 1);
    const signal = Atomics.load(this.ctrl, SIGNAL);
    // Re-checked after announcing the wait: a write that missed the flag is seen here, and one that
    // saw it has bumped SIGNAL, so the wait below returns at once.
    if (Atomics.load(this.ctrl, HEAD) === Atomics.load(this.ctrl, TAIL))
      Atomics.wait(this.ctrl, SIGNAL, signal, timeoutMs);
    Atomics.store(this.ctrl, WAITING, 0);
  }
}
