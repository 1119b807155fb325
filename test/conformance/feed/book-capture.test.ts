/** The market-by-price book builder on CME's real version 9 incremental capture. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BookBuilder } from '../../../src/feed/book';
import { decodeCapture } from '../../../src/feed/decode';
import { SbeCodec } from '../../../src/sbe/codec';
import { loadSchema } from '../../../src/sbe/schema';
import { CAPTURE_V9, SCHEMA_V9 } from '../cme-data';

describe('BookBuilder on a real capture', () => {
  it('applies the real v9 capture: per-instrument RptSeq tracked, deletes on empty books rejected', () => {
    const v9 = new SbeCodec(loadSchema(SCHEMA_V9));
    const b = new BookBuilder(() => {});
    for (const row of decodeCapture(v9, readFileSync(CAPTURE_V9))) b.onMessage(row.message);
    expect(b.stats.bookEntries).toBe(23);
    expect(b.book(157660)!.rptSeq).toBe(412);
    expect(b.book(157660)!.asks).toEqual([{ price: 15250, size: 1, orders: 1 }]);
    expect(b.stats.instrumentGaps).toBe(0);
    // The capture starts mid-session: each Delete hits an empty book.
    expect(b.stats.rejectedEntries).toBeGreaterThan(0);
  });
});
