/** MessageLayout / PacketWriter: the codec's bytes, and errors that name the field. */
import { describe, expect, it } from 'vitest';
import { MessageLayout, PacketWriter } from '../../../src/feed/message-writer';
import { buildPacket } from '../../../src/feed/packet';
import { SbeCodec } from '../../../src/sbe/codec';
import { Decimal } from '../../../src/sbe/decimal';
import { loadSchema } from '../../../src/sbe/schema';
import { SCHEMA } from './helpers';

const codec = new SbeCodec(loadSchema(SCHEMA));

const entry = (over: Record<string, unknown> = {}) => ({
  MDEntryPx: '0',
  MDEntrySize: 0,
  SecurityID: 0,
  RptSeq: 0,
  NumberOfOrders: 0,
  MDPriceLevel: 1,
  MDUpdateAction: 'New',
  MDEntryType: 'Bid',
  TradeableSize: null,
  ...over,
});
const orderEntry = {
  OrderID: 0n,
  MDOrderPriority: 0n,
  MDDisplayQty: 0,
  ReferenceID: 1,
  OrderUpdateAction: 'New',
};
const layout46 = () =>
  new MessageLayout(codec, 'MDIncrementalRefreshBook46', {
    TransactTime: 0n,
    MatchEventIndicator: [],
    NoMDEntries: [entry()],
    NoOrderIDEntries: [orderEntry],
  });

describe('message writer', () => {
  it('writes the packet the codec and buildPacket write for the same values (64-bit, negative and big prices)', () => {
    const l = layout46();
    const s = {
      tx: l.slot('TransactTime'),
      mei: l.slot('MatchEventIndicator'),
      px: l.slot('NoMDEntries.MDEntryPx', { exponent: -9 }),
      size: l.slot('NoMDEntries.MDEntrySize'),
      sec: l.slot('NoMDEntries.SecurityID'),
      rpt: l.slot('NoMDEntries.RptSeq'),
      type: l.slot('NoMDEntries.MDEntryType'),
      action: l.slot('NoMDEntries.MDUpdateAction'),
      oid: l.slot('NoOrderIDEntries.OrderID'),
      prio: l.slot('NoOrderIDEntries.MDOrderPriority'),
    };
    const w = new PacketWriter();
    w.begin();
    const root = w.message(l);
    w.put(root, s.tx, 2n ** 63n + 5n);
    w.put(root, s.mei, l.setValue('MatchEventIndicator', ['LastQuoteMsg', 'EndOfEvent']));
    const prices = [-1_250_000_000, 8_999_999_999_999, 2 ** 53 - 1];
    let e = w.group(0, prices.length);
    prices.forEach((px, i) => {
      w.put(e, s.px, px);
      w.put(e, s.size, -7 + i);
      w.put(e, s.sec, 1001);
      w.put(e, s.rpt, 4294967295 - i);
      w.put(e, s.type, l.enumValue('NoMDEntries.MDEntryType', i === 1 ? 'Offer' : 'Bid'));
      w.put(e, s.action, l.enumValue('NoMDEntries.MDUpdateAction', 'Delete'));
      e += l.groups[0].def.blockLength;
    });
    const o = w.group(1, 1);
    w.put(o, s.oid, 2n ** 64n - 2n);
    w.put(o, s.prio, 2n ** 53n + 1n);
    const got = w.finish(77, 123456789n);

    const want = buildPacket(77, 123456789n, [
      codec.encode('MDIncrementalRefreshBook46', {
        TransactTime: 2n ** 63n + 5n,
        MatchEventIndicator: ['LastQuoteMsg', 'EndOfEvent'],
        NoMDEntries: prices.map((px, i) =>
          entry({
            MDEntryPx: new Decimal(BigInt(px), -9),
            MDEntrySize: -7 + i,
            SecurityID: 1001,
            RptSeq: 4294967295 - i,
            MDUpdateAction: 'Delete',
            MDEntryType: i === 1 ? 'Offer' : 'Bid',
          }),
        ),
        NoOrderIDEntries: [{ ...orderEntry, OrderID: 2n ** 64n - 2n, MDOrderPriority: 2n ** 53n + 1n }],
      }),
    ]);
    expect(got.toString('hex')).toBe(want.toString('hex'));
  });

  it('errors name the template and field', () => {
    const l = layout46();
    expect(() => l.slot('NoMDEntries.Nope')).toThrow(
      'MDIncrementalRefreshBook46.NoMDEntries.Nope: no such field',
    );
    expect(() => l.slot('NoMDEntries.MDEntryPx')).toThrow(
      'MDIncrementalRefreshBook46.NoMDEntries.MDEntryPx: expected an integer, enum or set field',
    );
    expect(() => l.slot('NoMDEntries.MDEntryPx', { exponent: -7 })).toThrow(
      'NoMDEntries.MDEntryPx: expected a decimal with constant exponent -7',
    );
    expect(() => l.enumValue('NoMDEntries.MDUpdateAction', 'Bogus')).toThrow(
      'MDIncrementalRefreshBook46.NoMDEntries.MDUpdateAction: "Bogus" is not a value of MDUpdateAction',
    );
    expect(() => l.setValue('MatchEventIndicator', ['Nope'])).toThrow(
      /MatchEventIndicator: "Nope" is not a choice/,
    );
    expect(() => l.group('NoThing')).toThrow('MDIncrementalRefreshBook46.NoThing: no such group');
    expect(() => new MessageLayout(codec, 'NoSuchTemplate99', {})).toThrow(
      'NoSuchTemplate99: not in the schema',
    );
  });

  it('refuses groups out of schema order, missing groups, and entries without a prototype', () => {
    const l = layout46();
    const w = new PacketWriter();
    w.begin();
    w.message(l);
    expect(() => w.group(1, 0)).toThrow('schema order');
    w.group(0, 0);
    expect(() => w.finish(1, 0n)).toThrow('every group');

    const empty = new MessageLayout(codec, 'MDIncrementalRefreshBook46', {
      TransactTime: 0n,
      MatchEventIndicator: [],
      NoMDEntries: [],
      NoOrderIDEntries: [],
    });
    w.begin();
    w.message(empty);
    expect(() => w.group(0, 1)).toThrow('NoMDEntries: the prototype has no entry to copy');
  });

  it('grows past its initial scratch size', () => {
    const l = layout46();
    const w = new PacketWriter();
    w.begin();
    for (let m = 0; m < 20; m++) {
      w.message(l);
      w.group(0, 200);
      w.group(1, 0);
    }
    const p = w.finish(1, 0n);
    expect(p.length).toBe(12 + 20 * (2 + 8 + 11 + 3 + 200 * 32 + 8));
  });
});
