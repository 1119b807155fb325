import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { AlgoScheduler } from '../../../lib/constructs';
import { findings, orderPath, tradingFixture } from './trading-fixture';

describe('AlgoScheduler', () => {
  const f = tradingFixture();
  const algos = new AlgoScheduler(f.stack, 'Algos', orderPath(f));
  const t = Template.fromStack(f.stack);

  it('a Standard state machine: 8-day timeout, traced, logged without execution data, its ARN an output', () => {
    const [sm] = Object.values(t.findResources('AWS::StepFunctions::StateMachine'));
    expect(sm.Properties).toMatchObject({
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
    });
    const definition = JSON.stringify(sm.Properties.DefinitionString);
    expect(definition).toContain('\\"TimeoutSeconds\\":691200');
    expect(definition).toContain('\\"MaxConcurrency\\":1');
    expect(Object.keys(t.toJSON().Outputs as object).some((o) => o.includes('AlgoStateMachineArn'))).toBe(
      true,
    );
  });

  it('algo-child: capped like execution, in the broker subnets, order-path writes only', () => {
    t.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 3,
      VpcConfig: Match.objectLike({ SecurityGroupIds: Match.anyValue() }),
      Environment: { Variables: Match.objectLike({ TRADING_ACCOUNT: 'main', BROKER: 'paper' }) },
    });
    const policy = JSON.stringify(t.findResources('AWS::IAM::Policy'));
    expect(policy).toContain('RATE#main#*');
    expect(policy).not.toContain('LIMITS#');
    expect(algos.algoChild.node.path).toBe('T/Algos/AlgoChild');
  });

  it('has no unacknowledged AwsSolutions or NIST 800-53 R5 findings', () => {
    expect(findings(f.stack, algos)).toEqual([]);
  });
});
