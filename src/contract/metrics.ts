/**
 * CloudWatch metric namespaces and names the runtime publishes and the stacks alarm on or chart.
 * Imports nothing. (The ML namespace lives with its names: src/contract/models.ts DRIFT_METRIC and
 * src/contract/training.ts TRAINING_METRICS.)
 */

/** Powertools' namespace of a function that names none (`POWERTOOLS_METRICS_NAMESPACE`). */
export const DEFAULT_METRICS_NAMESPACE = 'QuantPlatform';

/**
 * Powertools service name of each Lambda that names its own: the `service` dimension of its metrics
 * and the service of its logs. The stacks set it (`QuantFunction` serviceName) and select by it.
 */
export const FUNCTION_SERVICE = {
  execution: 'execution',
  algoChild: 'algo-child',
  killSwitch: 'kill-switch',
  riskCheck: 'risk-check',
  riskReturns: 'risk-returns',
  drReplicator: 'dr-replicator',
  strategyRunner: 'strategy-runner',
} as const;

/**
 * `rule` values of TRADING_METRICS.limitUtilizationByRule that the loss alarms select: the limits'
 * field names (src/risk/types.ts).
 */
export const LOSS_RULES = { drawdown: 'maxDrawdown', dailyLoss: 'maxDailyLoss' } as const;

/** Trading functions (execution, algo child, kill switch, risk returns, strategy runner). */
export const TRADING_METRICS = {
  namespace: 'Quant/Trading',
  orders: 'Orders',
  rejects: 'Rejects',
  duplicateOrders: 'DuplicateOrders',
  deadLetters: 'DeadLetters',
  /** With dimension `rule`. */
  rejectsByRule: 'RejectsByRule',
  /** 0 ACTIVE, 1 REDUCING, 2 HALTED. */
  tradingState: 'TradingState',
  limitUtilization: 'LimitUtilization',
  /** With dimension `rule`. */
  limitUtilizationByRule: 'LimitUtilizationByRule',
  /** With dimension `status`. */
  reconciledOrders: 'ReconciledOrders',
  halts: 'Halts',
  returnsWindowPublished: 'ReturnsWindowPublished',
  signals: 'Signals',
  runnerMillis: 'RunnerMillis',
} as const;

/** The daily stress job (lambda/risk-stress), in the trading namespace. */
export const STRESS_METRICS = {
  namespace: TRADING_METRICS.namespace,
  service: 'risk-stress',
  /** With dimension `scenario`: the scenario's P&L in money (negative: a loss). */
  pnl: 'StressPnl',
  /** The worst scenario's P&L as a percentage of NAV (negative: a loss). */
  worstPnlPctNav: 'StressWorstPnlPctNav',
  /** Limits breached, summed over the scenarios (alarmed). */
  breaches: 'StressBreaches',
  /** Reverse stress: the smallest uniform equity shock breaching a limit, in percent. */
  reverseEquityShockPct: 'StressReverseEquityShockPct',
  /** Dimension of `pnl`. */
  scenarioDimension: 'scenario',
} as const;

/** The daily TCA job (lambda/tca), in the trading namespace. */
export const TCA_METRICS = {
  namespace: TRADING_METRICS.namespace,
  service: 'tca',
  /** Parent orders of the day analysed and written. */
  parents: 'TcaParents',
  /** Parent orders of the day left out because their schedule had not ended. */
  unfinished: 'TcaUnfinishedParents',
  /** Decision-notional-weighted implementation shortfall of the day's parents, bps. */
  shortfallBps: 'TcaShortfallBps',
} as const;

/** The Kinesis ticks consumer. */
export const INGEST_METRICS = {
  namespace: DEFAULT_METRICS_NAMESPACE,
  service: 'ingest-consumer',
  ticksWritten: 'TicksWritten',
  recordsProcessed: 'RecordsProcessed',
  ticksQuarantined: 'TicksQuarantined',
  batchWriteFailures: 'BatchWriteFailures',
} as const;

/** The backtest batch task (embedded metric format on stdout). */
export const BACKTEST_TASK_METRICS = {
  namespace: DEFAULT_METRICS_NAMESPACE,
  service: 'backtest-task',
  paramSetsSucceeded: 'ParamSetsSucceeded',
  paramSetsFailed: 'ParamSetsFailed',
  batchDuration: 'BatchDuration',
} as const;

/**
 * The feed handler (embedded metric format, `quant feed run --emf`): namespace, the per-channel
 * dimension and the metric names the alarms use, all counts per reporting interval.
 */
export const FEED_METRICS = {
  namespace: 'Quant/Feed',
  dimension: 'Channel',
  packetsA: 'PacketsA',
  packetsB: 'PacketsB',
  duplicates: 'Duplicates',
  gaps: 'Gaps',
  recoveries: 'Recoveries',
  subscriberDrops: 'SubscriberDrops',
  /** First copy received to relayed and decoded, quantiles of the interval (Microseconds). */
  latencyP50: 'LatencyP50',
  latencyP99: 'LatencyP99',
  latencyP999: 'LatencyP999',
} as const;

/** Host metrics of the feed handler's CloudWatch agent (ENA allowance counters, memory). */
export const FEED_HOST_NAMESPACE = 'Quant/FeedHost';
