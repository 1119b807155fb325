import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors';
import { INITIAL_STATE, effectiveState, transition } from '../../../src/risk/state';

const at = new Date('2026-11-21T12:00:00Z');

describe('trading state machine', () => {
  it('escalates ACTIVE → REDUCING → HALTED and records who, why, when', () => {
    const r = transition(
      INITIAL_STATE,
      { type: 'escalate', to: 'REDUCING', actor: 'alice', reason: 'vol' },
      at,
    );
    expect(r).toEqual({
      state: 'REDUCING',
      actor: 'alice',
      reason: 'vol',
      since: at.toISOString(),
      version: 1,
    });
    const h = transition(r, { type: 'escalate', to: 'HALTED', actor: 'alarm', reason: 'drawdown' }, at);
    expect(h.state).toBe('HALTED');
    expect(h.version).toBe(2);
  });

  it('halts latch: escalating to a weaker state changes nothing', () => {
    const h = transition(INITIAL_STATE, { type: 'escalate', to: 'HALTED', actor: 'a', reason: 'r' }, at);
    expect(transition(h, { type: 'escalate', to: 'ACTIVE', actor: 'b', reason: 'r' }, at)).toBe(h);
    expect(transition(h, { type: 'escalate', to: 'REDUCING', actor: 'b', reason: 'r' }, at)).toBe(h);
  });

  it('resume needs an actor and a reason', () => {
    const h = transition(INITIAL_STATE, { type: 'escalate', to: 'HALTED', actor: 'a', reason: 'r' }, at);
    expect(() => transition(h, { type: 'resume', actor: '', reason: 'ok' })).toThrow(InputError);
    expect(() => transition(h, { type: 'resume', actor: 'bob', reason: '  ' })).toThrow(/reason/);
    const r = transition(h, { type: 'resume', actor: 'bob', reason: 'checked positions' }, at);
    expect(r).toMatchObject({ state: 'ACTIVE', actor: 'bob', reason: 'checked positions', version: 2 });
    expect(transition(h, { type: 'resume', to: 'REDUCING', actor: 'bob', reason: 'x' }).state).toBe(
      'REDUCING',
    );
    const red = transition(INITIAL_STATE, { type: 'escalate', to: 'REDUCING', actor: 'a', reason: 'r' });
    expect(() => transition(red, { type: 'resume', to: 'HALTED', actor: 'bob', reason: 'x' })).toThrow(
      /use halt/,
    );
  });

  it('automatic transitions on drawdown and daily loss, never automatic relaxation', () => {
    const limits = { maxDrawdown: 0.1, maxDailyLoss: 0.03 };
    const base = { state: 'ACTIVE' as const, positions: [], peakNav: 100, startOfDayNav: 100 };
    const ok = transition(INITIAL_STATE, { type: 'auto', portfolio: { ...base, nav: 98 }, limits });
    expect(ok).toBe(INITIAL_STATE);
    const red = transition(INITIAL_STATE, { type: 'auto', portfolio: { ...base, nav: 97 }, limits }, at);
    expect(red).toMatchObject({ state: 'REDUCING', actor: 'system', reason: 'maxDailyLoss reached' });
    const halt = transition(red, { type: 'auto', portfolio: { ...base, nav: 90 }, limits }, at);
    expect(halt).toMatchObject({ state: 'HALTED', reason: 'maxDrawdown reached' });
    // recovery does not un-halt
    expect(transition(halt, { type: 'auto', portfolio: { ...base, nav: 100 }, limits })).toBe(halt);
  });

  it('a strategy trades under the more restrictive of its own and its account state', () => {
    expect(effectiveState('ACTIVE', 'REDUCING')).toBe('REDUCING');
    expect(effectiveState('HALTED', 'ACTIVE')).toBe('HALTED');
    expect(effectiveState('ACTIVE', 'ACTIVE')).toBe('ACTIVE');
  });
});
