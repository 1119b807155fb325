import { describe, expect, it } from 'vitest';
import { sideCredentials } from '../../../src/cli/commands/sync';
import { InputError } from '../../../src/errors';
import {
  buildStartRequest,
  checkExecutionArn,
  sortNewestFirst,
  summarizeExecution,
} from '../../../src/sync/datasync';
import { estimateTransfer, parseSize } from '../../../src/sync/estimate';
import { buildVendorPolicies } from '../../../src/sync/policy';
import { parseS3Uri } from '../../../src/sync/uri';

const TASK = 'arn:aws:datasync:ap-southeast-1:333333333333:task/task-0123456789abcdef0';

describe('parseS3Uri', () => {
  it('treats the prefix as a folder', () => {
    expect(parseS3Uri('s3://vendor-data', 'source')).toEqual({ bucket: 'vendor-data', prefix: '' });
    expect(parseS3Uri('s3://vendor-data/', 'source')).toEqual({ bucket: 'vendor-data', prefix: '' });
    expect(parseS3Uri('s3://vendor-data/ref/2026', 'source')).toEqual({
      bucket: 'vendor-data',
      prefix: 'ref/2026/',
    });
    expect(parseS3Uri('s3://b12/a b/ü/', 'dest').prefix).toBe('a b/ü/');
  });
  it.each([
    ['vendor-data/x', /expected s3:\/\/BUCKET/],
    ['s3://Upper/x', /not a valid bucket name/],
    ['s3://ab/x', /not a valid bucket name/],
    ['s3://bucket//x', /empty path segment/],
  ])('rejects %s naming the field', (uri, msg) => {
    const e = (() => {
      try {
        parseS3Uri(uri, 'source');
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).field).toBe('source');
    expect((e as Error).message).toMatch(msg);
  });
});

describe('estimate', () => {
  it('parses decimal and binary sizes and rejects nonsense', () => {
    expect(parseSize('100TB', 'size')).toBe(100e12);
    expect(parseSize('1.5 TiB', 'size')).toBe(1.5 * 2 ** 40);
    expect(parseSize('1024', 'size')).toBe(1024);
    for (const bad of ['', 'TB', '-1TB', '10XB', '1e30', '0GB', '9999999EB']) {
      expect(() => parseSize(bad, 'size'), bad).toThrow(InputError);
    }
  });
  it('computes the issue example: 100 TB over 5 Gbit/s', () => {
    const e = estimateTransfer({ bytes: 100e12, gbps: 5, dailyBytes: 100e9 });
    // 8e14 bits / (5e9 * 0.8) bit/s = 200,000 s
    expect(e.fullCopyHours).toBeCloseTo(55.56, 2);
    expect(e.cost.dataSync).toBe(1250);
    expect(e.cost.interRegionTransfer).toBe(2000);
    expect(e.objects).toBe(1_562_500);
    expect(e.daily?.hours).toBeCloseTo(0.056, 3);
    expect(e.assumptions.join('\n')).toMatch(/5 Gbit\/s x 0.8 efficiency/);
  });
  it('rejects impossible link speeds', () => {
    expect(() => estimateTransfer({ bytes: 1e12, gbps: 0 })).toThrow(/gbps/);
    expect(() => estimateTransfer({ bytes: 1e12, gbps: 1, efficiency: 1.5 })).toThrow(/efficiency/);
  });
});

describe('vendor policies', () => {
  const base = {
    account: '333333333333',
    region: 'ap-southeast-1',
    vendorAccount: '444444444444',
    vendorBucket: 'vendor-market-data',
    vendorRegion: 'us-east-1',
  };
  it('pull: read-only access for our DataSync role, limited to the prefix, TLS only', () => {
    const p = buildVendorPolicies({
      ...base,
      vendorPrefix: 'reference/',
      vendorKmsKeyArn: 'arn:aws:kms:us-east-1:444444444444:key/abc-123',
    });
    const [list, read, deny] = p.bucketPolicy!.Statement;
    expect(list).toMatchObject({
      Principal: { AWS: 'arn:aws:iam::333333333333:role/quant-vendor-sync' },
      Resource: 'arn:aws:s3:::vendor-market-data',
      Condition: { StringLike: { 's3:prefix': ['reference/*'] } },
    });
    expect(read.Resource).toBe('arn:aws:s3:::vendor-market-data/reference/*');
    expect(read.Action).not.toContain('s3:PutObject');
    expect(deny).toMatchObject({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    expect(p.kmsKeyPolicyStatement).toMatchObject({ Action: 'kms:Decrypt' });
    expect(p.roleTrust.Statement[0]).toMatchObject({
      Principal: { Service: 'datasync.amazonaws.com' },
      Condition: { StringEquals: { 'aws:SourceAccount': '333333333333' } },
    });
  });
  it('uses the role ARN from the stack output when given', () => {
    const arn = 'arn:aws:iam::333333333333:role/Quant-DataSync-RoleABC';
    expect(buildVendorPolicies({ ...base, roleArn: arn }).bucketPolicy!.Statement[0].Principal).toEqual({
      AWS: arn,
    });
  });
  it('push: the replication role of the vendor, writing only replicas under the prefix', () => {
    const p = buildVendorPolicies({
      ...base,
      mode: 'push',
      destBucket: 'quant-vendor-zone',
      destKmsKeyArn: 'arn:aws:kms:ap-southeast-1:333333333333:key/k-1',
    });
    expect(p.roleArn).toBe('arn:aws:iam::444444444444:role/quant-vendor-sync');
    expect(p.roleTrust.Statement[0].Principal).toEqual({ Service: 's3.amazonaws.com' });
    const write = p.rolePolicy!.Statement.find((s) => s.Sid === 'WriteReplicas')!;
    expect(write.Resource).toBe('arn:aws:s3:::quant-vendor-zone/*');
    const rule = (p.replicationConfiguration as { Rules: Array<{ Destination: Record<string, unknown> }> })
      .Rules[0];
    expect(rule.Destination).toMatchObject({
      Account: '333333333333',
      AccessControlTranslation: { Owner: 'Destination' },
    });
    expect(rule.Destination.ReplicationTime).toBeUndefined();
    const rtc = buildVendorPolicies({
      ...base,
      mode: 'push',
      vendorPrefix: 'acme/',
      destBucket: 'quant-vendor-zone',
      destKmsKeyArn: 'arn:aws:kms:ap-southeast-1:333333333333:key/k-1',
      replicationTimeControl: true,
    });
    const rtcRule = (rtc.replicationConfiguration as { Rules: Array<Record<string, never>> }).Rules[0];
    expect(rtcRule.Filter).toEqual({ Prefix: 'acme/' });
    expect(rtcRule.Destination).toMatchObject({
      ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } },
    });
  });
  it('names the bad fields', () => {
    expect(() => buildVendorPolicies({ ...base, vendorAccount: '44' })).toThrow(
      /vendorAccount: expected a 12-digit/,
    );
    expect(() => buildVendorPolicies({ ...base, vendorPrefix: 'no-slash' })).toThrow(/vendorPrefix/);
    expect(() => buildVendorPolicies({ ...base, mode: 'push' })).toThrow(/destBucket: push mode needs/);
    expect(() => buildVendorPolicies({ ...base, extra: 1 } as never)).toThrow(/extra/);
  });
});

describe('DataSync requests', () => {
  it('builds StartTaskExecution with filters and verification override', () => {
    expect(buildStartRequest({ taskArn: TASK, includes: ['/2026/11/*', '/ref/*'], verifyAll: true })).toEqual(
      {
        TaskArn: TASK,
        Includes: [{ FilterType: 'SIMPLE_PATTERN', Value: '/2026/11/*|/ref/*' }],
        Excludes: undefined,
        OverrideOptions: { VerifyMode: 'POINT_IN_TIME_CONSISTENT' },
      },
    );
    expect(buildStartRequest({ taskArn: TASK })).toMatchObject({
      Includes: undefined,
      OverrideOptions: undefined,
    });
  });
  it('rejects bad ARNs and patterns', () => {
    expect(() => buildStartRequest({ taskArn: 'task-1' })).toThrow(/task-arn: expected arn:aws:datasync/);
    expect(() => buildStartRequest({ taskArn: TASK, excludes: ['tmp/*'] })).toThrow(
      /exclude: pattern "tmp\/\*" must start with/,
    );
    expect(() => buildStartRequest({ taskArn: TASK, includes: ['/a|/b'] })).toThrow(/must not contain/);
    expect(() => checkExecutionArn(TASK)).toThrow(/execution-arn/);
  });
  it('summarizes an execution and sorts newest first', () => {
    const s = summarizeExecution({
      $metadata: {},
      TaskExecutionArn: `${TASK}/execution/exec-0123456789abcdef0`,
      Status: 'ERROR',
      StartTime: new Date('2026-11-20T01:00:00Z'),
      FilesTransferred: 10,
      BytesTransferred: 50_000_000,
      FilesVerified: 9,
      FilesFailed: { Transfer: 1, Verify: 1 },
      Result: { TotalDuration: 10_000, ErrorCode: 'VerificationError', ErrorDetail: 'checksum mismatch' },
    });
    expect(s).toMatchObject({ status: 'ERROR', filesFailed: 2, durationSeconds: 10, mbPerSecond: 5 });
    expect(s.error).toBe('VerificationError: checksum mismatch');
    const older = { ...s, startTime: '2026-11-19T01:00:00.000Z' };
    expect(sortNewestFirst([older, s])[0]).toBe(s);
  });
});

describe('sync credentials per side', () => {
  it('takes SOURCE_/DEST_ variables, and rejects half a key pair', async () => {
    const env = {
      SOURCE_AWS_ACCESS_KEY_ID: 'AKIASRC',
      SOURCE_AWS_SECRET_ACCESS_KEY: 's',
      DEST_AWS_ACCESS_KEY_ID: 'AKIADST',
    };
    expect(await sideCredentials('source', undefined, env)).toEqual({
      accessKeyId: 'AKIASRC',
      secretAccessKey: 's',
      sessionToken: undefined,
    });
    await expect(sideCredentials('dest', undefined, env)).rejects.toThrow(
      /DEST_AWS_ACCESS_KEY_ID and DEST_AWS_SECRET_ACCESS_KEY must be set together/,
    );
    expect(await sideCredentials('dest', undefined, {})).toBeUndefined();
  });
  it('names a profile that does not exist', async () => {
    await expect(sideCredentials('source', 'no-such-profile-xyz', {})).rejects.toThrow(
      /--source-profile: profile "no-such-profile-xyz"/,
    );
  });
});
