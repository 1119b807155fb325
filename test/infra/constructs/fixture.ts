/**
 * A stage for one construct's tests, as lib/quant-stage.ts builds one: the real monitoring stacks, a
 * lake stack with the real zones (so grants to lake buckets render as cross-stack references, as in
 * the app), a VPC, and an empty `AreaStack` for the construct under test.
 */
import { App, Stage } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { dev } from '../../../lib/config';
import { acknowledgeInlinePolicies, AreaStack, LakeZones } from '../../../lib/constructs';
import { DashboardStack, MonitoringHub, MonitoringStack } from '../../../lib/stacks/monitoring-stack';
import { cdkJsonContext, SKIP_BUNDLING } from '../helpers';

export interface ConstructFixture {
  readonly stage: Stage;
  readonly monitoring: MonitoringHub;
  readonly zones: LakeZones;
  readonly vpc: ec2.IVpc;
  /** The stack the construct under test goes in. */
  readonly stack: AreaStack;
}

export function constructFixture(): ConstructFixture {
  const app = new App({ context: { ...cdkJsonContext(), ...SKIP_BUNDLING } });
  const env = { account: '111111111111', region: 'us-east-1' };
  const stage = new Stage(app, 'test', { env });
  stage.node.setContext(`availability-zones:account=${env.account}:region=${env.region}`, [
    'us-east-1a',
    'us-east-1b',
  ]);
  acknowledgeInlinePolicies(stage);
  const alerts = new MonitoringStack(stage, 'Monitoring', {
    environmentName: 'test',
    alarmEmail: 'ops@example.com',
    logRetentionDays: 30,
  });
  const dashboard = new DashboardStack(stage, 'Dashboard', { environmentName: 'test' });
  const lake = new AreaStack(stage, 'Lake');
  const zones = new LakeZones(lake, 'Zones', { lifecycles: dev.dataLake });
  zones.acknowledgeNoReplication();
  const network = new AreaStack(stage, 'Network');
  const vpc = new ec2.Vpc(network, 'Vpc', {
    maxAzs: 2,
    subnetConfiguration: [
      { name: 'egress', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
    ],
  });
  const stack = new AreaStack(stage, 'UnderTest');
  return { stage, monitoring: new MonitoringHub(alerts, dashboard), zones, vpc, stack };
}
