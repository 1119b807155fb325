import * as iam from 'aws-cdk-lib/aws-iam';

/** Adds `statements`, in this order, to the policy of `grantee`'s principal (a role, a function). */
export function allow(
  grantee: iam.IGrantable,
  ...statements: readonly (iam.PolicyStatement | iam.PolicyStatementProps)[]
): void {
  for (const s of statements)
    grantee.grantPrincipal.addToPrincipalPolicy(
      s instanceof iam.PolicyStatement ? s : new iam.PolicyStatement(s),
    );
}

/** Publishing metrics has no resource-level permission; the namespace condition scopes it. */
export function putMetricData(namespace: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    actions: ['cloudwatch:PutMetricData'],
    resources: ['*'],
    conditions: { StringEquals: { 'cloudwatch:namespace': namespace } },
  });
}
