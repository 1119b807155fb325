import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients, type AwsClients } from '../../../src/aws/clients';
import type { Panel } from '../../../src/backtest/types';
import { LocalCloud } from '../../../src/local/cloud';
import { tradingServices, type TradingServices } from '../../../src/trading/context';
import { blotterRows, returnsWindowBefore, runPaper } from '../../../src/trading/paper';

const dir = mkdtempSync(path.join(os.tmpdir(), 'paper-'));
let cloud: LocalCloud;
let clients: AwsClients;
let svc: TradingServices;

beforeAll(async () => {
  cloud = await LocalCloud.start({ dataDir: dir });
  clients = createClients(cloud.runtime);
  svc = await tradingServices(clients, {}, { limitsTtlMs: 0 });
});
afterAll(async () => {
  clients?.destroy();
  await cloud?.stop();
  rmSync(dir, { recursive: true, force: true });
});

// A zig-zag close: SMA(2) vs SMA(4) crosses up and down, so the strategy trades several times.
const closes = [100, 101, 102, 103, 102, 100, 98, 97, 98, 100, 103, 105, 104, 101, 98, 96, 97, 99, 102, 104];
const panel: Panel = {
  symbols: ['ZZ'],
  dates: closes.map((_, i) => new Date(Date.UTC(2026, 0, 5 + i)).toISOString().slice(0, 10)),
  close: [Float64Array.from(closes)],
};

describe('paper trading through the execution path', () => {
  it('turns target changes into filled orders whose cash adds up in cents', async () => {
    const r = await runPaper(clients, svc, {
      strategy: 'sma-cross',
      params: { fast: 2, slow: 4 },
      panel,
      nav: 100_000,
      costBps: 10,
      runId: 'zz',
    });
    expect(r.account).toBe('paper-zz');
    expect(r.signals).toBeGreaterThanOrEqual(3);
    expect(r.blotter.length).toBeGreaterThanOrEqual(2);
    expect(r.blotter.every((o) => o.status === 'FILLED')).toBe(true);
    // shares held = Σ signed fills; cash = start − Σ fills in cents (integers, no float drift)
    const held = r.blotter.reduce((s, o) => s + (o.side === 'buy' ? 1 : -1) * o.filledQty, 0);
    expect(r.book.positions.ZZ?.qty ?? 0).toBe(held);
    expect(r.book.cashCents).toBe(10_000_000 + r.blotter.reduce((s, o) => s + o.cashCents, 0));
    for (const o of r.blotter) expect(Number.isInteger(o.cashCents)).toBe(true);
    // a buy pays close × (1 + 10 bps)
    const firstBuy = r.blotter.find((o) => o.side === 'buy')!;
    const bar = panel.dates.indexOf(firstBuy.createdAt.slice(0, 10));
    expect(firstBuy.fillPrice).toBeCloseTo(closes[bar] * 1.001, 9);
    // whole shares within the 100% weight limit at the signal's close
    expect(firstBuy.qty).toBe(Math.trunc(100_000 / closes[bar]));
    expect(blotterRows(r.blotter)[0]).toMatchObject({ symbol: 'ZZ', status: 'FILLED' });
    expect(r.utilization.map((u) => u.rule)).toContain('maxPositionWeight');
  });

  it('a drawdown beyond the limit halts the book (latched) and later signals are rejected', async () => {
    const crash: Panel = {
      ...panel,
      close: [Float64Array.from(closes.map((c, i) => (i > 10 ? c * 0.3 : c)))],
    };
    const r = await runPaper(clients, svc, {
      strategy: 'sma-cross',
      params: { fast: 2, slow: 4 },
      panel: crash,
      nav: 100_000,
      runId: 'crash',
      limits: {
        securities: { ZZ: { region: 'US' } },
        limits: { maxPositionWeight: 1, maxDrawdown: 0.2 },
      },
    });
    expect(r.state).toBe('HALTED');
    const after = r.blotter.filter((o) => o.createdAt.slice(0, 10) > panel.dates[11]);
    expect(after.length).toBeGreaterThan(0);
    for (const o of after) expect(o.breaches.map((b) => b.rule)).toContain('tradingState');
  });

  it('VaR limits use the returns of the bars before the traded ones (no look-ahead)', async () => {
    // Trade the last 8 bars; the window is the 11 daily returns ending at bar 11. A 0.1% VaR budget on
    // a 100,000 book allows about 100 of 1-day 99% loss: a full-weight buy (~1,000 shares) is resized.
    const window = returnsWindowBefore(panel, 12, 250)!;
    expect(window.length).toBe(11);
    expect(window.get('ZZ')![0]).toBeCloseTo(101 / 100 - 1, 15); // close 1 / close 0
    const r = await runPaper(clients, svc, {
      strategy: 'sma-cross',
      params: { fast: 2, slow: 4 },
      panel,
      nav: 100_000,
      lastBars: 8,
      runId: 'var',
      limits: { securities: { ZZ: { region: 'US' } }, limits: { varBudget: 0.001 } },
    });
    const buys = r.blotter.filter((o) => o.side === 'buy');
    expect(buys.length).toBeGreaterThan(0);
    for (const o of buys) {
      expect(o.decision).toBe('resize');
      expect(o.breaches.map((b) => b.rule)).toEqual(['varBudget']);
      expect(o.approvedQty).toBeGreaterThan(0);
      expect(o.approvedQty).toBeLessThan(o.qty);
    }
    await expect(
      runPaper(clients, svc, {
        strategy: 'sma-cross',
        params: { fast: 2, slow: 4 },
        panel,
        runId: 'var-short',
        limits: { securities: { ZZ: {} }, limits: { varBudget: 0.01 } },
      }),
    ).rejects.toThrow(/need at least 3 bars before the traded ones/);
  });
});
