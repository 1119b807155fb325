/**
 * Fast writers for the few SBE templates a generator sends on every packet (the synthetic channel).
 *
 * `SbeCodec.encode` is general: per message it walks the schema, builds a path string per field,
 * converts every integer through BigInt and every price through Decimal text, and validates ranges.
 * That is right for arbitrary input but costs tens of µs per message. Here a template's layout is
 * resolved once (field offsets by name, enum and set values to raw bytes) and the codec encodes one
 * prototype of it (header, root block, one entry per group: nulls, constants, padding); each message
 * then copies the prototype's bytes and patches the fields that change in place. So the bytes are
 * the codec's own, and a schema that does not have a field, or has it with another type, fails at
 * construction with an error naming the field rather than producing wrong bytes.
 */
import type { SbeCodec } from '../sbe/codec';
import type { FieldDef, GroupDef, MessageDef, Primitive, TypeDef } from '../sbe/schema';
import { PACKET_HEADER_SIZE } from './packet';

/** Where a field is, relative to the start of its block (root block or group entry). */
export interface Slot {
  readonly offset: number;
  readonly primitive: Primitive;
}

interface GroupLayout {
  readonly def: GroupDef;
  /** The prototype's dimension bytes (blockLength, padding; numInGroup is patched). */
  readonly dimension: Buffer;
  readonly numInGroupOffset: number;
  /** The prototype's entry bytes, or null when the prototype had no entry for this group. */
  readonly entry: Buffer | null;
}

/** One template, resolved from the schema and encoded once by the codec as a prototype. */
export class MessageLayout {
  /** Message header + root block of the prototype. */
  readonly root: Buffer;
  readonly headerSize: number;
  readonly groups: readonly GroupLayout[];
  private readonly def: MessageDef;

  /**
   * `prototype` is a valid body for the codec with exactly one entry in each group the writer will
   * fill (an empty group stays empty). Fields the generator never patches keep the prototype's value.
   */
  constructor(codec: SbeCodec, name: string, prototype: Record<string, unknown>) {
    if (codec.schema.byteOrder !== 'littleEndian')
      throw new Error(`${name}: the message writer only supports little-endian schemas`);
    const def = codec.schema.messagesByName.get(name);
    if (!def) throw new Error(`${name}: not in the schema`);
    this.def = def;
    const bytes = codec.encode(name, prototype);
    this.headerSize = codec.headerSize;
    let p = this.headerSize + def.blockLength;
    this.root = Buffer.from(bytes.subarray(0, p));
    this.groups = def.groups.map((g) => {
      const count = Array.isArray(prototype[g.name]) ? (prototype[g.name] as unknown[]).length : 0;
      if (count > 1) throw new Error(`${name}.${g.name}: the prototype must have at most one entry`);
      if (g.groups.length > 0) throw new Error(`${name}.${g.name}: nested groups are not supported`);
      const n = g.dimension.members.find((m) => m.name === 'numInGroup');
      if (!n || n.type.kind !== 'type' || n.type.primitive !== 'uint8')
        throw new Error(`${name}.${g.name}: numInGroup must be a uint8`);
      const dimension = Buffer.from(bytes.subarray(p, p + g.dimension.size));
      p += g.dimension.size;
      const entry = count === 1 ? Buffer.from(bytes.subarray(p, p + g.blockLength)) : null;
      p += count * g.blockLength;
      return { def: g, dimension, numInGroupOffset: n.offset, entry };
    });
  }

  /** Index of group `name` (the order groups must be written in). */
  group(name: string): number {
    const i = this.groups.findIndex((g) => g.def.name === name);
    if (i < 0) throw new Error(`${this.def.name}.${name}: no such group`);
    return i;
  }

  /**
   * An integer field of the root block (`Field`) or of a group entry (`Group.Field`); a decimal's
   * mantissa when the exponent is the constant `exponent` (the value written is then the mantissa).
   */
  slot(path: string, opts: { exponent?: number } = {}): Slot {
    const { field, where } = this.field(path);
    const t = field.type;
    if (opts.exponent !== undefined) {
      const m =
        t.kind === 'composite' && t.decimal ? t.members.find((x) => x.name === 'mantissa') : undefined;
      const e = t.kind === 'composite' ? t.members.find((x) => x.name === 'exponent') : undefined;
      if (
        !m ||
        m.type.kind !== 'type' ||
        !e ||
        e.type.kind !== 'type' ||
        e.type.presence !== 'constant' ||
        Number(e.type.constValue) !== opts.exponent
      )
        throw new Error(`${where}: expected a decimal with constant exponent ${opts.exponent}`);
      return { offset: field.offset + m.offset, primitive: m.type.primitive };
    }
    const enc = encodingOf(t);
    // A char is only written as an enum's raw value (a character code), never as text.
    if (!enc || (enc === 'char' && t.kind !== 'enum') || enc === 'float' || enc === 'double')
      throw new Error(`${where}: expected an integer, enum or set field`);
    return { offset: field.offset, primitive: enc };
  }

  /** The raw wire value of enum value `value` of the enum field at `path`. */
  enumValue(path: string, value: string): number {
    const { field, where } = this.field(path);
    if (field.type.kind !== 'enum') throw new Error(`${where}: not an enum`);
    for (const [raw, name] of field.type.values) if (name === value) return raw;
    throw new Error(`${where}: ${JSON.stringify(value)} is not a value of ${field.type.name}`);
  }

  /** The raw wire value of the set field at `path` with `choices` set. */
  setValue(path: string, choices: readonly string[]): number {
    const { field, where } = this.field(path);
    const t = field.type;
    if (t.kind !== 'set') throw new Error(`${where}: not a set`);
    let raw = 0;
    for (const c of choices) {
      const bit = t.choices.find((x) => x.name === c)?.bit;
      if (bit === undefined) throw new Error(`${where}: ${JSON.stringify(c)} is not a choice of ${t.name}`);
      raw |= 1 << bit;
    }
    return raw;
  }

  private field(path: string): { field: FieldDef; where: string } {
    const where = `${this.def.name}.${path}`;
    const dot = path.indexOf('.');
    const fields =
      dot < 0 ? this.def.fields : this.def.groups.find((g) => g.name === path.slice(0, dot))?.fields;
    const field = fields?.find((f) => f.name === path.slice(dot + 1));
    if (!field) throw new Error(`${where}: no such field`);
    if (field.constant) throw new Error(`${where}: a constant field cannot be written`);
    return { field, where };
  }
}

function encodingOf(t: TypeDef): Primitive | null {
  if (t.kind === 'type') return t.length === 1 ? t.primitive : null;
  if (t.kind === 'enum' || t.kind === 'set') return t.encoding.primitive;
  return null;
}

/**
 * Builds one UDP packet (MDP packet header, then size-prefixed messages) in a reusable scratch
 * buffer; `finish` returns a copy, so the packet handed out is never overwritten by the next one.
 * Usage per packet: `begin`, then for each message `message` and every one of its groups in schema
 * order (`group`, entries filled with `put`), then `finish`.
 */
export class PacketWriter {
  private buf = Buffer.alloc(4096);
  private dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  private pos = 0;
  private msgStart = -1;
  private layout: MessageLayout | null = null;
  private nextGroup = 0;

  begin(): void {
    this.pos = PACKET_HEADER_SIZE;
    this.msgStart = -1;
    this.layout = null;
  }

  /** Starts a message: copies the layout's header and root block; returns the root block's offset. */
  message(layout: MessageLayout): number {
    this.endMessage();
    this.ensure(2 + layout.root.length);
    this.msgStart = this.pos;
    this.pos += 2;
    layout.root.copy(this.buf, this.pos);
    const base = this.pos + layout.headerSize;
    this.pos += layout.root.length;
    this.layout = layout;
    this.nextGroup = 0;
    return base;
  }

  /** Writes group `index` with `n` prototype entries; returns the first entry's offset (entry i at + i × blockLength). */
  group(index: number, n: number): number {
    const l = this.layout;
    if (!l || index !== this.nextGroup)
      throw new Error('groups must be written in schema order after message()');
    const g = l.groups[index];
    if (n > 255) throw new Error(`${g.def.name}: ${n} entries do not fit numInGroup (uint8)`);
    if (n > 0 && !g.entry) throw new Error(`${g.def.name}: the prototype has no entry to copy`);
    const bl = g.def.blockLength;
    this.ensure(g.dimension.length + n * bl);
    g.dimension.copy(this.buf, this.pos);
    this.buf[this.pos + g.numInGroupOffset] = n;
    this.pos += g.dimension.length;
    const first = this.pos;
    for (let i = 0; i < n; i++) this.pos += g.entry!.copy(this.buf, this.pos);
    this.nextGroup++;
    return first;
  }

  /** Writes an integer (a number, or a bigint for 64-bit fields) at `base` + the slot's offset. */
  put(base: number, s: Slot, v: number | bigint): void {
    const at = base + s.offset;
    const dv = this.dv;
    switch (s.primitive) {
      case 'char':
      case 'uint8':
        dv.setUint8(at, v as number);
        return;
      case 'int8':
        dv.setInt8(at, v as number);
        return;
      case 'uint16':
        dv.setUint16(at, v as number, true);
        return;
      case 'int16':
        dv.setInt16(at, v as number, true);
        return;
      case 'uint32':
        dv.setUint32(at, v as number, true);
        return;
      case 'int32':
        dv.setInt32(at, v as number, true);
        return;
      case 'int64':
      case 'uint64':
        if (typeof v === 'bigint') {
          if (s.primitive === 'int64') dv.setBigInt64(at, v, true);
          else dv.setBigUint64(at, v, true);
        } else {
          // A safe integer as two 32-bit halves (no BigInt per write); the high half carries the sign.
          dv.setUint32(at, v >>> 0, true);
          dv.setInt32(at + 4, Math.floor(v / 4294967296), true);
        }
        return;
      default:
        throw new Error(`cannot write a ${s.primitive}`);
    }
  }

  /** Closes the packet: header (MsgSeqNum, SendingTime) and a copy of the bytes. */
  finish(seq: number, sendingTime: bigint): Buffer {
    this.endMessage();
    this.dv.setUint32(0, seq >>> 0, true);
    this.dv.setBigUint64(4, sendingTime, true);
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  private endMessage(): void {
    const l = this.layout;
    if (!l) return;
    if (this.nextGroup !== l.groups.length) throw new Error('every group of a message must be written');
    this.dv.setUint16(this.msgStart, this.pos - this.msgStart, true);
    this.layout = null;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.alloc(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
    this.dv = new DataView(bigger.buffer, bigger.byteOffset, bigger.byteLength);
  }
}
