import { Stack } from 'aws-cdk-lib';
import type { CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * A stack composed of area constructs whose resources keep the logical ids they had when they were
 * created directly in the stack. Moving a table, queue or key into a construct would otherwise give
 * it a new logical id, and CloudFormation would replace it (a new, empty table). Register each area
 * with `area(...)`: its own id is left out of its resources' logical ids (construct paths, and so
 * the console's tree and cdk-nag's paths, still show it). Two areas must not hold children of the
 * same id: CloudFormation would see one logical id twice, and synthesis fails.
 */
export class AreaStack extends Stack {
  private readonly areas = new WeakSet<IConstruct>();

  /** Registers a construct of this stack as an area (see the class comment) and returns it. */
  protected area<T extends IConstruct>(construct: T): T {
    if (construct.node.scope !== this)
      throw new Error(`area: ${construct.node.path} is not a child of this stack`);
    this.areas.add(construct);
    return construct;
  }

  protected override allocateLogicalId(element: CfnElement): string {
    const scopes = element.node.scopes.filter((s) => !this.areas.has(s));
    // The same naming as every other stack, over the path without the area ids.
    return super.allocateLogicalId({ node: { scopes }, stack: element.stack } as unknown as CfnElement);
  }
}
