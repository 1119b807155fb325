/**
 * The vendor-sync step of the local demo: a second local S3 server plays the vendor's account and
 * holds reference data (security master of the macro universe); the sync engine copies it into the
 * vendor zone of the local lake; DuckDB joins it with bars through the same view mechanism Athena
 * sees as Glue tables.
 *
 * Layout: vendor bucket `vendor-market-data`, prefix `reference/` (as in the dev config) ->
 * lake vendor zone, prefix `acme/` -> table `vendor_symbols` at `acme/symbols/as_of=YYYY-MM-DD/` (Parquet,
 * one daily snapshot per partition, as vendors deliver security masters; queries take the latest).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { makeS3Client, type Runtime } from '../aws/clients';
import { lakeBuckets } from '../lake/buckets';
import { literal, openDuckDb } from '../lake/duckdb';
import { DuckDbQueryEngine, type Row } from '../lake/query';
import { TABLES, type TableDef } from '../contract/lake';
import { syncS3, type SyncReport } from './engine';
import { startLocalS3Server } from './local-s3';

export const VENDOR_BUCKET = 'vendor-market-data';
export const VENDOR_PREFIX = 'reference/';
/** Destination prefix of this vendor in the vendor zone (`vendorName` in the stack config). */
export const VENDOR_NAME = 'acme';
/** Snapshot date of the demo's reference data (fixed, so the demo is reproducible). */
export const REFERENCE_AS_OF = '2026-11-20';

/** The security master as the lake sees it (Glue table `vendor_symbols` in AWS). */
export const VENDOR_SYMBOLS_TABLE: TableDef = {
  name: 'vendor_symbols',
  zone: 'vendor',
  prefix: `${VENDOR_NAME}/symbols`,
  partitionKeys: [{ name: 'as_of', type: 'DATE' }],
  columns: [
    { name: 'symbol', type: 'VARCHAR' },
    { name: 'name', type: 'VARCHAR' },
    { name: 'asset_class', type: 'VARCHAR' },
    { name: 'region', type: 'VARCHAR' },
    { name: 'sector', type: 'VARCHAR' },
    { name: 'currency', type: 'VARCHAR' },
    { name: 'exchange', type: 'VARCHAR' },
    { name: 'inception_date', type: 'DATE' },
    { name: 'expense_ratio', type: 'DOUBLE' },
  ],
};

export interface SymbolReference {
  readonly symbol: string;
  readonly name: string;
  readonly assetClass: string;
  readonly region: string;
  readonly sector: string;
  readonly currency: string;
  readonly exchange: string;
  readonly inceptionDate: string;
  /** Annual expense ratio as a fraction (null for an index). */
  readonly expenseRatio: number | null;
}

/** Public fund facts (names, listing, inception) of the demo's macro universe and the S&P 500 index. */
export const REFERENCE_SYMBOLS: readonly SymbolReference[] = [
  {
    symbol: 'SPY',
    name: 'SPDR S&P 500 ETF Trust',
    assetClass: 'Equity',
    region: 'US',
    sector: 'Large Cap Blend',
    currency: 'USD',
    exchange: 'NYSE Arca',
    inceptionDate: '1993-01-22',
    expenseRatio: 0.000945,
  },
  {
    symbol: 'EFA',
    name: 'iShares MSCI EAFE ETF',
    assetClass: 'Equity',
    region: 'Developed ex-US',
    sector: 'Foreign Large Cap Blend',
    currency: 'USD',
    exchange: 'NYSE Arca',
    inceptionDate: '2001-08-14',
    expenseRatio: 0.0035,
  },
  {
    symbol: 'EEM',
    name: 'iShares MSCI Emerging Markets ETF',
    assetClass: 'Equity',
    region: 'Emerging Markets',
    sector: 'Diversified Emerging Markets',
    currency: 'USD',
    exchange: 'NYSE Arca',
    inceptionDate: '2003-04-07',
    expenseRatio: 0.007,
  },
  {
    symbol: 'AGG',
    name: 'iShares Core U.S. Aggregate Bond ETF',
    assetClass: 'Fixed Income',
    region: 'US',
    sector: 'Intermediate Core Bond',
    currency: 'USD',
    exchange: 'NYSE Arca',
    inceptionDate: '2003-09-22',
    expenseRatio: 0.0003,
  },
  {
    symbol: 'TLT',
    name: 'iShares 20+ Year Treasury Bond ETF',
    assetClass: 'Fixed Income',
    region: 'US',
    sector: 'Long Government',
    currency: 'USD',
    exchange: 'Nasdaq',
    inceptionDate: '2002-07-22',
    expenseRatio: 0.0015,
  },
  {
    symbol: 'GLD',
    name: 'SPDR Gold Shares',
    assetClass: 'Commodity',
    region: 'Global',
    sector: 'Precious Metals',
    currency: 'USD',
    exchange: 'NYSE Arca',
    inceptionDate: '2004-11-18',
    expenseRatio: 0.004,
  },
  {
    symbol: 'DBC',
    name: 'Invesco DB Commodity Index Tracking Fund',
    assetClass: 'Commodity',
    region: 'Global',
    sector: 'Broad Commodities',
    currency: 'USD',
    exchange: 'NYSE Arca',
    inceptionDate: '2006-02-03',
    expenseRatio: 0.0085,
  },
  {
    symbol: 'UUP',
    name: 'Invesco DB US Dollar Index Bullish Fund',
    assetClass: 'Currency',
    region: 'US',
    sector: 'USD vs G10 basket',
    currency: 'USD',
    exchange: 'NYSE Arca',
    inceptionDate: '2007-02-20',
    expenseRatio: 0.0077,
  },
  {
    symbol: 'FXE',
    name: 'Invesco CurrencyShares Euro Trust',
    assetClass: 'Currency',
    region: 'Eurozone',
    sector: 'EUR vs USD',
    currency: 'USD',
    exchange: 'NYSE Arca',
    inceptionDate: '2005-12-09',
    expenseRatio: 0.004,
  },
  {
    symbol: 'SPX',
    name: 'S&P 500 Index',
    assetClass: 'Equity Index',
    region: 'US',
    sector: 'Large Cap Blend',
    currency: 'USD',
    exchange: 'Index',
    inceptionDate: '1957-03-04',
    expenseRatio: null,
  },
];

/** The reference data as the vendor delivers it: one Parquet file (DuckDB writes it). */
export async function referenceParquet(
  rows: readonly SymbolReference[] = REFERENCE_SYMBOLS,
): Promise<Buffer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vendor-ref-'));
  const file = path.join(dir, 'symbols.parquet');
  const db = await openDuckDb();
  try {
    const values = rows
      .map(
        (r) =>
          `(${[r.symbol, r.name, r.assetClass, r.region, r.sector, r.currency, r.exchange].map(literal).join(', ')}, DATE ${literal(r.inceptionDate)}, ${r.expenseRatio ?? 'NULL'}::DOUBLE)`,
      )
      .join(',\n');
    const cols = VENDOR_SYMBOLS_TABLE.columns.map((c) => c.name).join(', ');
    await db.con.run(
      `COPY (SELECT * FROM (VALUES ${values}) AS t(${cols}) ORDER BY symbol) TO ${literal(file)} (FORMAT parquet)`,
    );
    return readFileSync(file);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface VendorSyncDemoResult {
  /** The sync engine's report (vendor account -> vendor zone). */
  readonly report: SyncReport;
  /** Reference data joined with the lake's daily bars (one row per symbol). */
  readonly rows: Row[];
}

/**
 * The demo step: vendor account (second S3 server under `<dataDir>/vendor-account`) -> vendor zone
 * of the local lake -> DuckDB join with `bars`. Idempotent: a second run copies nothing.
 */
export async function runVendorSyncDemo(
  runtime: Extract<Runtime, { mode: 'local' }>,
): Promise<VendorSyncDemoResult> {
  const vendor = await startLocalS3Server({
    dir: path.join(runtime.dataDir, 'vendor-account'),
    buckets: [VENDOR_BUCKET],
  });
  const vendorS3 = makeS3Client({ endpoint: vendor.endpoint });
  const lakeS3 = makeS3Client({ endpoint: runtime.endpoints.s3, region: runtime.region });
  try {
    await vendorS3.send(
      new PutObjectCommand({
        Bucket: VENDOR_BUCKET,
        Key: `${VENDOR_PREFIX}symbols/as_of=${REFERENCE_AS_OF}/symbols.parquet`,
        Body: await referenceParquet(),
        ContentType: 'application/vnd.apache.parquet',
        Metadata: { dataset: 'symbols', vendor: VENDOR_NAME },
      }),
    );
    const report = await syncS3({
      source: {
        client: vendorS3,
        bucket: VENDOR_BUCKET,
        prefix: VENDOR_PREFIX,
        endpointLabel: vendor.endpoint,
      },
      dest: {
        client: lakeS3,
        bucket: lakeBuckets(runtime).vendor,
        prefix: `${VENDOR_NAME}/`,
        endpointLabel: runtime.endpoints.s3,
      },
    });
    if (report.failed.objects > 0) {
      throw new Error(
        `vendor sync failed: ${report.failed.items.map((f) => `${f.key}: ${f.reason}`).join('; ')}`,
      );
    }
    const engine = await DuckDbQueryEngine.create(runtime, [...TABLES, VENDOR_SYMBOLS_TABLE]);
    try {
      const rows = await engine.query(`
        SELECT s.symbol, s.asset_class, s.region, s.sector,
               count(b.ts) AS bars,
               round(arg_max(b.close, b.ts), 2) AS last_close
        FROM (SELECT * FROM vendor_symbols
              WHERE as_of = (SELECT max(as_of) FROM vendor_symbols)) s
        LEFT JOIN bars b ON b.symbol = s.symbol AND b."interval" = '1d'
        GROUP BY ALL
        ORDER BY s.asset_class, s.symbol`);
      return { report, rows: rows.map((r) => ({ ...r, bars: Number(r.bars) })) };
    } finally {
      await engine.close();
    }
  } finally {
    vendorS3.destroy();
    lakeS3.destroy();
    await vendor.stop();
  }
}
