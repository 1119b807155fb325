/** One backtest from a strategy name and raw parameters. */
import { InputError } from '../errors';
import { runPortfolio, validatePanel, type EngineOptions } from './engine';
import { applySizing, parseSizing, type Sizing } from './sizing';
import { detectBarSpacing } from './spacing';
import { getStrategy, parseStrategyParams, type Strategy, type StrategyParams } from './strategies';
import { asPanel, isPanel, type BacktestResult, type Bars, type Panel } from './types';

export interface BacktestSpec extends Omit<EngineOptions, 'params'> {
  readonly params: Readonly<Record<string, number | boolean | string>>;
  /**
   * Position sizing applied to the strategy's targets (`--sizing`, src/backtest/sizing/).
   * @default none: the strategy's targets as they are
   */
  readonly sizing?: string | Sizing;
}

/**
 * The strategy's target weights for a validated panel, after the sizing of `spec` (if any): what
 * the engine (and any risk check on it) receives.
 */
export function strategyTargets(
  panel: Panel,
  strategy: Strategy,
  params: StrategyParams,
  spec: Pick<BacktestSpec, 'sizing' | 'periodsPerYear'>,
): Float64Array[] {
  const targets = strategy.positions(panel, params as Record<string, number | boolean>);
  if (spec.sizing === undefined) return targets;
  const sizing = typeof spec.sizing === 'string' ? parseSizing(spec.sizing) : spec.sizing;
  return applySizing(
    panel,
    targets,
    sizing,
    spec.periodsPerYear ?? detectBarSpacing(panel.dates).periodsPerYear,
  );
}

/**
 * One deterministic backtest: validates the input and the parameters, asks the strategy for its
 * target positions (decided at each close from data up to that close), sizes them and runs them
 * through risk limits, costs and metrics.
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
  const targets = strategyTargets(panel, strategy, params, spec);
  return runPortfolio(panel, targets, { ...spec, strategy: strategy.name, params });
}
