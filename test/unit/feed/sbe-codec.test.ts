import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../src/sbe/decimal';
import { SbeCodec, SbeError } from '../../../src/sbe/codec';
import { loadSchema, parseSchema } from '../../../src/sbe/schema';
import { jsonValue } from '../../../src/feed/jsonl';
import { InputError } from '../../../src/errors';
import { randomBody, rng, SCHEMA } from './helpers';

// The project's schema; CME's own v9 and v13 files are exercised in test/conformance/feed/sbe-codec-cme.test.ts.
const codec = new SbeCodec(loadSchema(SCHEMA));

function expectDecodeError(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SbeError);
    expect((err as SbeError).code).toBe(code);
    return;
  }
  throw new Error(`expected SbeError ${code}`);
}

describe('SBE schema', () => {
  it('resolves the project schema with the documented sizes and offsets', () => {
    expect(codec.schema.id).toBe(1);
    expect(codec.schema.version).toBe(13);
    expect(codec.headerSize).toBe(8);
    const g = codec.schema.types.get('groupSize8Byte');
    expect(g?.size).toBe(8);
    const book = codec.schema.messagesByName.get('MDIncrementalRefreshBook46')!;
    expect(book.blockLength).toBe(11);
    expect(book.groups.map((x) => [x.name, x.blockLength, x.dimension.name])).toEqual([
      ['NoMDEntries', 32, 'groupSize'],
      ['NoOrderIDEntries', 24, 'groupSize8Byte'],
    ]);
    const tradeable = book.groups[0].fields.find((f) => f.name === 'TradeableSize')!;
    expect([tradeable.offset, tradeable.sinceVersion]).toEqual([27, 10]);
    const price = codec.schema.types.get('PRICE9');
    expect(price?.kind === 'composite' && price.decimal).toBe(true);
    expect([...codec.schema.messages.keys()]).toEqual([4, 12, 15, 16, 30, 46, 47, 48, 52, 53, 54, 59]);
  });

  it('rejects broken schemas with the element and the problem', () => {
    expect(() => parseSchema('<messageSchema id="1"><types/></messageSchema>')).toThrow(
      /messageHeader|no messages|not defined/,
    );
    expect(() =>
      parseSchema(
        '<messageSchema id="1"><types><type name="x" primitiveType="int128"/></types></messageSchema>',
      ),
    ).toThrow(InputError);
    expect(() => parseSchema('<messageSchema id="1"><types>')).toThrow(/unclosed element/);
    expect(() =>
      parseSchema(
        '<messageSchema id="1"><types><composite name="messageHeader"><type name="blockLength" primitiveType="uint16"/><type name="templateId" primitiveType="uint16"/><type name="schemaId" primitiveType="uint16"/><type name="version" primitiveType="uint16"/></composite></types>' +
          '<message name="M" id="1"><field name="f" id="1" type="Nope" offset="0"/></message></messageSchema>',
      ),
    ).toThrow(/message M\.f: type "Nope" is not defined/);
    expect(() => loadSchema('/nonexistent/schema.xml')).toThrow(/--schema: cannot read/);
  });
});

describe('SBE codec round trip', () => {
  it('encodes and decodes random bodies of every template exactly', () => {
    const r = rng(13);
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

  it('keeps 64-bit integers exact beyond 2^53 and prints them as strings', () => {
    const big = 2n ** 63n + 12345n;
    const bytes = codec.encode('MDIncrementalRefreshBook46', {
      TransactTime: big,
      MatchEventIndicator: ['EndOfEvent'],
      NoMDEntries: [],
      NoOrderIDEntries: [
        {
          OrderID: 2n ** 64n - 1n,
          MDOrderPriority: null,
          MDDisplayQty: 5,
          ReferenceID: 1,
          OrderUpdateAction: 'New',
        },
      ],
    });
    const m = codec.decode(bytes, 0, bytes.length);
    expect(m.body.TransactTime).toBe(big);
    const order = (m.body.NoOrderIDEntries as Record<string, unknown>[])[0];
    expect(order.OrderID).toBe(2n ** 64n - 1n);
    expect(order.MDOrderPriority).toBeNull();
    expect(jsonValue(order)).toBe(
      '{"OrderID":"18446744073709551615","MDOrderPriority":null,"MDDisplayQty":5,"ReferenceID":1,"OrderUpdateAction":"New"}',
    );
    expect(jsonValue(2n ** 53n - 1n)).toBe('9007199254740991');
    expect(jsonValue(2n ** 53n)).toBe('"9007199254740992"');
  });

  it('decodes PRICE9/PRICENULL9 (exponent -9) as exact decimals', () => {
    const def = codec.schema.messagesByName.get('MDInstrumentDefinitionFuture54')!;
    const body = randomBody(def, 13, rng(54));
    body.MinPriceIncrement = '0.25';
    body.TradingReferencePrice = null;
    body.HighLimitPrice = '4321.123456789';
    const bytes = codec.encode(54, body);
    expect(bytes.readBigInt64LE(8 + 91)).toBe(250000000n); // 0.25 at exponent -9
    const m = codec.decode(bytes, 0, bytes.length);
    expect(m.body.MinPriceIncrement).toEqual(new Decimal(250000000n, -9));
    expect(String(m.body.MinPriceIncrement)).toBe('0.25');
    expect(m.body.TradingReferencePrice).toBeNull();
    expect(String(m.body.HighLimitPrice)).toBe('4321.123456789');
    expect(() => codec.encode(54, { ...body, HighLimitPrice: '1.1234567891' })).toThrow(
      /HighLimitPrice: .*more decimals than exponent -9/,
    );
    const p9 = codec.encode(46, {
      TransactTime: 1n,
      MatchEventIndicator: [],
      NoMDEntries: [
        {
          MDEntryPx: '-0.000000001',
          MDEntrySize: null,
          SecurityID: 1,
          RptSeq: 1,
          NumberOfOrders: null,
          MDPriceLevel: 1,
          MDUpdateAction: 'New',
          MDEntryType: 'Bid',
          TradeableSize: null,
        },
      ],
      NoOrderIDEntries: [],
    });
    const e = (codec.decode(p9, 0, p9.length).body.NoMDEntries as Record<string, unknown>[])[0];
    expect(jsonValue(e.MDEntryPx)).toBe('-0.000000001');
    expect(e.MDEntrySize).toBeNull();
  });

  it('honours the version in the header: newer fields are absent in older messages', () => {
    const body = {
      TransactTime: 5n,
      MatchEventIndicator: ['LastQuoteMsg', 'EndOfEvent'],
      NoMDEntries: [
        {
          MDEntryPx: '100.5',
          MDEntrySize: 3,
          SecurityID: 9,
          RptSeq: 7,
          NumberOfOrders: 2,
          MDPriceLevel: 1,
          MDUpdateAction: 'Change',
          MDEntryType: 'Offer',
          TradeableSize: 44,
        },
      ],
      NoOrderIDEntries: [],
    };
    const asV13 = codec.decode(codec.encode(46, body), 0, codec.encode(46, body).length);
    expect((asV13.body.NoMDEntries as Record<string, unknown>[])[0].TradeableSize).toBe(44);
    const old = codec.encode(46, body, { version: 9 });
    const asV9 = codec.decode(old, 0, old.length);
    expect(asV9.version).toBe(9);
    expect((asV9.body.NoMDEntries as Record<string, unknown>[])[0]).not.toHaveProperty('TradeableSize');
    expect(asV9.body.MatchEventIndicator).toEqual(['LastQuoteMsg', 'EndOfEvent']);
  });

  it('uses the header blockLength: a newer writer with a longer root block still decodes', () => {
    const body = {
      TransactTime: 77n,
      MatchEventIndicator: ['EndOfEvent'],
      NoMDEntries: [],
      NoOrderIDEntries: [],
    };
    const bytes = codec.encode(46, body);
    // Insert 5 unknown bytes after the 11-byte root block and bump blockLength to 16.
    const longer = Buffer.concat([bytes.subarray(0, 19), Buffer.from([1, 2, 3, 4, 5]), bytes.subarray(19)]);
    longer.writeUInt16LE(16, 0);
    longer.writeUInt16LE(14, 6);
    const m = codec.decode(longer, 0, longer.length);
    expect(m.version).toBe(14);
    expect(m.body).toEqual({
      TransactTime: 77n,
      MatchEventIndicator: ['EndOfEvent'],
      NoMDEntries: [],
      NoOrderIDEntries: [],
    });
    expect(m.size).toBe(longer.length);
  });

  it('reports truncation, unknown templates, foreign schemas and impossible versions', () => {
    const bytes = codec.encode(46, {
      TransactTime: 1n,
      MatchEventIndicator: [],
      NoMDEntries: [
        {
          MDEntryPx: 1,
          MDEntrySize: 1,
          SecurityID: 1,
          RptSeq: 1,
          NumberOfOrders: 1,
          MDPriceLevel: 1,
          MDUpdateAction: 'New',
          MDEntryType: 'Bid',
          TradeableSize: 1,
        },
      ],
      NoOrderIDEntries: [],
    });
    for (let cut = 0; cut < bytes.length; cut++)
      expectDecodeError(() => codec.decode(bytes, 0, cut), 'truncated');
    const unknown = Buffer.from(bytes);
    unknown.writeUInt16LE(999, 2);
    expectDecodeError(() => codec.decode(unknown, 0, unknown.length), 'unknownTemplate');
    const foreign = Buffer.from(bytes);
    foreign.writeUInt16LE(2, 4);
    expectDecodeError(() => codec.decode(foreign, 0, foreign.length), 'unknownSchema');
    const v0 = Buffer.from(bytes);
    v0.writeUInt16LE(0, 6);
    expectDecodeError(() => codec.decode(v0, 0, v0.length), 'unknownVersion');
    const tooOld = Buffer.from(bytes);
    tooOld.writeUInt16LE(8, 6);
    expectDecodeError(() => codec.decode(tooOld, 0, tooOld.length), 'unknownVersion');
    expect(() => codec.decode(bytes, 0, bytes.length + 1)).toThrow(SbeError);
  });

  it('rejects bad values on encode naming the field', () => {
    const base = { TransactTime: 1n, MatchEventIndicator: [], NoMDEntries: [], NoOrderIDEntries: [] };
    expect(() => codec.encode(46, { ...base, TransactTime: -1 })).toThrow(
      /MDIncrementalRefreshBook46\.TransactTime: -1 is out of range for uint64/,
    );
    expect(() => codec.encode(46, { ...base, MatchEventIndicator: ['Nope'] })).toThrow(
      /MatchEventIndicator: "Nope" is not a choice/,
    );
    expect(() => codec.encode(46, { ...base, TransactTime: undefined })).toThrow(/TransactTime: required/);
    expect(() =>
      codec.encode('SecurityStatus30', {
        TransactTime: 1n,
        SecurityGroup: 'TOOLONGX',
        Asset: 'ES',
        SecurityID: 1,
        TradeDate: 1,
        MatchEventIndicator: [],
        SecurityTradingStatus: null,
        HaltReason: 'Unknown',
        SecurityTradingEvent: 'NoEvent',
      }),
    ).toThrow(/SecurityGroup: "TOOLONGX" is longer than 6/);
    expect(() => codec.encode(4242, base)).toThrow(/template 4242/);
  });
});
