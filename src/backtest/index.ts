/**
 * The backtest engine's public interface, used by the CLI, the sweep, the ECS backtest task and
 * the demo. Conventions (timing, costs, metrics) are in docs/backtesting.md.
 */

export type { CostModel } from './costs';
export type { EngineOptions } from './engine';
export { runPortfolio, validatePanel } from './engine';
export { runBacktest, strategyTargets, type BacktestSpec } from './run';
export { applySizing, parseSizing, sizeBook, sizingMethods, type Sizing } from './sizing';
export { renderReport, monthlyReturns } from './report';
export {
  selectOutOfSample,
  splitOutOfSample,
  summarizeSlice,
  walkForward,
  type Objective,
  type OutOfSampleSplit,
  type WalkForwardResult,
  type WalkForwardWindow,
} from './walk-forward';
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
export type {
  Attribution,
  BacktestResult,
  Bars,
  LedgerEntry,
  Panel,
  PanelAux,
  RoundTrip,
  Summary,
} from './types';
export type { PositionLimiter, ProposedPosition, SimpleCaps, TradingState } from '../risk-api';
export { simpleCaps } from '../risk-api';
