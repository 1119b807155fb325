/** One backtest from a strategy name and raw parameters. */
import { InputError } from '../errors';
import { runPortfolio, validatePanel, type EngineOptions } from './engine';
import { getStrategy, parseStrategyParams } from './strategies';
import { asPanel, isPanel, type BacktestResult, type Bars, type Panel } from './types';

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
