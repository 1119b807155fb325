/**
 * The environment each Lambda handler reads at cold start (`readEnv(spec)`, src/contract/env.ts);
 * the stacks set the same names. Functions that may also run against the local cloud (the trading
 * and ML ones, src/trading/lambda-support.ts `runtimeFromEnv`) find their buckets and tables
 * through src/lake/buckets.ts and src/trading/context.ts, which need no variable locally.
 */
import { int, list, num, oneOf, optionalText, text } from './env';
import { LAKE_BUCKET_ENV } from './lake';
import { ENVIRONMENTS, STRATEGY_RUNNER_ENV } from './models';
import { SWEEP_ENV } from './sweep';
import { TRADING_ENV } from './trading';
import { TRAINING_LAMBDA_ENV } from './training';

export const BACKTEST_VALIDATE_ENV = {
  maxGridSize: int(SWEEP_ENV.maxGridSize),
  topN: int(SWEEP_ENV.topN),
};
export const BACKTEST_MANIFEST_ENV = {
  maxGridSize: int(SWEEP_ENV.maxGridSize),
  resultsBucket: text(LAKE_BUCKET_ENV.results),
};
export const BACKTEST_PUBLISH_ENV = { resultsBucket: text(LAKE_BUCKET_ENV.results) };

export const INGEST_CONSUMER_ENV = { rawBucket: text(LAKE_BUCKET_ENV.raw) };

/** Kill switch, algo child (and execution, below): the one account they trade. */
export const TRADED_ACCOUNT_ENV = { account: text(TRADING_ENV.account) };
export const EXECUTION_ENV = {
  ...TRADED_ACCOUNT_ENV,
  algoStateMachineArn: optionalText(TRADING_ENV.algoStateMachineArn),
};

export const ML_PUBLISH_ENV = { modelsBucket: text(LAKE_BUCKET_ENV.models) };
export const ML_EVALUATE_ENV = {
  symbols: optionalText(STRATEGY_RUNNER_ENV.symbols, ''),
  minSharpeGain: num(TRAINING_LAMBDA_ENV.minSharpeGain, 0),
  minTestIc: num(TRAINING_LAMBDA_ENV.minTestIc, 0),
};
export const ML_DRIFT_ENV = {
  symbols: list(STRATEGY_RUNNER_ENV.symbols),
  tradingEnvironment: oneOf(TRAINING_LAMBDA_ENV.tradingEnvironment, ENVIRONMENTS),
  modelName: text(TRAINING_LAMBDA_ENV.modelName),
  lookbackBars: int(TRAINING_LAMBDA_ENV.driftLookbackBars),
};

/** The daily TCA job (lambda/tca): the orders it analyses, the bars, the `tca` table's zone. */
export const TCA_JOB_ENV = {
  ordersTable: text(TRADING_ENV.ordersTable),
  curatedBucket: text(LAKE_BUCKET_ENV.curated),
  resultsBucket: text(LAKE_BUCKET_ENV.results),
};
