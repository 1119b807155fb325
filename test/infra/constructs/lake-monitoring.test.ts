import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { LakeMonitoring } from '../../../lib/constructs';
import { nagViolations, resourcesOfType } from '../helpers';
import { constructFixture, type ConstructFixture } from './fixture';

let f: ConstructFixture;
let t: Template;
beforeAll(() => {
  f = constructFixture();
  new LakeMonitoring(f.stack, 'Monitoring', {
    monitoring: f.monitoring,
    workgroupName: 'quant-test',
    buckets: f.zones.buckets,
  });
  t = Template.fromStack(f.stack);
});

describe('LakeMonitoring', () => {
  it('alarms on failing queries and on an hour scanning more than 1 TB (default), both to the alarm topic', () => {
    const alarms = resourcesOfType(t, 'AWS::CloudWatch::Alarm');
    expect(alarms.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'AthenaBytesScannedAlarm',
      'AthenaFailedQueriesAlarm',
    ]);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ProcessedBytes',
      Threshold: 1_000_000_000_000,
      Period: 3600,
      Dimensions: [
        { Name: 'QueryState', Value: 'SUCCEEDED' },
        { Name: 'QueryType', Value: 'DML' },
        { Name: 'WorkGroup', Value: 'quant-test' },
      ],
    });
    for (const [, a] of alarms) expect(a.Properties!.AlarmActions).toHaveLength(1);
  });

  it('has no unacknowledged cdk-nag findings (AwsSolutions, NIST 800-53 R5)', () => {
    expect(nagViolations(f.stack)).toEqual([]);
    expect(nagViolations(f.stack, 'NIST.800.53.R5')).toEqual([]);
  });
});
