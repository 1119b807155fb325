/**
 * Pre-trade risk benchmark: one order against a 1,000-position portfolio with the full limit
 * hierarchy (throughput and a per-check latency histogram), a 500-order basket, and as the peer
 * in the same run a naive check that re-aggregates the whole portfolio for every order.
 */
import { RiskEngine } from '../src/risk/engine';
import type { Limits, RiskConfig, RiskOrder, RiskPortfolio, Security } from '../src/risk/types';
import { ReturnsWindow } from '../src/risk/var';
import { mulberry32 } from '../src/synthetic/random';

const N_POS = 1000;
const REGIONS = ['US', 'Europe', 'Asia', 'LATAM'];
const CLASSES = ['equity', 'fixedIncome', 'commodities', 'FX'];
const SECTORS = ['Technology', 'Energy', 'Financials', 'Health', 'Industrials', 'Utilities'];

// Deterministic pseudo-random numbers so every run sees the same book.
const rng = mulberry32;
const rand = rng(42);

const securities: Record<string, Security> = {};
const positions: { symbol: string; qty: number; price: number }[] = [];
const returns: Record<string, number[]> = {};
for (let i = 0; i < N_POS + 200; i++) {
  const symbol = `S${i}`;
  const price = 10 + Math.round(rand() * 50000) / 100;
  securities[symbol] = {
    region: REGIONS[i % 4],
    assetClass: i % 5 === 0 ? CLASSES[1 + (i % 3)] : 'equity',
    sector: SECTORS[i % SECTORS.length],
    adv: 1_000_000 + Math.floor(rand() * 10_000_000),
    referencePrice: price,
    referenceTime: 1_000_000,
  };
  returns[symbol] = Array.from({ length: 250 }, () => (rand() - 0.5) * 0.04);
  if (i < N_POS) positions.push({ symbol, qty: Math.round((rand() - 0.3) * 2000), price });
}
const portfolio: RiskPortfolio = {
  nav: 1_000_000_000,
  state: 'ACTIVE',
  positions,
  peakNav: 1_050_000_000,
  startOfDayNav: 1_010_000_000,
  locates: Object.fromEntries(positions.map((p) => [p.symbol, 1000])),
};
const limits: Limits = {
  maxPositionWeight: 0.05,
  maxOrderAdvFraction: 0.1,
  maxGrossLeverage: 1.5,
  maxGrossExposure: 2e9,
  maxNetExposure: 1e9,
  maxOrderNotional: 5_000_000,
  priceCollarPct: 0.05,
  maxReferenceAgeMs: 60_000,
  regionCaps: { US: 0.4, Europe: 0.3, Asia: 0.3, LATAM: 0.1 },
  assetClassCaps: { equity: 0.8, fixedIncome: 0.5, commodities: 0.2, FX: 0.2 },
  sectorCaps: Object.fromEntries(SECTORS.map((s) => [s, 0.25])),
  maxOrdersPerSecond: 1e9,
  requireLocate: true,
  maxDrawdown: 0.2,
  maxDailyLoss: 0.05,
};
const config: RiskConfig = { securities, limits };
const orders: RiskOrder[] = Array.from({ length: 4096 }, () => {
  const symbol = `S${Math.floor(rand() * (N_POS + 200))}`;
  const ref = securities[symbol].referencePrice!;
  return {
    symbol,
    side: rand() < 0.5 ? 'buy' : 'sell',
    qty: 1 + Math.floor(rand() * 5000),
    price: Math.round(ref * (1 + (rand() - 0.5) * 0.02) * 100) / 100,
  };
});

/** Naive peer: re-aggregates every position for every check (what a straightforward engine does). */
function naiveCheck(order: RiskOrder): number {
  const sec = securities[order.symbol];
  let gross = 0;
  let region = 0;
  let cls = 0;
  let sector = 0;
  let pos = 0;
  for (const p of positions) {
    const q = p.symbol === order.symbol ? p.qty + (order.side === 'buy' ? order.qty : -order.qty) : p.qty;
    const px = p.symbol === order.symbol ? order.price : p.price;
    const e = Math.abs(q) * px;
    gross += e;
    const s = securities[p.symbol];
    if (s.region === sec.region) region += e;
    if (s.assetClass === sec.assetClass) cls += e;
    if (s.sector === sec.sector) sector += e;
    if (p.symbol === order.symbol) pos = e;
  }
  const nav = portfolio.nav;
  let breaches = 0;
  if (pos / nav > limits.maxPositionWeight!) breaches++;
  if (gross / nav > limits.maxGrossLeverage!) breaches++;
  if (region / nav > limits.regionCaps![sec.region!]) breaches++;
  if (cls / nav > limits.assetClassCaps![sec.assetClass!]) breaches++;
  if (sector / nav > limits.sectorCaps![sec.sector!]) breaches++;
  return breaches;
}

function percentile(sorted: BigUint64Array | Float64Array, q: number): number {
  return Number(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);
}

function measure(label: string, fn: (o: RiskOrder, i: number) => unknown, iterations: number): void {
  for (let i = 0; i < 20_000; i++) fn(orders[i & 4095], i); // warm-up (JIT)
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) if (fn(orders[i & 4095], i)) sink++;
  const t1 = process.hrtime.bigint();
  const perSec = iterations / (Number(t1 - t0) / 1e9);
  // Latency: each check timed on its own (includes ~30-60 ns of hrtime overhead).
  const n = Math.min(iterations, 200_000);
  const lat = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = process.hrtime.bigint();
    fn(orders[i & 4095], i);
    lat[i] = Number(process.hrtime.bigint() - a);
  }
  lat.sort();
  console.log(
    `${label.padEnd(46)} ${(perSec / 1e6).toFixed(2).padStart(7)} M checks/s   p50 ${(percentile(lat, 0.5) / 1000).toFixed(2)} µs   p99 ${(percentile(lat, 0.99) / 1000).toFixed(2)} µs   p99.9 ${(percentile(lat, 0.999) / 1000).toFixed(2)} µs   (sink ${sink})`,
  );
}

const now = 1_010_000;
const engine = new RiskEngine(config);
const snap = engine.snapshot(portfolio);
console.log(
  `portfolio: ${N_POS} positions, ${Object.keys(securities).length} securities, 4 regions, 4 asset classes, 6 sectors`,
);
measure('engine: full hierarchy (no VaR)', (o) => engine.check(snap, o, { now }).approvedQty, 2_000_000);
measure(
  'engine: full hierarchy + resize',
  (o) => engine.check(snap, o, { now, resize: true }).approvedQty,
  1_000_000,
);
const window = new ReturnsWindow(returns);
const par = new RiskEngine(
  { securities, limits: { ...limits, varBudget: 0.05, varMethod: 'parametric', maxCorrelatedExposure: 0.5 } },
  window,
);
const parSnap = par.snapshot(portfolio);
for (const o of orders) par.check(parSnap, o, { now }); // fill the per-symbol covariance caches once
measure(
  'engine: + parametric VaR + correlation (cached)',
  (o) => par.check(parSnap, o, { now }).approvedQty,
  500_000,
);
const hist = new RiskEngine(
  { securities, limits: { ...limits, varBudget: 0.05, varMethod: 'historical' } },
  window,
);
const histSnap = hist.snapshot(portfolio);
measure('engine: + historical VaR (250 days)', (o) => hist.check(histSnap, o, { now }).approvedQty, 100_000);
measure('peer: naive re-aggregation per check', (o) => naiveCheck(o), 20_000);

// Snapshot cost (paid once per portfolio change, not per check).
{
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 200; i++) engine.snapshot(portfolio);
  console.log(
    `snapshot of ${N_POS} positions: ${(Number(process.hrtime.bigint() - t0) / 200 / 1e6).toFixed(3)} ms`,
  );
}

// A 500-order basket: snapshot + sequential checks with resize, each approved order booked.
{
  const basket = orders.slice(0, 500);
  const times: number[] = [];
  for (let r = 0; r < 200; r++) {
    const t0 = process.hrtime.bigint();
    engine.checkBasket(portfolio, basket, { now, resize: true });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  console.log(
    `basket of 500 orders (incl. snapshot): median ${times[100].toFixed(3)} ms, p99 ${times[197].toFixed(3)} ms (goal < 5 ms)`,
  );
}
