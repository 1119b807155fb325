/**
 * TCA rows in the lake (table `tca`, src/contract/tca.ts): written with the lake writer's merge
 * commit (one object per account and day, newest row per parent), read back in pure JS (hyparquet)
 * straight from the objects, so `quant tca` works the same on the local lake and on S3. Market
 * tapes for the analysis: the bars of a paper run, or the lake's 1-minute and daily bars.
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { parquetReadObjects } from 'hyparquet';
import { impactInputs } from '../backtest/costs';
import type { Panel } from '../backtest/types';
import { TCA_TABLE } from '../contract/tca';
import { LakeBarReader } from '../lake/bars-reader';
import type { TableDef } from '../contract/lake';
import { writeTable, type LakeWriter, type WriteReport } from '../lake/writer';
import type { IntervalStats, MarketTape, TcaRow } from './tca';

export const TCA: TableDef = TCA_TABLE;

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const num = (v: number): number | null => (Number.isFinite(v) ? v : null);

/** Commits TCA rows (merge on parent_id within account and decision day). */
export async function writeTcaRows(writer: LakeWriter, rows: readonly TcaRow[]): Promise<WriteReport> {
  const col = <T>(f: (r: TcaRow) => T): T[] => rows.map(f);
  return writeTable(
    writer,
    TCA,
    {
      length: rows.length,
      columns: {
        parent_id: col((r) => r.parentId),
        strategy: col((r) => r.strategy),
        symbol: col((r) => r.symbol),
        side: col((r) => r.side),
        algo: col((r) => r.algo),
        qty: col((r) => r.qty),
        filled_qty: col((r) => r.filledQty),
        children: col((r) => r.children),
        decision_time: col((r) => r.decisionTime),
        start_time: col((r) => r.startTime),
        end_time: col((r) => r.endTime),
        decision_price: col((r) => r.decisionPrice),
        arrival_price: col((r) => r.arrivalPrice),
        avg_fill_price: col((r) => num(r.avgFillPrice)),
        end_price: col((r) => r.endPrice),
        interval_vwap: col((r) => num(r.intervalVwap)),
        interval_twap: col((r) => num(r.intervalTwap)),
        market_volume: col((r) => num(r.marketVolume)),
        shortfall_bps: col((r) => r.shortfallBps),
        delay_bps: col((r) => r.delayBps),
        impact_bps: col((r) => r.impactBps),
        timing_bps: col((r) => r.timingBps),
        opportunity_bps: col((r) => r.opportunityBps),
        vs_vwap_bps: col((r) => num(r.vsVwapBps)),
        vs_interval_bps: col((r) => num(r.vsIntervalBps)),
        participation: col((r) => num(r.participation)),
        sigma: col((r) => num(r.sigma)),
        adv: col((r) => num(r.adv)),
        account: col((r) => r.account),
        dt: col((r) => day(r.decisionTime)),
      },
    },
    { mode: 'merge' },
  );
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
    const bytes = await obj.Body!.transformToByteArray();
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const rows = (await parquetReadObjects({ file })) as Record<string, unknown>[];
    for (const r of rows) {
      out.push({
        parentId: String(r.parent_id),
        account,
        strategy: String(r.strategy),
        symbol: String(r.symbol),
        side: r.side === 'sell' ? 'sell' : 'buy',
        algo: String(r.algo),
        qty: asNum(r.qty),
        filledQty: asNum(r.filled_qty),
        children: asNum(r.children),
        decisionTime: epochMs(r.decision_time),
        startTime: epochMs(r.start_time),
        endTime: epochMs(r.end_time),
        decisionPrice: asNum(r.decision_price),
        arrivalPrice: asNum(r.arrival_price),
        avgFillPrice: asNum(r.avg_fill_price),
        endPrice: asNum(r.end_price),
        intervalVwap: asNum(r.interval_vwap),
        intervalTwap: asNum(r.interval_twap),
        marketVolume: asNum(r.market_volume),
        shortfallBps: asNum(r.shortfall_bps),
        delayBps: asNum(r.delay_bps),
        impactBps: asNum(r.impact_bps),
        timingBps: asNum(r.timing_bps),
        opportunityBps: asNum(r.opportunity_bps),
        vsVwapBps: asNum(r.vs_vwap_bps),
        vsIntervalBps: asNum(r.vs_interval_bps),
        participation: asNum(r.participation),
        sigma: asNum(r.sigma),
        adv: asNum(r.adv),
      });
    }
  }
  return out.sort((a, b) => a.decisionTime - b.decisionTime || a.parentId.localeCompare(b.parentId));
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
      let pv = 0;
      let v = 0;
      let p = 0;
      let n = 0;
      for (let t = t0; t < times.length && (t === t0 || times[t] <= to); t++) {
        const vol = panel.volume?.[a][t] ?? 0;
        pv += panel.close[a][t] * vol;
        v += vol;
        p += panel.close[a][t];
        n++;
      }
      return { vwap: v > 0 ? pv / v : p / n, twap: p / n, volume: v };
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
      let pv = 0;
      let v = 0;
      let p = 0;
      for (const b of bars) {
        const vol = Number.isFinite(b.volume) ? b.volume : 0;
        pv += b.close * vol;
        v += vol;
        p += b.close;
      }
      return { vwap: v > 0 ? pv / v : p / bars.length, twap: p / bars.length, volume: v };
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
