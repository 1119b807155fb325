import type { CfnElement } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { dev } from '../../../lib/config';
import { acknowledgeWildcards, ModelFunctions } from '../../../lib/constructs';
import { TRAINING_WILDCARD_REASONS } from '../../../lib/stacks/training-nag';
import { LAKE_BUCKET_ENV } from '../../../src/contract/lake';
import { FUNCTION_SERVICE } from '../../../src/contract/metrics';
import { TRAINING_PREFIXES } from '../../../src/contract/training';
import {
  DRIFT_METRIC,
  MODELS_PREFIX,
  PROMOTIONS_PREFIX,
  STRATEGY_RUNNER_ENV,
} from '../../../src/contract/models';
import { constructFixture } from './fixture';
import { findings } from './trading-fixture';

describe('ModelFunctions', () => {
  const f = constructFixture();
  const queried: iam.IGrantable[] = [];
  const fns = new ModelFunctions(f.stack, 'Functions', {
    config: dev.training!,
    lake: {
      buckets: f.zones.buckets,
      lakeKey: f.zones.lakeKey,
      runtimeEnvironment: (zones = ['curated', 'models']) =>
        Object.fromEntries(zones.map((z) => [LAKE_BUCKET_ENV[z], f.zones.buckets[z].bucketName])),
      // The lake stack grants Athena and the Glue catalog; here only who is granted matters.
      grantQuery: (g) => void queried.push(g),
    },
    signalBus: new events.EventBus(f.stack, 'Bus'),
    tradingAccount: 'paper-main',
    monitoring: f.monitoring,
  });
  // Its policies' wildcards are acknowledged by the training stack, with these reasons.
  acknowledgeWildcards(f.stack, TRAINING_WILDCARD_REASONS);
  const t = Template.fromStack(f.stack);
  const policies = Object.values(t.findResources('AWS::IAM::Policy'));
  const statementsOf = (fn: { role?: iam.IRole }) => {
    const roleRef = f.stack.resolve((fn.role as iam.Role).roleName);
    return policies
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(JSON.stringify(roleRef)))
      .flatMap(
        (p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
      );
  };
  const actions = (fn: { role?: iam.IRole }) =>
    statementsOf(fn).flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

  it('four functions, runs limited: two of each workflow step, one drift check, one runner', () => {
    const reserved = Object.values(t.findResources('AWS::Lambda::Function')).map(
      (r) => r.Properties.ReservedConcurrentExecutions,
    );
    expect(reserved.sort()).toEqual([1, 1, 2, 2]);
  });

  it('the runner trades for the account on the trading bus, under its contract service name', () => {
    const id = f.stack.getLogicalId(fns.strategyRunner.node.defaultChild as CfnElement);
    const vars = t.findResources('AWS::Lambda::Function')[id].Properties.Environment.Variables as Record<
      string,
      unknown
    >;
    expect(vars[STRATEGY_RUNNER_ENV.account]).toBe('paper-main');
    expect(vars[STRATEGY_RUNNER_ENV.symbols]).toBe(dev.training!.symbols.join(','));
    expect(vars.POWERTOOLS_SERVICE_NAME).toBe(FUNCTION_SERVICE.strategyRunner);
    expect(actions(fns.strategyRunner)).toContain('events:PutEvents');
  });

  it('only the publish step writes, and only models/*; the runner reads bars, sentiment and their markers', () => {
    for (const fn of [fns.evaluate, fns.driftCheck, fns.strategyRunner])
      expect(actions(fn).filter((a) => /^s3:(Put|Delete)/.test(a))).toEqual([]);
    const publishWrites = statementsOf(fns.publish).filter((s) =>
      (Array.isArray(s.Action) ? s.Action : [s.Action]).some((a) => a.startsWith('s3:Put')),
    );
    expect(JSON.stringify(publishWrites.map((s) => s.Resource))).toContain('/models/*');
    const runnerReads = JSON.stringify(statementsOf(fns.strategyRunner).map((s) => s.Resource));
    for (const prefix of [
      '/bars/*',
      '/news_sentiment/*',
      '/_lake/pending/bars/*',
      '/_lake/pending/news_sentiment/*',
    ])
      expect(runnerReads).toContain(prefix);
  });

  it('models bucket: the runner reads the registry and promotions, drift the registry, evaluation also the training output; publish never deletes', () => {
    const modelsArn = JSON.stringify(f.stack.resolve(f.zones.buckets.models.bucketArn));
    const modelObjects = (fn: { role?: iam.IRole }) =>
      statementsOf(fn)
        .flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]))
        .map((r) => JSON.stringify(r))
        .filter((r) => r.includes(modelsArn) && r !== modelsArn)
        .map((r) => /"(\/[^"]*)"\]\]\}$/.exec(r)?.[1])
        .sort();
    expect(modelObjects(fns.strategyRunner)).toEqual([`/${MODELS_PREFIX}*`, `/${PROMOTIONS_PREFIX}*`]);
    expect(modelObjects(fns.driftCheck)).toEqual([`/${MODELS_PREFIX}*`]);
    expect(modelObjects(fns.evaluate)).toEqual([`/${MODELS_PREFIX}*`, `/${TRAINING_PREFIXES.output}/*`]);
    expect(actions(fns.publish).filter((a) => a.startsWith('s3:Delete'))).toEqual([]);
    expect(actions(fns.publish)).toContain('s3:PutObject');
  });

  it('the drift check publishes metrics in its own namespace only; evaluation and drift query the lake', () => {
    const put = statementsOf(fns.driftCheck).find((s) => s.Action === 'cloudwatch:PutMetricData') as
      { Condition?: unknown } | undefined;
    expect(put?.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': DRIFT_METRIC.namespace } });
    expect(queried).toEqual([fns.evaluate, fns.driftCheck]);
  });

  it('has no unacknowledged AwsSolutions or NIST 800-53 R5 findings', () => {
    expect(findings(f.stack, fns)).toEqual([]);
  });
});
