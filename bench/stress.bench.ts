/**
 * Stress benchmark: 1,000 positions × 50 scenarios (hypothetical shocks, correlation 1 and the three
 * S&P 500 replays), end to end through `StressBook` (prepare the book, P&L per position, groups by
 * asset class, region and sector, breaches), without and with the varBudget rule (historical VaR on a
 * 250-day window per scenario). Goal: under 100 ms. The peer in the same run is numpy
 * (bench/peers/stress.py) on the same book and scenarios; the totals are cross-checked.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StressBook, type Shocks, type StressScenario } from '../src/risk/stress';
import { readSp500, REPLAYS, runScenarios, worstDrawdown } from '../src/risk/stress-scenarios';
import type { RiskConfig, RiskPortfolio, Security } from '../src/risk/types';
import { ReturnsWindow } from '../src/risk/var';
import { mulberry32 } from '../src/synthetic/random';

const N_POS = 1000;
const N_SCEN = 50;
const DAYS = 250;
const REGIONS = ['US', 'Europe', 'Asia', 'LATAM'];
const CLASSES = ['equity', 'fixedIncome', 'commodities', 'FX', 'cash'];
const SECTORS = ['Technology', 'Energy', 'Financials', 'Health', 'Industrials', 'Utilities'];
const rand = mulberry32(7);

const securities: Record<string, Security> = {};
const positions: { symbol: string; qty: number; price: number }[] = [];
const returns: Record<string, number[]> = {};
for (let i = 0; i < N_POS; i++) {
  const symbol = `S${i}`;
  const assetClass = i % 10 < 6 ? 'equity' : CLASSES[1 + (i % 4)];
  securities[symbol] = {
    region: REGIONS[i % 4],
    assetClass,
    sector: SECTORS[i % SECTORS.length],
    beta: 0.5 + rand(),
    duration: assetClass === 'fixedIncome' ? 1 + rand() * 20 : undefined,
  };
  positions.push({
    symbol,
    qty: Math.round((rand() - 0.3) * 2000),
    price: 10 + Math.round(rand() * 50000) / 100,
  });
  returns[symbol] = Array.from({ length: DAYS }, () => (rand() - 0.5) * 0.04);
}
const portfolio: RiskPortfolio = { nav: 500_000_000, state: 'ACTIVE', positions, peakNav: 520_000_000 };
const config: RiskConfig = { securities, limits: { maxDrawdown: 0.1, maxDailyLoss: 0.05, varBudget: 0 } };

const sp = readSp500();
const scenarios: StressScenario[] = [];
for (const [name, w] of Object.entries(REPLAYS)) {
  scenarios.push({ name, shocks: { equity: worstDrawdown(sp, w.from, w.to).shock } });
}
scenarios.push({ name: 'correlation 1', shocks: { equity: -0.2 }, correlationOne: true });
while (scenarios.length < N_SCEN) {
  const k = scenarios.length;
  const shocks: Shocks = {
    equity: -0.4 + rand() * 0.5,
    rates: -0.02 + rand() * 0.04,
    fx: -0.15 + rand() * 0.3,
    commodity: -0.4 + rand() * 0.6,
  };
  scenarios.push({ name: `hypothetical ${k}`, shocks });
}
const window = new ReturnsWindow(returns);

function time(label: string, reps: number, fn: () => number): number[] {
  for (let i = 0; i < 5; i++) fn(); // warm-up (JIT)
  const ms: number[] = [];
  let last = 0;
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    last = fn();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ms.sort((a, b) => a - b);
  const med = ms[Math.floor(ms.length / 2)];
  console.log(
    `${label.padEnd(58)} median ${med.toFixed(2).padStart(7)} ms   min ${ms[0].toFixed(2)} ms   max ${ms[ms.length - 1].toFixed(2)} ms   (${reps} runs, check ${last.toFixed(2)})`,
  );
  return ms;
}

console.log(
  `book: ${N_POS} positions × ${N_SCEN} scenarios; VaR window ${DAYS} days; load ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
const sum = (rs: { pnl: number }[]): number => rs.reduce((a, r) => a + r.pnl, 0);
time('ts: prepare book + 50 scenarios (P&L, groups, DD/DL rules)', 50, () =>
  sum(runScenarios(new StressBook(portfolio, config), scenarios)),
);
time('ts: the same + varBudget (historical VaR per scenario)', 20, () =>
  sum(runScenarios(new StressBook(portfolio, config), scenarios, window)),
);
const totals = runScenarios(new StressBook(portfolio, config), scenarios).map((r) => r.pnl);
// varBudget 0: every scenario lists its VaR ratio, to cross-check with the peer.
const vars = runScenarios(new StressBook(portfolio, config), scenarios, window).map(
  (r) => r.breaches.find((b) => b.rule === 'varBudget')?.value ?? NaN,
);

// Peer: numpy on the same data.
const dir = mkdtempSync(path.join(os.tmpdir(), 'stress-bench-'));
const input = path.join(dir, 'book.json');
writeFileSync(
  input,
  JSON.stringify({
    qty: positions.map((p) => p.qty),
    price: positions.map((p) => p.price),
    beta: positions.map((p) => securities[p.symbol].beta),
    duration: positions.map((p) => securities[p.symbol].duration ?? 0),
    assetClass: positions.map((p) => securities[p.symbol].assetClass),
    region: positions.map((p) => securities[p.symbol].region),
    sector: positions.map((p) => securities[p.symbol].sector),
    scenarios: scenarios.map((s) => ({ ...s.shocks, correlationOne: s.correlationOne === true })),
    returns: positions.map((p) => returns[p.symbol]),
    nav: portfolio.nav,
  }),
);
const py = spawnSync('/usr/bin/python3', [path.join(import.meta.dirname, 'peers', 'stress.py'), input], {
  encoding: 'utf8',
  timeout: 300_000,
});
if (py.error || py.status !== 0) {
  console.log(`numpy peer: not run (${py.error?.message ?? py.stderr.trim().split('\n').pop()})`);
} else {
  const lines = py.stdout.trim().split('\n');
  const peer = JSON.parse(lines.pop()!) as { totals: number[]; var: number[] };
  const peerTotals = peer.totals;
  for (const l of lines) console.log(l);
  const maxDiff = Math.max(...peerTotals.map((t, i) => Math.abs(t - totals[i])));
  // Ours rounds each position to cents: up to 0.5 cent × 1,000 positions apart from unrounded sums.
  console.log(
    `totals ts vs numpy: max |difference| ${maxDiff.toFixed(4)} over ${N_SCEN} scenarios (≤ 5.00 expected)`,
  );
  const maxRel = Math.max(...peer.var.map((v, i) => Math.abs(v - vars[i]) / v));
  console.log(`VaR / shocked NAV ts vs numpy: max relative difference ${maxRel.toExponential(2)}`);
}
