/**
 * Schema-compiled SBE codec. Each message template is compiled once into a decoder function
 * (generated JavaScript via `new Function`) that reads fields at fixed offsets straight from the
 * Buffer through a DataView, so per-message work is plain typed reads with no XML lookups.
 * Encoding walks the resolved schema (it is not on the hot path).
 */
import { Decimal } from './decimal';
import type {
  CompositeType,
  EncodedType,
  FieldDef,
  GroupDef,
  MessageDef,
  Primitive,
  Schema,
  TypeDef,
} from './schema';

export type SbeErrorCode =
  'truncated' | 'unknownTemplate' | 'unknownSchema' | 'unknownVersion' | 'badBlockLength';

/** A message that cannot be decoded; `code` is what the feed handler counts. */
export class SbeError extends Error {
  constructor(
    readonly code: SbeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SbeError';
  }
}

export interface MessageHeader {
  readonly blockLength: number;
  readonly templateId: number;
  readonly schemaId: number;
  readonly version: number;
}

export interface DecodedMessage extends MessageHeader {
  readonly name: string;
  /** Fields by schema name (absent when newer than the message version); groups as arrays. */
  readonly body: Record<string, unknown>;
  /** Bytes consumed: header + root block + groups. */
  readonly size: number;
}

type DecodeFn = (
  buf: Buffer,
  dv: DataView,
  p: number,
  end: number,
  bl: number,
  v: number,
) => { body: Record<string, unknown>; end: number };

interface Helpers {
  str(buf: Buffer, off: number, len: number): string;
  chr(code: number): string;
  trunc(what: string): SbeError;
  Decimal: typeof Decimal;
  tables: unknown[];
  setNames(raw: number | bigint, choices: ReadonlyArray<{ name: string; bit: number }>): string[];
}

const helpers: Omit<Helpers, 'tables'> = {
  str(buf, off, len) {
    let e = off + len;
    while (e > off && buf[e - 1] === 0) e--;
    return buf.toString('latin1', off, e);
  },
  chr(code) {
    return code === 0 ? '' : String.fromCharCode(code);
  },
  trunc(what) {
    return new SbeError('truncated', `message truncated in ${what}`);
  },
  Decimal,
  setNames(raw, choices) {
    const out: string[] = [];
    if (typeof raw === 'bigint') {
      for (const c of choices) if ((raw >> BigInt(c.bit)) & 1n) out.push(c.name);
    } else {
      for (const c of choices) if ((raw >>> c.bit) & 1) out.push(c.name);
    }
    return out;
  },
};

const DV_READ: Record<Primitive, string> = {
  char: 'getUint8',
  int8: 'getInt8',
  uint8: 'getUint8',
  int16: 'getInt16',
  uint16: 'getUint16',
  int32: 'getInt32',
  uint32: 'getUint32',
  int64: 'getBigInt64',
  uint64: 'getBigUint64',
  float: 'getFloat32',
  double: 'getFloat64',
};

function isBig(p: Primitive): boolean {
  return p === 'int64' || p === 'uint64';
}

function nullLiteral(t: EncodedType): string {
  const nv = t.nullValue ?? '';
  if (t.primitive === 'char' && !/^-?\d+$/.test(nv)) return String(nv.charCodeAt(0) || 0);
  if (isBig(t.primitive)) return `${BigInt(nv)}n`;
  return String(Number(nv));
}

class Generator {
  readonly tables: unknown[] = [];
  private tmp = 0;
  constructor(private readonly le: boolean) {}

  private table(value: unknown): string {
    this.tables.push(value);
    return `T[${this.tables.length - 1}]`;
  }

  private read(p: Primitive, at: string): string {
    if (p === 'uint8' || p === 'char') return `buf[${at}]`;
    if (p === 'int8') return `dv.getInt8(${at})`;
    return `dv.${DV_READ[p]}(${at}, ${this.le})`;
  }

  /** Expression yielding the decoded value of `type` at byte position `at`. Statements go to `pre`. */
  value(type: TypeDef, at: string, pre: string[]): string {
    switch (type.kind) {
      case 'type':
        return this.encoded(type, at, pre);
      case 'enum': {
        const enc = type.encoding;
        const t = `t${this.tmp++}`;
        pre.push(`const ${t} = ${this.read(enc.primitive, at)};`);
        const table: Record<string, string> = Object.create(null) as Record<string, string>;
        for (const [k, name] of type.values) table[String(k)] = name;
        const tab = this.table(table);
        const rawRepr = enc.primitive === 'char' ? `H.chr(${t})` : isBig(enc.primitive) ? t : t;
        const looked = `(${tab}[${t}] ?? ${rawRepr})`;
        return enc.presence === 'optional' ? `(${t} === ${nullLiteral(enc)} ? null : ${looked})` : looked;
      }
      case 'set': {
        const enc = type.encoding;
        const t = `t${this.tmp++}`;
        pre.push(`const ${t} = ${this.read(enc.primitive, at)};`);
        const names = `H.setNames(${t}, ${this.table(type.choices)})`;
        return enc.presence === 'optional' ? `(${t} === ${nullLiteral(enc)} ? null : ${names})` : names;
      }
      case 'composite':
        return this.composite(type, at, pre);
    }
  }

  private encoded(t: EncodedType, at: string, pre: string[]): string {
    if (t.presence === 'constant') return 'undefined';
    if (t.length > 1) {
      if (t.primitive === 'char') return `H.str(buf, ${at}, ${t.length})`;
      const items: string[] = [];
      const size = t.size / t.length;
      for (let i = 0; i < t.length; i++)
        items.push(this.encoded({ ...t, length: 1, size }, `${at} + ${i * size}`, pre));
      return `[${items.join(', ')}]`;
    }
    const r = this.read(t.primitive, at);
    const conv = (x: string): string => (t.primitive === 'char' ? `H.chr(${x})` : x);
    if (t.presence !== 'optional') return conv(r);
    const v = `t${this.tmp++}`;
    pre.push(`const ${v} = ${r};`);
    if (t.primitive === 'float' || t.primitive === 'double') return `(Number.isNaN(${v}) ? null : ${v})`;
    return `(${v} === ${nullLiteral(t)} ? null : ${conv(v)})`;
  }

  private composite(c: CompositeType, at: string, pre: string[]): string {
    if (c.decimal) {
      const mant = c.members.find((m) => m.name === 'mantissa')!;
      const expo = c.members.find((m) => m.name === 'exponent')!;
      const mt = mant.type as EncodedType;
      const m = `t${this.tmp++}`;
      pre.push(`const ${m} = ${this.read(mt.primitive, `${at} + ${mant.offset}`)};`);
      const et = expo.type as EncodedType;
      const e =
        et.presence === 'constant'
          ? String(Number(et.constValue))
          : this.read(et.primitive, `${at} + ${expo.offset}`);
      const big = isBig(mt.primitive) ? m : `BigInt(${m})`;
      const dec = `new H.Decimal(${big}, ${e})`;
      return mt.presence === 'optional' ? `(${m} === ${nullLiteral(mt)} ? null : ${dec})` : dec;
    }
    const parts: string[] = [];
    for (const member of c.members) {
      if (member.type.kind === 'type' && member.type.presence === 'constant') continue;
      parts.push(
        `${JSON.stringify(member.name)}: ${this.value(member.type, `${at} + ${member.offset}`, pre)}`,
      );
    }
    return `{ ${parts.join(', ')} }`;
  }

  /**
   * Statements declaring `obj` with each present field of a block at `base` (block length `bl`).
   * The common case (every field within the version and block) builds one object literal, which V8
   * allocates with a fixed shape; older or shorter blocks take the field-by-field path.
   */
  fields(
    fields: readonly FieldDef[],
    obj: string,
    base: string,
    bl: string,
    baseSince: number,
    out: string[],
  ): void {
    const present = fields.filter((f) => !f.constant);
    const maxSince = present.reduce((m, f) => Math.max(m, f.sinceVersion), 0);
    const maxEnd = present.reduce((m, f) => Math.max(m, f.offset + f.type.size), 0);
    const fastConds = [`${bl} >= ${maxEnd}`];
    if (maxSince > baseSince) fastConds.push(`v >= ${maxSince}`);
    const pre: string[] = [];
    const props = present.map(
      (f) => `${JSON.stringify(f.name)}: ${this.value(f.type, `${base} + ${f.offset}`, pre)}`,
    );
    out.push(`let ${obj};`);
    out.push(`if (${fastConds.join(' && ')}) { ${pre.join(' ')} ${obj} = { ${props.join(', ')} }; } else {`);
    out.push(`${obj} = {};`);
    for (const f of present) {
      const conds: string[] = [];
      if (f.sinceVersion > baseSince) conds.push(`v >= ${f.sinceVersion}`);
      conds.push(`${bl} >= ${f.offset + f.type.size}`);
      const fpre: string[] = [];
      const expr = this.value(f.type, `${base} + ${f.offset}`, fpre);
      out.push(
        `if (${conds.join(' && ')}) { ${fpre.join(' ')} ${obj}[${JSON.stringify(f.name)}] = ${expr}; }`,
      );
    }
    out.push('}');
  }

  groups(groups: readonly GroupDef[], obj: string, baseSince: number, depth: number, out: string[]): void {
    for (const g of groups) {
      const d = depth;
      const body: string[] = [];
      const dim = g.dimension;
      const blm = dim.members.find((m) => m.name === 'blockLength')!;
      const nm = dim.members.find((m) => m.name === 'numInGroup')!;
      const name = JSON.stringify(g.name);
      body.push(`if (p + ${dim.size} > end) throw H.trunc(${JSON.stringify(`${g.name} header`)});`);
      body.push(`const gbl${d} = ${this.read((blm.type as EncodedType).primitive, `p + ${blm.offset}`)};`);
      body.push(
        `const n${d} = Number(${this.read((nm.type as EncodedType).primitive, `p + ${nm.offset}`)});`,
      );
      body.push(`p += ${dim.size};`);
      body.push(`if (p + n${d} * gbl${d} > end) throw H.trunc(${name});`);
      body.push(`const a${d} = new Array(n${d});`);
      body.push(`for (let i${d} = 0; i${d} < n${d}; i${d}++) {`);
      body.push(`const q${d} = p;`);
      const since = Math.max(baseSince, g.sinceVersion);
      this.fields(g.fields, `e${d}`, `q${d}`, `gbl${d}`, since, body);
      body.push(`p += gbl${d};`);
      if (g.groups.length > 0) this.groups(g.groups, `e${d}`, since, d + 1, body);
      body.push(`a${d}[i${d}] = e${d}; }`);
      body.push(`${obj}[${name}] = a${d};`);
      if (g.sinceVersion > baseSince) out.push(`if (v >= ${g.sinceVersion}) {`, ...body, '}');
      else out.push('{', ...body, '}');
    }
  }
}

function u16le(buf: Buffer, o: number): number {
  return buf[o] | (buf[o + 1] << 8);
}

function compileMessage(msg: MessageDef, le: boolean): DecodeFn {
  const g = new Generator(le);
  const out: string[] = [];
  g.fields(msg.fields, 'o', 'p', 'bl', msg.sinceVersion, out);
  out.push('p += bl;');
  g.groups(msg.groups, 'o', msg.sinceVersion, 1, out);
  out.push('return { body: o, end: p };');
  const src = `"use strict"; const T = H.tables; return function decode_${msg.id}(buf, dv, p, end, bl, v) {\n${out.join('\n')}\n};`;
  const factory = new Function('H', src) as (h: Helpers) => DecodeFn;
  return factory({ ...helpers, tables: g.tables });
}

interface Compiled {
  readonly def: MessageDef;
  readonly decode: DecodeFn;
}

/** A codec for one schema: decode by template id from the message header, encode by name or id. */
export class SbeCodec {
  readonly headerSize: number;
  private readonly compiled = new Map<number, Compiled>();
  private readonly le: boolean;
  private readonly standardHeader: boolean;
  private readonly headerOffsets: {
    blockLength: number;
    templateId: number;
    schemaId: number;
    version: number;
  };

  constructor(readonly schema: Schema) {
    this.le = schema.byteOrder === 'littleEndian';
    this.headerSize = schema.headerType.size;
    const off = (n: string): number => schema.headerType.members.find((m) => m.name === n)!.offset;
    this.headerOffsets = {
      blockLength: off('blockLength'),
      templateId: off('templateId'),
      schemaId: off('schemaId'),
      version: off('version'),
    };
    this.standardHeader = schema.headerType.members.every(
      (m) => m.type.kind === 'type' && m.type.primitive === 'uint16',
    );
    for (const def of schema.messages.values())
      this.compiled.set(def.id, { def, decode: compileMessage(def, this.le) });
  }

  /** Reads the message header at `offset`; throws SbeError('truncated') when fewer bytes remain. */
  readHeader(buf: Buffer, offset: number, end = buf.length): MessageHeader {
    if (offset + this.headerSize > end) throw new SbeError('truncated', 'message header truncated');
    if (!this.standardHeader)
      throw new SbeError('unknownSchema', 'only uint16 message header fields are supported');
    const h = this.headerOffsets;
    if (this.le) {
      return {
        blockLength: u16le(buf, offset + h.blockLength),
        templateId: u16le(buf, offset + h.templateId),
        schemaId: u16le(buf, offset + h.schemaId),
        version: u16le(buf, offset + h.version),
      };
    }
    return {
      blockLength: buf.readUInt16BE(offset + h.blockLength),
      templateId: buf.readUInt16BE(offset + h.templateId),
      schemaId: buf.readUInt16BE(offset + h.schemaId),
      version: buf.readUInt16BE(offset + h.version),
    };
  }

  messageDef(templateId: number): MessageDef | undefined {
    return this.compiled.get(templateId)?.def;
  }

  /**
   * Decodes the message at buf[offset, offset+length). Uses the header's blockLength and version, so
   * older and newer writers both decode; fields added after the message's version are absent.
   * Throws SbeError for truncated data, unknown templates, other schemas and impossible versions.
   */
  decode(buf: Buffer, offset: number, length: number, dv?: DataView): DecodedMessage {
    const end = offset + length;
    if (end > buf.length) throw new SbeError('truncated', 'message extends beyond the buffer');
    const h = this.readHeader(buf, offset, end);
    if (h.schemaId !== this.schema.id)
      throw new SbeError('unknownSchema', `schema id ${h.schemaId} is not ${this.schema.id}`);
    const c = this.compiled.get(h.templateId);
    if (!c)
      throw new SbeError(
        'unknownTemplate',
        `template ${h.templateId} is not in schema ${this.schema.id} v${this.schema.version}`,
      );
    if (h.version === 0 || h.version < c.def.sinceVersion) {
      throw new SbeError(
        'unknownVersion',
        `template ${h.templateId} (${c.def.name}) does not exist in version ${h.version}`,
      );
    }
    const start = offset + this.headerSize;
    if (start + h.blockLength > end)
      throw new SbeError('truncated', `${c.def.name} root block of ${h.blockLength} bytes truncated`);
    const view = dv ?? new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const r = c.decode(buf, view, start, end, h.blockLength, h.version);
    return {
      blockLength: h.blockLength,
      templateId: h.templateId,
      schemaId: h.schemaId,
      version: h.version,
      name: c.def.name,
      body: r.body,
      size: r.end - offset,
    };
  }

  /**
   * Encodes a message (header + root block + groups) into a new Buffer. `version` defaults to the
   * schema's; fields newer than it are left zero. Throws RangeError naming the field on bad values.
   */
  encode(template: string | number, body: Record<string, unknown>, opts: { version?: number } = {}): Buffer {
    const def =
      typeof template === 'number'
        ? this.schema.messages.get(template)
        : this.schema.messagesByName.get(template);
    if (!def) throw new RangeError(`template ${template} is not in the schema`);
    const version = opts.version ?? this.schema.version;
    const size = this.headerSize + def.blockLength + groupsSize(def.groups, body, version, def.name);
    const buf = Buffer.alloc(size);
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const h = this.headerOffsets;
    const w = (o: number, v: number): void => dv.setUint16(o, v, this.le);
    w(h.blockLength, def.blockLength);
    w(h.templateId, def.id);
    w(h.schemaId, this.schema.id);
    w(h.version, version);
    const enc = new Encoder(buf, dv, this.le, version);
    enc.fields(def.fields, body, this.headerSize, def.name);
    enc.groups(def.groups, body, this.headerSize + def.blockLength, def.name);
    return buf;
  }
}

function groupsSize(
  groups: readonly GroupDef[],
  obj: Record<string, unknown>,
  version: number,
  path: string,
): number {
  let size = 0;
  for (const g of groups) {
    if (g.sinceVersion > version) continue;
    const items = obj[g.name] ?? [];
    if (!Array.isArray(items)) throw new RangeError(`${path}.${g.name}: expected an array`);
    size += g.dimension.size + items.length * g.blockLength;
    items.forEach(
      (it: Record<string, unknown>, i) =>
        (size += groupsSize(g.groups, it, version, `${path}.${g.name}[${i}]`)),
    );
  }
  return size;
}

const INT_RANGE: Partial<Record<Primitive, [bigint, bigint]>> = {
  char: [0n, 255n],
  int8: [-128n, 127n],
  uint8: [0n, 255n],
  int16: [-32768n, 32767n],
  uint16: [0n, 65535n],
  int32: [-2147483648n, 2147483647n],
  uint32: [0n, 4294967295n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

class Encoder {
  constructor(
    private readonly buf: Buffer,
    private readonly dv: DataView,
    private readonly le: boolean,
    private readonly version: number,
  ) {}

  fields(fields: readonly FieldDef[], obj: Record<string, unknown>, base: number, path: string): void {
    for (const f of fields) {
      if (f.constant || f.sinceVersion > this.version) continue;
      this.value(f.type, obj[f.name], base + f.offset, `${path}.${f.name}`);
    }
  }

  groups(groups: readonly GroupDef[], obj: Record<string, unknown>, pos: number, path: string): number {
    for (const g of groups) {
      if (g.sinceVersion > this.version) continue;
      const items = (obj[g.name] ?? []) as Record<string, unknown>[];
      const dim = g.dimension;
      for (const [name, v] of [
        ['blockLength', g.blockLength],
        ['numInGroup', items.length],
      ] as const) {
        const m = dim.members.find((x) => x.name === name)!;
        this.prim((m.type as EncodedType).primitive, v, pos + m.offset, `${path}.${g.name}.${name}`);
      }
      pos += dim.size;
      items.forEach((it, i) => {
        const p = `${path}.${g.name}[${i}]`;
        this.fields(g.fields, it, pos, p);
        pos += g.blockLength;
        pos = this.groups(g.groups, it, pos, p);
      });
    }
    return pos;
  }

  private value(t: TypeDef, v: unknown, at: number, path: string): void {
    switch (t.kind) {
      case 'type':
        return this.encoded(t, v, at, path);
      case 'enum': {
        if ((v === null || v === undefined) && t.encoding.presence === 'optional')
          return this.writeNull(t.encoding, at, path);
        let raw: number | undefined;
        if (typeof v === 'string') {
          for (const [k, name] of t.values) if (name === v) raw = k;
          if (raw === undefined && t.encoding.primitive === 'char' && v.length === 1) raw = v.charCodeAt(0);
        } else if (typeof v === 'number') raw = v;
        if (raw === undefined)
          throw new RangeError(`${path}: ${JSON.stringify(v)} is not a value of enum ${t.name}`);
        return this.prim(t.encoding.primitive, raw, at, path);
      }
      case 'set': {
        if ((v === null || v === undefined) && t.encoding.presence === 'optional')
          return this.writeNull(t.encoding, at, path);
        const names = (v ?? []) as unknown;
        if (!Array.isArray(names)) throw new RangeError(`${path}: expected an array of ${t.name} choices`);
        let raw = 0n;
        for (const n of names) {
          const c = t.choices.find((x) => x.name === n);
          if (!c) throw new RangeError(`${path}: ${JSON.stringify(n)} is not a choice of set ${t.name}`);
          raw |= 1n << BigInt(c.bit);
        }
        return this.prim(t.encoding.primitive, raw, at, path);
      }
      case 'composite':
        return this.composite(t, v, at, path);
    }
  }

  private composite(c: CompositeType, v: unknown, at: number, path: string): void {
    if (c.decimal) {
      const mant = c.members.find((m) => m.name === 'mantissa')!;
      const expo = c.members.find((m) => m.name === 'exponent')!;
      const mt = mant.type as EncodedType;
      const et = expo.type as EncodedType;
      if (v === null || v === undefined) {
        if (mt.presence !== 'optional') throw new RangeError(`${path}: required ${c.name} is missing`);
        return this.writeNull(mt, at + mant.offset, path);
      }
      const exponent =
        et.presence === 'constant' ? Number(et.constValue) : v instanceof Decimal ? v.exponent : -9;
      let d: Decimal;
      try {
        d = Decimal.at(v as Decimal | number | string | bigint, exponent);
      } catch (err) {
        throw new RangeError(`${path}: ${(err as Error).message}`);
      }
      this.prim(mt.primitive, d.mantissa, at + mant.offset, path);
      if (et.presence !== 'constant') this.prim(et.primitive, exponent, at + expo.offset, `${path}.exponent`);
      return;
    }
    const obj = (v ?? {}) as Record<string, unknown>;
    if (typeof obj !== 'object') throw new RangeError(`${path}: expected an object for ${c.name}`);
    for (const m of c.members) this.value(m.type, obj[m.name], at + m.offset, `${path}.${m.name}`);
  }

  private encoded(t: EncodedType, v: unknown, at: number, path: string): void {
    if (t.presence === 'constant') return;
    if (t.primitive === 'char' && (t.length > 1 || typeof v === 'string')) {
      if ((v === null || v === undefined) && t.presence === 'optional') return this.writeNull(t, at, path);
      if (typeof v !== 'string')
        throw new RangeError(`${path}: expected a string of at most ${t.length} characters`);
      const bytes = Buffer.from(v, 'latin1');
      if (bytes.length > t.length)
        throw new RangeError(`${path}: "${v}" is longer than ${t.length} characters`);
      bytes.copy(this.buf, at);
      this.buf.fill(0, at + bytes.length, at + t.length);
      return;
    }
    if (v === null || v === undefined) {
      if (t.presence === 'optional') return this.writeNull(t, at, path);
      throw new RangeError(`${path}: required ${t.name} is missing`);
    }
    this.prim(t.primitive, v, at, path);
  }

  private writeNull(t: EncodedType, at: number, path: string): void {
    const nv = t.nullValue ?? '0';
    if (t.primitive === 'char' && t.length > 1) {
      this.buf.fill(0, at, at + t.length);
      return;
    }
    if (t.primitive === 'float' || t.primitive === 'double') return this.prim(t.primitive, NaN, at, path);
    const raw = t.primitive === 'char' && !/^-?\d+$/.test(nv) ? BigInt(nv.charCodeAt(0)) : BigInt(nv);
    this.prim(t.primitive, raw, at, path);
  }

  prim(p: Primitive, v: unknown, at: number, path: string): void {
    const dv = this.dv;
    if (p === 'float' || p === 'double') {
      if (typeof v !== 'number') throw new RangeError(`${path}: expected a number`);
      if (p === 'float') dv.setFloat32(at, v, this.le);
      else dv.setFloat64(at, v, this.le);
      return;
    }
    let b: bigint;
    if (typeof v === 'bigint') b = v;
    else if (typeof v === 'number' && Number.isInteger(v)) b = BigInt(v);
    else if (typeof v === 'string' && /^-?\d+$/.test(v)) b = BigInt(v);
    else throw new RangeError(`${path}: ${JSON.stringify(String(v))} is not an integer`);
    const [lo, hi] = INT_RANGE[p]!;
    if (b < lo || b > hi) throw new RangeError(`${path}: ${b} is out of range for ${p}`);
    // The DataView setter matching DV_READ's getter (64-bit ones take the bigint).
    const set = DV_READ[p].replace('get', 'set') as 'setUint32' | 'setBigUint64';
    if (isBig(p)) dv[set as 'setBigUint64'](at, b, this.le);
    else dv[set as 'setUint32'](at, Number(b), this.le);
  }
}
