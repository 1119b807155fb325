/** Shared test helpers for the SBE/feed tests: the schema path and a random message body generator. */
import { PROJECT_SCHEMA_PATH } from '../../../src/feed/project-schema';
import { Decimal } from '../../../src/sbe/decimal';
import type { FieldDef, GroupDef, MessageDef, TypeDef } from '../../../src/sbe/schema';

/**
 * The project's MDP 3.0 schema (wire-compatible with CME's v13 for its templates). Tests of CME's
 * own files (its v9/v13 schemas, the real captures) are in test/conformance.
 */
export const SCHEMA = PROJECT_SCHEMA_PATH;

/** Deterministic PRNG (mulberry32) so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const RANGES: Record<string, [bigint, bigint]> = {
  int8: [-127n, 126n],
  uint8: [0n, 254n],
  int16: [-32767n, 32766n],
  uint16: [0n, 65534n],
  int32: [-2147483647n, 2147483646n],
  uint32: [0n, 4294967294n],
  int64: [-(2n ** 63n) + 1n, 2n ** 63n - 2n],
  uint64: [0n, 2n ** 64n - 2n],
};

function randInt(r: () => number, prim: string, nullValue?: string): number | bigint | null {
  if (nullValue !== undefined && r() < 0.2) return null;
  const [lo, hi] = RANGES[prim];
  const span = hi - lo;
  // Bias towards extremes so 2^53 boundaries and sentinels' neighbours are exercised.
  const pick = r();
  let v: bigint;
  if (pick < 0.15) v = lo;
  else if (pick < 0.3) v = hi;
  else
    v =
      lo +
      ((BigInt(Math.floor(r() * 2 ** 30)) *
        BigInt(Math.floor(r() * 2 ** 30)) *
        BigInt(Math.floor(r() * 2 ** 10))) %
        (span + 1n));
  if (nullValue !== undefined && v === BigInt(nullValue)) v = v - 1n;
  return prim === 'int64' || prim === 'uint64' ? v : Number(v);
}

/** The value the decoder must return for a random valid value of `t` (null only for optional). */
export function randomValue(t: TypeDef, r: () => number): unknown {
  switch (t.kind) {
    case 'type': {
      if (t.primitive === 'char') {
        if (t.length === 1 && t.presence === 'optional' && r() < 0.2) return null;
        const n = Math.floor(r() * (t.length + 1));
        let s = '';
        for (let i = 0; i < n; i++) s += String.fromCharCode(32 + Math.floor(r() * 95));
        return s;
      }
      if (t.primitive === 'float' || t.primitive === 'double') return Math.fround(r());
      return randInt(r, t.primitive, t.presence === 'optional' ? t.nullValue : undefined);
    }
    case 'enum': {
      const keys = [...t.values.entries()];
      if (t.encoding.presence === 'optional' && r() < 0.2) return null;
      return keys[Math.floor(r() * keys.length)][1];
    }
    case 'set':
      return t.choices.filter(() => r() < 0.5).map((c) => c.name);
    case 'composite': {
      if (t.decimal) {
        const mt = t.members.find((m) => m.name === 'mantissa')!.type;
        const et = t.members.find((m) => m.name === 'exponent')!.type;
        if (mt.kind !== 'type' || et.kind !== 'type') throw new Error('bad decimal');
        const m = randInt(r, mt.primitive, mt.presence === 'optional' ? mt.nullValue : undefined);
        return m === null ? null : new Decimal(BigInt(m), Number(et.constValue));
      }
      const o: Record<string, unknown> = {};
      for (const m of t.members)
        if (!(m.type.kind === 'type' && m.type.presence === 'constant')) o[m.name] = randomValue(m.type, r);
      return o;
    }
  }
}

function fill(
  fields: readonly FieldDef[],
  groups: readonly GroupDef[],
  version: number,
  r: () => number,
): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const f of fields) if (!f.constant && f.sinceVersion <= version) o[f.name] = randomValue(f.type, r);
  for (const g of groups) {
    if (g.sinceVersion > version) continue;
    const n = Math.floor(r() * 4);
    o[g.name] = Array.from({ length: n }, () => fill(g.fields, g.groups, version, r));
  }
  return o;
}

export function randomBody(def: MessageDef, version: number, r: () => number): Record<string, unknown> {
  return fill(def.fields, def.groups, version, r);
}
