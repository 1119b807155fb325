import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  DeaggregationError,
  aggregate,
  aggregateOverhead,
  aggregatedEntrySize,
  deaggregate,
} from '../../../src/ingest/kpl';

// The reference implementation (awslabs' aws-kinesis-agg, protobufjs inside) checks our encoder.
interface AggUserRecord {
  partitionKey: string;
  data: string | Buffer;
}
const agg = createRequire(import.meta.url)('aws-kinesis-agg') as {
  deaggregateSync(
    r: { partitionKey: string; sequenceNumber: string; data: string },
    checksums: boolean,
    cb: (err: Error | null, recs?: AggUserRecord[]) => void,
  ): void;
  RecordAggregator: new () => {
    addUserRecord(r: AggUserRecord): void;
    build(): { partitionKey: string; data: Buffer };
  };
};

function referenceDeaggregate(data: Buffer): AggUserRecord[] {
  let out: AggUserRecord[] = [];
  let error: Error | null = null;
  agg.deaggregateSync(
    { partitionKey: 'outer', sequenceNumber: '1', data: data.toString('base64') },
    true,
    (e, r) => {
      error = e;
      out = r ?? [];
    },
  );
  if (error) throw error;
  return out;
}

const records = Array.from({ length: 300 }, (_, i) => ({
  partitionKey: i % 3 === 0 ? 'ESZ6' : i % 3 === 1 ? 'NQZ6' : 'ünï',
  data: Buffer.from(Array.from({ length: (i * 37) % 200 }, (_, j) => (i + j) & 0xff)),
}));

describe('KPL aggregated records', () => {
  it('the reference de-aggregator reads our records with checksum verification', () => {
    const encoded = aggregate(records);
    const out = referenceDeaggregate(encoded);
    expect(out).toHaveLength(records.length);
    out.forEach((r, i) => {
      expect(r.partitionKey).toBe(records[i].partitionKey);
      expect(Buffer.from(r.data as string, 'base64').equals(records[i].data)).toBe(true);
    });
  });

  it('we read records produced by the reference aggregator', () => {
    const ra = new agg.RecordAggregator();
    for (const r of records.slice(0, 50)) ra.addUserRecord({ partitionKey: r.partitionKey, data: r.data });
    const built = ra.build();
    const out = deaggregate(built.data, 'fallback');
    expect(out.map((r) => r.partitionKey)).toEqual(records.slice(0, 50).map((r) => r.partitionKey));
    out.forEach((r, i) => expect(r.data.equals(records[i].data)).toBe(true));
  });

  it('size accounting matches the encoded size exactly (single key)', () => {
    const one = records.filter((r) => r.partitionKey === 'ESZ6');
    const predicted = one.reduce(
      (s, r) => s + aggregatedEntrySize(r.data.length),
      aggregateOverhead(['ESZ6']),
    );
    expect(aggregate(one).length).toBe(predicted);
  });

  it('passes plain (non-aggregated) records through', () => {
    const plain = Buffer.from('hello');
    expect(deaggregate(plain, 'K')).toEqual([{ partitionKey: 'K', subSequence: 0, data: plain }]);
  });

  it('rejects corrupted and truncated aggregated records', () => {
    const encoded = aggregate(records.slice(0, 10));
    const flipped = Buffer.from(encoded);
    flipped[20] ^= 0xff;
    expect(() => deaggregate(flipped, 'K')).toThrow(/MD5/);
    // Truncation keeps the magic; the trailing 16 bytes are then not the checksum.
    expect(() => deaggregate(encoded.subarray(0, encoded.length - 5), 'K')).toThrow(DeaggregationError);
  });
});
