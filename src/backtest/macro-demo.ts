/**
 * The macro step of `npm start`: the `global-macro` allocation over the synthetic multi-asset
 * universe, through the live risk engine's hierarchical limits (portfolio, region, asset class,
 * sector, position, ADV and VaR budget; src/backtest/risk-gate.ts), then the book it ends with
 * stressed under the standard scenarios (hypothetical shocks and the S&P 500 replays) and reverse
 * stress, as `quant risk stress --scenarios --reverse` does. The demo (src/demo/) prints it.
 */
import { macroReference } from '../synthetic/point-in-time';
import { returnsFromPanel } from '../risk/returns-source';
import { StressBook } from '../risk/stress';
import {
  readSp500,
  resolveScenarios,
  STANDARD_SCENARIOS,
  stressReport,
  type StressReport,
} from '../risk/stress-scenarios';
import type { RiskConfig, RiskPortfolio, Security } from '../risk/types';
import { ReturnsWindow } from '../risk/var';
import type { GateReport } from '../risk-api';
import { createRiskGate } from './risk-gate';
import { runBacktest } from './run';
import type { BacktestResult, Panel, Summary } from './types';

/** Betas to the equity shock and durations for the rates shock of the universe's instruments. */
const SENSITIVITY: Readonly<Record<string, Pick<Security, 'beta' | 'duration' | 'usd'>>> = {
  SPY: { beta: 1 },
  EFA: { beta: 0.9 },
  EEM: { beta: 1.2 },
  AGG: { duration: 6 },
  TLT: { duration: 17 },
  UUP: { usd: 1 },
  FXE: { usd: -1 },
};

/** The demo's limits: every level of the hierarchy binds somewhere over the run. */
export function macroLimits(panel: Panel): RiskConfig {
  const securities: Record<string, Security> = {};
  for (const r of macroReference(panel.dates[0])) {
    if (!panel.symbols.includes(r.symbol)) continue;
    securities[r.symbol] = {
      region: r.region,
      assetClass: r.assetClass,
      sector: r.sector,
      ...SENSITIVITY[r.symbol],
    };
  }
  return {
    securities,
    limits: {
      maxGrossLeverage: 1.2,
      maxPositionWeight: 0.25,
      maxOrderAdvFraction: 0.02,
      regionCaps: { US: 0.6, 'Developed ex-US': 0.2, Emerging: 0.15, Europe: 0.15, Global: 0.3 },
      assetClassCaps: { equity: 0.5, fixedIncome: 0.45, commodity: 0.25, fx: 0.25 },
      sectorCaps: { treasuries: 0.2 },
      varBudget: 0.02,
      maxDrawdown: 0.2,
      maxDailyLoss: 0.08,
    },
  };
}

export interface MacroDemoResult {
  /** The gated run itself (its report: src/backtest/report.ts). */
  readonly result: BacktestResult;
  /** The limits it ran under (`macroLimits`). */
  readonly config: RiskConfig;
  readonly summary: Summary;
  readonly gate: GateReport;
  readonly capital: number;
  /** The book at the last bar: NAV and positions (whole shares at the last close). */
  readonly portfolio: RiskPortfolio;
  /** Weights at the last bar by asset class and by region (signed, fractions of NAV). */
  readonly byAssetClass: Record<string, number>;
  readonly byRegion: Record<string, number>;
  readonly stress: StressReport;
}

export function runMacroDemo(
  panel: Panel,
  opts: { capital?: number; returnsDays?: number } = {},
): MacroDemoResult {
  const capital = opts.capital ?? 10_000_000;
  const config = macroLimits(panel);
  const gate = createRiskGate({ config, raw: panel, capital, strategy: 'global-macro' });
  const result = runBacktest(panel, { strategy: 'global-macro', params: {}, costBps: 2, gate });
  const last = result.dates.length - 1;
  const nav = Math.round(capital * result.equity[last] * 100) / 100;
  const positions: RiskPortfolio['positions'][number][] = [];
  const byAssetClass: Record<string, number> = {};
  const byRegion: Record<string, number> = {};
  panel.symbols.forEach((symbol, a) => {
    const w = result.positions[a][result.positions[a].length - 1];
    const price = panel.close[a][panel.close[a].length - 1];
    const qty = Math.trunc((w * nav) / price);
    if (qty === 0) return;
    positions.push({ symbol, qty, price });
    const sec = config.securities[symbol];
    const weight = (qty * price) / nav;
    byAssetClass[sec.assetClass!] = (byAssetClass[sec.assetClass!] ?? 0) + weight;
    byRegion[sec.region!] = (byRegion[sec.region!] ?? 0) + weight;
  });
  const portfolio: RiskPortfolio = { nav, state: 'ACTIVE', positions };
  const window = new ReturnsWindow(returnsFromPanel(panel, opts.returnsDays ?? 250));
  const book = new StressBook(portfolio, config, { portfolio: 'macro book', limits: 'macro limits' });
  const scenarios = resolveScenarios(STANDARD_SCENARIOS, readSp500);
  return {
    result,
    config,
    summary: result.summary,
    gate: result.riskGate!,
    capital,
    portfolio,
    byAssetClass,
    byRegion,
    stress: stressReport(book, scenarios, { window, reverse: true }),
  };
}
