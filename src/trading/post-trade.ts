/**
 * After a signal: mark the book at the signal's reference prices, latch the automatic state
 * transitions (drawdown → HALTED, daily loss → REDUCING) in the store, and measure limit
 * utilization. The execution Lambda publishes the state and the utilization as metrics: the
 * dashboard shows them, and the drawdown / daily-loss alarms (utilization ≥ 100%) trip the kill
 * switch.
 */
import type { RiskConfig, TradingState } from '../risk/types';
import { limitUtilization, type Utilization } from '../risk/utilization';
import { auditEvent } from './audit';
import { bookToPortfolio, markToMarket } from './book';
import type { ExecutionDeps } from './execution';
import type { Signal } from './signals';

export interface PostTrade {
  /** The account's stored state after the automatic transitions. */
  readonly state: TradingState;
  readonly navCents: number;
  /** Utilization of every configured exposure limit, highest first. */
  readonly utilization: Utilization[];
}

/** Metric value of a state (the dashboard's trading-state widget and the halted alarm). */
export const STATE_LEVEL: Readonly<Record<TradingState, number>> = { ACTIVE: 0, REDUCING: 1, HALTED: 2 };

export async function postTrade(
  deps: Pick<ExecutionDeps, 'books' | 'risk' | 'audit' | 'now'>,
  signal: Signal,
  config: RiskConfig,
): Promise<PostTrade> {
  const now = (deps.now ?? Date.now)();
  const prices: Record<string, number> = {};
  for (const t of signal.targets ?? signal.orders ?? []) prices[t.symbol] = t.price;
  const day = new Date(signal.createdAt).toISOString().slice(0, 10);
  const book = await markToMarket(deps.books, signal.account, prices, day);
  const { before, after } = await deps.risk.apply(
    { account: signal.account },
    { type: 'auto', portfolio: bookToPortfolio(book, 'ACTIVE'), limits: config.limits },
  );
  if (after !== before) {
    await deps.audit.put([
      auditEvent(
        'state',
        { account: signal.account, signalId: signal.signalId },
        {
          from: before.state,
          to: after.state,
          actor: after.actor,
          reason: after.reason,
          version: after.version,
        },
        now,
      ),
    ]);
  }
  return {
    state: after.state,
    navCents: book.navCents,
    utilization: limitUtilization(config, bookToPortfolio(book, after.state)),
  };
}

/** Utilization as finite metric values: the highest per rule, in percent (∞ capped at 1e6). */
export function utilizationByRule(rows: readonly Utilization[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const u of rows) {
    const pct = Number.isFinite(u.pct) ? u.pct : 1e6;
    out[u.rule] = Math.max(out[u.rule] ?? 0, Math.round(pct * 100) / 100);
  }
  return out;
}
