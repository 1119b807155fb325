/**
 * Backtest benchmarks, one process, peers in the same run:
 *   K1  one sma-cross(20, 50) backtest over 1,000,000 seeded GBM bars: bars/s
 *       peers: @ixjb94/indicators, trading-signals, technicalindicators computing both SMAs,
 *       followed by the same position/return/metrics loop
 *   K2  all 4,851 pairs fast < slow in 2..100 over 2,520 bars: bar-combos/s, and peak memory
 *   K3  xs-momentum over 500 assets x 2,520 days, monthly rebalance, 5 bps costs: seconds
 * Each figure is also given as a fraction of a plain single-pass loop (a sum) over the same array.
 * Run: npm run bench -- backtest
 */
import { IndicatorsSync } from '@ixjb94/indicators';
import ti from 'technicalindicators';
import { SMA } from 'trading-signals';
import os from 'node:os';
import { runBacktest, smaCrossGrid, smaCrossSummary, type Panel } from '../src/backtest';

/** Seeded GBM (mulberry32 + Box-Muller): the same series on every run. */
function gbm(n: number, seed: number, vol = 0.01, drift = 0.0002): Float64Array {
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float64Array(n);
  let p = 100;
  for (let i = 0; i < n; i++) {
    out[i] = p;
    const z = Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
    p *= Math.exp(drift - (vol * vol) / 2 + vol * z);
  }
  return out;
}

/**
 * Best CPU time (user + system of this process, capped by the run's wall time), best and median
 * wall time of `reps` runs after one warm-up, in seconds. The machine is shared: wall time includes
 * waiting for a core and CPU time does not, so rates come from CPU time; wall time is shown beside.
 */
function time<T>(fn: () => T, reps: number): { best: number; wall: number; median: number; value: T } {
  let value = fn();
  const walls: number[] = [];
  let cpu = Infinity;
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    value = fn();
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    walls.push(wall);
    // CPU time counts V8's helper threads too; a run is never charged more than its wall time.
    cpu = Math.min(cpu, (c.user + c.system) / 1e6, wall);
  }
  walls.sort((a, b) => a - b);
  return { best: cpu, wall: walls[0], median: walls[Math.floor(walls.length / 2)], value };
}

let sink = 0;
/** The plain single-pass loop every figure is compared with. */
function plainLoop(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

/**
 * The backtest part the peers run after their SMAs: position from the two SMAs at bar t (offsets
 * map bar t to the peer's output index), return t -> t+1, Sharpe and max drawdown. The same
 * arithmetic as our kernel, so the Sharpe must match ours.
 */
function backtestFromSmas(
  close: Float64Array,
  fast: ArrayLike<number>,
  fastOffset: number,
  slowArr: ArrayLike<number>,
  slowOffset: number,
  slow: number,
): number {
  const n = close.length;
  let prev = 0;
  let sum = 0;
  let sumSq = 0;
  let eq = 1;
  let peak = 1;
  let mdd = 0;
  let trades = 0;
  for (let t = slow - 1; t < n - 1; t++) {
    const p = fast[t - fastOffset] > slowArr[t - slowOffset] ? 1 : 0;
    if (p !== prev) trades++;
    prev = p;
    const x = p * (close[t + 1] / close[t] - 1);
    sum += x;
    sumSq += x * x;
    eq *= 1 + x;
    if (eq > peak) peak = eq;
    const dd = 1 - eq / peak;
    if (dd > mdd) mdd = dd;
  }
  const periods = n - 1;
  const mean = sum / periods;
  const sd = Math.sqrt((sumSq - (sum * sum) / periods) / (periods - 1));
  sink += mdd + trades;
  return (mean / sd) * Math.sqrt(252);
}

const ms = (x: number): string => (x * 1000).toFixed(x < 0.01 ? 2 : 1);
const fmtT = (t: { best: number; wall: number; median: number }): string =>
  `${ms(t.best)} ms (${ms(t.wall)} / ${ms(t.median)})`;
const fmtRate = (x: number): string => (x >= 1e6 ? `${(x / 1e6).toFixed(1)}M` : `${(x / 1e3).toFixed(0)}k`);
const rows: string[] = [];
const row = (cells: (string | number)[]): void => {
  rows.push(`| ${cells.join(' | ')} |`);
};

// ---- K2 first, so that the process's peak RSS afterwards is K2's (plus Node itself).
{
  const n = 2520;
  const close = gbm(n, 2);
  const pairs: [number, number][] = [];
  for (let s = 2; s <= 100; s++) for (let f = 2; f < s; f++) pairs.push([f, s]);
  const rssBefore = process.memoryUsage().rss;
  const heapBefore = process.memoryUsage().heapUsed;
  const k2 = time(() => smaCrossGrid(close, pairs, 5), 25);
  const heapAfter = process.memoryUsage().heapUsed;
  const peakRss = process.resourceUsage().maxRSS * 1024;
  const combos = pairs.length * n;
  const plain = time(() => {
    for (let i = 0; i < pairs.length; i++) sink += plainLoop(close);
  }, 25);
  const plainRate = combos / plain.best;
  const ourRate = combos / k2.best;
  const ix = new IndicatorsSync();
  const arr = Array.from(close);
  const peer = time(() => {
    for (const [f, s] of pairs) backtestFromSmas(close, ix.sma(arr, f), f - 1, ix.sma(arr, s), s - 1, s);
  }, 1);
  console.log(`K2: ${pairs.length} pairs x ${n} bars`);
  row([
    'K2 grid (ours, smaCrossGrid, 5 bps)',
    fmtT(k2),
    `${fmtRate(ourRate)} bar-combos/s`,
    (ourRate / plainRate).toFixed(3),
  ]);
  row([
    'K2 grid, @ixjb94/indicators SMAs per pair + same loop',
    fmtT(peer),
    `${fmtRate(combos / peer.best)} bar-combos/s`,
    (combos / peer.best / plainRate).toFixed(3),
  ]);
  row([
    'K2 plain sum loop, 4,851 passes over the 2,520 bars',
    fmtT(plain),
    `${fmtRate(plainRate)} bars/s`,
    '1',
  ]);
  row([
    'K2 memory',
    `peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB (RSS before ${(rssBefore / 2 ** 20).toFixed(0)} MiB)`,
    `heap growth ${((heapAfter - heapBefore) / 2 ** 20).toFixed(1)} MiB`,
    '',
  ]);
}

// ---- K1
{
  const n = 1_000_000;
  const close = gbm(n, 1);
  const arr = Array.from(close);
  const plain = time(() => (sink += plainLoop(close)), 40);
  const plainRate = n / plain.best;
  const ours = time(() => smaCrossSummary(close, 20, 50, 0), 40);
  const oursSharpe = ours.value.sharpe;
  const bars = { symbol: 'GBM', dates: Array.from({ length: n }, (_, i) => String(1e6 + i)), close };
  const full = time(() => runBacktest(bars, { strategy: 'sma-cross', params: { fast: 20, slow: 50 } }), 3);
  const ix = new IndicatorsSync();
  const pIx = time(() => backtestFromSmas(close, ix.sma(arr, 20), 19, ix.sma(arr, 50), 49, 50), 15);
  const pTs = time(() => {
    const f = new SMA(20);
    const s = new SMA(50);
    const fa = new Float64Array(n);
    const sa = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      fa[i] = Number(f.update(arr[i], false) ?? NaN);
      sa[i] = Number(s.update(arr[i], false) ?? NaN);
    }
    return backtestFromSmas(close, fa, 0, sa, 0, 50);
  }, 8);
  const pTi = time(
    () =>
      backtestFromSmas(
        close,
        ti.SMA.calculate({ period: 20, values: arr }),
        19,
        ti.SMA.calculate({ period: 50, values: arr }),
        49,
        50,
      ),
    4,
  );
  for (const [name, v] of [
    ['@ixjb94/indicators', pIx.value],
    ['trading-signals', pTs.value],
    ['technicalindicators', pTi.value],
  ] as const) {
    if (Math.abs(v - oursSharpe) > 1e-6 * Math.abs(oursSharpe))
      console.log(`WARNING: ${name} Sharpe ${v} differs from ours ${oursSharpe}`);
  }
  const rate = (t: number): number => n / t;
  const fastestPeer = Math.max(rate(pIx.best), rate(pTs.best), rate(pTi.best));
  console.log(
    `K1: sma-cross 20/50 over ${n} GBM bars; Sharpe ${oursSharpe.toFixed(4)} (peers agree unless warned)`,
  );
  row([
    'K1 ours (smaCrossSummary, fused)',
    fmtT(ours),
    `${fmtRate(rate(ours.best))} bars/s`,
    (rate(ours.best) / plainRate).toFixed(3),
  ]);
  row([
    'K1 ours, full runBacktest (equity, ledger, round trips)',
    fmtT(full),
    `${fmtRate(rate(full.best))} bars/s`,
    (rate(full.best) / plainRate).toFixed(3),
  ]);
  row([
    'K1 @ixjb94/indicators SMAs + same loop',
    fmtT(pIx),
    `${fmtRate(rate(pIx.best))} bars/s`,
    (rate(pIx.best) / plainRate).toFixed(3),
  ]);
  row([
    'K1 trading-signals SMAs + same loop',
    fmtT(pTs),
    `${fmtRate(rate(pTs.best))} bars/s`,
    (rate(pTs.best) / plainRate).toFixed(3),
  ]);
  row([
    'K1 technicalindicators SMAs + same loop',
    fmtT(pTi),
    `${fmtRate(rate(pTi.best))} bars/s`,
    (rate(pTi.best) / plainRate).toFixed(3),
  ]);
  row(['K1 plain sum loop over the same 1e6 bars', fmtT(plain), `${fmtRate(plainRate)} bars/s`, '1']);
  row(['K1 ours / fastest peer', '', `${(rate(ours.best) / fastestPeer).toFixed(1)}x`, '']);
}

// ---- K3
{
  const n = 2520;
  const k = 500;
  const close = Array.from({ length: k }, (_, a) => gbm(n, 1000 + a, 0.02, 0.0003));
  const panel: Panel = {
    symbols: Array.from({ length: k }, (_, a) => `S${a}`),
    dates: Array.from({ length: n }, (_, i) =>
      new Date(Date.UTC(2010, 0, 1) + i * 86_400_000).toISOString().slice(0, 10),
    ),
    close,
  };
  const spec = {
    strategy: 'xs-momentum',
    params: { lookback: 252, skip: 21, topK: 50, rebalance: 21 },
    costBps: 5,
  };
  const t0 = process.hrtime.bigint();
  runBacktest(panel, spec);
  const cold = Number(process.hrtime.bigint() - t0) / 1e9;
  const warm = time(() => runBacktest(panel, spec), 8);
  const plain = time(() => {
    for (const c of close) sink += plainLoop(c);
  }, 5);
  const cells = n * k;
  console.log(
    `K3: xs-momentum ${k} x ${n}, ${warm.value.summary.trades} rebalances, ${warm.value.ledger.length} ledger rows`,
  );
  row([
    'K3 xs-momentum 500 x 2,520 (runBacktest, 5 bps)',
    `first run ${(cold * 1000).toFixed(0)} ms wall; warm ${fmtT(warm)}`,
    `${fmtRate(cells / warm.best)} asset-bars/s`,
    (cells / warm.best / (cells / plain.best)).toFixed(4),
  ]);
  row([
    'K3 plain sum loop over the 500 x 2,520 closes',
    fmtT(plain),
    `${fmtRate(cells / plain.best)} bars/s`,
    '1',
  ]);
}

console.log(
  `\nload average (1, 5, 15 min) at the end: ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(', ')} on ${os.cpus().length} cores`,
);
console.log(
  '\n| figure | CPU time (wall best / median) | rate from CPU time | fraction of plain loop |\n| --- | --- | --- | --- |',
);
for (const r of rows) console.log(r);
if (sink === 42) console.log(''); // keeps the measured loops from being optimised away
