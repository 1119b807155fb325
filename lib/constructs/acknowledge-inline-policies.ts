import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

export const INLINE_POLICY_RULE = 'NIST.800.53.R5-IAMNoInlinePolicy';

/** Whether a construct or one of its scopes already acknowledges the rule (a construct's own reason wins). */
function acknowledged(c: IConstruct): boolean {
  for (let cur: IConstruct | undefined = c; cur; cur = cur.node.scope) {
    for (const entry of cur.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY || !entry.data) continue;
      const ids = Object.keys(entry.data as Record<string, unknown>).map((k) =>
        k.replace(/^annotation::/i, ''),
      );
      if (ids.includes(INLINE_POLICY_RULE)) return true;
    }
  }
  return false;
}

/**
 * Acknowledges NIST 800-53 R5 IAMNoInlinePolicy on each IAM policy under `scope` that is attached to
 * exactly one role and to no user or group: the policies CDK writes for a role's grants. Such a policy
 * is created, changed and deleted with its role, so a customer-managed policy would add a second
 * lifecycle and no control. A policy shared by several roles, or attached to a user or group, stays
 * a finding. Runs as a validation, so it sees policies added by grants from other stacks.
 */
export function acknowledgeInlinePolicies(scope: IConstruct): void {
  scope.node.addValidation({
    validate: () => {
      for (const c of scope.node.findAll()) {
        if (!(c instanceof iam.CfnPolicy)) continue;
        // Lazy lists (iam.Policy renders its roles on synthesis): count what they resolve to.
        const count = (xs: unknown) => {
          const v: unknown = Stack.of(c).resolve(xs);
          return Array.isArray(v) ? v.length : 0;
        };
        const [roles, users, groups] = [count(c.roles), count(c.users), count(c.groups)];
        if (roles !== 1 || users > 0 || groups > 0 || acknowledged(c)) continue;
        Validations.of(c).acknowledge({
          id: INLINE_POLICY_RULE,
          reason:
            'Attached to exactly one role (the grants CDK writes for it) and created, changed and deleted with that role; its statements are reviewed wildcard by wildcard under AwsSolutions-IAM5.',
        });
      }
      return [];
    },
  });
}
