/**
 * Algorithm children priced from the lake (QuoteSource: the latest 1-minute bar at each child's
 * release) and VWAP curves built from the lake's 1-minute bars, against the local S3 server
 * (s3rver, over its real protocol) and dynalite. Bars are imported with the lake's own writer.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { importBars } from '../../../src/lake/bars';
import { LakeBarReader } from '../../../src/lake/bars-reader';
import { LOCAL_BUCKETS } from '../../../src/local/buckets';
import { LocalChildScheduler, childTask } from '../../../src/trading/child-scheduler';
import { executeSignal, getOrder, type ExecutionDeps } from '../../../src/trading/execution';
import { LakeMinuteBars, LakeQuoteSource } from '../../../src/trading/quotes';
import { tradingServices } from '../../../src/trading/context';
import { runPaper } from '../../../src/trading/paper';
import { parseSignal } from '../../../src/trading/signals';
import { tradingWorld } from '../../helpers/trading-world';

const MIN = 60_000;
/** The schedules start at 14:30 UTC; bars of the same day run 14:00-15:30 (closes at 14:01...). */
const NOW = Date.UTC(2026, 10, 20, 14, 30, 0);
const w = tradingWorld({ accounts: 'mkt', now: NOW, quote: () => ({ price: 190 }) });
const { deps, dir } = w;
const SEC = {
  AAPL: { region: 'US', assetClass: 'equity', adv: 50_000_000, referencePrice: 190 },
  MSFT: { region: 'US', assetClass: 'equity', adv: 20_000_000, referencePrice: 400 },
  IBM: { region: 'US', assetClass: 'equity', adv: 5_000_000, referencePrice: 250 },
};
/** AAPL closes 190.00, 190.01, ... one cent per minute from the 14:01 bar on. */
const closeAt = (t: number): number =>
  Math.round((190 + (t - Date.UTC(2026, 10, 20, 14, 1)) / MIN / 100) * 100) / 100;

/** Writes 1-minute bars (labelled by close time) through the lake's writer (DuckDB → s3rver). */
async function putMinuteBars(
  symbol: string,
  times: number[],
  close: (t: number) => number,
  volume: (t: number) => number,
) {
  await importBars(
    { clients: w.clients, buckets: LOCAL_BUCKETS, tmpDir: dir },
    {
      symbol: times.map(() => symbol),
      ts: times,
      open: times.map(close),
      high: times.map(close),
      low: times.map(close),
      close: times.map(close),
      volume: times.map(volume),
    },
    { interval: '1m' },
  );
}

const account = (limits: Record<string, unknown>) => w.account({ securities: SEC, limits });

const parentSignal = (signalId: string, acct: string, symbol: string, qty: number, algo: unknown) =>
  parseSignal({
    signalId,
    account: acct,
    strategy: 'algo',
    createdAt: NOW,
    orders: [{ symbol, side: 'buy', qty, price: 190, priceTime: NOW - 1000 }],
    algo,
  });

beforeAll(async () => {
  // AAPL: 1-minute bars closing 14:01 .. 15:30 of the schedule's day.
  const today = Array.from({ length: 90 }, (_, i) => Date.UTC(2026, 10, 20, 14, 1 + i));
  await putMinuteBars('AAPL', today, closeAt, () => 1000);
  // MSFT: bars only up to 14:40, so children after it have no fresh quote.
  const early = Array.from({ length: 40 }, (_, i) => Date.UTC(2026, 10, 20, 14, 1 + i));
  await putMinuteBars(
    'MSFT',
    early,
    () => 400,
    () => 500,
  );
}, 120_000);

describe('QuoteSource from the lake (LakeQuoteSource over s3rver)', () => {
  it('reads the latest 1-minute bar at or before a time (never a later one), and names what is missing', async () => {
    const q = new LakeQuoteSource(w.clients.s3, LOCAL_BUCKETS.curated, { ttlMs: 0 });
    const at = Date.UTC(2026, 10, 20, 14, 45, 30);
    const r = await q.get('AAPL', at);
    expect(r.quote).toMatchObject({
      price: closeAt(Date.UTC(2026, 10, 20, 14, 45)),
      priceTime: Date.UTC(2026, 10, 20, 14, 45),
    });
    expect(r.quote!.price).toBe(190.44);
    expect((await q.get('AAPL', Date.UTC(2026, 10, 20, 14, 10))).quote!.priceTime).toBe(
      Date.UTC(2026, 10, 20, 14, 10),
    );
    expect((await q.get('AAPL', Date.UTC(2026, 10, 20, 13, 0))).problem).toMatch(
      /no 1m bar at or before 2026-11-20T13:00:00\.000Z in s3:\/\/quant-curated\/bars\/interval=1m\/symbol=AAPL\//,
    );
    expect((await q.get('NOPE', at)).problem).toMatch(/symbol=NOPE/);
    expect((await q.get('bad/sym', at)).problem).toMatch(/symbol: "bad\/sym" is not a valid symbol/);
  });

  it('caches a read for its TTL, and a cached answer is never used for an earlier time', async () => {
    let t = 0;
    const q = new LakeQuoteSource(w.clients.s3, LOCAL_BUCKETS.curated, { ttlMs: 5000, now: () => t });
    const late = await q.get('AAPL', Date.UTC(2026, 10, 20, 15, 0));
    expect((await q.get('AAPL', Date.UTC(2026, 10, 20, 15, 5))).quote).toBe(late.quote); // cached
    const earlier = await q.get('AAPL', Date.UTC(2026, 10, 20, 14, 20));
    expect(earlier.quote!.priceTime).toBe(Date.UTC(2026, 10, 20, 14, 20)); // read again
    t = 5000;
    expect((await q.get('AAPL', Date.UTC(2026, 10, 20, 15, 5))).quote!.priceTime).toBe(
      Date.UTC(2026, 10, 20, 15, 5),
    );
  });
});

describe('algo children priced at their release', () => {
  const twap = { algo: 'twap', durationSec: 3600, slices: 4 };

  it('without a quote source later children of an hour-long TWAP reject as stale; with one every child is priced fresh and fills', async () => {
    const limits = { maxPositionWeight: 0.5, maxReferenceAgeMs: 120_000 };
    const run = async (signalId: string, extra: Partial<ExecutionDeps>) => {
      const a = await account(limits);
      const scheduler = new LocalChildScheduler();
      await executeSignal(deps({ scheduler }), parentSignal(signalId, a, 'AAPL', 400, twap));
      const out = [];
      for (const child of scheduler.plans.get(`${signalId}:AAPL`)!.children) {
        const at = Date.parse(child.at);
        out.push(await childTask(deps({ now: () => at + 20_000, ...extra }), child));
      }
      return out;
    };
    // The parent's price is from NOW - 1 s: only the first child (released 20 s later) is fresh.
    const stale = await run('q-stale', {});
    expect(stale.map((r) => r.status)).toEqual(['FILLED', 'REJECTED', 'REJECTED', 'REJECTED']);

    const quotes = new LakeQuoteSource(w.clients.s3, LOCAL_BUCKETS.curated, { ttlMs: 0 });
    const fresh = await run('q-fresh', { quotes });
    expect(fresh.map((r) => r.status)).toEqual(['FILLED', 'FILLED', 'FILLED', 'FILLED']);
    for (let i = 0; i < 4; i++) {
      const o = (await getOrder(deps(), `q-fresh:AAPL#${i}`))!;
      const bar = NOW + i * 15 * MIN; // the latest bar closed at the release (+20 s)
      expect([o.priceTime, o.price]).toEqual([bar, closeAt(bar)]);
    }
  });

  it('a child whose quote is too old or missing is rejected with the reason, never priced at a stale price', async () => {
    const quotes = new LakeQuoteSource(w.clients.s3, LOCAL_BUCKETS.curated, { ttlMs: 0, maxAgeMs: 180_000 });
    const a = await account({ maxPositionWeight: 0.5 });
    const scheduler = new LocalChildScheduler();
    await executeSignal(
      deps({ scheduler }),
      parentSignal('q-old', a, 'MSFT', 300, { algo: 'twap', durationSec: 1800, slices: 3 }),
    );
    await executeSignal(
      deps({ scheduler }),
      parentSignal('q-none', a, 'IBM', 10, { algo: 'twap', durationSec: 60, slices: 1 }),
    );
    const rs = [];
    for (const child of [
      ...scheduler.plans.get('q-old:MSFT')!.children,
      ...scheduler.plans.get('q-none:IBM')!.children,
    ]) {
      const at = Date.parse(child.at);
      rs.push(await childTask(deps({ quotes, now: () => at }), child));
    }
    // MSFT bars end at 14:40: the 14:30 child is priced, the 14:40 one too (0 ms old), 14:50 is 10 min old.
    expect(rs.map((r) => r.status)).toEqual(['FILLED', 'FILLED', 'REJECTED', 'REJECTED']);
    const old = (await getOrder(deps(), 'q-old:MSFT#2'))!;
    expect(old.breaches).toEqual([{ rule: 'staleReferencePrice', limit: 180_000, value: 600_000 }]);
    expect(old.reason).toMatch(
      /^quote for MSFT is 600000 ms old \(1m bar s3:\/\/quant-curated\/bars\/interval=1m\/symbol=MSFT\/ at 2026-11-20T14:40:00\.000Z\), more than 180000 ms$/,
    );
    expect(old.filledQty).toBe(0);
    const none = (await getOrder(deps(), 'q-none:IBM#0'))!;
    expect(none.breaches).toEqual([{ rule: 'staleReferencePrice', limit: 180_000, value: -1 }]);
    expect(none.reason).toMatch(
      /^no quote for IBM: no 1m bar at or before .* in s3:\/\/quant-curated\/bars\/interval=1m\/symbol=IBM\/$/,
    );
    // The account's own maxReferenceAgeMs tightens the bound.
    const b = await account({ maxPositionWeight: 0.5, maxReferenceAgeMs: 30_000 });
    await executeSignal(
      deps({ scheduler }),
      parentSignal('q-tight', b, 'AAPL', 10, { algo: 'twap', durationSec: 60, slices: 1 }),
    );
    const [child] = scheduler.plans.get('q-tight:AAPL')!.children;
    const r = await childTask(deps({ quotes, now: () => NOW + 45_000 }), child);
    expect(r).toMatchObject({
      status: 'REJECTED',
      reason: expect.stringMatching(/45000 ms old.*more than 30000 ms/),
    });
  });
});

describe('VWAP volume curve from the lake when the signal has none', () => {
  beforeAll(async () => {
    // Three past days of XYZ: 14:30-14:39 each day (minute bars closing 14:31..14:40), volume
    // 100 in the first five minutes and 300 in the last five; a bar on the schedule's own day is
    // ignored (the curve only uses whole past days, so every delivery builds the same one).
    const times: number[] = [];
    for (const d of [17, 18, 19, 20])
      for (let m = 1; m <= 10; m++) times.push(Date.UTC(2026, 10, d, 14, 30 + m));
    await putMinuteBars(
      'XYZ',
      times,
      () => 50,
      (t) => (new Date(t).getUTCDate() === 20 ? 1e9 : new Date(t).getUTCMinutes() <= 35 ? 100 : 300),
    );
  }, 60_000);

  it('builds the curve from the lookback bars and plans the children on it', async () => {
    const a = await account({ maxPositionWeight: 0.5 });
    const scheduler = new LocalChildScheduler();
    const minuteBars = new LakeMinuteBars(w.clients.s3, LOCAL_BUCKETS.curated);
    const sig = parseSignal({
      signalId: 'vwap-lake',
      account: a,
      strategy: 'algo',
      createdAt: NOW,
      orders: [{ symbol: 'XYZ', side: 'buy', qty: 2000, price: 50, priceTime: NOW - 1000 }],
      algo: { algo: 'vwap', durationSec: 600, lookbackDays: 3 },
    });
    const r = await executeSignal(deps({ scheduler, minuteBars }), sig);
    expect(r.parents[0]).toMatchObject({ status: 'SCHEDULED', slices: 10 });
    const kids = scheduler.plans.get('vwap-lake:XYZ')!.children;
    // 5 × 100 + 5 × 300 = 2000: one share per unit of mean volume, a child per minute from 14:30.
    expect(kids.map((c) => [Date.parse(c.at) - NOW, c.qty])).toEqual(
      Array.from({ length: 10 }, (_, i) => [i * MIN, i < 5 ? 100 : 300]),
    );
  });

  it('no bars in the lookback: a clear error naming the symbol (the signal cannot be worked)', async () => {
    const a = await account({ maxPositionWeight: 0.5 });
    const minuteBars = new LakeMinuteBars(w.clients.s3, LOCAL_BUCKETS.curated);
    const vwap = { algo: 'vwap', durationSec: 600 };
    await expect(
      executeSignal(
        deps({ scheduler: new LocalChildScheduler(), minuteBars }),
        parentSignal('vwap-none', a, 'IBM', 100, vwap),
      ),
    ).rejects.toThrow(
      /^algo\.volumeCurve: IBM: no 1-minute bars in s3:\/\/quant-curated\/bars\/interval=1m\/symbol=IBM\/ over the 20 day\(s\) before 2026-11-20/,
    );
    // AAPL has bars, but only on the schedule's own day: none in the lookback either.
    await expect(
      executeSignal(
        deps({ scheduler: new LocalChildScheduler(), minuteBars }),
        parentSignal('vwap-today', a, 'AAPL', 100, vwap),
      ),
    ).rejects.toThrow(/algo\.volumeCurve: AAPL: no 1-minute bars/);
    // XYZ has past bars but none in a 03:00 schedule's minutes.
    await expect(
      executeSignal(
        deps({ scheduler: new LocalChildScheduler(), minuteBars }),
        parseSignal({
          signalId: 'vwap-night',
          account: a,
          strategy: 'algo',
          createdAt: NOW - 11 * 3_600_000,
          orders: [{ symbol: 'XYZ', side: 'buy', qty: 10, price: 50, priceTime: NOW - 11 * 3_600_000 }],
          algo: vwap,
        }),
      ),
    ).rejects.toThrow(
      /algo\.volumeCurve: XYZ: 30 1-minute bars in .* none with volume in the schedule's minutes/,
    );
    await expect(
      executeSignal(
        deps({ scheduler: new LocalChildScheduler() }),
        parentSignal('vwap-nosrc', a, 'XYZ', 100, vwap),
      ),
    ).rejects.toThrow(/algo\.volumeCurve: XYZ: no volume curve in the signal and no bar source configured/);
  });

  it('quant paper with a VWAP and no curve: the children follow the curve from the lake bars', async () => {
    // VVV: minute bars of 14:30-14:39 on the 18th-20th, volume 100 then 300. Daily bars labelled
    // 14:30 UTC from the 21st: each signal's schedule is 14:30-14:40.
    const times: number[] = [];
    for (const d of [18, 19, 20]) for (let m = 1; m <= 10; m++) times.push(Date.UTC(2026, 10, d, 14, 30 + m));
    await putMinuteBars(
      'VVV',
      times,
      () => 50,
      (t) => (new Date(t).getUTCMinutes() <= 35 ? 100 : 300),
    );
    const closes = [50, 51, 52, 53, 52, 50, 48, 47, 48, 50, 53, 55];
    const panel = {
      symbols: ['VVV'],
      dates: closes.map((_, i) => new Date(Date.UTC(2026, 10, 21 + i, 14, 30)).toISOString()),
      close: [Float64Array.from(closes)],
    };
    const svc = await tradingServices(w.clients, {}, { limitsTtlMs: 0 });
    const r = await runPaper(w.clients, svc, {
      strategy: 'sma-cross',
      params: { fast: 2, slow: 4 },
      panel,
      nav: 100_000,
      costBps: 0,
      runId: 'vwap-lake',
      algo: { algo: 'vwap', durationSec: 600 },
    });
    expect(r.deadLetters).toBe(0);
    const parents = r.blotter.filter((o) => o.status === 'SCHEDULED');
    expect(parents.length).toBeGreaterThanOrEqual(1);
    for (const p of parents) {
      const kids = r.blotter
        .filter((c) => c.parentId === p.orderId)
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
      expect(kids).toHaveLength(10);
      expect(kids.reduce((sum, c) => sum + c.qty, 0)).toBe(p.qty);
      // three times the volume in the last five minutes: three times the shares (within rounding)
      const qty = kids.map((c) => c.qty);
      for (let i = 0; i < 10; i++) expect(Math.abs(qty[i] - (p.qty * (i < 5 ? 1 : 3)) / 20)).toBeLessThan(1);
    }
  }, 60_000);

  it('the reader reads only the lookback years and de-duplicates bars', async () => {
    const reader = new LakeBarReader(w.clients.s3, LOCAL_BUCKETS.curated);
    const bars = await reader.read('XYZ', '1m', Date.UTC(2026, 10, 18), Date.UTC(2026, 10, 19) - 1);
    expect(bars.map((b) => b.time)).toEqual(
      Array.from({ length: 10 }, (_, i) => Date.UTC(2026, 10, 18, 14, 31 + i)),
    );
    expect(bars[0]).toEqual({ time: Date.UTC(2026, 10, 18, 14, 31), close: 50, volume: 100 });
    expect(await reader.read('XYZ', '1m', Date.UTC(2025, 0, 1), Date.UTC(2025, 11, 31))).toEqual([]);
  });

  it('the reader re-reads a file only when it changed (conditional GET: 304 answers from its cache)', async () => {
    const t0 = Date.UTC(2026, 10, 23, 14, 31);
    await putMinuteBars(
      'CND',
      [t0, t0 + MIN],
      () => 10,
      () => 5,
    );
    const reader = new LakeBarReader(w.clients.s3, LOCAL_BUCKETS.curated);
    const first = await reader.latest('CND', '1m', t0 + 10 * MIN);
    expect(first).toEqual({ time: t0 + MIN, close: 10, volume: 5 });
    // Unchanged: the server answers 304 and the decoded bar is the very same object.
    expect(await reader.latest('CND', '1m', t0 + 10 * MIN)).toBe(first);
    // Rewritten (a new bar merged in): the new content is read, not the cached one.
    await putMinuteBars(
      'CND',
      [t0 + 2 * MIN],
      () => 11,
      () => 6,
    );
    expect(await reader.latest('CND', '1m', t0 + 10 * MIN)).toEqual({
      time: t0 + 2 * MIN,
      close: 11,
      volume: 6,
    });
  });
});
