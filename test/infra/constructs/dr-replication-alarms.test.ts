import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  BucketReplication,
  DrReplicationAlarms,
  EncryptedTable,
  TableReplicator,
} from '../../../lib/constructs';
import { repoRoot } from '../helpers';
import { findings, tradingFixture } from './trading-fixture';

describe('DrReplicationAlarms', () => {
  const f = tradingFixture();
  const table = new EncryptedTable(f.stack, 'Src', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    encryptionKey: f.core.key,
    stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
  });
  const replicator = new TableReplicator(f.stack, 'Replicator', {
    tables: [{ table, replicaTableName: 'replica-src' }],
    replicaRegion: 'us-west-2',
    replicaKeyAlias: 'alias/dr-trading',
    logKey: f.core.logKey,
    queueKey: f.core.key,
    logRetentionDays: 30,
    repoRoot,
  });
  const buckets = [
    {
      name: 'curated',
      bucket: f.curated,
      sourceKey: f.core.key,
      destinationBucketName: 'replica-curated',
      destinationKeyAlias: 'alias/dr-lake',
    },
  ];
  const replication = new BucketReplication(f.stack, 'Replication', {
    destinationRegion: 'us-west-2',
    buckets,
  });
  const alarms = new DrReplicationAlarms(f.stack, 'ReplicationAlarms', {
    monitoring: f.monitoring,
    drRegion: 'us-west-2',
    replicator,
    replication,
    buckets,
    tableLagSeconds: 30,
    lakeLatencySeconds: 900,
  });
  const t = Template.fromStack(f.stack);
  const props = Object.values(t.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);

  it('table lag above the RPO threshold (ms), failures and errors above 0, lake latency 3 of 5 periods', () => {
    expect(props.find((p) => /lags by more than 30 s/.test(p.AlarmDescription))).toMatchObject({
      Threshold: 30_000,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(props.find((p) => /longer than 900 s/.test(p.AlarmDescription))).toMatchObject({
      Threshold: 900,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 3,
    });
    for (const re of [/missed a change/, /replicator fails/, /failed to replicate to us-west-2/]) {
      expect(props.find((p) => re.test(p.AlarmDescription))).toMatchObject({
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    }
  });

  it('the "Disaster recovery" dashboard section', () => {
    const body = JSON.stringify(Template.fromStack(f.dashboard).toJSON());
    expect(body).toContain('Disaster recovery');
    expect(body).toContain('replication lag (ms, max)');
  });

  it('has no unacknowledged AwsSolutions or NIST 800-53 R5 findings', () => {
    expect(findings(f.stack, alarms)).toEqual([]);
  });
});
