/**
 * Keys (`pk`) of the risk table's items. The runtime builds them here (src/risk/store.ts,
 * src/trading/book.ts, src/dr/snapshot.ts), and the trading functions' IAM grants limit writes to
 * them by prefix (`dynamodb:LeadingKeys`, lib/constructs/trading-tables.ts). Imports nothing.
 */

/** The prefix of each kind of item; `#` separates a key's parts (src/risk/ids.ts keeps it out of ids). */
export const RISK_KEY_PREFIX = {
  /** `BOOK#<account>`: the account's positions and cash, versioned. */
  book: 'BOOK#',
  /** `LIMITS#<account>`: the account's risk limits, written only by `quant risk limits`. */
  limits: 'LIMITS#',
  /** `STATE#<account>#<strategy or *>`: a trading state. */
  state: 'STATE#',
  /** `RATE#<account>#<strategy>#<second>`: an order-rate counter (expires through TTL). */
  rate: 'RATE#',
} as const;

/** The strategy part of the account-wide state's key. */
export const ACCOUNT_WIDE_STRATEGY = '*';

export const bookKey = (account: string): string => `${RISK_KEY_PREFIX.book}${account}`;
export const limitsKey = (account: string): string => `${RISK_KEY_PREFIX.limits}${account}`;
export const stateKeyOf = (account: string, strategy: string = ACCOUNT_WIDE_STRATEGY): string =>
  `${RISK_KEY_PREFIX.state}${account}#${strategy}`;
/** The prefix of an account's rate keys; `rateKey` adds the strategy and the second. */
export const rateKeyPrefix = (account: string): string => `${RISK_KEY_PREFIX.rate}${account}#`;
export const rateKey = (account: string, strategy: string, second: number): string =>
  `${rateKeyPrefix(account)}${strategy}#${second}`;
