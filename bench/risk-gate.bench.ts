/**
 * The backtest's risk gate (src/backtest/risk-gate.ts): 500 assets × 2,520 days, a monthly
 * top-100 momentum book (equal weights), through the live pre-trade risk engine with position,
 * gross, sector (10 sectors), ADV and historical VaR-budget limits, against the same backtest
 * without the gate. Times are end to end of `runPortfolio` (targets given), median of 5.
 */
import { runPortfolio } from '../src/backtest/engine';
import { createRiskGate } from '../src/backtest/risk-gate';
import type { Panel } from '../src/backtest/types';
import type { RiskConfig } from '../src/risk/types';
import { mulberry32, normals } from '../src/synthetic/random';

const K = 500;
const N = 2520;
const z = normals(mulberry32(11));
const dates: string[] = [];
for (let t = 0; t < N; t++)
  dates.push(new Date(Date.UTC(2015, 0, 1) + t * 86_400_000).toISOString().slice(0, 10));
const close: Float64Array[] = [];
const volume: Float64Array[] = [];
for (let a = 0; a < K; a++) {
  const c = new Float64Array(N);
  const v = new Float64Array(N);
  c[0] = 20 + 100 * (a / K);
  for (let t = 1; t < N; t++) c[t] = c[t - 1] * Math.exp(0.0003 + 0.015 * z());
  for (let t = 0; t < N; t++) v[t] = 2e5 * Math.exp(0.5 * z());
  close.push(c);
  volume.push(v);
}
const symbols = close.map((_, a) => `S${a}`);
const panel: Panel = { symbols, dates, close, volume };
const targets = close.map(() => new Float64Array(N));
for (let t = 252; t < N; t += 21) {
  const mom = close.map((c, a) => [c[t] / c[t - 252], a] as const).sort((x, y) => y[0] - x[0]);
  const top = new Set(mom.slice(0, 100).map(([, a]) => a));
  for (let a = 0; a < K; a++) targets[a].fill(top.has(a) ? 0.01 : 0, t, Math.min(N, t + 21));
}
const config: RiskConfig = {
  securities: Object.fromEntries(
    symbols.map((s, a) => [s, { sector: `sector${a % 10}`, region: 'US', adv: 2e5 }]),
  ),
  limits: {
    maxPositionWeight: 0.02,
    maxGrossLeverage: 1,
    maxOrderAdvFraction: 0.05,
    sectorCaps: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`sector${i}`, 0.12])),
    varBudget: process.env.NO_VAR ? undefined : 0.03,
  },
};

/** Wall median and minimum, and the least CPU time of a run (the machine is shared: CPU is the rate). */
function time(f: () => unknown, runs: number): { median: number; min: number; cpu: number } {
  const ms: number[] = [];
  let cpu = Infinity;
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    f();
    ms.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu = Math.min(cpu, (c.user + c.system) / 1000);
  }
  ms.sort((a, b) => a - b);
  return { median: ms[Math.floor(runs / 2)], min: ms[0], cpu };
}

const opts = { strategy: 'momentum', params: {} };
runPortfolio(panel, targets, opts);
const plain = time(() => runPortfolio(panel, targets, opts), 5);
let report;
const gated = time(() => {
  const r = runPortfolio(panel, targets, {
    ...opts,
    gate: createRiskGate({ config, raw: panel, capital: 1e8 }),
  });
  report = r.riskGate;
}, 5);
const fmt = (x: { median: number; min: number; cpu: number }): string =>
  `cpu ${x.cpu.toFixed(1)} ms; wall median ${x.median.toFixed(1)} ms, min ${x.min.toFixed(1)} ms`;
console.log(
  `panel ${K} assets × ${N} days, ${Math.ceil((N - 252) / 21)} monthly rebalances; load ${(
    await import('node:os')
  )
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
console.log(`runPortfolio without the gate: ${fmt(plain)}`);
console.log(`runPortfolio through the risk engine: ${fmt(gated)}`);
console.log(`gate report: ${JSON.stringify(report)}`);
