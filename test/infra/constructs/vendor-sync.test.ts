import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { prod } from '../../../lib/config';
import { TASK_REPORT_PREFIX, VendorPullSync, VendorPushReplication } from '../../../lib/constructs';
import { nagViolations, resourcesOfType } from '../helpers';
import { constructFixture, type ConstructFixture } from './fixture';

let f: ConstructFixture;
let t: Template;
let lakeT: Template;
beforeAll(() => {
  f = constructFixture();
  const area = {
    sync: prod.vendorSync,
    vendorZone: f.zones.buckets.vendor,
    vendorKey: f.zones.vendorKey,
    policyBase: { account: '111111111111', region: 'us-east-1' },
  };
  new VendorPullSync(f.stack, 'Pull', { ...area, monitoring: f.monitoring });
  new VendorPushReplication(f.stack, 'Push', area);
  t = Template.fromStack(f.stack);
  lakeT = Template.fromStack(f.zones.node.scope as never);
});

describe('VendorPullSync', () => {
  it('a full copy and a scheduled incremental, verified, never deleting our copy, reports under their prefix', () => {
    const tasks = resourcesOfType(t, 'AWS::DataSync::Task');
    expect(tasks.length).toBe(Math.max(prod.vendorSync.fullCopyPrefixes.length, 1) + 1);
    for (const [, task] of tasks) {
      expect(task.Properties!.Options).toMatchObject({
        VerifyMode: 'ONLY_FILES_TRANSFERRED',
        PreserveDeletedFiles: 'PRESERVE',
      });
      expect(JSON.stringify(task.Properties!.TaskReportConfig)).toContain(`${TASK_REPORT_PREFIX}/`);
    }
    t.hasResourceProperties('AWS::DataSync::Task', {
      Schedule: { ScheduleExpression: prod.vendorSync.incrementalSchedule, Status: 'ENABLED' },
    });
  });

  it('alarms on logged errors and on a late incremental', () => {
    expect(
      resourcesOfType(t, 'AWS::CloudWatch::Alarm')
        .map(([id]) => id.replace(/[0-9A-F]{8}$/, ''))
        .sort(),
    ).toEqual(['SyncFailedAlarm', 'SyncLateAlarm']);
  });
});

describe('VendorPushReplication', () => {
  it("lets the vendor's role replicate under its prefix and encrypt through S3 only, never delete", () => {
    const policy = JSON.stringify(
      resourcesOfType(lakeT, 'AWS::S3::BucketPolicy').map(([, p]) => p.Properties),
    );
    expect(policy).toContain('s3:ReplicateObject');
    expect(policy).not.toContain('s3:ReplicateDelete');
    const keys = JSON.stringify(resourcesOfType(lakeT, 'AWS::KMS::Key').map(([, k]) => k.Properties));
    expect(keys).toContain(`s3.us-east-1.amazonaws.com`);
    t.hasOutput('ReplicationDestination', {});
  });
});

describe('vendor sync areas: cdk-nag', () => {
  it('have no unacknowledged cdk-nag findings (AwsSolutions, NIST 800-53 R5)', () => {
    expect(nagViolations(f.stack)).toEqual([]);
    expect(nagViolations(f.stack, 'NIST.800.53.R5')).toEqual([]);
  });
});
