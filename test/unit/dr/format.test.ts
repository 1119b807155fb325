import { describe, expect, it } from 'vitest';
import { canonicalJson, decodeItem, encodeItem } from '../../../src/dr/format';
import { differences, type StateSnapshot } from '../../../src/dr/snapshot';

describe('backup item encoding', () => {
  it('keeps every DynamoDB type, binary included, through encode and decode', () => {
    const item = {
      pk: { S: 'BOOK#main' },
      n: { N: '12.50' },
      b: { B: new Uint8Array([0, 255, 7]) },
      bs: { BS: [new Uint8Array([1]), new Uint8Array([2, 3])] },
      l: { L: [{ S: 'x' }, { NULL: true }, { BOOL: false }] },
      m: { M: { q: { N: '100' } } },
      ss: { SS: ['a', 'b'] },
    };
    const line = encodeItem(item);
    expect(line).toContain('"B64":"AP8H"');
    const back = decodeItem(line);
    expect(Buffer.from(back.b.B!)).toEqual(Buffer.from([0, 255, 7]));
    expect(back.bs.BS!.map((x) => [...x])).toEqual([[1], [2, 3]]);
    expect({ ...back, b: undefined, bs: undefined }).toEqual({ ...item, b: undefined, bs: undefined });
  });

  it('canonical JSON does not depend on key order', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: [3, { f: 1, e: 0 }] } })).toBe(
      '{"a":{"c":[3,{"e":0,"f":1}],"d":2},"b":1}',
    );
  });
});

describe('snapshot differences', () => {
  const snap = (orders: string): StateSnapshot => ({
    parts: {
      orders: { count: 1, sha256: orders },
      positions: { count: 1, sha256: 'p' },
      limits: { count: 1, sha256: 'l' },
      tradingStates: { count: 1, sha256: 's' },
      auditTrail: { count: 1, sha256: 'a' },
      otherRiskItems: { count: 0, sha256: 'o' },
      idempotency: { count: 0, sha256: 'i' },
      lake: { count: 0, sha256: 'k' },
    },
    halted: [],
    auditEvents: 1,
  });
  it('names exactly the parts that differ', () => {
    expect(differences(snap('x'), snap('x'))).toEqual([]);
    expect(differences(snap('x'), snap('y'))).toEqual(['orders']);
  });
});
