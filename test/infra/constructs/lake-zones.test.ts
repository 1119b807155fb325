import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ZONES } from '../../../src/contract/lake';
import { nagViolations, resourcesOfType } from '../helpers';
import { constructFixture, type ConstructFixture } from './fixture';

let f: ConstructFixture;
let t: Template;
beforeAll(() => {
  f = constructFixture();
  t = Template.fromStack(f.zones.node.scope as never);
});

describe('LakeZones', () => {
  it('one retained, versioned, private bucket per zone plus the access-logs bucket; three retained keys', () => {
    const buckets = resourcesOfType(t, 'AWS::S3::Bucket');
    expect(buckets).toHaveLength(ZONES.length + 1);
    for (const [id, b] of buckets) {
      expect(b.DeletionPolicy, id).toBe('Retain');
      expect(b.Properties?.VersioningConfiguration, id).toEqual({ Status: 'Enabled' });
    }
    const keys = resourcesOfType(t, 'AWS::KMS::Key');
    expect(keys.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'AuditKey',
      'LakeKey',
      'VendorKey',
    ]);
    for (const [, k] of keys) expect(k.DeletionPolicy).toBe('Retain');
  });

  it('the audit zone is write-once (compliance mode, 2557 days by default); ids as in the data-lake stack', () => {
    const [, audit] = resourcesOfType(t, 'AWS::S3::Bucket').find(([id]) => id.startsWith('AuditBucket'))!;
    expect(audit.Properties?.ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 2557 } },
    });
  });

  it('nobody but the MFA break-glass role deletes a version of the raw zone', () => {
    const [, policy] = resourcesOfType(t, 'AWS::S3::BucketPolicy').find(([id]) =>
      id.startsWith('RawBucket'),
    )!;
    const deny = (
      policy.Properties!.PolicyDocument as { Statement: Array<Record<string, unknown>> }
    ).Statement.find((s) => s.Sid === 'DenyVersionDeletesExceptBreakGlass')!;
    expect(deny).toMatchObject({ Effect: 'Deny', Action: 's3:DeleteObjectVersion', Principal: { AWS: '*' } });
    const [, role] = resourcesOfType(t, 'AWS::IAM::Role')[0];
    expect(JSON.stringify(role.Properties!.AssumeRolePolicyDocument)).toContain('aws:MultiFactorAuthPresent');
  });

  it('has no unacknowledged cdk-nag findings (AwsSolutions, NIST 800-53 R5)', () => {
    const stack = f.zones.node.scope as never;
    expect(nagViolations(stack)).toEqual([]);
    expect(nagViolations(stack, 'NIST.800.53.R5')).toEqual([]);
  });
});
