/**
 * The daily TCA job (lambda/tca) in process against the local cloud: parent orders in the orders
 * table (dynalite), 1-minute bars in the curated zone (s3rver), the rows merged into the lake's
 * `tca` table, read back through the lake's query path (DuckDB views from the same table
 * definition as the Glue table) and by `quant tca`. Numbers by hand; a re-run of the day replaces
 * its rows.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { AwsClients, Runtime } from '../../../src/aws/clients';
import { TCA_METRICS } from '../../../src/contract/metrics';
import { importBars } from '../../../src/lake/bars';
import { writeTable } from '../../../src/lake/writer';
import { DuckDbQueryEngine } from '../../../src/lake/query';
import { LOCAL_BUCKETS } from '../../../src/local/buckets';
import type { OrderRecord } from '../../../src/trading/execution';
import { localLambdaEnv } from '../../../src/trading/lambda-support';
import { ensureLocalTradingTables } from '../../../src/trading/tables';
import { computeTca, type TcaRow } from '../../../src/trading/tca';
import { readTcaRows, TCA, writeTcaRows } from '../../../src/trading/tca-lake';
import { runQuant } from '../../helpers/quant-cli';
import { localCloudWorld } from '../../helpers/local-cloud';

const world = localCloudWorld({ name: 'tca-job', shared: true });
const { dir } = world;
let clients: AwsClients;
let runtime: Extract<Runtime, { mode: 'local' }>;
let ordersTable: string;
type Handler = (event: unknown, context: Context) => Promise<Record<string, unknown>>;
let handler: Handler;
const context = { functionName: 'tca', awsRequestId: 't' } as unknown as Context;

const at = (hhmm: string, day = '2026-03-02'): number => Date.parse(`${day}T${hhmm}:00Z`);
const iso = (ms: number): string => new Date(ms).toISOString();

function order(o: Partial<OrderRecord> & Pick<OrderRecord, 'orderId' | 'priceTime' | 'price'>): OrderRecord {
  return {
    signalId: `sig-${o.orderId}`,
    account: 'desk',
    strategy: 'momo',
    symbol: 'ZZ',
    side: 'buy',
    qty: 0,
    status: 'FILLED',
    approvedQty: o.qty ?? 0,
    breaches: [],
    filledQty: 0,
    fillPrice: 0,
    cashCents: 0,
    createdAt: iso(o.priceTime),
    updatedAt: iso(o.priceTime),
    ...o,
  };
}

const twap = { algo: 'twap', durationSec: 600, slices: 2 } as unknown as OrderRecord['algo'];
const ORDERS: OrderRecord[] = [
  // P1: buy 1,200 over 10 minutes from 14:30, decided at 100.00; two children released at 14:31
  // (market 100.10, 500 filled at 100.20) and 14:36 (market 100.30, 500 filled at 100.40).
  order({
    orderId: 'P1',
    qty: 1200,
    price: 100,
    priceTime: at('14:30'),
    status: 'SCHEDULED',
    algo: twap,
    slices: 2,
  }),
  order({
    orderId: 'P1-0',
    parentId: 'P1',
    sliceIndex: 0,
    qty: 600,
    price: 100.1,
    priceTime: at('14:31'),
    filledQty: 500,
    fillPrice: 100.2,
  }),
  order({
    orderId: 'P1-1',
    parentId: 'P1',
    sliceIndex: 1,
    qty: 600,
    price: 100.3,
    priceTime: at('14:36'),
    filledQty: 500,
    fillPrice: 100.4,
  }),
  // P2: a plain sell of 200 at 15:00, decided at 100.00, filled at 99.95.
  order({
    orderId: 'P2',
    side: 'sell',
    qty: 200,
    price: 100,
    priceTime: at('15:00'),
    filledQty: 200,
    fillPrice: 99.95,
  }),
  // P3: a parent whose child is still at the broker: left for a later run.
  order({
    orderId: 'P3',
    qty: 100,
    price: 100,
    priceTime: at('16:00'),
    status: 'SCHEDULED',
    algo: twap,
    slices: 1,
  }),
  order({
    orderId: 'P3-0',
    parentId: 'P3',
    sliceIndex: 0,
    qty: 100,
    price: 100,
    priceTime: at('16:01'),
    status: 'SUBMITTED',
  }),
  // Another day, a rejected order and another account: not the day's parents of desk.
  order({
    orderId: 'P4',
    qty: 10,
    price: 100,
    priceTime: at('14:30', '2026-03-03'),
    filledQty: 10,
    fillPrice: 100,
  }),
  order({ orderId: 'P5', qty: 10, price: 100, priceTime: at('14:45'), status: 'REJECTED' }),
  order({
    orderId: 'Q1',
    account: 'other',
    qty: 10,
    price: 100,
    priceTime: at('14:45'),
    filledQty: 10,
    fillPrice: 100,
  }),
];

/** 1-minute bars labelled by close time: [time, close, volume]. */
const BARS: [string, number, number][] = [
  ...['14:25', '14:26', '14:27', '14:28', '14:29', '14:30'].map((t): [string, number, number] => [
    t,
    100,
    1000,
  ]),
  ...['14:31', '14:32', '14:33', '14:34', '14:35'].map((t): [string, number, number] => [t, 100.1, 3000]),
  ...['14:36', '14:37', '14:38', '14:39', '14:40'].map((t): [string, number, number] => [t, 100.3, 3000]),
  ['14:41', 100.2, 0],
  ['15:00', 100, 4000],
  ['15:01', 100, 4000],
];

beforeAll(async () => {
  const { cloud } = world;
  if (cloud.runtime.mode !== 'local') throw new Error('expected a local runtime');
  runtime = cloud.runtime;
  Object.assign(process.env, localLambdaEnv(runtime), {
    POWERTOOLS_DEV: 'true',
    POWERTOOLS_METRICS_DISABLED: 'false',
    POWERTOOLS_TRACE_ENABLED: 'false',
  });
  clients = world.clients;
  ordersTable = (await ensureLocalTradingTables(clients.dynamodb)).orders;
  for (const o of ORDERS) await clients.doc.send(new PutCommand({ TableName: ordersTable, Item: o }));
  await importBars(
    { clients, buckets: LOCAL_BUCKETS, tmpDir: dir },
    {
      symbol: BARS.map(() => 'ZZ'),
      ts: BARS.map(([t]) => at(t)),
      open: BARS.map(([, c]) => c),
      high: BARS.map(([, c]) => c),
      low: BARS.map(([, c]) => c),
      close: BARS.map(([, c]) => c),
      volume: BARS.map(([, , v]) => v),
    },
    { interval: '1m' },
  );
  handler = (await import('../../../lambda/tca/index')).handler as unknown as Handler;
}, 120_000);

async function invoke(event: unknown): Promise<{ r: Record<string, unknown>; emf: string }> {
  let emf = '';
  // POWERTOOLS_DEV: the metrics go to the global console, one EMF document per line.
  const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
    emf += `${a.map(String).join(' ')}\n`;
  });
  try {
    return { r: await handler(event, context), emf };
  } finally {
    spy.mockRestore();
  }
}

async function lakeRows(): Promise<Record<string, unknown>[]> {
  const engine = await DuckDbQueryEngine.create(runtime);
  try {
    return await engine.query(
      `SELECT parent_id, algo, qty, filled_qty, children, arrival_price, avg_fill_price, end_price,
              interval_vwap, interval_twap, market_volume, shortfall_bps, delay_bps, timing_bps,
              impact_bps, opportunity_bps, vs_vwap_bps, vs_interval_bps, participation, sigma,
              epoch_ms(decision_time) AS decided, account, strftime(dt, '%Y-%m-%d') AS dt
       FROM tca ORDER BY parent_id`,
    );
  } finally {
    await engine.close();
  }
}

describe('daily TCA job (scheduled Lambda)', () => {
  it("analyses the day's finished parents by hand, writes one object for the day, publishes metrics", async () => {
    const { r, emf } = await invoke({ account: 'desk', time: '2026-03-02T22:30:00Z' });
    expect(r).toMatchObject({
      account: 'desk',
      day: '2026-03-02',
      parents: 2,
      unfinished: 1,
      keys: ['tca/account=desk/dt=2026-03-02/data.parquet'],
    });
    const rows = await lakeRows();
    expect(rows.map((x) => x.parent_id)).toEqual(['P1', 'P2']);
    const [p1, p2] = rows;
    // P1, in bps of the decision notional 1,200 × 100 = 120,000: delay 1,000 × (100.10 − 100) = 100,
    // timing 1,000 × (100.20 − 100.10) = 100 (the fill-weighted release market is 100.20), impact
    // 1,000 × (100.30 − 100.20) = 100, each 100 / 120,000 = 8.33 bps; the 200 unfilled shares miss
    // 200 × (100.30 − 100) = 60, 5 bps (the market at the schedule's end, 14:40, is 100.30).
    // BIGINT columns come back from DuckDB as bigint.
    expect(p1).toMatchObject({ algo: 'twap', qty: 1200n, filled_qty: 1000n, children: 2n, account: 'desk' });
    expect(p1.dt).toBe('2026-03-02');
    expect(p1.decided).toBe(BigInt(at('14:30')));
    expect(p1.arrival_price).toBeCloseTo(100.1, 12);
    expect(p1.avg_fill_price).toBeCloseTo(100.3, 12);
    expect(p1.end_price).toBeCloseTo(100.3, 12);
    for (const k of ['delay_bps', 'timing_bps', 'impact_bps']) expect(p1[k]).toBeCloseTo(25 / 3, 9);
    expect(p1.opportunity_bps).toBeCloseTo(5, 9);
    expect(p1.shortfall_bps).toBeCloseTo(30, 9);
    // The interval 14:31-14:41: 15,000 shares at 100.10 and 15,000 at 100.30 (VWAP 100.20); the
    // mean of the 11 closes (5 × 100.10 + 5 × 100.30 + 100.20) / 11 = 100.20. Filled 100.30.
    expect(p1.market_volume).toBe(30_000);
    expect(p1.interval_vwap).toBeCloseTo(100.2, 12);
    expect(p1.interval_twap).toBeCloseTo(100.2, 12);
    expect(p1.vs_vwap_bps).toBeCloseTo((0.1 / 100.2) * 10_000, 9);
    expect(p1.vs_interval_bps).toBeCloseTo((0.1 / 100.2) * 10_000, 9);
    expect(p1.participation).toBeCloseTo(1000 / 30_000, 15);
    expect(p1.sigma).toBeNull(); // no daily bars: no σ, stored as null
    // P2, a sell of 200 decided and released at 100.00, filled at 99.95: 5 bps of impact, 5 bps
    // against the interval's VWAP (8,000 shares at 100.00), participation 200 / 8,000.
    expect(p2).toMatchObject({ algo: 'none', children: 1n, filled_qty: 200n });
    expect(p2.delay_bps).toBe(0);
    expect(p2.impact_bps).toBeCloseTo(5, 9);
    expect(p2.shortfall_bps).toBeCloseTo(5, 9);
    expect(p2.vs_vwap_bps).toBeCloseTo(5, 9);
    expect(p2.participation).toBeCloseTo(0.025, 15);
    // Metrics: 2 parents, 1 still working, the notional-weighted shortfall
    // (120,000 × 30 + 20,000 × 5) / 140,000.
    const doc = emf
      .split('\n')
      .filter((l) => l.includes(TCA_METRICS.parents))
      .map((l) => JSON.parse(l) as Record<string, unknown>)[0];
    expect(doc[TCA_METRICS.parents]).toBe(2);
    expect(doc[TCA_METRICS.unfinished]).toBe(1);
    expect(doc[TCA_METRICS.shortfallBps]).toBeCloseTo((120_000 * 30 + 20_000 * 5) / 140_000, 9);
  }, 60_000);

  it('a re-run of the day replaces its rows; a parent that finished since is added, nothing twice', async () => {
    await invoke({ account: 'desk', time: '2026-03-02T22:30:00Z' });
    expect((await lakeRows()).map((x) => x.parent_id)).toEqual(['P1', 'P2']);
    // P3's child fills: the next run of the same day takes it.
    const child = ORDERS.find((o) => o.orderId === 'P3-0')!;
    await clients.doc.send(
      new PutCommand({
        TableName: ordersTable,
        Item: { ...child, status: 'FILLED', filledQty: 100, fillPrice: 100.05 },
      }),
    );
    const { r } = await invoke({ account: 'desk', day: '2026-03-02' });
    expect(r).toMatchObject({ parents: 3, unfinished: 0 });
    const rows = await lakeRows();
    expect(rows.map((x) => x.parent_id)).toEqual(['P1', 'P2', 'P3']);
    expect(rows[0].shortfall_bps).toBeCloseTo(30, 9);
    const list = await clients.s3.send(
      new ListObjectsV2Command({ Bucket: LOCAL_BUCKETS.results, Prefix: 'tca/' }),
    );
    expect(list.Contents?.map((o) => o.Key)).toEqual(['tca/account=desk/dt=2026-03-02/data.parquet']);
  }, 60_000);

  it('quant tca record --day runs the same analysis: the same rows, nothing twice', async () => {
    const before = await lakeRows();
    const cli = await runQuant([
      '--data-dir',
      dir,
      'tca',
      'record',
      '--account',
      'desk',
      '--day',
      '2026-03-02',
      '--json',
    ]);
    expect(cli.code, cli.err).toBe(0);
    expect(JSON.parse(cli.out)).toEqual({
      account: 'desk',
      day: '2026-03-02',
      parents: 3,
      unfinished: 0,
      partitions: 1,
    });
    expect(await lakeRows()).toEqual(before);
  }, 60_000);

  it('quant tca reads the rows the job wrote', async () => {
    const cli = await runQuant(['--data-dir', dir, 'tca', '--account', 'desk', '--json']);
    expect(cli.code, cli.err).toBe(0);
    const report = JSON.parse(cli.out) as { summary: { parents: number }; rows: { parentId: string }[] };
    expect(report.summary.parents).toBe(3);
    expect(report.rows.map((x) => x.parentId)).toEqual(['P1', 'P2', 'P3']);
  }, 60_000);

  it('bad input names the field and writes nothing', async () => {
    await expect(handler({ account: 'desk', day: '2026-13-01' }, context)).rejects.toThrow(/day/);
    await expect(handler({ account: 'desk#x', day: '2026-03-02' }, context)).rejects.toThrow(/account/);
    const cli = await runQuant([
      '--data-dir',
      dir,
      'tca',
      'record',
      '--account',
      'desk',
      '--day',
      '2026-3-2',
    ]);
    expect(cli.code).toBe(2);
    expect(cli.err).toMatch(/--day: must be a date YYYY-MM-DD/);
  }, 60_000);
});

describe('the TCA writer and partitions DuckDB wrote', () => {
  const row = (parentId: string, fillPrice: number): TcaRow =>
    computeTca({
      parentId,
      account: 'legacy',
      strategy: 's',
      symbol: 'ZZ',
      side: 'buy',
      algo: 'none',
      qty: 100,
      decisionTime: at('14:30'),
      decisionPrice: 100,
      children: [{ time: at('14:30'), market: 100, filledQty: 100, fillPrice }],
    });

  it('merges into a day that the DuckDB merge path wrote: old rows kept, a re-written parent replaced', async () => {
    // A partition as the lake writer's DuckDB merge wrote it before the writer was pure JS.
    const old = [row('L1', 100.1), row('L2', 100.2)];
    const col = (f: (r: TcaRow) => unknown) => old.map(f);
    await writeTable(
      { clients, buckets: LOCAL_BUCKETS, tmpDir: dir },
      TCA,
      {
        length: old.length,
        columns: {
          ...Object.fromEntries(
            TCA.columns.map((c) => [
              c.name,
              col((r) => {
                const k = c.name.replace(/_(\w)/g, (_m, x: string) => x.toUpperCase()) as keyof TcaRow;
                const v = r[k];
                return typeof v === 'number' && !Number.isFinite(v) ? null : v;
              }),
            ]),
          ),
          parent_id: col((r) => r.parentId),
          account: col(() => 'legacy'),
          dt: col(() => '2026-03-02'),
        },
      },
      { mode: 'merge' },
    );
    expect((await readTcaRows(clients.s3, LOCAL_BUCKETS.results, { account: 'legacy' })).length).toBe(2);
    // L2 again (filled at 100.30 now: 30 bps of impact) and a new L3, through the JS writer.
    await writeTcaRows({ clients, buckets: LOCAL_BUCKETS }, [row('L2', 100.3), row('L3', 100)]);
    const back = await readTcaRows(clients.s3, LOCAL_BUCKETS.results, { account: 'legacy' });
    expect(back.map((r) => [r.parentId, Math.round(r.impactBps * 1e6) / 1e6])).toEqual([
      ['L1', 10],
      ['L2', 30],
      ['L3', 0],
    ]);
    expect(back[0].decisionTime).toBe(at('14:30'));
  }, 60_000);

  it('refuses an account outside the partition character set before writing anything', async () => {
    await expect(
      writeTcaRows({ clients, buckets: LOCAL_BUCKETS }, [
        row('X1', 100),
        { ...row('X2', 100), account: 'a/b' },
      ]),
    ).rejects.toThrow(/tca\.account: partition value "a\/b"/);
    // X1, valid and in the same write, was not committed either.
    const back = await readTcaRows(clients.s3, LOCAL_BUCKETS.results, { account: 'legacy' });
    expect(back.map((r) => r.parentId)).toEqual(['L1', 'L2', 'L3']);
  });
});
