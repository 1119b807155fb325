import { Names, Stack } from 'aws-cdk-lib';
import type { CfnElement } from 'aws-cdk-lib';
import { Construct } from 'constructs';

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
    const scopes = element.node.scopes;
    const ids = scopes
      .slice(scopes.indexOf(this) + 1)
      .filter((s) => !(s instanceof Area))
      .map((s) => s.node.id);
    return logicalIdOf(ids);
  }
}

/** The logical id CDK gives the path `ids` below a stack (`Names.uniqueId` over a detached path). */
function logicalIdOf(ids: readonly string[]): string {
  let leaf = new Construct(undefined as unknown as Construct, '');
  for (const id of ids) leaf = new Construct(leaf, id);
  return Names.uniqueId(leaf);
}
