/**
 * Portfolio benchmarks, peers in the same run (bench/peers/portfolio.py, numpy/pandas/scipy):
 *   P1  multi-factor backtest over 500 assets × 2,520 days (the synthetic cross-section with
 *       fundamentals and sectors), monthly rebalances, 5 bps costs: strategy + engine, from the
 *       panel in memory (the data generation is timed apart). No risk engine in the loop.
 *   P2  the mean-variance optimiser on 500 assets: trailing covariance of 252 returns plus the QP,
 *       long-only (Σw = 1, w ≤ 5%) and long-short (|w| ≤ 2%, Σ|w| ≤ 2, Σw = 0), with and without a
 *       turnover penalty; the peer solves the long-only case with scipy SLSQP.
 * Rates come from CPU time (the machine is shared); wall times are shown beside. Sharpe and the QP
 * objective are cross-checked against the peer.
 * Run: npm run bench -- portfolio
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runBacktest } from '../src/backtest';
import { createRiskGate } from '../src/backtest/risk-gate';
import type { RiskConfig } from '../src/risk/types';
import {
  meanVarianceBook,
  parseSizing,
  solveMeanVariance,
  type MeanVarianceSizing,
} from '../src/backtest/sizing';
import { trailingCovariance } from '../src/backtest/sizing/estimate';
import { equityUniverse, FUNDAMENTAL_FIELDS } from '../src/synthetic/equity-universe';

function time<T>(fn: () => T, reps: number): { cpu: number; wall: number; median: number; value: T } {
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
    cpu = Math.min(cpu, (c.user + c.system) / 1e6, wall);
  }
  walls.sort((a, b) => a - b);
  return { cpu, wall: walls[0], median: walls[Math.floor(walls.length / 2)], value };
}

const ms = (s: number): string => `${(s * 1000).toFixed(0)} ms`;
console.log(
  `load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);

const g = time(() => equityUniverse({ assets: 500, days: 2520 }), 1);
const panel = g.value;
console.log(`data: synthetic 500 x 2520 with fundamentals: cpu ${ms(g.cpu)} (wall ${ms(g.wall)})`);

const mf = time(() => runBacktest(panel, { strategy: 'multi-factor', params: {}, costBps: 5 }), 5);
console.log(
  `P1 multi-factor 500 x 2520, monthly, 5 bps: cpu ${ms(mf.cpu)}, wall best ${ms(mf.wall)} median ${ms(mf.median)}; sharpe ${mf.value.summary.sharpe}`,
);

// P1 again through the live pre-trade risk engine (src/backtest/risk-gate.ts, as `quant backtest
// --limits`): every monthly rebalance's orders checked and resized against position, gross, net,
// sector, ADV and historical VaR-budget limits.
const gateConfig: RiskConfig = {
  securities: Object.fromEntries(
    panel.symbols.map((s, a) => [
      s,
      { region: 'US', assetClass: 'equity', sector: panel.aux!.labels!.sector[a] },
    ]),
  ),
  limits: {
    maxPositionWeight: 0.01,
    maxGrossLeverage: 1.5,
    maxNetExposure: 2e7,
    maxOrderAdvFraction: 0.05,
    sectorCaps: Object.fromEntries([...new Set(panel.aux!.labels!.sector)].map((x) => [x, 0.2])),
    varBudget: 0.004,
  },
};
const mfg = time(
  () =>
    runBacktest(panel, {
      strategy: 'multi-factor',
      params: {},
      costBps: 5,
      gate: createRiskGate({ config: gateConfig, raw: panel, capital: 1e8, strategy: 'multi-factor' }),
    }),
  5,
);
console.log(
  `P1 multi-factor 500 x 2520 through the risk engine (+ VaR budget): cpu ${ms(mfg.cpu)}, wall best ${ms(mfg.wall)} median ${ms(mfg.median)}; sharpe ${mfg.value.summary.sharpe}; gate ${JSON.stringify(mfg.value.riskGate)}`,
);

const all = Array.from({ length: 500 }, (_, a) => a);
const t = 2519;
const cov = trailingCovariance(panel.close, all, t, 252);
const raw = Float64Array.from(mf.value.positions, (p) => p[2518]);
const cases: [string, string][] = [
  ['long-only, w <= 5%', 'mean-variance:maxWeight=0.05'],
  ['long-only, w <= 5%, turnover 0.01', 'mean-variance:maxWeight=0.05,turnover=0.01'],
  ['long-short, |w| <= 2%, gross 2, net 0', 'mean-variance:longOnly=false,maxWeight=0.02,gross=2,net=0'],
];
const prev = Float64Array.from(raw, (x) => Math.max(0, x) * 2);
for (const [label, spec] of cases) {
  const s = parseSizing(spec) as MeanVarianceSizing;
  const r = time(() => {
    const c = trailingCovariance(panel.close, all, t, 252);
    return meanVarianceBook(c, raw, prev, s, 252);
  }, 5);
  const cv = time(() => trailingCovariance(panel.close, all, t, 252), 5);
  console.log(
    `P2 optimiser 500 assets, ${label}: cpu ${ms(r.cpu)} (covariance ${ms(cv.cpu)}), wall best ${ms(r.wall)} median ${ms(r.median)}; ${r.value.status} in ${r.value.iterations} iterations`,
  );
}

// The peer: the same panel and the long-only QP through files.
const dir = mkdtempSync(path.join(os.tmpdir(), 'portfolio-bench-'));
try {
  const put = (name: string, cols: readonly Float64Array[]): void => {
    const buf = new Float64Array(500 * 2520);
    cols.forEach((c, a) => buf.set(c, a * 2520));
    writeFileSync(path.join(dir, `${name}.bin`), Buffer.from(buf.buffer));
  };
  put('close', panel.close);
  for (const f of FUNDAMENTAL_FIELDS) put(f, panel.aux!.fields![f]);
  writeFileSync(
    path.join(dir, 'meta.json'),
    JSON.stringify({ k: 500, n: 2520, sectors: panel.aux!.labels!.sector }),
  );
  // The long-only QP of P2 (no turnover) as P, q.
  const s = parseSizing('mean-variance:maxWeight=0.05') as MeanVarianceSizing;
  const k = 500;
  let m2 = 0;
  for (const x of raw) m2 += x * x;
  const sd = Math.sqrt(m2 / k);
  const P = new Float64Array(k * k);
  const q = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++)
      P[i * k + j] = s.riskAversion * cov[i * k + j] * 252 * (i === j ? 1 : 1 - s.shrink);
    q[i] = -((s.ic * Math.sqrt(cov[i * k + i] * 252) * raw[i]) / sd);
  }
  const ours = solveMeanVariance(P, q, s);
  let fOurs = 0;
  for (let i = 0; i < k; i++) {
    let acc = 0;
    for (let j = 0; j < k; j++) acc += P[i * k + j] * ours.x[j];
    fOurs += 0.5 * ours.x[i] * acc + q[i] * ours.x[i];
  }
  writeFileSync(
    path.join(dir, 'qp.json'),
    JSON.stringify({ n: k, P: Array.from(P), q: Array.from(q), maxWeight: 0.05 }),
  );
  const py = spawnSync('/usr/bin/python3', [path.join(import.meta.dirname, 'peers/portfolio.py'), dir], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (py.status !== 0) throw new Error(`peer failed: ${py.stderr}`);
  const peer = JSON.parse(py.stdout) as {
    multiFactor: { cpu: number; wall: number; median: number; value: number };
    optimiser: { cpu: number; wall: number; median: number; value: number };
    numpy: string;
    pandas: string;
    scipy: string;
  };
  console.log(
    `peer numpy ${peer.numpy} / pandas ${peer.pandas} multi-factor: cpu ${ms(peer.multiFactor.cpu)}, wall best ${ms(peer.multiFactor.wall)} median ${ms(peer.multiFactor.median)}; sharpe ${peer.multiFactor.value} (ours ${mf.value.summary.sharpe}, |diff| ${Math.abs(peer.multiFactor.value - mf.value.summary.sharpe).toExponential(2)})`,
  );
  console.log(
    `peer scipy ${peer.scipy} SLSQP long-only 500 assets: cpu ${ms(peer.optimiser.cpu)}, wall ${ms(peer.optimiser.wall)}; objective ${peer.optimiser.value} (ours ${fOurs}, ours - scipy ${(fOurs - peer.optimiser.value).toExponential(2)})`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(
  `load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
