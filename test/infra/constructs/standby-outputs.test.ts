import type { CfnOutput } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { StandbyOutputs, StandbyTables } from '../../../lib/constructs';
import { STANDBY_OUTPUTS } from '../../../src/contract/dr-standby';
import { dormantStandby } from './standby-parts';
import { findings } from './trading-fixture';

describe('StandbyOutputs', () => {
  const s = dormantStandby();
  const { risk, orders, idempotency } = s.f.core.tables;
  const outputs = new StandbyOutputs(s.f.stack, 'Outputs', {
    ...s,
    tables: new StandbyTables(risk, orders, idempotency, s.f.core.key),
    broker: s.f.broker,
    executionConcurrency: 7,
  });
  const t = Template.fromStack(s.f.stack);
  const outputsById = t.toJSON().Outputs as Record<string, { Value: unknown }>;
  // In a plain test stack the area nests: the outputs' logical ids carry its id.
  const names = outputs.node.children.map((c) => c.node.id);
  const value = (name: string) =>
    outputsById[s.f.stack.getLogicalId(outputs.node.findChild(name) as CfnOutput)]!.Value;

  it('every name failover reads (src/contract/dr-standby.ts) but the broker secret a paper broker lacks', () => {
    const { brokerSecret, ...rest } = STANDBY_OUTPUTS;
    expect(names.sort()).toEqual(Object.values(rest).sort());
    expect(names).not.toContain(brokerSecret);
  });

  it('the concurrencies failover restores: execution and algo child as given, the kill switch 2', () => {
    expect(value(STANDBY_OUTPUTS.executionConcurrency)).toBe('7');
    expect(value(STANDBY_OUTPUTS.algoChildConcurrency)).toBe('7');
    expect(value(STANDBY_OUTPUTS.killSwitchConcurrency)).toBe('2');
  });

  it('names the resources themselves', () => {
    expect(value(STANDBY_OUTPUTS.executionFunction)).toEqual({
      Ref: s.f.stack.getLogicalId(s.orderExecution.function.node.defaultChild as never),
    });
    expect(JSON.stringify(value(STANDBY_OUTPUTS.riskTable))).toContain('RiskTable');
  });

  it('has no unacknowledged finding of either pack', () => {
    expect(findings(s.f.stack, outputs)).toEqual([]);
  });
});
