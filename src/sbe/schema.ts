/**
 * SBE schema model: the exchange's XML (types, composites, enums, sets, messages, groups) turned
 * into a resolved tree with every offset and size known, ready for the code generator in codec.ts.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../errors';
import { parseXml, type XmlElement } from './xml';

export const PRIMITIVE_SIZE = {
  char: 1,
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  uint64: 8,
  float: 4,
  double: 8,
};

export type Primitive = keyof typeof PRIMITIVE_SIZE;

/** SBE's default null values per primitive (used for optional types without an explicit nullValue). */
const DEFAULT_NULL: Record<Primitive, string> = {
  char: '0',
  int8: '-128',
  uint8: '255',
  int16: '-32768',
  uint16: '65535',
  int32: '-2147483648',
  uint32: '4294967295',
  int64: '-9223372036854775808',
  uint64: '18446744073709551615',
  float: 'NaN',
  double: 'NaN',
};

export type Presence = 'required' | 'optional' | 'constant';

export interface EncodedType {
  readonly kind: 'type';
  readonly name: string;
  readonly primitive: Primitive;
  readonly length: number;
  readonly presence: Presence;
  /** Null sentinel as a decimal string (or a character for char), only for optional types. */
  readonly nullValue?: string;
  /** Constant value text for presence="constant". */
  readonly constValue?: string;
  readonly sinceVersion: number;
  /** Bytes on the wire (0 for constants). */
  readonly size: number;
}

export interface CompositeMember {
  readonly name: string;
  readonly type: TypeDef;
  readonly offset: number;
}

export interface CompositeType {
  readonly kind: 'composite';
  readonly name: string;
  readonly members: readonly CompositeMember[];
  readonly size: number;
  readonly sinceVersion: number;
  /** True for mantissa/exponent composites (prices, quantities): decoded as a Decimal. */
  readonly decimal: boolean;
}

export interface EnumType {
  readonly kind: 'enum';
  readonly name: string;
  readonly encoding: EncodedType;
  /** Raw wire value (number, or char code for char enums) to name. */
  readonly values: ReadonlyMap<number, string>;
  readonly size: number;
  readonly sinceVersion: number;
}

export interface SetType {
  readonly kind: 'set';
  readonly name: string;
  readonly encoding: EncodedType;
  readonly choices: ReadonlyArray<{ readonly name: string; readonly bit: number }>;
  readonly size: number;
  readonly sinceVersion: number;
}

export type TypeDef = EncodedType | CompositeType | EnumType | SetType;

export interface FieldDef {
  readonly name: string;
  readonly id: number;
  readonly type: TypeDef;
  readonly offset: number;
  readonly sinceVersion: number;
  /** Constant fields (type or field presence="constant") take no bytes and are not decoded. */
  readonly constant: boolean;
}

export interface MessageDef {
  readonly name: string;
  readonly id: number;
  readonly blockLength: number;
  readonly fields: readonly FieldDef[];
  readonly groups: readonly GroupDef[];
  readonly sinceVersion: number;
}

/** A repeating group: a message body repeated, framed by its dimension composite. */
export interface GroupDef extends MessageDef {
  readonly dimension: CompositeType;
}

export interface Schema {
  readonly id: number;
  readonly version: number;
  readonly byteOrder: 'littleEndian' | 'bigEndian';
  readonly headerType: CompositeType;
  readonly types: ReadonlyMap<string, TypeDef>;
  readonly messages: ReadonlyMap<number, MessageDef>;
  readonly messagesByName: ReadonlyMap<string, MessageDef>;
}

const PRIMITIVES = new Set(Object.keys(PRIMITIVE_SIZE));

function intAttr(el: XmlElement, name: string, where: string, dflt?: number): number {
  const v = el.attrs[name];
  if (v === undefined) {
    if (dflt !== undefined) return dflt;
    throw new InputError(`${where}: attribute ${name} is missing`, where);
  }
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new InputError(`${where}: attribute ${name}="${v}" is not a non-negative integer`, where);
  return n;
}

/** Reads and resolves a schema XML file. */
export function loadSchema(file: string): Schema {
  let xml: string;
  try {
    xml = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(`--schema: cannot read ${file}: ${(err as Error).message}`, 'schema');
  }
  return parseSchema(xml, file);
}

/** Parses SBE schema XML text. Throws InputError naming the element and problem on bad schemas. */
export function parseSchema(xml: string, source = 'schema'): Schema {
  const root = parseXml(xml, source);
  if (root.name !== 'messageSchema')
    throw new InputError(`${source}: root element is <${root.name}>, expected <messageSchema>`, source);
  const schemaId = intAttr(root, 'id', `${source}: messageSchema`);
  const schemaVersion = intAttr(root, 'version', `${source}: messageSchema`, 0);
  const byteOrder = root.attrs.byteOrder === 'bigEndian' ? 'bigEndian' : 'littleEndian';

  const raw = new Map<string, XmlElement>();
  for (const typesEl of root.children.filter((c) => c.name === 'types')) {
    for (const t of typesEl.children) {
      if (!t.attrs.name) throw new InputError(`${source}: <${t.name}> in <types> without a name`, source);
      raw.set(t.attrs.name, t);
    }
  }
  const resolved = new Map<string, TypeDef>();
  const resolving = new Set<string>();

  const encodedFrom = (el: XmlElement, where: string): EncodedType => {
    const primitive = el.attrs.primitiveType;
    if (!primitive || !PRIMITIVES.has(primitive))
      throw new InputError(`${where}: primitiveType "${primitive ?? ''}" is not an SBE primitive`, where);
    const p = primitive as Primitive;
    const length = intAttr(el, 'length', where, 1);
    const presence = (el.attrs.presence ?? 'required') as Presence;
    if (!['required', 'optional', 'constant'].includes(presence))
      throw new InputError(`${where}: presence="${presence}" is not required|optional|constant`, where);
    const constValue = presence === 'constant' ? el.text.trim() : undefined;
    const nullValue = presence === 'optional' ? (el.attrs.nullValue ?? DEFAULT_NULL[p]) : undefined;
    return {
      kind: 'type',
      name: el.attrs.name,
      primitive: p,
      length,
      presence,
      nullValue,
      constValue,
      sinceVersion: intAttr(el, 'sinceVersion', where, 0),
      size: presence === 'constant' ? 0 : PRIMITIVE_SIZE[p] * length,
    };
  };

  const resolveType = (name: string, where: string): TypeDef => {
    if (PRIMITIVES.has(name)) {
      return {
        kind: 'type',
        name,
        primitive: name as Primitive,
        length: 1,
        presence: 'required',
        sinceVersion: 0,
        size: PRIMITIVE_SIZE[name as Primitive],
      };
    }
    const done = resolved.get(name);
    if (done) return done;
    const el = raw.get(name);
    if (!el) throw new InputError(`${where}: type "${name}" is not defined in <types>`, where);
    if (resolving.has(name)) throw new InputError(`${where}: type "${name}" refers to itself`, where);
    resolving.add(name);
    const w = `${source}: ${el.name} ${name}`;
    let def: TypeDef;
    if (el.name === 'type') {
      def = encodedFrom(el, w);
    } else if (el.name === 'composite') {
      const members: CompositeMember[] = [];
      let offset = 0;
      for (const m of el.children) {
        const mw = `${w}.${m.attrs.name ?? '?'}`;
        let t: TypeDef;
        if (m.name === 'type') t = encodedFrom(m, mw);
        else if (m.name === 'ref') t = resolveType(m.attrs.type ?? '', mw);
        else if (m.name === 'composite' || m.name === 'enum' || m.name === 'set') {
          raw.set(m.attrs.name, m);
          t = resolveType(m.attrs.name, mw);
        } else continue;
        if (m.attrs.offset !== undefined) offset = intAttr(m, 'offset', mw);
        members.push({ name: m.attrs.name, type: t, offset });
        offset += t.size;
      }
      const size = members.reduce((s, m) => Math.max(s, m.offset + m.type.size), 0);
      const names = members.map((m) => m.name);
      def = {
        kind: 'composite',
        name,
        members,
        size,
        sinceVersion: intAttr(el, 'sinceVersion', w, 0),
        decimal: names.length === 2 && names.includes('mantissa') && names.includes('exponent'),
      };
    } else if (el.name === 'enum' || el.name === 'set') {
      const encName = el.attrs.encodingType ?? '';
      const enc = resolveType(encName, w);
      if (enc.kind !== 'type')
        throw new InputError(`${w}: encodingType "${encName}" is not a simple type`, w);
      const isChar = enc.primitive === 'char';
      if (el.name === 'enum') {
        const values = new Map<number, string>();
        for (const v of el.children.filter((c) => c.name === 'validValue')) {
          const text = v.text.trim();
          const key = isChar ? text.charCodeAt(0) : Number(text);
          if (!Number.isFinite(key))
            throw new InputError(`${w}: validValue ${v.attrs.name} has value "${text}"`, w);
          values.set(key, v.attrs.name);
        }
        def = {
          kind: 'enum',
          name,
          encoding: enc,
          values,
          size: enc.size,
          sinceVersion: intAttr(el, 'sinceVersion', w, 0),
        };
      } else {
        const choices = el.children
          .filter((c) => c.name === 'choice')
          .map((c) => ({ name: c.attrs.name, bit: Number(c.text.trim()) }));
        for (const c of choices) {
          if (!Number.isInteger(c.bit) || c.bit < 0 || c.bit >= enc.size * 8)
            throw new InputError(`${w}: choice ${c.name} has bit ${c.bit}`, w);
        }
        def = {
          kind: 'set',
          name,
          encoding: enc,
          choices,
          size: enc.size,
          sinceVersion: intAttr(el, 'sinceVersion', w, 0),
        };
      }
    } else {
      throw new InputError(`${w}: unsupported type element <${el.name}>`, w);
    }
    resolving.delete(name);
    resolved.set(name, def);
    return def;
  };

  for (const name of [...raw.keys()]) resolveType(name, `${source}: types`);

  const headerType = resolveType(
    root.attrs.headerType ?? 'messageHeader',
    `${source}: messageSchema headerType`,
  );
  if (headerType.kind !== 'composite')
    throw new InputError(`${source}: messageHeader is not a composite`, source);
  for (const m of ['blockLength', 'templateId', 'schemaId', 'version']) {
    if (!headerType.members.some((x) => x.name === m))
      throw new InputError(`${source}: messageHeader has no ${m}`, source);
  }

  const parseMembers = (el: XmlElement, where: string): { fields: FieldDef[]; groups: GroupDef[] } => {
    const fields: FieldDef[] = [];
    const groups: GroupDef[] = [];
    let offset = 0;
    for (const c of el.children) {
      const cw = `${where}.${c.attrs.name ?? '?'}`;
      if (c.name === 'field') {
        const type = resolveType(c.attrs.type ?? '', cw);
        const constant =
          c.attrs.presence === 'constant' || (type.kind === 'type' && type.presence === 'constant');
        if (c.attrs.offset !== undefined) offset = intAttr(c, 'offset', cw);
        fields.push({
          name: c.attrs.name,
          id: intAttr(c, 'id', cw, 0),
          type,
          offset,
          sinceVersion: intAttr(c, 'sinceVersion', cw, 0),
          constant,
        });
        if (!constant) offset += type.size;
      } else if (c.name === 'group') {
        const dimName = c.attrs.dimensionType ?? 'groupSizeEncoding';
        const dimension = resolveType(dimName, cw);
        if (
          dimension.kind !== 'composite' ||
          !dimension.members.some((m) => m.name === 'blockLength') ||
          !dimension.members.some((m) => m.name === 'numInGroup')
        ) {
          throw new InputError(`${cw}: dimensionType ${dimName} needs blockLength and numInGroup`, cw);
        }
        groups.push({ ...parseBody(c, cw, 0), dimension });
      } else if (c.name === 'data') {
        throw new InputError(`${cw}: variable-length <data> fields are not supported`, cw);
      }
    }
    return { fields, groups };
  };

  /** A message or group: its members, and a block length that defaults to the fields' extent. */
  const parseBody = (el: XmlElement, where: string, defaultId?: number): MessageDef => {
    const { fields, groups } = parseMembers(el, where);
    const computed = fields.reduce((s, f) => Math.max(s, f.constant ? 0 : f.offset + f.type.size), 0);
    return {
      name: el.attrs.name,
      id: intAttr(el, 'id', where, defaultId),
      blockLength: intAttr(el, 'blockLength', where, computed),
      fields,
      groups,
      sinceVersion: intAttr(el, 'sinceVersion', where, 0),
    };
  };

  const messages = new Map<number, MessageDef>();
  const messagesByName = new Map<string, MessageDef>();
  for (const m of root.children.filter((c) => c.name === 'message')) {
    const w = `${source}: message ${m.attrs.name ?? '?'}`;
    const def = parseBody(m, w);
    if (messages.has(def.id)) throw new InputError(`${w}: template id ${def.id} is used twice`, w);
    messages.set(def.id, def);
    messagesByName.set(def.name, def);
  }
  if (messages.size === 0) throw new InputError(`${source}: the schema defines no messages`, source);
  return {
    id: schemaId,
    version: schemaVersion,
    byteOrder,
    headerType,
    types: resolved,
    messages,
    messagesByName,
  };
}
