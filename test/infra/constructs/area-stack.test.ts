import { App, Stack } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { AreaStack } from '../../../lib/constructs';
import { cdkJsonContext } from '../helpers';

class Area extends Construct {
  constructor(scope: Construct, id: string, queueIds: readonly string[]) {
    super(scope, id);
    for (const q of queueIds) new sqs.Queue(this, q, { enforceSSL: true });
  }
}

class Composed extends AreaStack {
  constructor(scope: Construct, id: string, areas: Record<string, readonly string[]>, props?: StackProps) {
    super(scope, id, props);
    for (const [aid, queues] of Object.entries(areas)) this.area(new Area(this, aid, queues));
  }
}

const ids = (stack: Stack) => Object.keys(Template.fromStack(stack).toJSON().Resources as object).sort();
const newApp = () => new App({ context: cdkJsonContext() });

describe('AreaStack', () => {
  it('gives resources in an area the logical ids they have when created in the stack itself', () => {
    const flat = new Stack(newApp(), 'S');
    for (const q of ['Orders', 'Failures']) new sqs.Queue(flat, q, { enforceSSL: true });
    const composed = new Composed(newApp(), 'S', { Execution: ['Orders'], KillSwitch: ['Failures'] });
    expect(ids(composed)).toEqual(ids(flat));
    expect(ids(composed).every((id) => /^(Orders|Failures)(Policy)?[0-9A-F]{8}$/.test(id))).toBe(true);
    // The construct tree still shows the area.
    expect(composed.node.findAll().map((c) => c.node.path)).toContain('S/Execution/Orders');
  });

  it('a plain stack nests the same construct (its id is part of the logical ids)', () => {
    const plain = new Stack(newApp(), 'S');
    new Area(plain, 'Execution', ['Orders']);
    expect(ids(plain).every((id) => id.startsWith('ExecutionOrders'))).toBe(true);
  });

  it('two areas with a child of the same id fail synthesis (one logical id twice)', () => {
    const composed = new Composed(newApp(), 'S', { A: ['Q'], B: ['Q'] });
    expect(() => Template.fromStack(composed)).toThrow(/Q/);
  });

  it('refuses a construct that is not its direct child', () => {
    class Bad extends AreaStack {
      constructor(scope: Construct) {
        super(scope, 'Bad');
        const outer = new Construct(this, 'Outer');
        this.area(new Construct(outer, 'Inner'));
      }
    }
    expect(() => new Bad(newApp())).toThrow(/Bad\/Outer\/Inner is not a child of this stack/);
  });
});
