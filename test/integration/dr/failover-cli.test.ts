import { describe, expect, it } from 'vitest';
import { runQuant } from '../../helpers/quant-cli';

const args = [
  'dr',
  'failover',
  '--env',
  'prod',
  '--home-region',
  'ap-southeast-1',
  '--dr-region',
  'ap-southeast-2',
];

describe('quant dr failover', () => {
  it('prints the plan as JSON: 8 steps, 14 minutes budgeted, estimates', async () => {
    const r = await runQuant([...args, '--account', 'main', '--json']);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.out) as {
      steps: unknown[];
      totalMinutes: number;
      measured: boolean;
      stack: string;
    };
    expect(plan.steps).toHaveLength(8);
    expect(plan.totalMinutes).toBe(14);
    expect(plan.measured).toBe(false);
    expect(plan.stack).toBe('prod-DisasterRecoveryStandby');
  });

  it('prints a checklist by default', async () => {
    const r = await runQuant([...args, '--account', 'main']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('# 5. T+9 Wake the standby (1 min)');
  });

  it('bad input exits 2 naming the flag, and prints no plan', async () => {
    const r = await runQuant([...args, '--account', '*']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--account');
    expect(r.out).toBe('');
  });
});
