/**
 * The warm standby in the DR region (lib/stacks/disaster-recovery-standby-stack.ts): deployed in prod
 * only, dormant (nothing can run the order path or the kill switch, nothing triggers them), pointed
 * at the replicas with grants scoped to them, fixed egress addresses retained, no unacknowledged
 * cdk-nag finding, and no change at all to the home region's templates.
 */
import { Stack } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseEnvironment, prod, staging, dev, type EnvironmentConfig } from '../../lib/config';
import type { QuantStage } from '../../lib/quant-stage';
import type { DisasterRecoveryStandbyStack } from '../../lib/stacks/disaster-recovery-standby-stack';
import { STANDBY_OUTPUTS } from '../../src/contract/dr-standby';
import { TRADING_ENV } from '../../src/contract/trading';
import {
  doubleAcknowledgements,
  nagViolations,
  resourcesOfType,
  staleAcknowledgements,
  template,
  testApp,
} from './helpers';

type Props = Record<string, unknown>;

function withStandby(config: EnvironmentConfig, standby: Props | undefined): EnvironmentConfig {
  const dr = config.disasterRecovery!;
  return { ...config, disasterRecovery: { ...dr, standby } } as EnvironmentConfig;
}

let p: QuantStage;
let pOff: QuantStage;
let pLive: QuantStage;
let standby: DisasterRecoveryStandbyStack;

beforeAll(() => {
  p = testApp([prod]).stages.prod;
  pOff = testApp([withStandby(prod, { ...prod.disasterRecovery!.standby!, enabled: false })]).stages.prod;
  pLive = testApp([withStandby(prod, { ...prod.disasterRecovery!.standby!, dormant: false })]).stages.prod;
  standby = p.disasterRecoveryStandby!;
  // Synthesize first: wildcard acknowledgements are recorded while validating (acknowledgeWildcards).
  template(standby);
  template(pLive.disasterRecoveryStandby!);
});

const props = (stack: Stack, type: string) =>
  resourcesOfType(template(stack), type).map(
    ([id, r]) => ({ id, ...(r.Properties ?? {}) }) as Props & { id: string },
  );

const fnByService = (stack: Stack, service: string) =>
  props(stack, 'AWS::Lambda::Function').find(
    (f) =>
      (f.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables
        ?.POWERTOOLS_SERVICE_NAME === service,
  )!;

/** The output of the DR region stack a `Fn::GetStackOutput` names (cross-stack references). */
const outputName = (v: unknown): string =>
  (v as { 'Fn::GetStackOutput'?: { OutputName: string } })['Fn::GetStackOutput']?.OutputName ?? '';

describe('standby: which environments', () => {
  it('prod has it in its DR region, after the replicas; staging and dev do not', () => {
    expect(standby.region).toBe('ap-southeast-2');
    expect(standby.stackName).toBe('prod-DisasterRecoveryStandby');
    expect(standby.dependencies).toContain(p.disasterRecoveryRegion);
    expect(standby.terminationProtection).toBe(true);
    expect(testApp([staging]).stages.staging.disasterRecoveryStandby).toBeUndefined();
    expect(testApp([dev]).stages.dev.disasterRecoveryStandby).toBeUndefined();
    expect(pOff.disasterRecoveryStandby).toBeUndefined();
  });
});

describe('standby: dormant', () => {
  it('the order path and the kill switch cannot run (reserved concurrency 0); the read-only risk check can', () => {
    for (const service of ['execution', 'algo-child', 'kill-switch'])
      expect(fnByService(standby, service).ReservedConcurrentExecutions, service).toBe(0);
    expect(fnByService(standby, 'risk-check').ReservedConcurrentExecutions).toBe(10);
  });

  it('every rule and the signals mapping are disabled', () => {
    const rules = props(standby, 'AWS::Events::Rule');
    expect(rules.map((r) => r.id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'KillSwitchRule',
      'ReconcileSchedule',
      'SignalRule',
    ]);
    for (const r of rules) expect(r.State, r.id).toBe('DISABLED');
    const mappings = props(standby, 'AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(1);
    expect(mappings[0]!.Enabled).toBe(false);
  });

  it('raises an alarm on the DR topic when something invokes it while dormant', () => {
    const alarms = props(standby, 'AWS::CloudWatch::Alarm');
    const invoked = alarms.find((a) => a.id.startsWith('StandbyInvokedWhileDormantAlarm'))!;
    expect(invoked.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^DrAlarmTopic/) }]);
    const metrics = (invoked.Metrics as { MetricStat?: { Metric: { MetricName: string } } }[])
      .map((m) => m.MetricStat?.Metric.MetricName)
      .filter(Boolean);
    expect(metrics).toEqual(['Throttles', 'Throttles', 'Throttles']);
    // Health: the live risk check's crashes and the read failures it logs (answered as 500s).
    const [filter] = props(standby, 'AWS::Logs::MetricFilter');
    expect(filter!.FilterPattern).toBe('{ $.level = "ERROR" }');
    expect(filter!.LogGroupName).toEqual({ Ref: expect.stringMatching(/^RiskCheckLogs/) });
    const health = alarms.find((a) => a.id.startsWith('StandbyRiskCheckErrorsAlarm'))!;
    expect(
      (health.Metrics as { MetricStat?: { Metric: { MetricName: string } } }[])
        .map((m) => m.MetricStat?.Metric.MetricName)
        .filter(Boolean)
        .sort(),
    ).toEqual(['Errors', 'StandbyRiskCheckErrors']);
    // Every alarm of the standby notifies the DR topic (alarms act only on topics in their region).
    for (const a of alarms)
      expect(a.AlarmActions, a.id).toEqual([{ Ref: expect.stringMatching(/^DrAlarmTopic/) }]);
  });

  it('lifted (dormant: false): the configured concurrency, rules and mapping enabled, no dormant alarm', () => {
    const live = pLive.disasterRecoveryStandby!;
    expect(fnByService(live, 'execution').ReservedConcurrentExecutions).toBe(
      prod.trading.executionConcurrency,
    );
    expect(fnByService(live, 'algo-child').ReservedConcurrentExecutions).toBe(
      prod.trading.executionConcurrency,
    );
    expect(fnByService(live, 'kill-switch').ReservedConcurrentExecutions).toBe(
      prod.trading.killSwitchConcurrency ?? 2,
    );
    for (const r of props(live, 'AWS::Events::Rule')) expect(r.State, r.id).toBe('ENABLED');
    expect(props(live, 'AWS::Lambda::EventSourceMapping')[0]!.Enabled).toBeUndefined();
    expect(props(live, 'AWS::CloudWatch::Alarm').some((a) => a.id.startsWith('StandbyInvoked'))).toBe(false);
  });
});

describe('standby: on the replicas', () => {
  it('the functions read and write the replica tables, the curated replica and the standby stream and bus', () => {
    const vars = (fnByService(standby, 'execution').Environment as { Variables: Record<string, unknown> })
      .Variables;
    expect(outputName(vars[TRADING_ENV.riskTable])).toMatch(/^PublishOutputRefRiskReplica/);
    expect(outputName(vars[TRADING_ENV.ordersTable])).toMatch(/^PublishOutputRefOrdersReplica/);
    expect(outputName(vars[TRADING_ENV.idempotencyTable])).toMatch(/^PublishOutputRefIdempotencyReplica/);
    expect(JSON.stringify(vars)).toMatch(/CuratedReplica/);
    expect(vars[TRADING_ENV.account]).toBe(prod.trading.account);
  });

  it('every DynamoDB write is on a replica table; risk-table writes only on the keys the function owns', () => {
    const writes: string[] = [];
    for (const pol of props(standby, 'AWS::IAM::Policy')) {
      for (const st of (
        pol.PolicyDocument as {
          Statement: { Action: string | string[]; Resource: unknown; Condition?: unknown }[];
        }
      ).Statement) {
        const actions = [st.Action].flat();
        if (!actions.some((a) => /^dynamodb:(Put|Update|Delete|BatchWrite)/.test(a))) continue;
        for (const r of [st.Resource].flat()) {
          const name = outputName(r);
          expect(name, JSON.stringify(r)).toMatch(/^PublishOutputFnGetAtt(Risk|Orders|Idempotency)Replica/);
          writes.push(name.replace(/^PublishOutputFnGetAtt(\w+?)Replica.*/, '$1'));
          if (name.includes('RiskReplica'))
            expect(JSON.stringify(st.Condition), pol.id).toContain('dynamodb:LeadingKeys');
        }
      }
    }
    expect(new Set(writes)).toEqual(new Set(['Risk', 'Orders', 'Idempotency']));
  });

  it('audit records go to the write-once audit replica through the standby Firehose', () => {
    const [stream] = props(standby, 'AWS::KinesisFirehose::DeliveryStream');
    const dest = stream!.ExtendedS3DestinationConfiguration as { BucketARN: unknown; Prefix: string };
    expect(outputName(dest.BucketARN)).toMatch(/^PublishOutputFnGetAttAuditReplica/);
    expect(dest.Prefix).toMatch(/^audit_events\/dt=/);
    // No Glue catalog in the DR region: no audit table.
    expect(props(standby, 'AWS::Glue::Table')).toEqual([]);
  });
});

describe('standby: network and secrets', () => {
  it('broker calls leave through NAT gateways with retained Elastic IPs, HTTPS only', () => {
    const eips = resourcesOfType(template(standby), 'AWS::EC2::EIP');
    expect(eips).toHaveLength(2);
    for (const [, e] of eips) expect(e.DeletionPolicy).toBe('Retain');
    const nats = props(standby, 'AWS::EC2::NatGateway');
    expect(nats.map((n) => n.AllocationId)).toEqual(
      eips.map(([id]) => ({ 'Fn::GetAtt': [id, 'AllocationId'] })),
    );
    for (const service of ['execution', 'algo-child'])
      expect(fnByService(standby, service).VpcConfig, service).toBeDefined();
    const [sg] = props(standby, 'AWS::EC2::SecurityGroup');
    expect(sg!.SecurityGroupEgress).toEqual([
      expect.objectContaining({ FromPort: 443, ToPort: 443, IpProtocol: 'tcp' }),
    ]);
    // The addresses to put on the broker's allow-list before any failover.
    expect(template(standby).toJSON().Outputs.StandbyNatPublicIps.Value).toEqual({
      'Fn::Join': [',', eips.map(([id]) => ({ Ref: id }))],
    });
  });

  it('the broker secret exists in the DR region, KMS-encrypted and retained', () => {
    const secrets = resourcesOfType(template(standby), 'AWS::SecretsManager::Secret');
    expect(secrets).toHaveLength(1);
    expect(secrets[0]![1].DeletionPolicy).toBe('Retain');
    expect(secrets[0]![1].Properties!.KmsKeyId).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^StandbyKey/), 'Arn'],
    });
  });

  it('publishes every output failover reads', () => {
    const outputs = Object.keys(template(standby).toJSON().Outputs as Props);
    for (const name of Object.values(STANDBY_OUTPUTS)) expect(outputs, name).toContain(name);
  });
});

describe('standby: compliance', () => {
  it('no unacknowledged AwsSolutions or NIST 800-53 R5 finding, dormant or live', () => {
    for (const st of [standby, pLive.disasterRecoveryStandby!]) {
      expect(nagViolations(st, 'AwsSolutions')).toEqual([]);
      expect(nagViolations(st, 'NIST.800.53.R5')).toEqual([]);
    }
  });

  it('no stale or doubled acknowledgement (the dormant ones exist only while dormant)', () => {
    for (const st of [standby, pLive.disasterRecoveryStandby!]) {
      for (const pack of ['AwsSolutions', 'NIST.800.53.R5'] as const) {
        expect(staleAcknowledgements(st, pack), `${st.stackName} ${pack}`).toEqual([]);
        expect(doubleAcknowledgements(st, pack), `${st.stackName} ${pack}`).toEqual([]);
      }
    }
  });
});

describe('standby: the home region is unchanged', () => {
  it('every home-region template is the same with and without the standby', () => {
    const home = p.node.children.filter((c): c is Stack => c instanceof Stack && c.region === prod.region);
    expect(home.map((s) => s.node.id)).toContain('Trading');
    for (const stack of home) {
      const other = pOff.node.tryFindChild(stack.node.id) as Stack;
      expect(template(stack).toJSON(), stack.node.id).toEqual(template(other).toJSON());
    }
  });

  it('the DR region stack gains only outputs (the standby refers to its replicas)', () => {
    const on = template(p.disasterRecoveryRegion!).toJSON();
    const off = template(pOff.disasterRecoveryRegion!).toJSON();
    expect(on.Resources).toEqual(off.Resources);
  });
});

describe('standby: config', () => {
  const errorOf = (config: EnvironmentConfig): string => {
    try {
      parseEnvironment(config);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    }
    throw new Error('the config was accepted');
  };

  it('prod has it enabled and dormant; staging has it off', () => {
    expect(prod.disasterRecovery!.standby).toMatchObject({ enabled: true, dormant: true });
    expect(staging.disasterRecovery!.standby).toMatchObject({ enabled: false });
  });

  it('an enabled standby needs its network, in the DR region', () => {
    const sb = prod.disasterRecovery!.standby!;
    expect(errorOf(withStandby(prod, { enabled: true, dormant: true }))).toBe(
      'prod.disasterRecovery.standby.network: missing: an enabled standby needs its VPC in the DR region',
    );
    expect(
      errorOf(
        withStandby(prod, {
          ...sb,
          network: { ...sb.network!, availabilityZones: ['ap-southeast-1a', 'ap-southeast-2b'] },
        }),
      ),
    ).toBe(
      'prod.disasterRecovery.standby.network.availabilityZones: ap-southeast-1a not in drRegion ap-southeast-2',
    );
    expect(errorOf(withStandby(prod, { ...sb, dormant: 'yes' }))).toBe(
      'prod.disasterRecovery.standby.dormant: expected boolean, got "yes"',
    );
    expect(errorOf(withStandby(prod, { ...sb, network: { ...sb.network!, natGateways: 3 } }))).toBe(
      'prod.disasterRecovery.standby.network.natGateways: must be 1..2 (one per AZ at most), got 3',
    );
  });
});
