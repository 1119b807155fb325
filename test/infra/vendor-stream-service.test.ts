import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { dev, staging } from '../../lib/config';
import { validateVendorStreamConnections, type VendorStreamConnection } from '../../lib/constructs';
import type { QuantStage } from '../../lib/quant-stage';
import { VENDOR_STREAM_METRIC } from '../../src/contract/vendor-stream';
import { nagViolations, resourcesOfType, template, testApp } from './helpers';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

const POLYGON_SECRET = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:quant/polygon-key-AbCdEf';
const ALPACA_SECRET = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:quant/alpaca-key-GhIjKl';
const connections: VendorStreamConnection[] = [
  { name: 'polygon-us', vendor: 'polygon', symbols: ['AAPL', 'MSFT'], keySecretArn: POLYGON_SECRET },
  {
    name: 'alpaca-iex',
    vendor: 'alpaca',
    symbols: ['SPY'],
    keySecretArn: ALPACA_SECRET,
    url: 'wss://stream.data.alpaca.markets/v2/iex',
  },
];

let stage: QuantStage;
let t: Template;

beforeAll(() => {
  stage = testApp([{ ...dev, ingestion: { ...dev.ingestion, vendorStreams: connections } }]).stages.dev;
  t = template(stage.ingestion);
});

const actions = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
function policyOf(roleLogicalIdPart: string): Statement[] {
  return resourcesOfType(t, 'AWS::IAM::Policy')
    .filter(([, p]) => JSON.stringify(p.Properties!.Roles).includes(roleLogicalIdPart))
    .flatMap(([, p]) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement);
}

describe('VendorStreamService in the IngestionStack', () => {
  it('has no unacknowledged cdk-nag AwsSolutions findings', () => {
    expect(nagViolations(stage.ingestion)).toEqual([]);
  });

  it('one Fargate service per connection, one task at a time, restarted by ECS, in private subnets', () => {
    t.resourceCountIs('AWS::ECS::Service', 2);
    t.allResourcesProperties('AWS::ECS::Service', {
      DesiredCount: 1,
      LaunchType: 'FARGATE',
      DeploymentConfiguration: Match.objectLike({
        MinimumHealthyPercent: 0,
        MaximumPercent: 100,
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
      }),
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
    });
    t.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
  });

  it('runs quant ingest stream with the key injected from its secret, read-only root, as node', () => {
    const tasks = resourcesOfType(t, 'AWS::ECS::TaskDefinition');
    expect(tasks).toHaveLength(2);
    const containers = tasks.map(
      ([, r]) => (r.Properties!.ContainerDefinitions as Array<Record<string, unknown>>)[0],
    );
    const polygonC = containers.find((c) => JSON.stringify(c.Command).includes('polygon'))!;
    expect(polygonC.Command).toEqual([
      '--vendor',
      'polygon',
      '--symbols',
      'AAPL,MSFT',
      '--channels',
      'trades,quotes',
      '--metrics-interval',
      '60',
    ]);
    expect(polygonC.Secrets).toEqual([{ Name: 'QUANT_VENDOR_KEY', ValueFrom: POLYGON_SECRET }]);
    expect(polygonC.ReadonlyRootFilesystem).toBe(true);
    expect(polygonC.User).toBe('node');
    const alpacaC = containers.find((c) => JSON.stringify(c.Command).includes('alpaca'))!;
    expect(alpacaC.Command).toContain('wss://stream.data.alpaca.markets/v2/iex');
    // Configuration only in the environment: no key there.
    for (const c of containers) expect(JSON.stringify(c.Environment)).not.toMatch(/KEY|SECRET/);
  });

  it('least privilege: only the execution roles read the secrets; the task roles put records and quarantine files', () => {
    const all = resourcesOfType(t, 'AWS::IAM::Policy').flatMap(
      ([, p]) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement,
    );
    // The stack's other secret reader is the news pull, on its own key (test/infra/news-ingest.test.ts).
    const secretReads = all.filter(
      (s) =>
        actions(s).includes('secretsmanager:GetSecretValue') &&
        !JSON.stringify(s.Resource).includes('NewsApiKey'),
    );
    expect(secretReads.map((s) => s.Resource).sort()).toEqual([ALPACA_SECRET, POLYGON_SECRET]);
    const taskPolicies = policyOf('VendorStreamTaskpolygonusTaskRole');
    const taskActions = taskPolicies.flatMap(actions);
    expect(taskActions).toEqual(expect.arrayContaining(['kinesis:PutRecord', 'kinesis:PutRecords']));
    expect(taskActions).not.toContain('secretsmanager:GetSecretValue');
    expect(taskActions.filter((a) => /^s3:/.test(a) && !/^s3:(PutObject|Abort)/.test(a))).toEqual([]);
    expect(JSON.stringify(taskPolicies)).toContain('/quarantine/vendor-stream/polygon/*');
    expect(taskActions.filter((a) => a === '*' || a.endsWith(':*'))).toEqual([]);
  });

  it('security group: no inbound, TLS out only', () => {
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('^Vendor streams'),
      SecurityGroupEgress: [Match.objectLike({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 })],
    });
  });

  it('alarms on refused keys, clock skew, drops, unfilled gaps and reconnects per vendor, on the contract metric names', () => {
    const alarms = resourcesOfType(t, 'AWS::CloudWatch::Alarm').map(([, a]) => JSON.stringify(a.Properties));
    for (const vendor of ['polygon', 'alpaca'])
      for (const m of [
        VENDOR_STREAM_METRIC.authFailures,
        VENDOR_STREAM_METRIC.clockSkew,
        VENDOR_STREAM_METRIC.drops,
        VENDOR_STREAM_METRIC.gapsUnfilled,
        VENDOR_STREAM_METRIC.reconnects,
      ])
        expect(
          alarms.filter((a) => a.includes(`"MetricName":"${m}"`) && a.includes(`"Value":"${vendor}"`)),
        ).toHaveLength(1);
    const auth = resourcesOfType(t, 'AWS::CloudWatch::Alarm')
      .map(([, a]) => a.Properties as Record<string, unknown>)
      .find(
        (p) =>
          String(JSON.stringify(p.Metrics)).includes('"MetricName":"AuthFailures"') &&
          String(JSON.stringify(p.Metrics)).includes('"polygon"'),
      )!;
    expect(auth).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(JSON.stringify(auth.AlarmActions)).toContain('AlarmTopic');
    expect(JSON.stringify(auth.Metrics)).toContain('"Namespace":"QuantPlatform"');
  });

  it('the stack without vendorStreams has no ECS service', () => {
    const plain = testApp([dev]).stages.dev;
    template(plain.ingestion).resourceCountIs('AWS::ECS::Service', 0);
  });
});

describe('vendorStreams config validation', () => {
  const ok = connections[0];
  it.each([
    [{ ...ok, name: 'bad name' }, /vendorStreams\[0\]\.name: letters, digits and -/],
    [{ ...ok, symbols: [] }, /vendorStreams\[0\]\.symbols/],
    [
      { ...ok, keySecretArn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:k' },
      /keySecretArn: expected a full Secrets Manager secret ARN/,
    ],
    [{ ...ok, url: 'ws://insecure' }, /url: must be wss:\/\/ \(TLS\)/],
    [{ ...ok, vendor: 'iex' as never }, /vendor: polygon or alpaca, got "iex"/],
  ])('%#: refuses a bad connection', (c, message) => {
    expect(() => validateVendorStreamConnections([c])).toThrow(message);
  });
  it('refuses a name used twice', () => {
    expect(() => validateVendorStreamConnections([ok, ok])).toThrow(/"polygon-us" is used twice/);
  });
});

describe('VendorStreamService in staging (paper trading, Alpaca IEX)', () => {
  let st: QuantStage;
  let ts: Template;
  beforeAll(() => {
    st = testApp([staging]).stages.staging;
    ts = template(st.ingestion);
  });

  it('runs the staging connection with the key from a secret it creates, encrypted and retained', () => {
    expect(staging.ingestion.vendorStreams?.map((c) => [c.name, c.vendor, c.keySecretArn])).toEqual([
      ['alpaca-iex', 'alpaca', undefined],
    ]);
    ts.resourceCountIs('AWS::ECS::Service', 1);
    const secrets = resourcesOfType(ts, 'AWS::SecretsManager::Secret').filter(([id]) =>
      id.startsWith('VendorStreamKeyalpacaiex'),
    );
    expect(secrets).toHaveLength(1);
    const [secretId, secret] = secrets[0]!;
    expect(secret.DeletionPolicy).toBe('Retain');
    expect(JSON.stringify(secret.Properties!.KmsKeyId)).toContain('VendorStreamKeySecretKey');
    // Only the connection's execution role reads it (ECS injects it at task start).
    const readers = resourcesOfType(ts, 'AWS::IAM::Policy').filter(([, p]) =>
      (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement.some(
        (s) =>
          actions(s).includes('secretsmanager:GetSecretValue') &&
          JSON.stringify(s.Resource).includes(secretId),
      ),
    );
    expect(readers.map(([, p]) => JSON.stringify(p.Properties!.Roles))).toEqual([
      expect.stringContaining('VendorStreamTaskalpacaiexExecutionRole'),
    ]);
    ts.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Command: Match.arrayWith([
            '--vendor',
            'alpaca',
            '--url',
            'wss://stream.data.alpaca.markets/v2/iex',
          ]),
        }),
      ],
    });
  });

  it('has no unacknowledged AwsSolutions or NIST 800-53 R5 findings', () => {
    expect(nagViolations(st.ingestion)).toEqual([]);
    expect(nagViolations(st.ingestion, 'NIST.800.53.R5')).toEqual([]);
  });
});
