import { describe, expect, it } from 'vitest';
import { STANDBY_OUTPUTS } from '../../../src/contract/dr-standby';
import { failoverPlan, formatFailoverPlan, RTO_MINUTES } from '../../../src/dr/failover';
import { InputError } from '../../../src/errors';

const input = {
  environment: 'prod',
  homeRegion: 'ap-southeast-1',
  drRegion: 'ap-southeast-2',
  account: 'main',
};

describe('failoverPlan', () => {
  const plan = failoverPlan(input);

  it('budgets 1+2+2+4+1+2+1+1 = 14 minutes, under the RTO of 15, and says they are estimates', () => {
    expect(plan.steps.map((s) => s.minutes)).toEqual([1, 2, 2, 4, 1, 2, 1, 1]);
    expect(plan.totalMinutes).toBe(14);
    expect(RTO_MINUTES).toBe(15);
    expect(plan.measured).toBe(false);
    expect(plan.stack).toBe('prod-DisasterRecoveryStandby');
  });

  it('fences the home region before waking the standby, and wakes it before resuming', () => {
    const at = (title: RegExp) => plan.steps.findIndex((s) => title.test(s.title));
    expect(at(/^Fence/)).toBeLessThan(at(/^Wake/));
    expect(at(/^Reconcile/)).toBeLessThan(at(/^Wake/));
    expect(at(/^Wake/)).toBeLessThan(at(/^Resume/));
    const fence = plan.steps[at(/^Fence/)]!.commands.join('\n');
    expect(fence).toContain('quant --aws risk halt --account main');
    expect(fence).toContain('--region "$HOME_REGION" --uuid "$u" --no-enabled');
  });

  it('wakes every dormant part, each by the standby output that names it', () => {
    const wake = plan.steps.find((s) => s.title.startsWith('Wake'))!.commands;
    expect(wake).toHaveLength(7);
    const o = STANDBY_OUTPUTS;
    for (const [fn, conc] of [
      [o.executionFunction, o.executionConcurrency],
      [o.algoChildFunction, o.algoChildConcurrency],
      [o.killSwitchFunction, o.killSwitchConcurrency],
    ])
      expect(wake).toContain(
        `aws lambda put-function-concurrency --region "$DR" --function-name "$(out ${fn})" --reserved-concurrent-executions "$(out ${conc})"`,
      );
    expect(wake).toContain(
      `aws events enable-rule --region "$DR" --event-bus-name "$(out ${o.orderBus})" --name "$(out ${o.signalRule})"`,
    );
    expect(wake).toContain(
      `aws lambda update-event-source-mapping --region "$DR" --uuid "$(out ${o.signalsMapping})" --enabled`,
    );
  });

  it('resumes on the replica tables in the DR region', () => {
    const resume = plan.steps.find((s) => s.title.startsWith('Resume'))!.commands[0]!;
    expect(resume).toBe(
      'RISK_TABLE=$(out StandbyRiskTable) ORDERS_TABLE=$(out StandbyOrdersTable) IDEMPOTENCY_TABLE=$(out StandbyIdempotencyTable) AWS_REGION=$DR quant --aws risk resume --account main --actor "$USER" --reason "DR failover complete"',
    );
  });

  it('reads outputs of the standby stack in the DR region', () => {
    expect(plan.preamble[0]).toBe(
      'STACK=prod-DisasterRecoveryStandby DR=ap-southeast-2 HOME_REGION=ap-southeast-1',
    );
    expect(plan.preamble[1]).toContain('--region "$DR" --stack-name "$STACK"');
  });

  it('formats a checklist with cumulative times', () => {
    const text = formatFailoverPlan(plan);
    expect(text).toContain('14 of 15 minutes budgeted (estimates, not measured)');
    expect(text).toContain('# 1. T+0 Declare (1 min)');
    expect(text).toContain('# 5. T+9 Wake the standby (1 min)');
    expect(text).toContain('# T+14 trading from ap-southeast-2');
  });

  it.each([
    [{ environment: 'Prod!' }, '--env'],
    [{ homeRegion: 'mars' }, '--home-region'],
    [{ drRegion: 'ap-southeast-1' }, '--dr-region'],
    [{ account: 'main#1' }, '--account'],
    [{ account: '*' }, '--account'],
  ])('bad input %o is an InputError naming %s', (bad, field) => {
    let err: unknown;
    try {
      failoverPlan({ ...input, ...bad });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message.startsWith(`${field}: `)).toBe(true);
  });
});
