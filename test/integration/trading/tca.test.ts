import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main';
import { capturedOutput } from '../../helpers/quant-cli';
import { LOCAL_BUCKETS } from '../../../src/local/buckets';
import { tradingServices } from '../../../src/trading/context';
import { runPaper } from '../../../src/trading/paper';
import { readTcaRows, writeTcaRows } from '../../../src/trading/tca-lake';
import { localCloudWorld } from '../../helpers/local-cloud';

const root = path.resolve(import.meta.dirname, '../../..');
const SP500 = path.join(root, 'node_modules/vega-datasets/data/sp500-2000.csv');
// Shared, so the CLI commands attach to the same servers.
const lc = localCloudWorld({ name: 'tca', shared: true });
const io = capturedOutput();
const quant = (...args: string[]) => main(['node', 'quant', '--data-dir', lc.dir, ...args]);

describe('TCA of paper parents: lake table, quant tca, calibration, backtest --costs', () => {
  const closes = [100, 101, 102, 103, 102, 100, 98, 97, 98, 100, 103, 105, 104, 101, 98, 96];
  const panel = {
    symbols: ['ZZ'],
    dates: closes.map((_, i) => new Date(Date.UTC(2026, 0, 5 + i)).toISOString().slice(0, 10)),
    close: [Float64Array.from(closes)],
    volume: [Float64Array.from(closes.map(() => 1_000_000))],
  };

  it('an IS paper run: every parent analysed, written and read back through the lake', async () => {
    const svc = await tradingServices(lc.clients, {}, { limitsTtlMs: 0 });
    const r = await runPaper(lc.clients, svc, {
      strategy: 'sma-cross',
      params: { fast: 2, slow: 4 },
      panel,
      nav: 100_000,
      costBps: 10,
      runId: 'tca-is',
      algo: { algo: 'is', durationSec: 3600, slices: 4, urgency: 2 },
    });
    const parents = r.blotter.filter((o) => o.status === 'SCHEDULED');
    expect(parents.length).toBeGreaterThanOrEqual(2);
    expect(r.tca.map((t) => t.parentId).sort()).toEqual(parents.map((p) => p.orderId).sort());
    for (const t of r.tca) {
      const p = parents.find((x) => x.orderId === t.parentId)!;
      expect(t.algo).toBe('is');
      expect(t.children).toBe(p.slices);
      expect(t.filledQty).toBe(p.qty);
      // Paper children fill at the bar close moved 10 bps against the order: decided, arrived and
      // released at that close, so no delay or timing, 10 bps of impact, and 1/1,000,000 participation.
      expect(t.delayBps).toBe(0);
      expect(t.timingBps).toBe(0);
      expect(t.impactBps).toBeCloseTo(10, 9);
      expect(t.shortfallBps).toBeCloseTo(10, 9);
      expect(t.vsVwapBps).toBeCloseTo(10, 9);
      expect(t.participation).toBeCloseTo(p.qty / 1_000_000, 15);
    }
    // The IS children are front-loaded: the first is the largest.
    const kids = r.blotter
      .filter((o) => o.parentId === parents[0].orderId)
      .sort((a, b) => a.sliceIndex! - b.sliceIndex!);
    expect(kids[0].qty).toBeGreaterThan(kids[3].qty);

    await writeTcaRows({ clients: lc.clients, buckets: LOCAL_BUCKETS }, r.tca);
    const back = await readTcaRows(lc.clients.s3, LOCAL_BUCKETS.results, { account: r.account });
    expect(back.map((x) => x.parentId)).toEqual(r.tca.map((x) => x.parentId));
    expect(back[0].impactBps).toBeCloseTo(r.tca[0].impactBps, 12);
    expect(back[0].decisionTime).toBe(r.tca[0].decisionTime);
    expect(
      await readTcaRows(lc.clients.s3, LOCAL_BUCKETS.results, { account: r.account, from: '2027-01-01' }),
    ).toEqual([]);

    expect(await quant('tca', '--account', r.account, '--json'), io.err).toBe(0);
    const report = JSON.parse(io.out);
    expect(report.summary.parents).toBe(r.tca.length);
    expect(report.summary.impactBps).toBeCloseTo(10, 9);

    const costs = path.join(lc.dir, 'costs.json');
    io.out = '';
    expect(await quant('tca', 'calibrate', '--out', costs, '--account', r.account, '--json')).toBe(0);
    const model = JSON.parse(readFileSync(costs, 'utf8'));
    expect(model.slippageBps).toBeCloseTo(10, 9);
    expect(model.impactK).toBe(0);

    // The calibrated model in a backtest costs what --cost-bps 10 costs.
    const bt = async (...extra: string[]) => {
      io.out = '';
      const code = await quant(
        'backtest',
        '--bars',
        SP500,
        '--strategy',
        'sma-cross',
        '--param',
        'fast=5',
        '--param',
        'slow=30',
        ...extra,
        '--json',
      );
      expect(code, io.err).toBe(0);
      return JSON.parse(io.out);
    };
    const calibrated = await bt('--costs', costs);
    const linear = await bt('--cost-bps', '10');
    expect(calibrated.totalReturn).toBeCloseTo(linear.totalReturn, 9);
    expect(calibrated.totalReturn).not.toBeCloseTo((await bt()).totalReturn, 4);
  }, 120_000);

  it('plain orders are parents of one fill; missing market data is stored as null', async () => {
    const svc = await tradingServices(lc.clients, {}, { limitsTtlMs: 0 });
    const r = await runPaper(lc.clients, svc, {
      strategy: 'sma-cross',
      params: { fast: 2, slow: 4 },
      panel: { symbols: panel.symbols, dates: panel.dates, close: panel.close },
      nav: 100_000,
      costBps: 5,
      runId: 'tca-plain',
    });
    const filled = r.blotter.filter((o) => o.status === 'FILLED');
    expect(r.tca.map((t) => t.parentId).sort()).toEqual(filled.map((o) => o.orderId).sort());
    for (const t of r.tca) {
      expect(t.algo).toBe('none');
      expect(t.children).toBe(1);
      expect(t.impactBps).toBeCloseTo(5, 9);
      expect(t.participation).toBeNaN(); // no volume in the bars
      expect(t.sigma).toBeNaN();
    }
    await writeTcaRows({ clients: lc.clients, buckets: LOCAL_BUCKETS }, r.tca);
    const back = await readTcaRows(lc.clients.s3, LOCAL_BUCKETS.results, { account: r.account });
    expect(back).toHaveLength(r.tca.length);
    expect(back[0].participation).toBeNaN();
    expect(back[0].impactBps).toBeCloseTo(5, 9);
  }, 60_000);

  it('bad input exits 2 naming the field', async () => {
    expect(await quant('tca', '--from', '2026-13-01')).toBe(2);
    expect(io.err).toMatch(/--from: must be a date YYYY-MM-DD/);
    const bad = path.join(lc.dir, 'bad-costs.json');
    writeFileSync(bad, JSON.stringify({ slippageBps: 1, impactk: 2 }));
    io.err = '';
    expect(
      await quant('backtest', '--bars', SP500, '--strategy', 'sma-cross', '--costs', bad, '--json'),
    ).toBe(2);
    expect(io.err).toMatch(/bad-costs\.json/);
    expect(io.err).toMatch(/impactk/);
  });
});

describe('quant backtest --limits: the risk engine counts by rule', () => {
  it('resizes every entry to the position cap and reports the counts in --json', async () => {
    const limits = path.join(lc.dir, 'limits.json');
    writeFileSync(
      limits,
      JSON.stringify({ securities: { 'sp500-2000': {} }, limits: { maxPositionWeight: 0.5 } }),
    );
    const args = [
      'backtest',
      '--bars',
      SP500,
      '--strategy',
      'sma-cross',
      '--param',
      'fast=5',
      '--param',
      'slow=30',
    ];
    expect(await quant(...args, '--json')).toBe(0);
    const free = JSON.parse(io.out);
    io.out = '';
    expect(await quant(...args, '--limits', limits, '--json')).toBe(0);
    const gated = JSON.parse(io.out);
    expect(free.riskGate).toBeUndefined();
    // Every entry (0 -> 1) is resized to half the NAV; every exit (-> 0) is approved.
    const entries = Math.ceil(free.trades / 2);
    expect(gated.riskGate.resized).toBe(entries);
    expect(gated.riskGate.byRule).toEqual({ maxPositionWeight: entries });
    expect(gated.riskGate.orders).toBe(gated.riskGate.approved + gated.riskGate.resized);
    expect(gated.exposure).toBe(free.exposure);
    expect(Math.abs(gated.volatility / free.volatility - 0.5)).toBeLessThan(0.01);
  }, 60_000);

  it('a bad actions file exits 2 naming file:line:field', async () => {
    const actions = path.join(lc.dir, 'actions.csv');
    writeFileSync(actions, 'symbol,date,type,value\nsp500-2000,2001-01-02,split,x\n');
    expect(
      await quant('backtest', '--bars', SP500, '--strategy', 'sma-cross', '--actions', actions, '--json'),
    ).toBe(2);
    expect(io.err).toMatch(/actions\.csv:2:value: must be a number > 0, got "x"/);
    expect(io.out).toBe('');
  });
});
