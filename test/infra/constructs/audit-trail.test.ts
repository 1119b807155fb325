import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { findings, tradingFixture } from './trading-fixture';

describe('AuditTrail', () => {
  const f = tradingFixture();
  const t = Template.fromStack(f.stack);

  it('Firehose, CMK-encrypted, into audit_events/dt=.../ with the audit key; errors under audit_errors/', () => {
    t.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamType: 'DirectPut',
      DeliveryStreamEncryptionConfigurationInput: {
        KeyType: 'CUSTOMER_MANAGED_CMK',
        KeyARN: Match.anyValue(),
      },
      ExtendedS3DestinationConfiguration: Match.objectLike({
        Prefix: 'audit_events/dt=!{timestamp:yyyy-MM-dd}/',
        ErrorOutputPrefix: 'audit_errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/',
        CloudWatchLoggingOptions: Match.objectLike({ Enabled: true }),
        EncryptionConfiguration: { KMSEncryptionConfig: { AWSKMSKeyARN: Match.anyValue() } },
      }),
    });
  });

  it('its role may only put objects under the two prefixes (no delete, no read)', () => {
    const policies = Object.entries(t.findResources('AWS::IAM::Policy')).filter(([id]) =>
      id.startsWith('AuditAuditDeliveryRole'),
    );
    expect(policies).toHaveLength(1);
    const actions = JSON.stringify(policies[0][1]);
    expect(actions).toContain('s3:PutObject');
    expect(actions).not.toMatch(/s3:(Delete|Get)Object/);
    expect(actions).toContain('/audit_events/*');
    expect(actions).toContain('/audit_errors/*');
  });

  it('Glue table audit_events over the prefix, dates by partition projection', () => {
    t.hasResourceProperties('AWS::Glue::Table', {
      DatabaseName: 'quant_test',
      TableInput: Match.objectLike({
        Name: 'audit_events',
        PartitionKeys: [{ Name: 'dt', Type: 'string' }],
        Parameters: Match.objectLike({
          'projection.enabled': 'true',
          'projection.dt.range': '2024-01-01,NOW',
        }),
      }),
    });
  });

  it('has no unacknowledged AwsSolutions or NIST 800-53 R5 findings', () => {
    expect(findings(f.stack, f.core.audit)).toEqual([]);
  });
});
