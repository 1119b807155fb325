import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { Area, areaFreeNodeId, AreaStack } from '../../../lib/constructs';

function queueIds(stack: Stack): string[] {
  return Object.keys(Template.fromStack(stack).findResources('AWS::SQS::Queue')).sort();
}

describe('Area and AreaStack', () => {
  it('an area adds nothing to the logical ids in an AreaStack: the same ids as without it', () => {
    const flat = new Stack(undefined, 'Flat');
    new sqs.Queue(flat, 'Jobs');
    const composed = new AreaStack(undefined, 'Composed');
    const outer = new Area(composed, 'Outer');
    new sqs.Queue(new Area(outer, 'Inner'), 'Jobs');
    expect(queueIds(composed)).toEqual(queueIds(flat));
    expect(queueIds(composed)).toEqual([expect.stringMatching(/^Jobs[0-9A-F]{8}$/)]);
  });

  it('nests as usual in a plain stack', () => {
    const plain = new Stack(undefined, 'Plain');
    new sqs.Queue(new Area(plain, 'Outer'), 'Jobs');
    expect(queueIds(plain)).toEqual([expect.stringMatching(/^OuterJobs[0-9A-F]{8}$/)]);
  });

  it('two areas holding the same id collide at synth instead of sharing a resource', () => {
    const stack = new AreaStack(undefined, 'Collide');
    new sqs.Queue(new Area(stack, 'A'), 'Jobs');
    new sqs.Queue(new Area(stack, 'B'), 'Jobs');
    expect(() => Template.fromStack(stack)).toThrow(/Jobs/);
  });

  it('areaFreeNodeId is Names.nodeUniqueId without the areas', () => {
    const stack = new AreaStack(undefined, 'S');
    const q = new sqs.Queue(new Area(stack, 'A'), 'Jobs');
    const flat = new sqs.Queue(new AreaStack(undefined, 'S'), 'Jobs');
    expect(areaFreeNodeId(q)).toBe(areaFreeNodeId(flat));
    expect(areaFreeNodeId(q)).toMatch(/^SJobs[0-9A-F]{8}$/);
  });
});
