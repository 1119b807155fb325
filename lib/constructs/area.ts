import { Names, Stack } from 'aws-cdk-lib';
import type { CfnElement } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { IConstruct } from 'constructs';

/**
 * One area of a stack (the lake's zones, its catalog, the sweep's state machine, ...), kept in its own
 * construct so the stack reads as a table of contents. Inside an `AreaStack` an area adds nothing to
 * the logical ids of what it holds: they stay what they were when the stack held the resources
 * directly, so retained data (buckets, tables, streams, keys, log groups) and the cross-stack exports
 * named after them are not replaced. Elsewhere (a construct's own test stack) it nests as usual.
 */
export class Area extends Construct {}

/** A stack whose `Area`s are transparent to logical ids (see `Area`). */
export class AreaStack extends Stack {
  protected override allocateLogicalId(element: CfnElement): string {
    return logicalIdOf(areaFreePath(this, element));
  }
}

/** The logical id CDK gives the path `ids` below a stack (`Names.uniqueId` over a detached path). */
export function logicalIdOf(ids: readonly string[]): string {
  let leaf = new Construct(undefined as unknown as Construct, '');
  for (const id of ids) leaf = new Construct(leaf, id);
  return Names.uniqueId(leaf);
}

/**
 * `Names.uniqueId` of `c` (or of its would-be child `childIds`) as if no `Area` were above it. CDK
 * derives some names from a construct's path (a task definition's family, an event source mapping's
 * id after its stream's), which an area would otherwise change.
 */
export function areaFreeNodeId(c: IConstruct, ...childIds: string[]): string {
  return logicalIdOf([
    ...c.node.scopes
      .slice(1)
      .filter((s) => !(s instanceof Area))
      .map((s) => s.node.id),
    ...childIds,
  ]);
}

/**
 * `c`'s construct path, its `Area`s left out inside an `AreaStack`: names CDK or a construct derives
 * from paths (Name tags) stay what they were when the stack held the resources directly.
 */
export function areaFreeNodePathOf(c: IConstruct): string {
  const stack = Stack.of(c);
  if (!(stack instanceof AreaStack)) return c.node.path;
  return [stack.node.path, ...areaFreePath(stack, c)].join('/');
}

/** The ids of the path from `stack` down to `c`, `Area`s left out. */
export function areaFreePath(stack: IConstruct, c: IConstruct): string[] {
  const scopes = c.node.scopes;
  return scopes
    .slice(scopes.indexOf(stack) + 1)
    .filter((s) => !(s instanceof Area))
    .map((s) => s.node.id);
}
