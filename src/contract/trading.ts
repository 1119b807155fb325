/**
 * Names shared by the trading stack (lib/stacks/trading-stack.ts) and the trading runtime
 * (src/trading): the EventBridge rule routes only signals that carry exactly these.
 */

/** `source` of every TradingSignal event on the order bus; the signal rule matches only it. */
export const TRADING_SIGNAL_SOURCE = 'quant.strategies';

/** `detail-type` of a trading signal on the order bus. */
export const TRADING_SIGNAL_DETAIL_TYPE = 'TradingSignal';

/** Environment variable with the one account the execution and algo-child functions trade. */
export const TRADING_ACCOUNT_ENV = 'TRADING_ACCOUNT';
