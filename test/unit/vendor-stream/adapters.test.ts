import { describe, expect, it } from 'vitest';
import { alpaca } from '../../../src/vendor-stream/alpaca';
import { polygon } from '../../../src/vendor-stream/polygon';
import { retryAfterMs } from '../../../src/vendor-stream/rest';
import { nsToRfc3339, rfc3339ToNs } from '../../../src/vendor-stream/time';
import type { VendorItem } from '../../../src/vendor-stream/types';

const parse = (a: typeof polygon, frame: string): VendorItem[] => {
  const out: VendorItem[] = [];
  a.parseFrame(frame, out);
  return out;
};

describe('Polygon messages (the documented examples)', () => {
  it('status, trade, quote and minute aggregate', () => {
    const items = parse(
      polygon,
      '[{"ev":"status","status":"connected","message":"Connected Successfully"},' +
        '{"ev":"T","sym":"MSFT","x":4,"i":"12345","z":3,"p":114.125,"s":100,"c":[0,12],"t":1536036818784,"q":3681328},' +
        '{"ev":"Q","sym":"MSFT","bx":4,"bp":114.125,"bs":100,"ax":7,"ap":114.128,"as":160,"c":0,"i":[604],"t":1536036818784,"q":50385480,"z":3},' +
        '{"ev":"AM","sym":"GTE","v":4110,"av":9470157,"op":0.4372,"vw":0.4488,"o":0.4488,"c":0.4486,"h":0.4489,"l":0.4486,"a":0.4352,"z":685,"s":1610144640000,"e":1610144700000}]',
    );
    expect(items).toEqual([
      { kind: 'connected' },
      {
        kind: 'trade',
        symbol: 'MSFT',
        id: '12345',
        exchange: '4',
        price: 114.125,
        size: 100,
        tsNs: 1_536_036_818_784_000_000n,
      },
      {
        kind: 'quote',
        symbol: 'MSFT',
        id: '50385480',
        bid: 114.125,
        bidSize: 100,
        ask: 114.128,
        askSize: 160,
        tsNs: 1_536_036_818_784_000_000n,
      },
      {
        kind: 'bar',
        symbol: 'GTE',
        open: 0.4488,
        high: 0.4489,
        low: 0.4486,
        close: 0.4486,
        volume: 4110,
        vwap: 0.4488,
        tsNs: 1_610_144_640_000_000_000n,
      },
    ]);
  });

  it('auth answers and subscription messages', () => {
    expect(
      parse(polygon, '[{"ev":"status","status":"auth_failed","message":"authentication failed"}]'),
    ).toEqual([{ kind: 'auth_failed', message: 'authentication failed' }]);
    expect(parse(polygon, '[{"ev":"status","status":"auth_success","message":"authenticated"}]')).toEqual([
      { kind: 'authenticated' },
    ]);
    expect(polygon.authMessage({ id: 'K' })).toBe('{"action":"auth","params":"K"}');
    expect(polygon.subscribeMessage(['trades', 'quotes', 'bars'], ['A', 'B'])).toBe(
      '{"action":"subscribe","params":"T.A,T.B,Q.A,Q.B,AM.A,AM.B"}',
    );
    expect(polygon.unsubscribeMessage(['trades'], ['A'])).toBe('{"action":"unsubscribe","params":"T.A"}');
  });

  it('malformed messages name the field and the problem', () => {
    expect(parse(polygon, '[{"ev":"T","sym":"A","x":4,"i":"1","p":1,"s":1,"t":1536036818}]')).toEqual([
      {
        kind: 'malformed',
        reason: 'T.t: must be Unix milliseconds between 2000 and 2100, got 1536036818',
        raw: '{"ev":"T","sym":"A","x":4,"i":"1","p":1,"s":1,"t":1536036818}',
      },
    ]);
    expect(
      parse(polygon, '[{"ev":"Q","sym":"A","bp":2,"bs":1,"ap":1,"as":1,"t":1536036818784,"q":1}]')[0],
    ).toMatchObject({
      kind: 'malformed',
      reason: 'Q.bp: bid 2 exceeds ask 1 (crossed quote)',
    });
    expect(parse(polygon, '[{"ev":"XX"}]')[0]).toMatchObject({ reason: 'unknown event type ev="XX"' });
    expect(parse(polygon, '42')[0]).toMatchObject({
      reason: 'expected a JSON array of messages, got number',
    });
  });

  it('v3 history: nanosecond timestamps keep every digit; next_url is followed with the key', () => {
    const page = polygon.parseBackfill(
      { url: 'http://h/v3/trades/AAPL', headers: {} },
      { id: 'K' },
      'trades',
      'AAPL',
      '{"results":[{"conditions":[12,41],"exchange":11,"id":"1","participant_timestamp":1517562000015577000,"price":171.55,"sequence_number":1063,"sip_timestamp":1517562000016036581,"size":100,"tape":3}],"status":"OK","request_id":"a","next_url":"https://api.polygon.io/v3/trades/AAPL?cursor=YWN0aXZl"}',
    );
    expect(page.items).toEqual([
      {
        kind: 'trade',
        symbol: 'AAPL',
        id: '1',
        exchange: '11',
        price: 171.55,
        size: 100,
        tsNs: 1_517_562_000_016_036_581n,
      },
    ]);
    expect(page.next).toEqual({
      url: 'https://api.polygon.io/v3/trades/AAPL?cursor=YWN0aXZl',
      headers: { Authorization: 'Bearer K' },
    });
    const req = polygon.backfillRequest('http://h:1/', { id: 'K' }, 'quotes', 'AAPL', 1n, 2n);
    expect(req.url).toBe(
      'http://h:1/v3/quotes/AAPL?timestamp.gte=1&timestamp.lte=2&order=asc&sort=timestamp&limit=50000',
    );
  });
});

describe('Alpaca messages (the documented examples)', () => {
  it('trade, quote, bar, success, subscription and error', () => {
    const items = parse(
      alpaca,
      '[{"T":"t","S":"AAPL","i":96921,"x":"D","p":126.55,"s":1,"t":"2021-02-22T15:51:44.208Z","c":["@","I"],"z":"C"},' +
        '{"T":"q","S":"AMD","bx":"U","bp":87.66,"bs":1,"ax":"Q","ap":87.68,"as":4,"t":"2021-02-22T15:51:45.335689322Z","c":["R"],"z":"C"},' +
        '{"T":"b","S":"SPY","o":388.985,"h":389.13,"l":388.975,"c":389.12,"v":49378,"t":"2021-02-22T19:15:00Z","n":461,"vw":389.062639},' +
        '{"T":"success","msg":"authenticated"},' +
        '{"T":"subscription","trades":["AAPL"],"quotes":["AMD","CLDR"],"bars":["*"],"updatedBars":[],"dailyBars":[]},' +
        '{"T":"error","code":402,"msg":"auth failed"},{"T":"error","code":409,"msg":"insufficient subscription"},{"T":"error","code":406,"msg":"connection limit exceeded"}]',
    );
    expect(items).toEqual([
      {
        kind: 'trade',
        symbol: 'AAPL',
        id: '96921',
        exchange: 'D',
        price: 126.55,
        size: 1,
        tsNs: 1_614_009_104_208_000_000n,
      },
      {
        kind: 'quote',
        symbol: 'AMD',
        id: '1614009105335689322|U87.66x1|Q87.68x4',
        bid: 87.66,
        bidSize: 1,
        ask: 87.68,
        askSize: 4,
        tsNs: 1_614_009_105_335_689_322n,
      },
      {
        kind: 'bar',
        symbol: 'SPY',
        open: 388.985,
        high: 389.13,
        low: 388.975,
        close: 389.12,
        volume: 49378,
        vwap: 389.062639,
        tsNs: 1_614_021_300_000_000_000n,
      },
      { kind: 'authenticated' },
      { kind: 'subscribed', message: 'trades: AAPL; quotes: AMD,CLDR; bars: *' },
      { kind: 'auth_failed', message: '402 auth failed' },
      { kind: 'error', message: '409 insufficient subscription', fatal: true },
      { kind: 'error', message: '406 connection limit exceeded', fatal: false },
    ]);
  });

  it('keys, auth and subscription messages', () => {
    expect(alpaca.parseKey('AKID:s3cr:et')).toEqual({ id: 'AKID', secret: 's3cr:et' });
    expect(() => alpaca.parseKey('nocolon')).toThrow(/QUANT_VENDOR_KEY: an Alpaca key is KEY_ID:SECRET/);
    expect(alpaca.authMessage({ id: 'A', secret: 'S' })).toBe('{"action":"auth","key":"A","secret":"S"}');
    expect(alpaca.subscribeMessage(['trades', 'quotes'], ['AAPL'])).toBe(
      '{"action":"subscribe","trades":["AAPL"],"quotes":["AAPL"]}',
    );
  });

  it('history pages carry the token into the next request', () => {
    const req = alpaca.backfillRequest(
      'http://h',
      { id: 'A', secret: 'S' },
      'trades',
      'AAPL',
      1_614_009_104_208_000_001n,
      1_614_009_105_000_000_000n,
    );
    expect(req.url).toBe(
      'http://h/v2/stocks/AAPL/trades?start=2021-02-22T15%3A51%3A44.208000001Z&end=2021-02-22T15%3A51%3A45.000000000Z&limit=10000&sort=asc',
    );
    expect(req.headers).toEqual({ 'APCA-API-KEY-ID': 'A', 'APCA-API-SECRET-KEY': 'S' });
    const page = alpaca.parseBackfill(
      req,
      { id: 'A', secret: 'S' },
      'trades',
      'AAPL',
      '{"trades":[{"t":"2021-02-06T13:04:56.334320128Z","x":"C","p":387.62,"s":100,"c":[" ","T"],"i":52983525029461,"z":"B"}],"symbol":"AAPL","next_page_token":"QUFQTHw"}',
    );
    expect(page.items).toEqual([
      {
        kind: 'trade',
        symbol: 'AAPL',
        id: '52983525029461',
        exchange: 'C',
        price: 387.62,
        size: 100,
        tsNs: 1_612_616_696_334_320_128n,
      },
    ]);
    expect(new URL(page.next!.url).searchParams.get('page_token')).toBe('QUFQTHw');
  });
});

describe('time helpers', () => {
  it('RFC 3339 with offsets and fractions to ns and back', () => {
    expect(rfc3339ToNs('2021-02-22T15:51:45.335689322Z')).toBe(1_614_009_105_335_689_322n);
    expect(rfc3339ToNs('2021-02-22T10:51:45.5-05:00')).toBe(1_614_009_105_500_000_000n);
    expect(rfc3339ToNs('2021-02-22 15:51:45Z')).toBeUndefined();
    expect(rfc3339ToNs('2021-13-22T15:51:45Z')).toBeUndefined();
    expect(nsToRfc3339(1_614_009_105_335_689_322n)).toBe('2021-02-22T15:51:45.335689322Z');
  });

  it('Retry-After in seconds or as a date', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:05 GMT', Date.UTC(2015, 9, 21, 7, 28, 0))).toBe(5000);
    expect(retryAfterMs(null)).toBeUndefined();
  });
});
