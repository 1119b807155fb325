/**
 * Trust fixes across stacks: broker calls leave from fixed, retained NAT addresses over HTTPS only;
 * raw ticks lose a version only through the break-glass role; asynchronous failures of the trading
 * functions are kept.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { dev, prod } from '../../lib/config';
import type { QuantStage } from '../../lib/quant-stage';
import { resourcesOfType, synthStage, template } from './helpers';

let stage: QuantStage;
let prodStage: QuantStage;
beforeAll(() => {
  stage = synthStage(dev);
  prodStage = synthStage(prod);
});

type Props = Record<string, unknown>;
const fnProps = (s: QuantStage, prefix: string): Props => {
  const found = resourcesOfType(template(s.trading), 'AWS::Lambda::Function').find(([id]) =>
    new RegExp(`^${prefix}[0-9A-F]{8}$`).test(id),
  );
  if (!found) throw new Error(`no function ${prefix}`);
  return found[1].Properties!;
};

describe('broker egress', () => {
  it('runs execution and algo-child in the private subnets with NAT egress, behind an HTTPS-only group', () => {
    for (const s of [stage, prodStage]) {
      const t = template(s.trading);
      const groups = resourcesOfType(t, 'AWS::EC2::SecurityGroup');
      expect(groups).toHaveLength(1);
      const [groupId, group] = groups[0];
      expect(group.Properties!.SecurityGroupEgress).toEqual([
        expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
      ]);
      expect(resourcesOfType(t, 'AWS::EC2::SecurityGroupEgress')).toEqual([]);
      for (const name of ['Execution', 'AlgoChild']) {
        const vpc = fnProps(s, name).VpcConfig as { SubnetIds: unknown[]; SecurityGroupIds: unknown[] };
        expect(vpc, name).toBeDefined();
        expect(vpc.SubnetIds).toHaveLength(s.config.network.availabilityZones.length);
        // Subnets come from the network stack: the egress (NAT) ones, never isolated or public.
        for (const subnet of vpc.SubnetIds) expect(JSON.stringify(subnet)).toMatch(/egressSubnet\d/);
        expect(JSON.stringify(vpc.SecurityGroupIds)).toContain(groupId);
      }
    }
  });

  it('gives the NAT gateways Elastic IPs that are retained and published for the allow-list', () => {
    for (const s of [stage, prodStage]) {
      const t = template(s.network);
      const eips = resourcesOfType(t, 'AWS::EC2::EIP');
      expect(eips).toHaveLength(s.config.network.natGateways);
      for (const [, eip] of eips) {
        expect(eip.DeletionPolicy).toBe('Retain');
        expect(eip.UpdateReplacePolicy).toBe('Retain');
      }
      const nats = resourcesOfType(t, 'AWS::EC2::NatGateway');
      expect(
        nats
          .map(([, n]) => (n.Properties!.AllocationId as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0])
          .sort(),
      ).toEqual(eips.map(([id]) => id).sort());
      const out = Object.entries(t.toJSON().Outputs as Record<string, { Value: unknown }>).find(([k]) =>
        k.startsWith('NatPublicIps'),
      );
      expect(JSON.stringify(out?.[1].Value)).toContain(eips[0][0]);
    }
  });
});

describe('raw ticks: version deletes only through break glass', () => {
  it('denies s3:DeleteObjectVersion on raw objects to every principal but the MFA-only break-glass role', () => {
    const t = template(stage.dataLake);
    const [roleId, role] = resourcesOfType(t, 'AWS::IAM::Role').find(([id]) =>
      id.startsWith('RawBreakGlassRole'),
    )!;
    const trust = (role.Properties!.AssumeRolePolicyDocument as { Statement: { Condition?: unknown }[] })
      .Statement;
    expect(trust).toHaveLength(1);
    expect(trust[0].Condition).toEqual({ Bool: { 'aws:MultiFactorAuthPresent': 'true' } });
    const rawBucketId = resourcesOfType(t, 'AWS::S3::Bucket').find(([id]) => id.startsWith('RawBucket'))![0];
    const policy = resourcesOfType(t, 'AWS::S3::BucketPolicy').find(
      ([, p]) => JSON.stringify(p.Properties!.Bucket) === JSON.stringify({ Ref: rawBucketId }),
    )![1];
    const deny = (policy.Properties!.PolicyDocument as { Statement: Props[] }).Statement.find(
      (st) => st.Sid === 'DenyVersionDeletesExceptBreakGlass',
    );
    expect(deny).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 's3:DeleteObjectVersion',
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': [roleId, 'Arn'] } } },
    });
    expect(JSON.stringify(deny!.Resource)).toContain(rawBucketId);
  });
});

describe('asynchronous failures of trading functions are kept', () => {
  it('sends failed asynchronous invocations of execution and the returns job to the alarmed dead-letter queue', () => {
    const dlqId = resourcesOfType(template(stage.trading), 'AWS::SQS::Queue').find(([id]) =>
      id.startsWith('ExecutionDlq'),
    )![0];
    for (const name of ['Execution', 'RiskReturns']) {
      expect(fnProps(stage, name).DeadLetterConfig, name).toEqual({
        TargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
      });
    }
  });

  it('reserves concurrency for every trading function', () => {
    for (const name of ['Execution', 'AlgoChild', 'RiskCheck', 'KillSwitch', 'RiskReturns']) {
      expect(fnProps(prodStage, name).ReservedConcurrentExecutions, name).toBeGreaterThanOrEqual(1);
    }
    expect(fnProps(prodStage, 'AlgoChild').ReservedConcurrentExecutions).toBe(
      prod.trading.executionConcurrency,
    );
  });
});

describe('Athena results: written by the queriers, deleted only by the lifecycle', () => {
  it('grants no principal s3:DeleteObject* on the Athena results bucket', () => {
    const stacks = [stage.dataLake, stage.backtest, stage.training, stage.ingestion, stage.trading];
    const onResults = stacks.flatMap((s) =>
      resourcesOfType(template(s), 'AWS::IAM::Policy').flatMap(([, p]) =>
        (
          p.Properties!.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }
        ).Statement.filter((st) => /AthenaResultsBucket/.test(JSON.stringify(st.Resource))),
      ),
    );
    const actions = onResults.flatMap((st) => [st.Action].flat());
    // The sweep's state machine and publish step, the model functions and the lake's own jobs query.
    expect(onResults.length).toBeGreaterThanOrEqual(4);
    expect(actions).toContain('s3:PutObject');
    expect(actions).toContain('s3:GetObject*');
    expect(actions.filter((a) => a.startsWith('s3:Delete'))).toEqual([]);
  });
});
