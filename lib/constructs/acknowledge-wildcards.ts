import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { rules as nagRules } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** A finding (`Action::s3:GetObject*`, `Resource::<arn>/*`) this scope's policies are meant to have, and why. */
export type WildcardReason = readonly [match: RegExp | ((finding: string) => boolean), reason: string];

/**
 * Acknowledges, one by one, the cdk-nag IAM5 (wildcard) findings of the IAM policies under `scope`
 * that a reason explains. It runs as a validation, after every grant was added and cross-stack
 * references were prepared, so it sees the final policies; a finding no reason explains stays a
 * finding and fails the nag test and `cdk synth`. A finding already acknowledged on the policy or
 * above it (where the policy was made, e.g. `QuantFunction.runtimePolicy`) keeps that one reason.
 */
export function acknowledgeWildcards(scope: IConstruct, reasons: readonly WildcardReason[]): void {
  scope.node.addValidation({
    validate: () => {
      for (const c of scope.node.findAll()) {
        if (!(c instanceof iam.CfnPolicy)) continue;
        const findings = nagRules.iam.IAMNoWildcardPermissions(c);
        if (!Array.isArray(findings)) continue;
        for (const finding of findings) {
          const id = `AwsSolutions-IAM5[${finding}]`;
          if (isAcknowledged(c, id)) continue;
          const hit = reasons.find(([m]) => (m instanceof RegExp ? m.test(finding) : m(finding)));
          if (hit) Validations.of(c).acknowledge({ id, reason: hit[1] });
        }
      }
      return [];
    },
  });
}

/** Whether rule `id` is acknowledged on `c` or one of its ancestors (as cdk-nag looks it up). */
function isAcknowledged(c: IConstruct, id: string): boolean {
  for (let cur: IConstruct | undefined = c; cur; cur = cur.node.scope) {
    for (const entry of cur.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY || !entry.data) continue;
      const ids = Object.keys(entry.data as Record<string, string>).map((k) =>
        k.replace(/^annotation::/i, ''),
      );
      if (ids.includes(id)) return true;
    }
  }
  return false;
}
