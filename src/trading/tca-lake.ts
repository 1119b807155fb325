/**
 * TCA rows in the lake (table `tca`, src/contract/tca.ts): one object per account and decision day
 * (`tca/account=<a>/dt=<day>/data.parquet`), merged on parent_id (a newer row of a parent replaces
 * the older: analysing a day again replaces its rows, never duplicates them), encoded and read back
 * in pure JS (hyparquet), so `quant tca`, `quant paper` and the daily TCA Lambda (lambda/tca, which
 * carries no DuckDB) write and read the same way on the local lake and on S3. Each partition is
 * committed by one conditional PUT (src/lake/commit.ts): a writer that committed in between is read
 * and merged again. Market tapes for the analysis: the bars of a paper run, or the lake's 1-minute
 * and daily bars.
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { AwsClients } from '../aws/clients';
import { impactInputs } from '../backtest/costs';
import type { Panel } from '../backtest/types';
import { TCA_TABLE } from '../contract/tca';
import { InputError } from '../errors';
import { LakeBarReader } from '../lake/bars-reader';
import { mapLimit } from '../map-limit';
import type { LakeBuckets } from '../lake/buckets';
import {
  commitPartitions,
  getWithEtag,
  partitionObjectKey,
  SAFE_PARTITION_VALUE,
  writeId,
  type PartitionWrite,
} from '../lake/commit';
import type { TableDef } from '../contract/lake';
import type { IntervalStats, MarketTape, TcaRow } from './tca';

export const TCA: TableDef = TCA_TABLE;

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const num = (v: number): number | null => (Number.isFinite(v) ? v : null);

/** Where TCA rows are committed: the results zone's bucket through S3. */
export interface TcaLakeTarget {
  readonly clients: Pick<AwsClients, 's3'>;
  readonly buckets: Pick<LakeBuckets, 'results'>;
}

export interface TcaWriteReport {
  readonly rows: number;
  readonly partitions: number;
  readonly bytes: number;
  readonly keys: readonly string[];
}

/** `account=<a>/dt=<day>` of a row; a value outside the lake's character set is an input error. */
export function tcaPartition(row: Pick<TcaRow, 'account' | 'decisionTime'>): string {
  if (!SAFE_PARTITION_VALUE.test(row.account))
    throw new InputError(
      `tca.account: partition value "${row.account}" is empty or has characters outside [A-Za-z0-9._-]`,
      'tca.account',
    );
  if (!Number.isFinite(row.decisionTime))
    throw new InputError('tca.decision_time: not a time (the dt partition comes from it)', 'tca.dt');
  return `account=${row.account}/dt=${day(row.decisionTime)}`;
}

const tcaKey = (partition: string): string => partitionObjectKey(TCA, partition);

/** A column's field of TcaRow: the column name in camelCase (`parent_id` is `parentId`). */
const fieldOf = (column: string): keyof TcaRow =>
  column.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof TcaRow;

/** One partition's rows as Parquet, typed from the table definition (NaN stored as null). */
function encodeTca(rows: readonly TcaRow[]): Uint8Array {
  const sorted = [...rows].sort(
    (a, b) => a.decisionTime - b.decisionTime || a.parentId.localeCompare(b.parentId),
  );
  const buf = parquetWriteBuffer({
    columnData: TCA.columns.map((c) => {
      const field = fieldOf(c.name);
      if (sorted.some((r) => !(field in r))) throw new Error(`tca: no value for column ${c.name}`);
      const values = sorted.map((r) => r[field]);
      switch (c.type) {
        case 'VARCHAR':
          return { name: c.name, data: values.map(String), type: 'STRING' as const };
        case 'BIGINT':
          return {
            name: c.name,
            data: values.map((v) => (Number.isFinite(v) ? BigInt(Math.round(v as number)) : null)),
            type: 'INT64' as const,
          };
        case 'TIMESTAMP':
          return {
            name: c.name,
            data: values.map((v) => (Number.isFinite(v) ? new Date(v as number) : null)),
            type: 'TIMESTAMP' as const,
          };
        case 'DOUBLE':
          return { name: c.name, data: values.map((v) => num(v as number)), type: 'DOUBLE' as const };
        default:
          throw new Error(`tca: column ${c.name} has type ${c.type}, which the TCA writer does not encode`);
      }
    }),
  });
  return new Uint8Array(buf);
}

/**
 * Commits TCA rows: per account and decision day, the rows already there merged with the incoming
 * ones (newest per parent_id). Every partition is encoded before the first PUT (bad input writes
 * nothing); a write of several partitions is announced by a pending marker until it completes.
 */
export async function writeTcaRows(
  target: TcaLakeTarget,
  rows: readonly TcaRow[],
  opts: { readonly heartbeatMs?: number } = {},
): Promise<TcaWriteReport> {
  const s3 = target.clients.s3;
  const bucket = target.buckets.results;
  const byPart = new Map<string, Map<string, TcaRow>>();
  for (const r of rows) {
    const p = tcaPartition(r);
    let m = byPart.get(p);
    if (!m) byPart.set(p, (m = new Map()));
    m.set(r.parentId, r);
  }
  if (byPart.size === 0) return { rows: 0, partitions: 0, bytes: 0, keys: [] };
  const prepare = async (p: string): Promise<PartitionWrite> => {
    const current = await getWithEtag(s3, bucket, tcaKey(p));
    const account = /account=([^/]+)/.exec(p)![1];
    const merged = new Map<string, TcaRow>();
    for (const r of current ? await parseTca(current.bytes, account) : []) merged.set(r.parentId, r);
    for (const r of byPart.get(p)!.values()) merged.set(r.parentId, r);
    return { partition: p, etag: current?.etag, body: encodeTca([...merged.values()]) };
  };
  const paths = [...byPart.keys()].sort();
  // Every partition is read and encoded before the first PUT: bad input writes nothing.
  const prepared = await mapLimit(paths, 8, prepare);
  const committed = await commitPartitions(s3, bucket, TCA, prepared, {
    id: () => writeId(TCA.name, { partitions: paths, rows: rows.map((r) => r.parentId) }),
    rows: rows.length,
    reencode: prepare,
    rerun: 'Write the same rows again to complete it (a parent is never stored twice)',
    heartbeatMs: opts.heartbeatMs,
  });
  const bytes = committed.reduce((n, w) => n + (w?.body.length ?? 0), 0);
  return { rows: rows.length, partitions: paths.length, bytes, keys: paths.map(tcaKey) };
}

export interface TcaQuery {
  /** First and last decision day (YYYY-MM-DD), inclusive. */
  readonly from?: string;
  readonly to?: string;
  readonly account?: string;
}

function epochMs(v: unknown): number {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'bigint') return Number(v / 1000n); // micros
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Date.parse(v);
  return NaN;
}

const asNum = (v: unknown): number => (v === null || v === undefined ? NaN : Number(v));
const decode = (type: string, v: unknown): unknown =>
  type === 'VARCHAR' ? String(v) : type === 'TIMESTAMP' ? epochMs(v) : asNum(v);

/** The rows of one partition's Parquet object (written by this module or by DuckDB). */
async function parseTca(bytes: Uint8Array, account: string): Promise<TcaRow[]> {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const rows = (await parquetReadObjects({ file })) as Record<string, unknown>[];
  return rows.map((r) => {
    const row = Object.fromEntries(TCA.columns.map((c) => [fieldOf(c.name), decode(c.type, r[c.name])]));
    return { parentId: row.parentId, account, ...row, side: r.side === 'sell' ? 'sell' : 'buy' } as TcaRow;
  });
}

/** Reads the TCA rows of the lake matching the query, by decision time. */
export async function readTcaRows(s3: S3Client, bucket: string, q: TcaQuery = {}): Promise<TcaRow[]> {
  const prefix = `${TCA.prefix}/${q.account !== undefined ? `account=${q.account}/` : ''}`;
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) {
      const m = /account=([^/]+)\/dt=(\d{4}-\d{2}-\d{2})\/[^/]+\.parquet$/.exec(o.Key ?? '');
      if (!m) continue;
      if (q.from !== undefined && m[2] < q.from) continue;
      if (q.to !== undefined && m[2] > q.to) continue;
      keys.push(o.Key!);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const out: TcaRow[] = [];
  for (const key of keys.sort()) {
    const account = /account=([^/]+)\//.exec(key)![1];
    const obj = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    out.push(...(await parseTca(await obj.Body!.transformToByteArray(), account)));
  }
  return out.sort((a, b) => a.decisionTime - b.decisionTime || a.parentId.localeCompare(b.parentId));
}

/** VWAP of closes weighted by volume (their mean without volume), TWAP and volume of an interval. */
function intervalOf(close: readonly number[], volume: readonly number[]): IntervalStats {
  let pv = 0;
  let v = 0;
  let p = 0;
  for (let i = 0; i < close.length; i++) {
    pv += close[i] * volume[i];
    v += volume[i];
    p += close[i];
  }
  return { vwap: v > 0 ? pv / v : p / close.length, twap: p / close.length, volume: v };
}

/**
 * The tape of a paper run's bars (labelled at their date, as `quant paper` clocks them): the price
 * at a time is the latest bar's close; an interval between two bars is the bar it starts in (its
 * close for VWAP and TWAP, its volume: the paper market trades at that close); σ and ADV those of
 * the cost model (src/backtest/costs.ts) at the bar.
 */
export function panelTape(panel: Panel, window = 20): MarketTape {
  const times = panel.dates.map((d) => Date.parse(d.length === 10 ? `${d}T00:00:00Z` : d));
  const index = new Map(panel.symbols.map((s, a) => [s, a]));
  const risk = panel.volume
    ? panel.close.map((c, a) => impactInputs(c, panel.volume![a], window))
    : undefined;
  const barAt = (time: number): number => {
    let lo = 0;
    let hi = times.length - 1;
    if (time < times[0]) return -1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (times[mid] <= time) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  return {
    async priceAt(symbol, time) {
      const a = index.get(symbol);
      const t = barAt(time);
      return a === undefined || t < 0 ? undefined : panel.close[a][t];
    },
    async interval(symbol, from, to): Promise<IntervalStats | undefined> {
      const a = index.get(symbol);
      const t0 = barAt(from);
      if (a === undefined || t0 < 0) return undefined;
      const bars: number[] = [];
      for (let t = t0; t < times.length && (t === t0 || times[t] <= to); t++) bars.push(t);
      return intervalOf(
        bars.map((t) => panel.close[a][t]),
        bars.map((t) => panel.volume?.[a][t] ?? 0),
      );
    },
    async risk(symbol, time) {
      const a = index.get(symbol);
      const t = barAt(time);
      if (!risk || a === undefined || t < 0) return undefined;
      const { sigma, adv } = risk[a];
      return Number.isFinite(sigma[t]) && Number.isFinite(adv[t])
        ? { sigma: sigma[t], adv: adv[t] }
        : undefined;
    },
  };
}

/**
 * The tape of live trading: the lake's 1-minute bars for prices and intervals (VWAP of closes
 * weighted by volume), its daily bars for σ and ADV (the 20 days before the decision).
 */
export function lakeTape(s3: S3Client, curatedBucket: string, window = 20): MarketTape {
  const reader = new LakeBarReader(s3, curatedBucket);
  return {
    async priceAt(symbol, time) {
      return (await reader.latest(symbol, '1m', time))?.close;
    },
    async interval(symbol, from, to) {
      const bars = await reader.read(symbol, '1m', from, to + 60_000);
      if (bars.length === 0) return undefined;
      return intervalOf(
        bars.map((b) => b.close),
        bars.map((b) => (Number.isFinite(b.volume) ? b.volume : 0)),
      );
    },
    async risk(symbol, time) {
      const days = await reader.read(symbol, '1d', time - (window + 10) * 2 * 86_400_000, time);
      const last = days.slice(-(window + 1));
      if (last.length < 3) return undefined;
      const close = Float64Array.from(last.map((b) => b.close));
      const vol = Float64Array.from(last.map((b) => (Number.isFinite(b.volume) ? b.volume : 0)));
      const w = Math.min(window, last.length - 1);
      const { sigma, adv } = impactInputs(close, vol, w);
      const t = last.length - 1;
      return Number.isFinite(sigma[t]) && adv[t] > 0 ? { sigma: sigma[t], adv: adv[t] } : undefined;
    },
  };
}
