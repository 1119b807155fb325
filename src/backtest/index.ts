/**
 * The backtest engine's public interface, used by the CLI, the sweep, the ECS backtest task and
 * the demo. Conventions (timing, costs, metrics) are in docs/backtesting.md.
 */
import { InputError } from '../errors';
import { runPortfolio, validatePanel, type EngineOptions } from './engine';
import { getStrategy, parseStrategyParams } from './strategies';
import { asPanel, isPanel, type BacktestResult, type Bars, type Panel } from './types';

export type { CostModel } from './costs';
export type { EngineOptions } from './engine';
export { runPortfolio, validatePanel } from './engine';
export { smaCrossGrid, smaCrossSummary, type GridRow } from './kernel';
export { alignBars, loadBars, loadPanel, type LoadOptions } from './load';
export { equityAndDrawdown, PERIODS_PER_YEAR, returnMetrics, type ReturnMetrics } from './metrics';
export {
  getStrategy,
  parseParamPairs,
  parseStrategyParams,
  strategyNames,
  type StrategyParams,
} from './strategies';
export type { Strategy } from './strategies';
export { asPanel, isPanel } from './types';
export type { Attribution, BacktestResult, Bars, LedgerEntry, Panel, RoundTrip, Summary } from './types';
export type { PositionLimiter, ProposedPosition, SimpleCaps, TradingState } from '../risk-api';
export { simpleCaps } from '../risk-api';

export interface BacktestSpec extends Omit<EngineOptions, 'params'> {
  readonly params: Readonly<Record<string, number | boolean | string>>;
}

/**
 * One deterministic backtest: validates the input and the parameters, asks the strategy for its
 * target positions (decided at each close from data up to that close) and runs them through risk
 * limits, costs and metrics.
 */
export function runBacktest(input: Bars | Panel, spec: BacktestSpec): BacktestResult {
  const strategy = getStrategy(spec.strategy);
  const params = parseStrategyParams(spec.strategy, spec.params);
  const panel = asPanel(input);
  const k = panel.symbols.length;
  if (k < strategy.minSymbols || k > strategy.maxSymbols) {
    const want =
      strategy.minSymbols === strategy.maxSymbols
        ? `${strategy.minSymbols}`
        : `${strategy.minSymbols} to ${strategy.maxSymbols}`;
    throw new InputError(
      `bars: strategy ${strategy.name} takes ${want} symbol(s), got ${k}${isPanel(input) ? ` (${panel.symbols.slice(0, 5).join(', ')})` : ''}`,
      'bars',
    );
  }
  validatePanel(panel);
  const targets = strategy.positions(panel, params);
  return runPortfolio(panel, targets, { ...spec, strategy: strategy.name, params });
}
