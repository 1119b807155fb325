/**
 * FIX tag=value: BodyLength and the three-digit CheckSum are right (checked against a message worked
 * out by hand), round trips keep every field, and malformed input is an error naming the tag.
 */
import { describe, expect, it } from 'vitest';
import { decodeFix, encodeFix, FixError, fixTimestamp, tryDecodeFix } from '../../../src/feed/fix';

const bar = (b: Buffer): string => b.toString('latin1').replaceAll('\x01', '|');
const fromBars = (s: string): Buffer => Buffer.from(s.replaceAll('|', '\x01'), 'latin1');
/** Recomputes BodyLength and CheckSum of a message written with `|` for SOH (to build bad ones). */
function framed(body: string, beginString = 'FIX.4.2'): Buffer {
  const b = fromBars(body);
  const head = Buffer.from(`8=${beginString}\x019=${b.length}\x01`, 'latin1');
  const all = Buffer.concat([head, b]);
  let sum = 0;
  for (const x of all) sum += x;
  return Buffer.concat([all, Buffer.from(`10=${String(sum % 256).padStart(3, '0')}\x01`)]);
}
function fixError(f: () => unknown): FixError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(FixError);
    return err as FixError;
  }
  throw new Error('expected a FixError');
}

describe('encodeFix', () => {
  it('writes BodyLength over the body and the checksum as three digits', () => {
    const m = encodeFix('0', [
      [49, 'A'],
      [56, 'B'],
    ]);
    // Body "35=0|49=A|56=B|" is 15 bytes; the bytes before 10= sum to 1,449 = 5 * 256 + 169.
    expect(bar(m)).toBe('8=FIX.4.2|9=15|35=0|49=A|56=B|10=169|');
  });

  it('round-trips through the decoder with every field in order', () => {
    const m = encodeFix('A', [
      [49, 'FIRM'],
      [56, 'CME'],
      [34, 1],
      [52, '20260105-14:30:00.123'],
      [98, 0],
      [108, 30],
      [553, 'user'],
      [554, 'p=ss w0rd'],
    ]);
    const d = decodeFix(m);
    expect(d.length).toBe(m.length);
    expect(d.beginString).toBe('FIX.4.2');
    expect(d.msgType).toBe('A');
    expect(d.get(554)).toBe('p=ss w0rd'); // "=" inside a value is data
    expect(d.requireInt(108, 1, 60)).toBe(30);
    expect(d.fields.map(([t]) => t)).toEqual([8, 9, 35, 49, 56, 34, 52, 98, 108, 553, 554, 10]);
  });

  it('refuses values that cannot be framed, naming the tag', () => {
    expect(fixError(() => encodeFix('A', [[554, 'a\x01b']])).message).toBe(
      'Password (554): value contains SOH',
    );
    expect(fixError(() => encodeFix('A', [[553, '']])).tag).toBe(553);
    expect(fixError(() => encodeFix('A', [[10, '000']])).message).toMatch(
      /CheckSum \(10\): set by the encoder/,
    );
    expect(fixError(() => encodeFix('A', [[0, 'x']])).message).toMatch(/tag 0: not a positive integer/);
  });
});

describe('decoding', () => {
  const good = encodeFix('V', [
    [262, 'r1'],
    [1180, 310],
    [1182, 100],
    [1183, 120],
  ]);

  it('a message split anywhere is incomplete (null), not an error, until its last byte', () => {
    for (let cut = 0; cut < good.length; cut++) expect(tryDecodeFix(good.subarray(0, cut))).toBeNull();
    expect(tryDecodeFix(good)?.get(1183)).toBe('120');
  });

  it('reads consecutive messages from one buffer', () => {
    const two = Buffer.concat([good, encodeFix('5', [[58, 'bye']])]);
    const first = tryDecodeFix(two)!;
    expect(tryDecodeFix(two, first.length)?.get(58)).toBe('bye');
  });

  it('a bad checksum is an error giving both sums', () => {
    const bad = Buffer.from(good);
    bad[bad.length - 2] = bad[bad.length - 2] === 0x30 ? 0x31 : 0x30;
    expect(fixError(() => decodeFix(bad))).toMatchObject({
      tag: 10,
      message: expect.stringMatching(/^CheckSum \(10\): \d{3}, computed \d{3}$/),
    });
    // A changed body byte with the old checksum: same error.
    const flipped = Buffer.from(good);
    flipped[flipped.indexOf('310')] = 0x34;
    expect(fixError(() => decodeFix(flipped)).tag).toBe(10);
  });

  it('a truncated message is an error for the one-message decoder', () => {
    expect(fixError(() => decodeFix(good.subarray(0, good.length - 3))).message).toMatch(
      /^truncated message: \d+ bytes end before CheckSum \(10\)$/,
    );
    expect(fixError(() => decodeFix(Buffer.concat([good, Buffer.from('8=')]))).message).toMatch(
      /2 bytes after CheckSum \(10\)/,
    );
  });

  it('a missing required tag is an error naming it', () => {
    const m = decodeFix(encodeFix('V', [[1180, 310]]));
    expect(fixError(() => m.require(1182))).toMatchObject({
      tag: 1182,
      message: 'MsgType V: missing required ApplBegSeqNum (1182)',
    });
    expect(fixError(() => decodeFix(encodeFix('V', [[1182, 'x']])).requireInt(1182, 1, 10)).message).toBe(
      'ApplBegSeqNum (1182): "x" is not an integer 1..10',
    );
  });

  it('header order, BodyLength and field syntax are checked', () => {
    expect(fixError(() => decodeFix(fromBars('9=5|8=FIX.4.2|'))).message).toBe(
      'BeginString (8) must be the first field',
    );
    expect(fixError(() => decodeFix(fromBars('8=FIX.4.2|35=A|'))).message).toBe(
      'BodyLength (9) must be the second field',
    );
    expect(fixError(() => decodeFix(fromBars('8=FIX.4.2|9=abc|35=A|10=000|'))).tag).toBe(9);
    expect(fixError(() => decodeFix(framed('49=X|35=A|'))).message).toBe(
      'MsgType (35) must be the third field',
    );
    expect(fixError(() => decodeFix(framed('35=A|553|'))).message).toMatch(/"553" has no "="/);
    expect(fixError(() => decodeFix(framed('35=A|55x=1|'))).message).toMatch(/"55x" is not a tag number/);
    expect(fixError(() => decodeFix(framed('35=A|553=|'))).message).toBe('Username (553): empty value');
    expect(fixError(() => decodeFix(framed('35=A|9=3|'))).message).toMatch(/BodyLength \(9\): only allowed/);
    // BodyLength one byte short: the checksum field does not start where it says.
    const m = bar(framed('35=A|553=u|'));
    const short = fromBars(m.replace('9=11|', '9=10|'));
    expect(fixError(() => decodeFix(short)).message).toBe(
      'BodyLength (9): 10 does not end where CheckSum (10) starts',
    );
    expect(fixError(() => tryDecodeFix(Buffer.from('8=' + 'F'.repeat(40)))).message).toMatch(
      /BeginString \(8\): no SOH within 32 bytes/,
    );
  });
});

it('fixTimestamp is FIX UTCTimestamp with milliseconds', () => {
  expect(fixTimestamp(new Date(Date.UTC(2026, 0, 5, 14, 3, 9, 7)))).toBe('20260105-14:03:09.007');
});
