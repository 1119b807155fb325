/**
 * The removal-policy guard (lib/quant-stage.ts): data is retained unless `-c quant:allowDestroy=true`
 * lets a non-prod environment's data go with its stacks; prod always retains.
 */
import { Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { ConfigError, dev, prod } from '../../lib/config';
import type { QuantStage } from '../../lib/quant-stage';
import { synthStage, template, testApp } from './helpers';

/** `DeletionPolicy` of every resource of the stage that has one, by `<stack>/<logical id>` and type. */
function deletionPolicies(stage: QuantStage): { id: string; type: string; policy: string }[] {
  return stage.node.children
    .filter((c): c is Stack => Stack.isStack(c))
    .flatMap((stack) =>
      Object.entries(
        template(stack).toJSON().Resources as Record<string, { Type: string; DeletionPolicy?: string }>,
      )
        .filter(([, r]) => r.DeletionPolicy !== undefined)
        .map(([id, r]) => ({ id: `${stack.node.id}/${id}`, type: r.Type, policy: r.DeletionPolicy! })),
    );
}
const byPolicy = (rs: { policy: string }[], policy: string) => rs.filter((r) => r.policy === policy).length;

/** Stateful types that must be among the retained resources of a stage without the flag. */
const STATEFUL = [
  'AWS::S3::Bucket',
  'AWS::KMS::Key',
  'AWS::DynamoDB::Table',
  'AWS::Kinesis::Stream',
  'AWS::Logs::LogGroup',
];

describe('removal policy guard', () => {
  it('retains the data of dev without the flag', () => {
    const policies = deletionPolicies(synthStage(dev));
    const retainedTypes = new Set(policies.filter((r) => r.policy === 'Retain').map((r) => r.type));
    for (const type of STATEFUL) expect(retainedTypes, type).toContain(type);
  });

  it('lets dev destroy every retained resource with -c quant:allowDestroy=true', () => {
    const retained = deletionPolicies(synthStage(dev)).filter((r) => r.policy === 'Retain');
    const stage = testApp([dev], { 'quant:allowDestroy': 'true' }).stages.dev;
    const policies = deletionPolicies(stage);
    expect(byPolicy(policies, 'Retain')).toBe(0);
    // The same resources, now deleted with their stacks.
    const deleted = new Map(policies.map((r) => [r.id, r.policy]));
    for (const r of retained) expect(deleted.get(r.id), r.id).toBe('Delete');
    template(stage.dataLake).hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
    });
  });

  it('keeps prod retained even with the flag, and says so', () => {
    const stage = testApp([prod], { 'quant:allowDestroy': true }).stages.prod;
    const policies = deletionPolicies(stage);
    const retainedTypes = new Set(policies.filter((r) => r.policy === 'Retain').map((r) => r.type));
    for (const type of STATEFUL) expect(retainedTypes, type).toContain(type);
    expect(policies.filter((r) => STATEFUL.includes(r.type) && r.policy !== 'Retain')).toEqual([]);
    template(stage.dataLake).allResources('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
    const warnings = stage.node.metadata.filter((m) => m.type === 'aws:cdk:warning');
    expect(warnings.map((w) => String(w.data))).toEqual([
      expect.stringContaining('prod always retains its data: quant:allowDestroy is ignored'),
    ]);
  });

  it('accepts only true or false', () => {
    expect(() => testApp([dev], { 'quant:allowDestroy': 'yes' })).toThrow(ConfigError);
    expect(() => testApp([dev], { 'quant:allowDestroy': 'yes' })).toThrow(
      'context quant:allowDestroy: expected true or false, got "yes"',
    );
  });
});
