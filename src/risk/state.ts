/**
 * The trading state machine per account and strategy: ACTIVE → REDUCING → HALTED.
 * Escalations (by people, by the kill-switch alarm, or automatically on drawdown / daily loss)
 * latch: nothing automatic ever relaxes a state; only `resume` with an actor and a reason does.
 */
import { InputError } from '../errors';
import { automaticState, mostRestrictive } from './engine';
import type { Limits, RiskPortfolio, TradingState } from './types';

export interface StateRecord {
  readonly state: TradingState;
  /** Who set it ('system' for automatic transitions, the alarm name for the kill switch). */
  readonly actor: string;
  readonly reason: string;
  /** ISO time of the last change. */
  readonly since: string;
  /** Incremented on every change; the DynamoDB store writes conditionally on it. */
  readonly version: number;
}

export const INITIAL_STATE: StateRecord = {
  state: 'ACTIVE',
  actor: 'system',
  reason: 'initial',
  since: new Date(0).toISOString(),
  version: 0,
};

export type StateEvent =
  | { readonly type: 'escalate'; readonly to: TradingState; readonly actor: string; readonly reason: string }
  | { readonly type: 'resume'; readonly to?: TradingState; readonly actor: string; readonly reason: string }
  | { readonly type: 'auto'; readonly portfolio: RiskPortfolio; readonly limits: Limits };

const RANK: Readonly<Record<TradingState, number>> = { ACTIVE: 0, REDUCING: 1, HALTED: 2 };

/** Applies an event; returns the same record when nothing changes. */
export function transition(current: StateRecord, event: StateEvent, now: Date = new Date()): StateRecord {
  const next = (state: TradingState, actor: string, reason: string): StateRecord =>
    state === current.state
      ? current
      : { state, actor, reason, since: now.toISOString(), version: current.version + 1 };
  switch (event.type) {
    case 'escalate':
      requireText(event.actor, 'actor');
      requireText(event.reason, 'reason');
      return next(mostRestrictive(current.state, event.to), event.actor, event.reason);
    case 'auto': {
      const forced = automaticState(event.portfolio, event.limits);
      if (RANK[forced] <= RANK[current.state]) return current;
      const why = forced === 'HALTED' ? 'maxDrawdown reached' : 'maxDailyLoss reached';
      return next(forced, 'system', why);
    }
    case 'resume': {
      requireText(event.actor, 'actor');
      requireText(event.reason, 'reason');
      const to = event.to ?? 'ACTIVE';
      if (RANK[to] > RANK[current.state]) {
        throw new InputError(
          `resume: target state ${to} is more restrictive than ${current.state}; use halt`,
          'to',
        );
      }
      return next(to, event.actor, event.reason);
    }
  }
}

function requireText(v: string, field: string): void {
  if (typeof v !== 'string' || v.trim() === '') {
    throw new InputError(`${field}: required (a state change must say who and why)`, field);
  }
}

/** Effective state of a strategy: the more restrictive of its own and its account's. */
export function effectiveState(account: TradingState, strategy: TradingState): TradingState {
  return mostRestrictive(account, strategy);
}
