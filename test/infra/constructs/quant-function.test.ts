import path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { QuantFunction, specEnvironment } from '../../../lib/constructs';
import { BACKTEST_MANIFEST_ENV, EXECUTION_ENV } from '../../../src/contract/functions';
import { LAKE_BUCKET_ENV } from '../../../src/contract/lake';
import { SWEEP_ENV } from '../../../src/contract/sweep';
import { nagViolations, repoRoot, SKIP_BUNDLING } from '../helpers';

function stackWithKey(): [Stack, kms.Key] {
  const app = new App({ context: SKIP_BUNDLING });
  const stack = new Stack(app, 'Fn', { env: { account: '111111111111', region: 'us-east-1' } });
  return [stack, new kms.Key(stack, 'LogKey', { enableKeyRotation: true })];
}

describe('QuantFunction by lambda/ name', () => {
  it('resolves lambda/<name>/index.ts from the package root, as an explicit entry would', () => {
    const [stack, logKey] = stackWithKey();
    const byName = new QuantFunction(stack, 'ByName', {
      lambda: 'backtest-validate',
      logKey,
      logRetentionDays: 7,
    });
    const byEntry = new QuantFunction(stack, 'ByEntry', {
      entry: path.join(repoRoot, 'lambda/backtest-validate/index.ts'),
      logKey,
      logRetentionDays: 7,
    });
    const t = Template.fromStack(stack);
    const props = (id: string) => {
      const [r] = Object.entries(t.findResources('AWS::Lambda::Function')).filter(([k]) => k.startsWith(id));
      const p = { ...(r[1].Properties as Record<string, unknown>) };
      delete p.Role;
      delete p.Environment;
      delete p.LoggingConfig;
      return p;
    };
    expect(props(byName.node.id)).toEqual(props(byEntry.node.id));
    expect(props('ByName')).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
    });
  });

  it('takes exactly one of lambda and entry', () => {
    const [stack, logKey] = stackWithKey();
    expect(() => new QuantFunction(stack, 'Neither', { logKey, logRetentionDays: 7 })).toThrow(
      /QuantFunction Neither: give exactly one of lambda/,
    );
    expect(
      () =>
        new QuantFunction(stack, 'Both', {
          lambda: 'execution',
          entry: path.join(repoRoot, 'lambda/execution/index.ts'),
          logKey,
          logRetentionDays: 7,
        }),
    ).toThrow(/exactly one/);
  });

  it('has no unacknowledged AwsSolutions findings when given its reasons', () => {
    const [stack, logKey] = stackWithKey();
    new QuantFunction(stack, 'Nagged', { lambda: 'backtest-validate', logKey, logRetentionDays: 7 });
    expect(nagViolations(stack)).toEqual([]);
  });
});

describe('specEnvironment', () => {
  it('puts each value under the variable name the handler spec reads', () => {
    expect(
      specEnvironment(BACKTEST_MANIFEST_ENV, { maxGridSize: '500', resultsBucket: 'results-b' }),
    ).toEqual({
      [SWEEP_ENV.maxGridSize]: '500',
      [LAKE_BUCKET_ENV.results]: 'results-b',
    });
  });

  it('leaves out optional variables given as undefined', () => {
    const env = specEnvironment(EXECUTION_ENV, { account: 'acct-1', algoStateMachineArn: undefined });
    expect(Object.values(env)).toEqual(['acct-1']);
  });
});
