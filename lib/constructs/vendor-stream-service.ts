/**
 * The vendor streaming service: one ECS Fargate service per vendor connection (desired count 1, so
 * ECS restarts a task that exits or fails its health), each running `quant ingest stream`
 * (src/vendor-stream/service.ts) into the `ticks` stream. The key comes from a Secrets Manager
 * secret that ECS injects as QUANT_VENDOR_KEY (only the execution role may read it); the task role
 * may only put records into the stream and write the adapter quarantine prefix of the raw zone.
 * Metrics arrive as embedded metric format on stdout; alarms and a dashboard section are added
 * through the monitoring hub.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import {
  VENDOR_KEY_ENV,
  VENDOR_QUARANTINE_PREFIX,
  VENDOR_STREAM_METRIC as M,
  VENDOR_STREAM_METRICS,
  VENDOR_STREAM_NAME_ENV,
  type Vendor,
} from '../../src/contract/vendor-stream';
import { LAKE_BUCKET_ENV } from '../../src/contract/lake';
import type { IMonitoring } from '../stacks/monitoring-stack';
import { acknowledgeWildcards } from './acknowledge-wildcards';
import { taskImage } from './task-image';
import { EncryptedLogGroup } from './encrypted-log-group';
import { QuantKey } from './quant-key';
import { serviceMetric } from './service-metric';
import { graph } from './alarms';

/** A complete secret ARN (with its random suffix): the grant names exactly this secret. */
const SECRET_ARN =
  /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;
const SYMBOL = /^[A-Za-z0-9._-]{1,64}$/;

export interface VendorStreamConnection {
  /** Names the service (letters, digits, -), e.g. `polygon-us-equities`. */
  readonly name: string;
  readonly vendor: Vendor;
  readonly symbols: readonly string[];
  /**
   * Full ARN of the secret whose SecretString is the key (Alpaca: `KEY_ID:SECRET`).
   * @default a secret of this construct (KMS-encrypted, retained) holding a placeholder: put the key in after deploy
   */
  readonly keySecretArn?: string;
  /** @default the vendor's WebSocket endpoint */
  readonly url?: string;
  /** @default the vendor's REST endpoint */
  readonly restUrl?: string;
  /** @default ['trades', 'quotes'] */
  readonly channels?: ReadonlyArray<'trades' | 'quotes' | 'bars'>;
}

export interface VendorStreamServiceProps {
  readonly vpc: ec2.IVpc;
  /** The vendor is on the internet: subnets with a NAT route. @default PRIVATE_WITH_EGRESS */
  readonly subnets?: ec2.SubnetSelection;
  readonly stream: kinesis.IStream;
  /** Raw zone: the adapters' quarantine goes under `quarantine/vendor-stream/`. */
  readonly rawBucket: s3.IBucket;
  readonly connections: readonly VendorStreamConnection[];
  readonly monitoring: IMonitoring;
  /** @default 512 */
  readonly cpu?: number;
  /** @default 1024 */
  readonly memoryMiB?: number;
  /** @default 60 */
  readonly metricsIntervalSeconds?: number;
  /** Alarm when the vendor's clock is off ours by more than this (average over 5 minutes). @default 2000 */
  readonly clockSkewAlarmMs?: number;
  /** Alarm when a connection reconnects this often in 15 minutes. @default 10 */
  readonly reconnectAlarmThreshold?: number;
}

export function validateVendorStreamConnections(cs: readonly VendorStreamConnection[]): void {
  const names = new Set<string>();
  cs.forEach((c, i) => {
    const where = `vendorStreams[${i}]`;
    if (!/^[A-Za-z0-9-]{1,32}$/.test(c.name))
      throw new Error(`${where}.name: letters, digits and - (1-32), got "${c.name}"`);
    if (names.has(c.name)) throw new Error(`${where}.name: "${c.name}" is used twice`);
    names.add(c.name);
    if (c.vendor !== 'polygon' && c.vendor !== 'alpaca')
      throw new Error(`${where}.vendor: polygon or alpaca, got "${String(c.vendor)}"`);
    if (c.symbols.length === 0 || c.symbols.some((s) => !SYMBOL.test(s)))
      throw new Error(`${where}.symbols: one or more symbols ([A-Za-z0-9._-]{1,64})`);
    if (c.keySecretArn !== undefined && !SECRET_ARN.test(c.keySecretArn))
      throw new Error(
        `${where}.keySecretArn: expected a full Secrets Manager secret ARN, got "${c.keySecretArn}"`,
      );
    if (c.url !== undefined && !/^wss:\/\//.test(c.url))
      throw new Error(`${where}.url: must be wss:// (TLS)`);
    if (c.restUrl !== undefined && !/^https:\/\//.test(c.restUrl))
      throw new Error(`${where}.restUrl: must be https:// (TLS)`);
  });
}

export class VendorStreamService extends Construct {
  readonly cluster: ecs.Cluster;
  readonly services: Readonly<Record<string, ecs.FargateService>>;
  readonly alarms: cw.Alarm[] = [];

  constructor(scope: Construct, id: string, props: VendorStreamServiceProps) {
    super(scope, id);
    validateVendorStreamConnections(props.connections);
    const { monitoring } = props;
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    const logs = EncryptedLogGroup.of(this, 'Logs', monitoring);
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Vendor streams: no inbound; TLS out to the vendor (wss/https) and AWS endpoints',
      allowAllOutbound: false,
    });
    securityGroup.addEgressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(443),
      'wss/https to the vendor and AWS endpoints',
    );
    const image = taskImage('vendor-stream', ['ecs-tasks', 'ecs-tasks/**']);
    const services: Record<string, ecs.FargateService> = {};
    for (const c of props.connections) {
      const task = new ecs.FargateTaskDefinition(this, `Task-${c.name}`, {
        cpu: props.cpu ?? 512,
        memoryLimitMiB: props.memoryMiB ?? 1024,
        runtimePlatform: {
          cpuArchitecture: ecs.CpuArchitecture.ARM64,
          operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
        },
      });
      const secret = c.keySecretArn
        ? secretsmanager.Secret.fromSecretCompleteArn(this, `Key-${c.name}`, c.keySecretArn)
        : this.keySecret(c);
      const command = [
        '--vendor',
        c.vendor,
        '--symbols',
        c.symbols.join(','),
        '--channels',
        (c.channels ?? ['trades', 'quotes']).join(','),
        '--metrics-interval',
        String(props.metricsIntervalSeconds ?? 60),
      ];
      if (c.url) command.push('--url', c.url);
      if (c.restUrl) command.push('--rest-url', c.restUrl);
      task.addContainer('stream', {
        image,
        command,
        essential: true,
        readonlyRootFilesystem: true,
        user: 'node',
        logging: ecs.LogDrivers.awsLogs({ logGroup: logs, streamPrefix: c.name }),
        environment: {
          [VENDOR_STREAM_NAME_ENV]: props.stream.streamName,
          [LAKE_BUCKET_ENV.raw]: props.rawBucket.bucketName,
        },
        // ECS reads the secret at task start with the execution role; the task role cannot read it.
        secrets: { [VENDOR_KEY_ENV]: ecs.Secret.fromSecretsManager(secret) },
        stopTimeout: Duration.seconds(30),
      });
      props.stream.grantWrite(task.taskRole);
      props.rawBucket.grantPut(task.taskRole, `${VENDOR_QUARANTINE_PREFIX}/${c.vendor}/*`);
      services[c.name] = new ecs.FargateService(this, `Service-${c.name}`, {
        cluster: this.cluster,
        taskDefinition: task,
        // One connection per key: vendors limit concurrent connections, so never two at once.
        desiredCount: 1,
        minHealthyPercent: 0,
        maxHealthyPercent: 100,
        circuitBreaker: { enable: true, rollback: true },
        vpcSubnets: props.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        securityGroups: [securityGroup],
        assignPublicIp: false,
      });
      Validations.of(task).acknowledge({
        id: 'AwsSolutions-ECS2',
        reason:
          'The environment holds the stream and bucket names only; the vendor key is injected from Secrets Manager.',
      });
    }
    this.services = services;
    acknowledgeWildcards(this, [
      [
        /\/quarantine\/vendor-stream\/(polygon|alpaca)\/\*$/,
        "Quarantined vendor messages are written as objects named at run time under the vendor's own quarantine prefix.",
      ],
    ]);
    this.addMonitoring(props);
  }

  private secretKey?: QuantKey;

  /** A secret for a connection's key, set by the operator after deploy (the vendor issues and rotates it). */
  private keySecret(c: VendorStreamConnection): secretsmanager.Secret {
    this.secretKey ??= new QuantKey(this, 'KeySecretKey', { description: 'Vendor stream key secrets' });
    const secret = new secretsmanager.Secret(this, `Key-${c.name}`, {
      description: `${c.vendor} key of the vendor stream ${c.name} (the key as the secret string; set after deploy)`,
      encryptionKey: this.secretKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const id of ['AwsSolutions-SMG4', 'NIST.800.53.R5-SecretsManagerRotationEnabled']) {
      Validations.of(secret).acknowledge({
        id,
        reason: `${c.vendor} issues and rotates this key in its own console; there is no rotation Lambda for a third-party key. A refused key raises the auth-failure alarm.`,
      });
    }
    return secret;
  }

  private addMonitoring(props: VendorStreamServiceProps): void {
    const { monitoring } = props;
    const period = Duration.minutes(1);
    const vendors = [...new Set(props.connections.map((c) => c.vendor))];
    const metric = (name: string, vendor: Vendor, statistic: string, label?: string): cw.Metric =>
      serviceMetric(VENDOR_STREAM_METRICS, name, {
        dimensionsMap: { vendor },
        statistic,
        period,
        label: label ?? `${vendor} ${name}`,
      });
    for (const v of vendors) {
      const cap = v[0].toUpperCase() + v.slice(1);
      this.alarms.push(
        monitoring.alarm(this, `${cap}AuthFailureAlarm`, {
          description: `${v} refused the key (expired or revoked?): update its secret; the task restarts and reads it again`,
          metric: metric(M.authFailures, v, 'Sum').with({ period: Duration.minutes(5) }),
          threshold: 1,
        }),
        monitoring.alarm(this, `${cap}ClockSkewAlarm`, {
          description: `${v}'s timestamps and our clock differ by more than ${props.clockSkewAlarmMs ?? 2000} ms (NTP on either side?)`,
          metric: new cw.MathExpression({
            expression: 'ABS(skew)',
            usingMetrics: { skew: metric(M.clockSkew, v, 'Average').with({ period: Duration.minutes(5) }) },
            label: `${v} |clock skew| ms`,
            period: Duration.minutes(5),
          }),
          threshold: props.clockSkewAlarmMs ?? 2000,
          comparison: '>',
        }),
        monitoring.alarm(this, `${cap}DropsAlarm`, {
          description: `${v} stream dropped events: a bounded queue was full (Kinesis slower than the feed)`,
          metric: metric(M.drops, v, 'Sum').with({ period: Duration.minutes(5) }),
          threshold: 1,
        }),
        monitoring.alarm(this, `${cap}GapUnfilledAlarm`, {
          description: `${v}: a gap over a disconnect could not be backfilled (REST history failing): ticks are missing`,
          metric: metric(M.gapsUnfilled, v, 'Sum').with({ period: Duration.minutes(5) }),
          threshold: 1,
        }),
        monitoring.alarm(this, `${cap}ReconnectAlarm`, {
          description: `${v} connection flapping: many reconnects in 15 minutes`,
          metric: metric(M.reconnects, v, 'Sum').with({ period: Duration.minutes(15) }),
          threshold: props.reconnectAlarmThreshold ?? 10,
        }),
      );
    }
    const each = (name: string, statistic: string, suffix = ''): cw.IMetric[] =>
      vendors.map((v) => metric(name, v, statistic, `${v}${suffix}`));
    monitoring.addSection('Vendor streams', [
      [
        graph(
          'Messages / s',
          vendors.map(
            (v) =>
              new cw.MathExpression({
                expression: `m_${v} / PERIOD(m_${v})`,
                usingMetrics: { [`m_${v}`]: metric(M.messages, v, 'Sum') },
                label: v,
                period,
              }),
          ),
        ),
        graph(
          'Reconnects, gaps backfilled / unfilled',
          [...each(M.reconnects, 'Sum', ' reconnects'), ...each(M.gapsBackfilled, 'Sum', ' gaps backfilled')],
          { right: each(M.gapsUnfilled, 'Sum', ' gaps unfilled') },
        ),
        graph(
          'Drops, duplicates, quarantined',
          [...each(M.drops, 'Sum', ' drops'), ...each(M.quarantined, 'Sum', ' quarantined')],
          { right: each(M.duplicates, 'Sum', ' duplicates') },
        ),
      ],
      [
        graph('Latency p99 (ms): exchange → Kinesis, receive → Kinesis', [
          ...each(M.endToEndLatency, 'Maximum', ' end to end'),
          ...each(M.receiveToKinesisLatency, 'Maximum', ' receive → Kinesis'),
        ]),
        graph('Clock skew (ms, receive − exchange floor)', each(M.clockSkew, 'Average')),
        graph('Auth failures, REST retries', each(M.authFailures, 'Sum', ' auth failures'), {
          right: each(M.restRetries, 'Sum', ' REST 429/5xx retries'),
        }),
      ],
    ]);
  }
}
