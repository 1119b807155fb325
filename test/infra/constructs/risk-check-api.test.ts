import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { RiskCheckApi } from '../../../lib/constructs';
import { findings, tradingFixture } from './trading-fixture';

describe('RiskCheckApi', () => {
  const f = tradingFixture();
  const api = new RiskCheckApi(f.stack, 'RiskCheckApi', { core: f.core });
  const t = Template.fromStack(f.stack);

  it('an IAM-authenticated function URL; reserved concurrency 10 by default', () => {
    t.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM' });
    t.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 10 });
  });

  it('reads the risk table and writes nothing', () => {
    const role = api.function.role!.node.id;
    const statements = JSON.stringify(
      Object.entries(t.findResources('AWS::IAM::Policy')).filter(([id]) => id.includes(role)),
    );
    expect(statements).toContain('dynamodb:GetItem');
    expect(statements).not.toMatch(/dynamodb:(PutItem|UpdateItem|DeleteItem|BatchWriteItem)/);
  });

  it('has no unacknowledged AwsSolutions or NIST 800-53 R5 findings', () => {
    expect(findings(f.stack, api)).toEqual([]);
  });
});
