import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients, type AwsClients } from '../../../src/aws/clients';
import { importBars } from '../../../src/lake/bars';
import { lakeBuckets } from '../../../src/lake/buckets';
import { LocalCloud } from '../../../src/local/cloud';
import { SOURCE_ETAG_META } from '../../../src/sync/engine';
import {
  REFERENCE_AS_OF,
  REFERENCE_SYMBOLS,
  runVendorSyncDemo,
  VENDOR_NAME,
} from '../../../src/sync/vendor-demo';

let cloud: LocalCloud;
let clients: AwsClients;

beforeAll(async () => {
  cloud = await LocalCloud.start({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'vendor-demo-')) });
  clients = createClients(cloud.runtime);
});

afterAll(async () => {
  clients?.destroy();
  await cloud?.stop();
});

describe('vendor sync demo step', () => {
  it('syncs the vendor reference data into the vendor zone and joins it with bars; a re-run copies nothing', async () => {
    // Three daily SPY bars and two GLD bars in the curated zone.
    const day = (d: number): number => Date.UTC(2026, 0, d, 21);
    await importBars(
      { clients, buckets: lakeBuckets(cloud.runtime) },
      {
        symbol: ['SPY', 'SPY', 'SPY', 'GLD', 'GLD'],
        ts: [day(5), day(6), day(7), day(5), day(6)],
        open: [1, 2, 3, 4, 5],
        high: [1, 2, 3, 4, 5],
        low: [1, 2, 3, 4, 5],
        close: [600.5, 601.25, 602, 240, 241.5],
        volume: [1, 1, 1, 1, 1],
      },
      { interval: '1d' },
    );

    const first = await runVendorSyncDemo(cloud.runtime);
    expect(first.report.failed.items).toEqual([]);
    expect(first.report.copied.objects).toBe(1);
    const head = await clients.s3.send(
      new HeadObjectCommand({
        Bucket: lakeBuckets(cloud.runtime).vendor,
        Key: `${VENDOR_NAME}/symbols/as_of=${REFERENCE_AS_OF}/symbols.parquet`,
      }),
    );
    expect(head.Metadata?.dataset).toBe('symbols');
    expect(head.Metadata?.[SOURCE_ETAG_META]).toMatch(/^[0-9a-f]{32}/);

    expect(first.rows).toHaveLength(REFERENCE_SYMBOLS.length);
    const bySymbol = new Map(first.rows.map((r) => [r.symbol, r]));
    expect(bySymbol.get('SPY')).toMatchObject({
      asset_class: 'Equity',
      region: 'US',
      bars: 3,
      last_close: 602,
    });
    expect(bySymbol.get('GLD')).toMatchObject({
      asset_class: 'Commodity',
      sector: 'Precious Metals',
      bars: 2,
      last_close: 241.5,
    });
    expect(bySymbol.get('TLT')).toMatchObject({ asset_class: 'Fixed Income', bars: 0 });
    expect(bySymbol.get('SPX')).toMatchObject({ asset_class: 'Equity Index' });

    const second = await runVendorSyncDemo(cloud.runtime);
    expect(second.report.copied.objects + second.report.skipped.objects).toBe(1);
    expect(second.rows).toEqual(first.rows);
  });
});
