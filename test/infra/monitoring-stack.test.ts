import { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import { beforeAll, describe, expect, it } from 'vitest';
import { dev } from '../../lib/config';
import type { QuantStage } from '../../lib/quant-stage';
import { nagViolations, resourcesOfType, synthStage, template } from './helpers';

let stage: QuantStage;
let probe: Stack;
let probeAlarm: cw.Alarm;
beforeAll(() => {
  stage = synthStage(dev);
  // A stack that contributes like an area stack would: its own alarm and a dashboard section.
  probe = new Stack(stage, 'Probe');
  const metric = new cw.Metric({
    namespace: 'QuantPlatform',
    metricName: 'ProbeLag',
    dimensionsMap: { Stack: probe.stackName },
  });
  probeAlarm = stage.monitoring.alarm(probe, 'ProbeLagAlarm', {
    description: 'Probe lag',
    metric,
    threshold: 10,
    evaluationPeriods: 2,
  });
  stage.monitoring.addSection('Probe', [
    [new cw.GraphWidget({ title: 'Probe lag', left: [metric], width: 24 })],
  ]);
});

const dashboardBody = () => {
  const dashboards = resourcesOfType(template(stage.dashboard), 'AWS::CloudWatch::Dashboard');
  expect(dashboards).toHaveLength(1);
  return JSON.stringify(dashboards[0][1].Properties?.DashboardBody);
};

describe('monitoring stack (alarm topic, log key)', () => {
  it('has a KMS-encrypted, TLS-only alarm topic with the e-mail subscription from config', () => {
    const t = template(stage.alerts);
    t.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TopicKey'), 'Arn'] },
    });
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: dev.monitoring.alarmEmail,
    });
    t.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('has rotating, retained keys; the topic key admits CloudWatch alarms, the log key CloudWatch Logs', () => {
    const t = template(stage.alerts);
    const keys = resourcesOfType(t, 'AWS::KMS::Key');
    expect(keys).toHaveLength(2);
    for (const [, k] of keys) {
      expect(k.Properties?.EnableKeyRotation).toBe(true);
      expect(k.DeletionPolicy).toBe('Retain');
    }
    const policies = JSON.stringify(keys.map(([, k]) => k.Properties?.KeyPolicy));
    expect(policies).toContain('cloudwatch.amazonaws.com');
    expect(policies).toContain(`logs.${dev.region}.amazonaws.com`);
  });

  it('has zero unacknowledged cdk-nag findings', () => {
    expect(nagViolations(stage.alerts)).toEqual([]);
  });
});

describe('contributing alarms and widgets (MonitoringHub)', () => {
  it("creates the alarm in the contributor's stack, acting on the topic for ALARM and OK", () => {
    const t = template(probe);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ProbeLag',
      Threshold: 10,
      TreatMissingData: 'notBreaching',
      AlarmActions: [Match.anyValue()],
      OKActions: [Match.anyValue()],
    });
    expect(JSON.stringify(t.toJSON())).toContain('AlarmTopic');
    expect(Stack.of(probeAlarm)).toBe(probe);
  });

  it('has no dependency cycle: contributors depend on Monitoring, Dashboard on contributors, Monitoring on nothing', () => {
    template(stage.dashboard);
    const deps = (s: Stack) => s.dependencies.map((d) => d.node.id).sort();
    expect(deps(stage.alerts)).toEqual([]);
    expect(deps(probe)).toContain('Monitoring');
    expect(deps(stage.dataLake)).toContain('Monitoring');
    expect(deps(stage.network)).toContain('Monitoring');
    expect(deps(stage.dashboard)).toEqual(expect.arrayContaining(['DataLake', 'Probe']));
    for (const s of stage.node.children)
      if (s instanceof Stack && s !== stage.dashboard) expect(deps(s), s.node.id).not.toContain('Dashboard');
  });

  it('renders one dashboard with a header, the alarm status of every alarm, and each section', () => {
    const body = dashboardBody();
    expect(body).toContain('# Quant platform: dev');
    expect(body).toContain('## Data lake');
    expect(body).toContain('## Probe');
    expect(body).toContain('## Network');
    expect(body).toContain('\\"type\\":\\"alarm\\"');
    // Two data-lake alarms and the probe's alarm are listed.
    const alarmStatus = body.slice(body.indexOf('\\"type\\":\\"alarm\\"'));
    expect(alarmStatus).toMatch(/AthenaFailedQueriesAlarm/);
    expect(alarmStatus).toMatch(/AthenaBytesScannedAlarm/);
    expect(alarmStatus).toMatch(/ProbeLagAlarm/);
    // Data-lake widgets: Athena bytes scanned and failed queries, bucket sizes.
    for (const needle of [
      'ProcessedBytes',
      'TotalExecutionTime',
      'BucketSizeBytes',
      'NumberOfObjects',
      'AWS/Athena',
      'AWS/S3',
    ])
      expect(body).toContain(needle);
  });

  it('rejects alarms in the Dashboard stack and duplicate or empty section titles', () => {
    expect(() =>
      stage.monitoring.alarm(stage.dashboard, 'Bad', {
        description: 'Bad',
        metric: new cw.Metric({ namespace: 'x', metricName: 'y' }),
        threshold: 1,
      }),
    ).toThrow(/stack that owns the metric/);
    expect(() => stage.monitoring.addSection('Probe', [])).toThrow(/already exists/);
    expect(() => stage.monitoring.addSection(' ', [])).toThrow(/must not be empty/);
  });

  it('the dashboard stack has zero unacknowledged cdk-nag findings', () => {
    expect(nagViolations(stage.dashboard)).toEqual([]);
  });
});
