/**
 * The config schema (lib/config/schema.ts): every kind of mistake is one `ConfigError` line naming the
 * full path, checked before any stack is built, and `cdk synth` prints it without a stack trace.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  dev,
  environments,
  parseEnvironment,
  prod,
  selectEnvironments,
  staging,
  withOverrides,
} from '../../lib/config';
import type { EnvironmentConfig, Overrides } from '../../lib/config';
import { repoRoot } from './helpers';

/** The error `parseEnvironment` throws for `config` (fails the test when it accepts it). */
function errorOf(config: unknown): ConfigError {
  try {
    parseEnvironment(config);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('the config was accepted');
}
const broken = (base: EnvironmentConfig, overrides: Overrides<EnvironmentConfig> | Record<string, unknown>) =>
  errorOf(withOverrides(base, overrides)).message;

const REPLAY_SECRET = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:quant/cme-replay-Ab12Cd';
const KEY_SECRET = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:quant/polygon-Ab12Cd';

describe('config schema: the shipped environments', () => {
  it('accepts dev, staging and prod and returns the same values, frozen', () => {
    for (const config of Object.values(environments)) {
      const parsed = parseEnvironment(config);
      expect(parsed).toEqual(config);
      expect(Object.isFrozen(parsed)).toBe(true);
      expect(Object.isFrozen(parsed.trading)).toBe(true);
      expect(Object.isFrozen(parsed.feed.channels)).toBe(true);
      expect(Object.isFrozen(parsed.feed.channels[0])).toBe(true);
    }
  });

  it('writes each catalog once: the environments share the vendor datasets and the returns job', () => {
    expect(staging.vendorSync.datasets).toBe(dev.vendorSync.datasets);
    expect(prod.vendorSync.datasets).toBe(dev.vendorSync.datasets);
    expect(prod.trading.returnsJob).toBe(dev.trading.returnsJob);
    expect(dev.vendorSync.datasets.map((d) => d.table)).toEqual(['vendor_symbols']);
  });
});

describe('config schema: one line per mistake, with the full path', () => {
  const cases = [
    // A value out of range.
    [prod, { trading: { paperCostBps: -1 } }, 'prod.trading.paperCostBps: must be a number 0-1000, got -1'],
    [dev, { backtest: { batchSize: 0 } }, 'dev.backtest.batchSize: must be an integer 1-100, got 0'],
    // A pattern.
    [dev, { account: '12345' }, 'dev.account: expected a 12-digit AWS account id, got "12345"'],
    // A value not in the list.
    [dev, { trading: { broker: 'ib' } }, 'dev.trading.broker: must be one of paper, rest, got "ib"'],
    // A value of the wrong type.
    [dev, { ingestion: { shardCount: '2' } }, 'dev.ingestion.shardCount: expected number, got "2"'],
    // A missing field.
    [dev, { monitoring: { alarmEmail: undefined } }, 'dev.monitoring.alarmEmail: missing'],
    // An unknown (misspelt) field.
    [dev, { trading: { paperCostBp: 2 } }, 'dev.trading: unknown field "paperCostBp"'],
    // An item of a list.
    [
      dev,
      { training: { symbols: ['SPY', 'bad symbol'] } },
      'dev.training.symbols[1]: not a symbol: "bad symbol"',
    ],
    // Two fields of one section.
    [
      dev,
      { backtest: { taskCpu: 1024, taskMemoryMiB: 1024 } },
      'dev.backtest.taskMemoryMiB: with taskCpu 1024 must be 2048..8192 in steps of 1024, got 1024',
    ],
    [
      dev,
      { network: { natGateways: 3 } },
      'dev.network.natGateways: must be 1..2 (one per AZ at most), got 3',
    ],
    // Items of one list against each other.
    [
      dev,
      {
        feed: {
          channels: [
            dev.feed.channels[0],
            { ...dev.feed.channels[0], relayTcpPort: 9400, metricsPort: 9401 },
          ],
        },
      },
      'dev.feed.channels[1].id: channel 310 is listed twice',
    ],
    // Fields of two sections (superRefine of the environment).
    [
      prod,
      { disasterRecovery: { drRegion: 'ap-southeast-1' } },
      'prod.disasterRecovery.drRegion: must differ from the home region (ap-southeast-1)',
    ],
    [
      dev,
      { feed: { availabilityZones: ['us-east-1d'] } },
      'dev.feed.availabilityZones: us-east-1d not in network.availabilityZones (us-east-1a, us-east-1b)',
    ],
    [
      dev,
      {
        network: { availabilityZones: ['us-west-2a', 'us-west-2b'] },
        feed: { availabilityZones: ['us-west-2a'] },
      },
      'dev.network.availabilityZones: us-west-2a, us-west-2b not in region us-east-1',
    ],
    [
      dev,
      { training: { compute: { imageUri: prod.training.compute.imageUri.replace('-neuronx', '') } } },
      'dev.training.compute.imageUri: SageMaker pulls images from its own region (us-east-1), got one in ap-southeast-1',
    ],
  ] as const;
  it.each(cases.map(([base, overrides, line]) => [line, base, overrides] as const))(
    '%s',
    (line, base, overrides) => {
      expect(broken(base, overrides)).toBe(line);
    },
  );

  it('reports every mistake, one line each', () => {
    expect(broken(dev, { region: 'us east', trading: { paperCostBps: -1 }, backtest: { topN: 0 } })).toBe(
      [
        'dev.region: expected a region such as us-east-1, got "us east"',
        'dev.backtest.topN: must be an integer 1-1000, got 0',
        'dev.trading.paperCostBps: must be a number 0-1000, got -1',
      ].join('\n'),
    );
  });

  it('names the config when it has no name', () => {
    expect(errorOf({}).message).toMatch(/^config\.name: missing\n/);
    expect(errorOf(null).message).toBe('config: expected object, got null');
  });
});

/** Rules the stacks checked in their constructors before; each is one schema rule now. */
describe('config schema: rules per section', () => {
  const channel = dev.feed.channels[0]!;
  const job = dev.trading.returnsJob!;
  const stream = { name: 'polygon-us', vendor: 'polygon', symbols: ['AAPL'], keySecretArn: KEY_SECRET };
  it.each([
    [
      'dev.network.vpcCidr: expected an IPv4 CIDR with a /16 to /24 mask',
      { network: { vpcCidr: '300.1.0.0/16' } },
    ],
    [
      'dev.network.flowLogRetentionDays: CloudWatch Logs does not accept 10 days',
      { network: { flowLogRetentionDays: 10 } },
    ],
    ['dev.monitoring.alarmEmail: not an e-mail address: "x"', { monitoring: { alarmEmail: 'x' } }],
    [
      'dev.dataLake.projectionStartDate: expected yyyy-MM-dd, got "2000-13-45"',
      { dataLake: { projectionStartDate: '2000-13-45' } },
    ],
    [
      "dev.dataLake.athenaBytesScannedCutoff: Athena's minimum is 10000000 bytes",
      { dataLake: { athenaBytesScannedCutoff: 1000 } },
    ],
    ['dev.dataLake.auditRetentionDays: at most 36500 days', { dataLake: { auditRetentionDays: 40000 } }],
    [
      'dev.dataLake.raw.infrequentAccessAfterDays: S3 moves objects to Standard-IA after 30 days at the earliest, got 10',
      { dataLake: { raw: { infrequentAccessAfterDays: 10 } } },
    ],
    [
      'dev.dataLake.curated.expireAfterDays: must be later than the last transition (day 365)',
      { dataLake: { curated: { ...prod.dataLake.curated, expireAfterDays: 100 } } },
    ],
    // backtest (lib/stacks/backtest-stack.ts)
    [
      'dev.backtest.toleratedFailurePercentage: must be an integer 0-100, got 101',
      { backtest: { toleratedFailurePercentage: 101 } },
    ],
    [
      'dev.backtest.taskCpu: must be one of 256, 512, 1024, 2048, 4096, 8192, 16384, got 300',
      { backtest: { taskCpu: 300 } },
    ],
    // ingestion (lib/stacks/ingestion-stack.ts, lib/constructs/vendor-stream-service.ts)
    [
      'dev.ingestion.consumerBatchSize: must be an integer 1-10000, got 20000',
      { ingestion: { consumerBatchSize: 20_000 } },
    ],
    ['dev.ingestion.glueWorkers: must be an integer 2-299, got 1', { ingestion: { glueWorkers: 1 } }],
    [
      'dev.ingestion.dailyRunHourUtc: must be an integer 0-23, got 24',
      { ingestion: { dailyRunHourUtc: 24 } },
    ],
    [
      'dev.ingestion.retentionHours: must be an integer 24-8760, got 12',
      { ingestion: { retentionHours: 12 } },
    ],
    [
      'dev.ingestion.vendorStreams[0].name: letters, digits and - (1-32), got "bad name"',
      { ingestion: { vendorStreams: [{ ...stream, name: 'bad name' }] } },
    ],
    [
      'dev.ingestion.vendorStreams[1].name: "polygon-us" is used twice',
      { ingestion: { vendorStreams: [stream, stream] } },
    ],
    [
      'dev.ingestion.vendorStreams[0].vendor: must be one of polygon, alpaca, got "iex"',
      { ingestion: { vendorStreams: [{ ...stream, vendor: 'iex' }] } },
    ],
    [
      'dev.ingestion.vendorStreams[0].symbols: one or more symbols',
      { ingestion: { vendorStreams: [{ ...stream, symbols: [] }] } },
    ],
    [
      'dev.ingestion.vendorStreams[0].url: must be wss:// (TLS)',
      { ingestion: { vendorStreams: [{ ...stream, url: 'ws://insecure' }] } },
    ],
    [
      'dev.ingestion.vendorStreams[0].keySecretArn: expected a full Secrets Manager secret ARN',
      {
        ingestion: {
          vendorStreams: [
            { ...stream, keySecretArn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:k' },
          ],
        },
      },
    ],
    // vendor sync (lib/stacks/data-sync-stack.ts)
    [
      'dev.vendorSync.vendorAccount: expected a 12-digit account id, got "12"',
      { vendorSync: { vendorAccount: '12' } },
    ],
    [
      "dev.vendorSync.vendorPrefix: expected '' or a prefix ending in '/', got \"no-slash\"",
      { vendorSync: { vendorPrefix: 'no-slash' } },
    ],
    [
      'dev.vendorSync.incrementalSchedule: expected cron(...) or rate(...), got "daily"',
      { vendorSync: { incrementalSchedule: 'daily' } },
    ],
    ['dev.vendorSync.lateAfterHours: must be an integer 1-168, got 0', { vendorSync: { lateAfterHours: 0 } }],
    [
      'dev.vendorSync.bytesPerSecond: expected -1 (unlimited) or at least 1 MiB/s, got 10',
      { vendorSync: { bytesPerSecond: 10 } },
    ],
    ['dev.vendorSync.excludes[0]: "a|b" contains \'|\'', { vendorSync: { excludes: ['a|b'] } }],
    [
      "dev.vendorSync.replicationRoleArn: push mode needs the vendor's replication role (an IAM role of 444444444444)",
      { vendorSync: { mode: 'push', vendorPrefix: 'acme/' } },
    ],
    [
      'dev.vendorSync.vendorPrefix: push mode replicates keys unchanged, so the vendor must deliver under "acme/"',
      { vendorSync: { mode: 'both', replicationRoleArn: 'arn:aws:iam::444444444444:role/r' } },
    ],
    [
      'dev.vendorSync.datasets[0].table: not a Glue table name: "Bad-Name"',
      { vendorSync: { datasets: [{ ...dev.vendorSync.datasets[0], table: 'Bad-Name' }] } },
    ],
    [
      'dev.vendorSync.datasets[0].columns[0].type: unsupported type "varchar"',
      {
        vendorSync: {
          datasets: [{ ...dev.vendorSync.datasets[0], columns: [{ name: 'x', type: 'varchar' }] }],
        },
      },
    ],
    // trading (lib/stacks/trading-stack.ts)
    [
      'dev.trading.executionConcurrency: must be an integer 1-100, got 0',
      { trading: { executionConcurrency: 0 } },
    ],
    [
      'dev.trading.brokerUrl: must be an https:// URL, got "http://x"',
      { trading: { broker: 'rest', brokerUrl: 'http://x' } },
    ],
    ['dev.trading.brokerUrl: broker rest needs an https:// brokerUrl', { trading: { broker: 'rest' } }],
    ['dev.trading.account: must be 1-64 letters, digits or ._-, got "a b"', { trading: { account: 'a b' } }],
    [
      'dev.trading.killSwitchErrorThreshold: must be an integer >= 1, got 0',
      { trading: { killSwitchErrorThreshold: 0 } },
    ],
    [
      'dev.trading.killSwitchConcurrency: must be an integer 1-100, got 0',
      { trading: { killSwitchConcurrency: 0 } },
    ],
    [
      'dev.trading.riskCheckConcurrency: must be an integer 1-100, got 1.5',
      { trading: { riskCheckConcurrency: 1.5 } },
    ],
    [
      'dev.trading.quoteMaxAgeMs: must be an integer 1000-86400000, got 10',
      { trading: { quoteMaxAgeMs: 10 } },
    ],
    [
      'dev.trading.returnsJob.days: must be an integer 2-5000, got 1',
      { trading: { returnsJob: { ...job, days: 1 } } },
    ],
    [
      'dev.trading.returnsJob.symbols: duplicates',
      { trading: { returnsJob: { ...job, symbols: ['A', 'A'] } } },
    ],
    [
      'dev.trading.returnsJob.hourUtc: must be an integer 0-23, got 24',
      { trading: { returnsJob: { ...job, hourUtc: 24 } } },
    ],
    // feed (lib/stacks/feed-handler-stack.ts)
    ['dev.feed.instanceType: "c6i.large" is not network-optimized', { feed: { instanceType: 'c6i.large' } }],
    ['dev.feed.instanceType: expected an EC2 instance type', { feed: { instanceType: 'large' } }],
    ['dev.feed.availabilityZones: at least one AZ', { feed: { availabilityZones: [] } }],
    [
      'dev.feed.channels[0].feedA.group: expected a routable multicast address',
      { feed: { channels: [{ ...channel, feedA: { group: '10.0.0.1', port: 1 } }] } },
    ],
    [
      'dev.feed.channels[0].feedB.port: must be an integer 1-65535, got 70000',
      { feed: { channels: [{ ...channel, feedB: { group: '224.0.32.1', port: 70_000 } }] } },
    ],
    [
      'dev.feed.channels[0].feedB: feeds A and B are the same group and port',
      { feed: { channels: [{ ...channel, feedB: channel.feedA }] } },
    ],
    [
      'dev.feed.channels[0].metricsPort: port 9310 is already used by feed.channels[0].relayTcpPort',
      { feed: { channels: [{ ...channel, metricsPort: 9310 }] } },
    ],
    [
      'dev.feed.channels[0].relayTcpPort: must be an integer 1024-65535, got 80',
      { feed: { channels: [{ ...channel, relayTcpPort: 80 }] } },
    ],
    [
      'dev.feed.channels[0].relayUdp[0]: expected ipv4:port',
      { feed: { channels: [{ ...channel, relayUdp: ['subscriber:7000'] }] } },
    ],
    ['dev.feed.multicastSourceCidrs: at least 1 needed', { feed: { multicastSourceCidrs: [] } }],
    [
      'dev.feed.relaySubscriberCidrs[0]: expected an IPv4 CIDR',
      { feed: { relaySubscriberCidrs: ['10.0.0.0/33'] } },
    ],
    [
      'dev.feed.routerSourceEnis[0]: expected an ENI id',
      { feed: { routerSourceEnis: ['i-0123456789abcdef0'] } },
    ],
    [
      'dev.feed.igmpv2: a multicast domain cannot have IGMPv2 and static sources',
      { feed: { igmpv2: true, routerSourceEnis: ['eni-0123456789abcdef0'] } },
    ],
    [
      'dev.feed.schemaS3Uri: expected s3://bucket/key',
      { feed: { schemaS3Uri: 'https://example.com/schema.xml' } },
    ],
    ['dev.feed.schemaPath: expected an absolute path', { feed: { schemaPath: 'schema.xml' } }],
    [
      'dev.feed.dedicatedVpcCidr: expected an IPv4 CIDR with a /16 to /24 mask',
      { feed: { dedicatedVpcCidr: '10.0.0.0/8' } },
    ],
    [
      'dev.feed.noPacketsAlarmMinutes: must be an integer 1-60, got 0',
      { feed: { noPacketsAlarmMinutes: 0 } },
    ],
    [
      'dev.feed.channels[0].tcpReplay: CME TCP replay requires a logon: set feed.tcpReplayCredentialsSecretArn',
      { feed: { channels: [{ ...channel, tcpReplay: '10.200.9.9:10000' }] } },
    ],
    [
      'dev.feed.tcpReplayCredentialsSecretArn: expected a full Secrets Manager secret ARN',
      {
        feed: {
          channels: [{ ...channel, tcpReplay: '10.200.9.9:10000' }],
          tcpReplayCredentialsSecretArn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:cme_replay',
        },
      },
    ],
    [
      'dev.feed.tcpReplayCredentialsSecretArn: no channel sets tcpReplay',
      { feed: { tcpReplayCredentialsSecretArn: REPLAY_SECRET } },
    ],
    // training, disaster recovery (lib/config)
    [
      'dev.training.modelName: "features" is the prefix of the feature files',
      { training: { modelName: 'features' } },
    ],
    [
      'dev.training.maxWaitHours: must be at least maxRuntimeHours (2) with spot training, got 1',
      { training: { maxWaitHours: 1 } },
    ],
    [
      'dev.training.hyperparameters.sagemaker_program: sagemaker_* names are set by the stack',
      { training: { hyperparameters: { sagemaker_program: 'x.py' } } },
    ],
    [
      'dev.training.compute.instanceType: ml.trn1.2xlarge is not a gpu instance type',
      { training: { compute: { instanceType: 'ml.trn1.2xlarge' } } },
    ],
    [
      'dev.training.tuning.maxParallelJobs: must be an integer 1-8, got 9',
      { training: { tuning: { ...staging.training.tuning, maxParallelJobs: 9 } } },
    ],
  ] as const)('%s', (line, overrides) => {
    expect(broken(dev, overrides)).toContain(line);
    expect(broken(dev, overrides).split('\n')).toHaveLength(1);
  });

  it('checks the disaster-recovery section of staging and prod', () => {
    expect(broken(staging, { disasterRecovery: { backup: { lockChangeableForDays: 1 } } })).toBe(
      'staging.disasterRecovery.backup.lockChangeableForDays: must be an integer 3-36500, got 1',
    );
    expect(broken(prod, { disasterRecovery: { backup: { monthlyRetentionDays: 10 } } })).toBe(
      'prod.disasterRecovery.backup.monthlyRetentionDays: must be 0 or longer than dailyRetentionDays (30), got 10',
    );
  });
});

describe('config schema: through `cdk synth`', () => {
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'cdk-config-schema-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('merges the quant:override context into the selected environments', () => {
    const [d] = selectEnvironments('dev', '{"trading":{"paperCostBps":2}}');
    expect(d!.trading.paperCostBps).toBe(2);
    expect(d!.trading.returnsJob).toEqual(dev.trading.returnsJob);
    expect(() => selectEnvironments('dev', '{trading')).toThrow(ConfigError);
    expect(() => selectEnvironments('dev', '[1]')).toThrow(/quant:override: expected a JSON object/);
  });

  it('prints the one line naming the field, no stack trace, and fails', async () => {
    const override = JSON.stringify({ trading: { paperCostBps: -1 } });
    const result = await promisify(execFile)(
      path.join(repoRoot, 'node_modules/.bin/cdk'),
      [
        'synth',
        '--quiet',
        '-o',
        path.join(outdir, 'out'),
        '-c',
        'env=prod',
        '-c',
        `quant:override=${override}`,
      ],
      { cwd: repoRoot },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code?: number; stderr?: string }) => ({ code: e.code ?? -1, stderr: e.stderr ?? '' }),
    );
    expect(result.code).not.toBe(0);
    const errors = result.stderr.split('\n').filter((l) => l.startsWith('error: '));
    expect(errors).toEqual(['error: prod.trading.paperCostBps: must be a number 0-1000, got -1']);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
