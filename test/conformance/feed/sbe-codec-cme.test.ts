/**
 * The SBE codec on CME's own published schemas (versions 9 and 13): sizes and offsets as documented,
 * random bodies of every template round-trip, and the -7 exponent of version 9's PRICE.
 */
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../src/sbe/decimal';
import { SbeCodec } from '../../../src/sbe/codec';
import { loadSchema } from '../../../src/sbe/schema';
import { jsonValue } from '../../../src/feed/jsonl';
import { randomBody, rng } from '../../unit/feed/helpers';
import { SCHEMA_V13, SCHEMA_V9 } from '../cme-data';

const v9 = new SbeCodec(loadSchema(SCHEMA_V9));
const v13 = new SbeCodec(loadSchema(SCHEMA_V13));

describe('SBE schema', () => {
  it('resolves both CME schemas with the documented sizes and offsets', () => {
    expect(v9.schema.version).toBe(9);
    expect(v13.schema.version).toBe(13);
    expect(v13.headerSize).toBe(8);
    const g = v13.schema.types.get('groupSize8Byte');
    expect(g?.size).toBe(8);
    const book = v13.schema.messagesByName.get('MDIncrementalRefreshBook46')!;
    expect(book.blockLength).toBe(11);
    expect(book.groups.map((x) => [x.name, x.blockLength, x.dimension.name])).toEqual([
      ['NoMDEntries', 32, 'groupSize'],
      ['NoOrderIDEntries', 24, 'groupSize8Byte'],
    ]);
    const tradeable = book.groups[0].fields.find((f) => f.name === 'TradeableSize')!;
    expect([tradeable.offset, tradeable.sinceVersion]).toEqual([27, 10]);
    const price = v9.schema.types.get('PRICE');
    expect(price?.kind === 'composite' && price.decimal).toBe(true);
  });
});

describe('SBE codec round trip', () => {
  for (const [label, codec] of [
    ['v9', v9],
    ['v13', v13],
  ] as const) {
    it(`encodes and decodes random bodies of every ${label} template exactly`, () => {
      const r = rng(label === 'v9' ? 9 : 13);
      let checked = 0;
      for (const def of codec.schema.messages.values()) {
        for (let i = 0; i < 20; i++) {
          const body = randomBody(def, codec.schema.version, r);
          const bytes = codec.encode(def.id, body);
          const m = codec.decode(bytes, 0, bytes.length);
          expect(m.templateId).toBe(def.id);
          expect(m.name).toBe(def.name);
          expect(m.size).toBe(bytes.length);
          expect(jsonValue(m.body)).toBe(jsonValue(body));
          // Byte-exact: re-encoding the decoded body gives the same bytes.
          expect(codec.encode(def.id, m.body).equals(bytes)).toBe(true);
          checked++;
        }
      }
      expect(checked).toBe(codec.schema.messages.size * 20);
    });
  }

  it('decodes PRICE (exponent -7) as exact decimals', () => {
    const def = v9.schema.messagesByName.get('MDInstrumentDefinitionFuture27')!;
    const body = randomBody(def, 9, rng(27));
    body.MinPriceIncrement = '0.25';
    body.TradingReferencePrice = null;
    body.HighLimitPrice = '4321.1234567';
    const bytes = v9.encode(27, body);
    const off = 8 + 91;
    expect(bytes.readBigInt64LE(off)).toBe(2500000n); // 0.25 at exponent -7
    const m = v9.decode(bytes, 0, bytes.length);
    expect(m.body.MinPriceIncrement).toEqual(new Decimal(2500000n, -7));
    expect(String(m.body.MinPriceIncrement)).toBe('0.25');
    expect(m.body.TradingReferencePrice).toBeNull();
    expect(String(m.body.HighLimitPrice)).toBe('4321.1234567');
    expect(() => v9.encode(27, { ...body, HighLimitPrice: '1.123456789' })).toThrow(
      /HighLimitPrice: .*more decimals than exponent -7/,
    );
  });
});
