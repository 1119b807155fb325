/**
 * The one schema of an environment's configuration: every field, its rules and the rules between
 * fields. `parseEnvironment` runs it once per environment (lib/quant-stage.ts); every mistake becomes a
 * `ConfigError` line naming the full path (`prod.trading.paperCostBps: must be a number 0-1000, got -1`).
 * Stacks get the parsed, frozen slices through their props. The types in ./types are inferred from here.
 */
import * as z from 'zod';
import { VALID_RETENTION_DAYS } from '../constructs/encrypted-log-group';
import { VENDORS } from '../../src/contract/vendor-stream';
import { FEATURE_NAMES, OPTIONAL_FEATURES } from '../../src/contract/ml';
import { ConfigError } from './errors';

type Fail = (path: string | readonly PropertyKey[], problem: string) => void;

/** A superRefine reporting through `fail` (later rules of the parent are skipped once one fails). */
const refine =
  <T>(check: (v: T, fail: Fail) => void) =>
  (v: T, ctx: z.RefinementCtx): void =>
    check(v, (path, message) =>
      ctx.addIssue({
        code: 'custom',
        path: typeof path === 'string' ? path.split('.').filter(Boolean) : [...path],
        message,
        continue: false,
      }),
    );

/** `s` with one more rule: `ok(v)`, else `problem(v)` at this field. */
const rule = <S extends z.ZodType>(
  s: S,
  ok: (v: z.output<S>) => boolean,
  problem: (v: z.output<S>) => string,
): S => s.superRefine(refine<z.output<S>>((v, fail) => (ok(v) ? undefined : fail([], problem(v))))) as S;

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  rule(
    z.number(),
    (v) => Number.isInteger(v) && v >= min && v <= max,
    (v) => `must be an integer ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `${min}-${max}`}, got ${v}`,
  );
const num = (min: number, max: number) =>
  rule(
    z.number(),
    (v) => Number.isFinite(v) && v >= min && v <= max,
    (v) => `must be a number ${min}-${max}, got ${v}`,
  );
const match = (re: RegExp, problem: (v: string) => string) => rule(z.string(), (v) => re.test(v), problem);
const obj = <S extends z.core.$ZodLooseShape>(shape: S) => z.strictObject(shape).readonly();
const list = <T extends z.ZodType>(item: T, min = 0, problem = `at least ${min} needed`) =>
  rule(
    z.array(item).readonly(),
    (a) => a.length >= min,
    () => problem,
  );
const unique = <S extends z.ZodType<readonly unknown[]>>(s: S) =>
  rule(
    s,
    (a) => new Set(a).size === a.length,
    () => 'duplicates',
  );

const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const date = rule(
  z.string(),
  (v) => /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`)),
  (v) => `expected yyyy-MM-dd, got "${v}"`,
);
const retention = rule(
  z.number(),
  (d) => VALID_RETENTION_DAYS.has(d),
  (d) =>
    `CloudWatch Logs does not accept ${d} days; use one of ${[...VALID_RETENTION_DAYS].sort((a, b) => a - b).join(', ')}`,
);
/** A complete secret ARN: an IAM grant names it exactly, so the random suffix must be there. */
const secretArn = match(
  /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/,
  (v) =>
    `expected a full Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>), got "${v}"`,
);

function octets(ip: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  const o = m?.slice(1, 5).map(Number);
  return o?.every((x) => x <= 255) ? o : undefined;
}
/** The mask of an IPv4 CIDR, or undefined when it is not one. */
function cidrMask(s: string): number | undefined {
  const [ip, mask, ...rest] = s.split('/');
  const ok = rest.length === 0 && octets(ip ?? '') && /^\d{1,2}$/.test(mask ?? '') && Number(mask) <= 32;
  return ok ? Number(mask) : undefined;
}
const cidr = rule(
  z.string(),
  (s) => cidrMask(s) !== undefined,
  (s) => `expected an IPv4 CIDR such as 10.0.0.0/24, got "${s}"`,
);
const vpcCidr = rule(
  z.string(),
  (s) => (cidrMask(s) ?? 0) >= 16 && (cidrMask(s) ?? 0) <= 24,
  (s) => `expected an IPv4 CIDR with a /16 to /24 mask, got "${s}"`,
);

// ---- Foundation -------------------------------------------------------------------------------

const network = obj({
  /** CIDR of the platform VPC. */
  vpcCidr,
  /** Availability zones (explicit so that synth needs no context lookup). */
  availabilityZones: unique(list(z.string(), 2)),
  /** NAT gateways for the egress subnets (1 saves cost outside prod). */
  natGateways: z.number(),
  /** Retention of the VPC flow log group, in days. */
  flowLogRetentionDays: retention,
}).superRefine(
  refine((n, fail) => {
    const max = n.availabilityZones.length;
    if (!Number.isInteger(n.natGateways) || n.natGateways < 1 || n.natGateways > max)
      fail('natGateways', `must be 1..${max} (one per AZ at most), got ${n.natGateways}`);
  }),
);

/** S3 moves objects to Standard-IA after 30 days at the earliest, and keeps them there 30 days. */
const IA_MIN_DAYS = 30;
const days = int(0);
const lifecycle = obj({
  /** Days after which objects move to S3 Standard-IA (0 = never). */
  infrequentAccessAfterDays: days,
  /** Days after which objects move to Glacier Instant Retrieval (0 = never). */
  glacierAfterDays: days,
  /** Days after which current objects expire (0 = never). */
  expireAfterDays: days,
  /** Days after which non-current versions expire. */
  noncurrentVersionExpireDays: int(1),
}).superRefine(
  refine((l, fail) => {
    const ia = l.infrequentAccessAfterDays;
    if (ia > 0 && ia < IA_MIN_DAYS)
      fail(
        'infrequentAccessAfterDays',
        `S3 moves objects to Standard-IA after ${IA_MIN_DAYS} days at the earliest, got ${ia}`,
      );
    if (ia > 0 && l.glacierAfterDays > 0 && l.glacierAfterDays < ia + IA_MIN_DAYS)
      fail(
        'glacierAfterDays',
        `objects must stay ${IA_MIN_DAYS} days in Standard-IA, so at least ${ia + IA_MIN_DAYS}, got ${l.glacierAfterDays}`,
      );
    const last = Math.max(ia, l.glacierAfterDays);
    if (l.expireAfterDays > 0 && l.expireAfterDays <= last)
      fail(
        'expireAfterDays',
        `must be later than the last transition (day ${last}), got ${l.expireAfterDays}`,
      );
  }),
);

const positive = rule(
  z.number(),
  (v) => Number.isSafeInteger(v) && v >= 1,
  (v) => `must be a positive whole number, got ${v}`,
);
const dataLake = obj({
  raw: lifecycle,
  curated: lifecycle,
  vendor: lifecycle,
  results: lifecycle,
  models: lifecycle,
  /** Athena query results are scratch data. */
  athenaResultsExpireDays: positive,
  /** S3 server access logs retention. */
  accessLogsExpireDays: positive,
  /** Object Lock (compliance mode) retention of the audit bucket, in days (S3 allows 100 years at most). */
  auditRetentionDays: rule(
    positive,
    (v) => v <= 36500,
    (v) => `at most 36500 days, got ${v}`,
  ),
  /** Per-query cutoff of bytes scanned in the Athena workgroup (Athena's bounds: 10 MB .. 7 EB). */
  athenaBytesScannedCutoff: rule(
    positive,
    (v) => v >= 10_000_000,
    (v) => `Athena's minimum is 10000000 bytes, got ${v}`,
  ),
  /** Alarm when the workgroup scans more than this many bytes in one hour (a cost guard). */
  athenaHourlyBytesAlarm: positive,
  /** First date of the `dt` partition projection range (yyyy-MM-dd). */
  projectionStartDate: date,
});

const monitoring = obj({
  /** Alarm notifications go to this address (SNS e-mail subscription). */
  alarmEmail: match(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, (v) => `not an e-mail address: "${v}"`),
  /** Retention of application log groups, in days. */
  logRetentionDays: retention,
});

// ---- Vendor sync ------------------------------------------------------------------------------

const HIVE_TYPES = new Set(['string', 'double', 'bigint', 'int', 'date', 'timestamp', 'boolean']);
const relativePrefix = (p: string) => !p.startsWith('/') && p.endsWith('/');
/** DataSync joins include / exclude patterns with '|'. */
const filterPattern = match(/^[^|]*$/, (p) => `"${p}" contains '|'`);

const vendorDataset = obj({
  /** Glue table name. */
  table: match(/^[a-z][a-z0-9_]{0,127}$/, (v) => `not a Glue table name: "${v}"`),
  /** Key prefix under `<vendorName>/` in the vendor zone, no slashes at either end. */
  prefix: rule(
    z.string(),
    (p) => p !== '' && !p.startsWith('/') && !p.endsWith('/'),
    (p) => `expected a prefix without leading or trailing '/', got "${p}"`,
  ),
  format: z.enum(['parquet', 'csv']),
  /** Columns with Hive types (string, double, bigint, int, date, timestamp, boolean). */
  columns: list(
    obj({
      name: z.string(),
      type: rule(
        z.string(),
        (t) => HIVE_TYPES.has(t),
        (t) => `unsupported type "${t}"`,
      ),
    }),
    1,
    'at least one column',
  ),
  /** Date partition `<name>=yyyy-MM-dd` projected from `start` to today; omit for unpartitioned data. */
  datePartition: obj({ name: z.string(), start: date }).optional(),
});

const vendorSync = obj({
  /** AWS account that owns the vendor bucket. */
  vendorAccount: match(ACCOUNT, (v) => `expected a 12-digit account id, got "${v}"`),
  /** Vendor bucket name. */
  vendorBucket: match(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, (v) => `not a bucket name: "${v}"`),
  /** Region of the vendor bucket. */
  vendorRegion: match(REGION, (v) => `not a region: "${v}"`),
  /** Prefix in the vendor bucket to copy ('' = all). */
  vendorPrefix: rule(
    z.string(),
    (p) => p === '' || relativePrefix(p),
    (p) => `expected '' or a prefix ending in '/', got "${p}"`,
  ),
  /** Short name of the vendor: destination prefix `<vendorName>/` in the vendor zone, Glue table prefix. */
  vendorName: match(/^[a-z0-9][a-z0-9_-]{0,62}$/, (v) => `expected [a-z0-9_-], got "${v}"`),
  /** 'pull': DataSync reads the vendor bucket; 'push': the vendor replicates to us; 'both'. */
  mode: z.enum(['pull', 'push', 'both']),
  /** Full copy split into one DataSync task per prefix (relative to vendorPrefix); [] = one task. */
  fullCopyPrefixes: list(rule(z.string(), relativePrefix, (p) => `"${p}" must be relative and end in '/'`)),
  /** Schedule of the incremental task, a DataSync schedule expression (UTC), e.g. `cron(0 3 * * ? *)`. */
  incrementalSchedule: match(/^(cron|rate)\(.+\)$/, (v) => `expected cron(...) or rate(...), got "${v}"`),
  /** DataSync include / exclude patterns ('/'-rooted, `*` wildcards); [] = none. */
  includes: list(filterPattern),
  excludes: list(filterPattern),
  /** Bandwidth cap per task in bytes/s (-1 = unlimited). */
  bytesPerSecond: rule(
    z.number(),
    (b) => b === -1 || (Number.isInteger(b) && b >= 1_048_576),
    (b) => `expected -1 (unlimited) or at least 1 MiB/s, got ${b}`,
  ),
  /** Alarm when no incremental has run for this many hours. */
  lateAfterHours: int(1, 168),
  /** SSE-KMS key of the vendor bucket, if any (pull: our DataSync role may decrypt with it). */
  vendorKmsKeyArn: z.string().optional(),
  /** Push mode: the vendor's replication role, allowed to write replicas under `<vendorName>/`. */
  replicationRoleArn: z.string().optional(),
  /** Push mode: ask the vendor for S3 Replication Time Control (15-minute SLA, extra cost). */
  replicationTimeControl: z.boolean(),
  /** Vendor datasets with a Glue table each (partition projection, so Athena sees them at once). */
  datasets: list(vendorDataset),
}).superRefine(
  refine((c, fail) => {
    // S3 Replication keeps keys: replicas land where pulled copies do only if the vendor's prefix is ours.
    if (c.mode !== 'pull' && c.vendorPrefix !== `${c.vendorName}/`)
      fail(
        'vendorPrefix',
        `push mode replicates keys unchanged, so the vendor must deliver under "${c.vendorName}/"`,
      );
    if (c.mode !== 'pull' && !c.replicationRoleArn?.startsWith(`arn:aws:iam::${c.vendorAccount}:role/`))
      fail(
        'replicationRoleArn',
        `push mode needs the vendor's replication role (an IAM role of ${c.vendorAccount})`,
      );
    c.datasets.forEach((d, i) => {
      if (c.datasets.findIndex((o) => o.table === d.table) < i)
        fail(['datasets', i, 'table'], `"${d.table}" is defined twice`);
    });
  }),
);

// ---- Backtest, ingestion, trading -------------------------------------------------------------

/** Fargate's valid memory per CPU (Linux): [min, max, step] in MiB. */
const FARGATE_MEMORY: Readonly<Record<number, readonly [number, number, number]>> = {
  256: [512, 2048, 1024],
  512: [1024, 4096, 1024],
  1024: [2048, 8192, 1024],
  2048: [4096, 16384, 1024],
  4096: [8192, 30720, 1024],
  8192: [16384, 61440, 4096],
  16384: [32768, 122880, 8192],
};

const backtest = obj({
  /** Largest sweep (parameter sets after the --where filter) the validate step accepts. */
  maxGridSize: int(1, 10_000_000),
  /** Parameter sets per ECS task (Distributed Map ItemBatcher MaxItemsPerBatch). */
  batchSize: int(1, 100),
  /** ECS tasks of one sweep running at the same time (Distributed Map MaxConcurrency). */
  maxConcurrency: int(1, 10_000),
  /** Share of failed batches (0-100) a sweep tolerates before it fails. */
  toleratedFailurePercentage: int(0, 100),
  /** Run batch tasks on Fargate Spot (cheaper; an interrupted batch is retried). */
  useFargateSpot: z.boolean(),
  /** Fargate task size: vCPU units (1024 = 1 vCPU) and memory in MiB. */
  taskCpu: rule(
    z.number(),
    (c) => Object.hasOwn(FARGATE_MEMORY, c),
    (c) => `must be one of ${Object.keys(FARGATE_MEMORY).join(', ')}, got ${c}`,
  ),
  taskMemoryMiB: z.number(),
  /** Rows in the ranked top-N object a sweep publishes. */
  topN: int(1, 1000),
  /** Longest a sweep may run, in hours (Step Functions stops it then). */
  timeoutHours: int(1, 24 * 365),
}).superRefine(
  refine((c, fail) => {
    const [min, max, step] = FARGATE_MEMORY[c.taskCpu]!;
    if (c.taskMemoryMiB < min || c.taskMemoryMiB > max || c.taskMemoryMiB % step !== 0)
      fail(
        'taskMemoryMiB',
        `with taskCpu ${c.taskCpu} must be ${min}..${max} in steps of ${step}, got ${c.taskMemoryMiB}`,
      );
  }),
);

/** One vendor WebSocket connection streamed into `ticks` (lib/constructs/vendor-stream-service.ts). */
const vendorStream = obj({
  /** Names the service (letters, digits, -), e.g. `polygon-us-equities`. */
  name: match(/^[A-Za-z0-9-]{1,32}$/, (v) => `letters, digits and - (1-32), got "${v}"`),
  vendor: z.enum(VENDORS),
  symbols: list(
    match(/^[A-Za-z0-9._-]{1,64}$/, (s) => `not a symbol: "${s}"`),
    1,
    'one or more symbols ([A-Za-z0-9._-]{1,64})',
  ),
  /**
   * Full ARN of the secret whose SecretString is the key (Alpaca: `KEY_ID:SECRET`).
   * @default a secret the service creates, encrypted and retained; put the key in after deploy
   */
  keySecretArn: secretArn.optional(),
  /** @default the vendor's WebSocket endpoint */
  url: match(/^wss:\/\//, () => 'must be wss:// (TLS)').optional(),
  /** @default the vendor's REST endpoint */
  restUrl: match(/^https:\/\//, () => 'must be https:// (TLS)').optional(),
  /** @default ['trades', 'quotes'] */
  channels: list(z.enum(['trades', 'quotes', 'bars'])).optional(),
});

const ingestion = obj({
  /** Vendor WebSocket connections streamed into `ticks`, one ECS service each. @default none */
  vendorStreams: list(vendorStream)
    .superRefine(
      refine((cs, fail) =>
        cs.forEach((c, i) => {
          if (cs.findIndex((o) => o.name === c.name) < i) fail([i, 'name'], `"${c.name}" is used twice`);
        }),
      ),
    )
    .optional(),
  /** Kinesis capacity mode of the `ticks` stream: on-demand scales itself; provisioned is cheaper when steady. */
  streamMode: z.enum(['on-demand', 'provisioned']),
  /** Shards when provisioned (ignored on demand). */
  shardCount: int(1, 500),
  /** Stream retention in hours: how long a stopped consumer can catch up. */
  retentionHours: int(24, 8760),
  /** Records per consumer invocation. */
  consumerBatchSize: int(1, 10_000),
  /** Seconds the event source buffers before invoking (bigger files, fewer objects). */
  consumerBatchingWindowSeconds: int(0, 300),
  /** Concurrent batches per shard. */
  consumerParallelization: int(1, 10),
  /** Consumer Lambda memory in MiB. */
  consumerMemoryMiB: int(128, 10_240),
  /** Iterator age (seconds) above which the consumer is alarmed as falling behind. */
  iteratorAgeAlarmSeconds: int(1),
  /** Glue worker type and count (a driver and at least one executor) of the bars and compaction jobs. */
  glueWorkerType: z.enum(['G.1X', 'G.2X']),
  glueWorkers: int(2, 299),
  /** Hour (UTC) of the daily compaction + bars workflow run. */
  dailyRunHourUtc: int(0, 23),
});

const returnsJob = obj({
  /** Symbols of the window (each needs daily bars in the lake). */
  symbols: unique(
    rule(
      list(
        match(/^[A-Za-z0-9._-]{1,32}$/, (s) => `not a symbol: "${s}"`),
        1,
      ),
      (a) => a.length <= 200,
      (a) => `at most 200 symbols, got ${a.length}`,
    ),
  ),
  /** Returns in the window. */
  days: int(2, 5000),
  /** Time of day (UTC) it runs, e.g. after the daily bars are in. */
  hourUtc: int(0, 23),
  minuteUtc: int(0, 59),
});

const trading = obj({
  /** Trading account the kill switch halts and the Lambdas trade for. */
  account: match(/^[A-Za-z0-9._-]{1,64}$/, (v) => `must be 1-64 letters, digits or ._-, got "${v}"`),
  /** Broker adapter of the execution Lambda: the paper broker, or the REST adapter. */
  broker: z.enum(['paper', 'rest']),
  /** Base URL of the REST broker (broker 'rest'); its keys live in a Secrets Manager secret. */
  brokerUrl: match(/^https:\/\//, (v) => `must be an https:// URL, got "${v}"`).optional(),
  /** Commission of the paper broker in basis points. */
  paperCostBps: num(0, 1000),
  /** Reserved concurrency of the execution Lambda (caps the order rate toward the broker). */
  executionConcurrency: int(1, 100),
  /** Kinesis signals stream: shards when provisioned, 0 = on-demand. */
  signalShards: int(0, 100),
  /** Execution errors in 5 minutes that trip the kill switch. */
  killSwitchErrorThreshold: int(1),
  /**
   * Daily job that publishes the account's returns window (VaR and correlation limits) from the
   * lake's daily bars, as `quant risk returns` does. Absent: no schedule (run the CLI yourself).
   */
  returnsJob: returnsJob.optional(),
  /**
   * Oldest lake quote (latest 1m bar) an algo child may be priced at, in ms; a child without a
   * fresher one is rejected as stale. Set it above the bars job's lag.
   * @default 300000 (5 minutes)
   */
  quoteMaxAgeMs: int(1_000, 86_400_000).optional(),
  /**
   * Reserved concurrency of the kill-switch Lambda: a halt is never throttled by other functions
   * using up the account's concurrency.
   * @default 2
   */
  killSwitchConcurrency: int(1, 100).optional(),
  /**
   * Reserved concurrency of the risk-check Lambda (strategies' pre-trade checks).
   * @default 10
   */
  riskCheckConcurrency: int(1, 100).optional(),
}).superRefine(
  refine((c, fail) => {
    if (c.broker === 'rest' && c.brokerUrl === undefined)
      fail('brokerUrl', 'broker rest needs an https:// brokerUrl');
  }),
);

// ---- Feed handler -----------------------------------------------------------------------------

const port = (min = 1) => int(min, 65_535);
const hostPort = rule(
  z.string(),
  (e) => {
    const [host, p, ...rest] = e.split(':');
    return (
      rest.length === 0 &&
      !!octets(host ?? '') &&
      /^\d+$/.test(p ?? '') &&
      Number(p) >= 1 &&
      Number(p) <= 65_535
    );
  },
  (e) => `expected ipv4:port, got "${e}"`,
);
/** A multicast group and UDP port of one CME feed. */
const feedGroup = obj({
  /** Multicast group address; 224.0.0.0/24 is link-local (never routed). */
  group: rule(
    z.string(),
    (g) => {
      const o = octets(g);
      return !!o && o[0]! >= 224 && o[0]! <= 239 && !(o[0] === 224 && o[1] === 0 && o[2] === 0);
    },
    (g) => `expected a routable multicast address (224.0.1.0-239.255.255.255), got "${g}"`,
  ),
  /** UDP destination port. */
  port: port(),
});

/** One CME MDP 3.0 channel: one `quant feed run` service per instance. */
const feedChannel = obj({
  /** CME channel id: names the systemd service and the `Channel` dimension of the feed metrics. */
  id: rule(
    z.number(),
    (v) => Number.isInteger(v) && v >= 1,
    (v) => `must be a positive integer, got ${v}`,
  ),
  /** Incremental feed A. */
  feedA: feedGroup,
  /** Incremental feed B. */
  feedB: feedGroup,
  /** Market recovery feed (snapshot loop); omit to run without snapshot recovery. */
  snapshot: feedGroup.optional(),
  /** TCP port subscribers connect to for this channel's packets (>= 1024: the service is not root). */
  relayTcpPort: port(1024),
  /** Unicast UDP subscribers (`host:port`) that receive every packet byte-exact; [] = none. */
  relayUdp: list(hostPort),
  /** Loopback port of the handler's Prometheus-text `/metrics` endpoint (>= 1024). */
  metricsPort: port(1024),
  /** CME TCP replay service (`ipv4:port`, reached through the Transit Gateway) for small gaps; omit for none. */
  tcpReplay: hostPort.optional(),
}).superRefine(
  refine((c, fail) => {
    if (c.feedA.group === c.feedB.group && c.feedA.port === c.feedB.port)
      fail('feedB', 'feeds A and B are the same group and port');
  }),
);

/** The CME feed handler on EC2 behind a Transit Gateway multicast domain (docs/feed-handler.md). */
const feed = obj({
  /** Build the FeedHandlerStack (a Transit Gateway and the instances cost money while idle). */
  enabled: z.boolean(),
  /**
   * CIDR of a dedicated feed VPC (/16 to /24) built in the feed stack; omit to use the network stack's
   * private subnets with egress.
   */
  dedicatedVpcCidr: vpcCidr.optional(),
  /** One handler instance per AZ (A/B redundancy across AZs); each must be one of network.availabilityZones. */
  availabilityZones: unique(list(z.string(), 1, 'at least one AZ (two for an A/B pair)')),
  /** Network-optimized instance type (the `n` attribute: c6in, c7gn, m6in, ...); `g` types run arm64. */
  instanceType: z.string().superRefine(
    refine((t, fail) => {
      const type = /^([a-z]+)(\d+)([a-z-]*)\.(\d*[a-z]+\d*)$/.exec(t);
      if (!type) fail([], `expected an EC2 instance type such as c6in.xlarge, got "${t}"`);
      else if (!type[3]!.includes('n'))
        fail([], `"${t}" is not network-optimized (use a type with the n attribute: c6in, c7gn, m6in, ...)`);
    }),
  ),
  /** One cluster placement group per AZ (a cluster group cannot span AZs): low latency to co-located consumers. */
  clusterPlacementGroup: z.boolean(),
  /** Encrypted gp3 root volume size in GiB. */
  rootVolumeGiB: int(8, 16_384),
  /** Where the instance keeps the SBE schema (passed to `quant feed run --schema`). */
  schemaPath: match(
    /^\/[A-Za-z0-9._/-]+$/,
    (v) => `expected an absolute path without spaces or quotes, got "${v}"`,
  ),
  /** `s3://bucket/key` the instance copies the schema from at boot (the operator uploads it there). */
  schemaS3Uri: match(
    /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/[A-Za-z0-9!_.*'()/-]+$/,
    (v) => `expected s3://bucket/key, got "${v}"`,
  ),
  channels: list(feedChannel, 1, 'at least one channel'),
  /** Source addresses of the multicast packets (as forwarded by the virtual router): UDP allowed from these only. */
  multicastSourceCidrs: list(cidr, 1),
  /**
   * ENIs of the virtual routers, registered as static sources of every group; [] = no static sources
   * (any host in the domain's subnets may send).
   */
  routerSourceEnis: list(match(/^eni-[0-9a-f]{8,17}$/, (v) => `expected an ENI id (eni-...), got "${v}"`)),
  /** IGMPv2 multicast domain (hosts join by IGMP); AWS does not allow it together with static sources. */
  igmpv2: z.boolean(),
  /** Networks allowed to connect to the TCP relay ports. */
  relaySubscriberCidrs: list(cidr),
  /** On-premises networks reached through the Transit Gateway (TCP replay, GRE peers); [] = none. */
  onPremisesCidrs: list(cidr),
  /**
   * Full ARN (with Secrets Manager's six-character suffix) of the secret holding the CME TCP replay
   * logon, JSON `{"username": "...", "password": "..."}`; required when a channel sets `tcpReplay`.
   * The handler role may read exactly this secret.
   */
  tcpReplayCredentialsSecretArn: secretArn.optional(),
  /** Publish normalized trades and quotes into the ingestion `ticks` stream. */
  publishToKinesis: z.boolean(),
  /** Alarm when a channel receives no packet on either feed for this many minutes (heartbeats count). */
  noPacketsAlarmMinutes: int(1, 60),
  /** Alarm when more gaps than this occur in 5 minutes (all channels). */
  gapAlarmThreshold: int(0),
  /** Alarm when more recoveries than this run in 5 minutes (all channels). */
  recoveryAlarmThreshold: int(0),
}).superRefine(
  refine((f, fail) => {
    const ports = new Map<number, string>();
    f.channels.forEach((c, i) => {
      if (f.channels.findIndex((o) => o.id === c.id) < i)
        fail(['channels', i, 'id'], `channel ${c.id} is listed twice`);
      for (const field of ['relayTcpPort', 'metricsPort'] as const) {
        const other = ports.get(c[field]);
        if (other) fail(['channels', i, field], `port ${c[field]} is already used by ${other}`);
        ports.set(c[field], `feed.channels[${i}].${field}`);
      }
      if (c.tcpReplay !== undefined && f.tcpReplayCredentialsSecretArn === undefined)
        fail(
          ['channels', i, 'tcpReplay'],
          'CME TCP replay requires a logon: set feed.tcpReplayCredentialsSecretArn (the secret with its username and password)',
        );
    });
    if (f.tcpReplayCredentialsSecretArn !== undefined && !f.channels.some((c) => c.tcpReplay !== undefined))
      fail(
        'tcpReplayCredentialsSecretArn',
        'no channel sets tcpReplay (the role would read a secret it never uses)',
      );
    if (f.igmpv2 && f.routerSourceEnis.length > 0)
      fail(
        'igmpv2',
        'a multicast domain cannot have IGMPv2 and static sources (routerSourceEnis) at the same time',
      );
  }),
);

// ---- Training ---------------------------------------------------------------------------------

/** `<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>` split into its parts, or undefined. */
export function parseEcrImageUri(
  uri: string,
): { account: string; region: string; repository: string; tag: string } | undefined {
  const m =
    /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([a-z0-9][a-z0-9._/-]*):([\w.-]+)$/.exec(
      uri,
    );
  return m ? { account: m[1], region: m[2], repository: m[3], tag: m[4] } : undefined;
}

const schedule = match(
  /^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\([^()]+\))$/,
  (v) => `expected an EventBridge schedule expression such as cron(0 6 ? * SUN *), got "${v}"`,
);
const INSTANCE_FAMILIES = {
  gpu: /^(g4dn|g5|g6|g6e|p3|p3dn|p4d|p4de|p5|p5e)$/,
  trainium: /^(trn1|trn1n|trn2)$/,
  cpu: /^(m5|m6i|c5|c6i|r5)$/,
} as const;

/** SageMaker instance and container of the training job (GPU or Trainium, chosen per environment). */
const trainingCompute = obj({
  /** `gpu` (CUDA container), `trainium` (Neuron container) or `cpu` (cheap smoke runs). */
  accelerator: z.enum(['gpu', 'trainium', 'cpu']),
  /** SageMaker instance type, e.g. `ml.g5.xlarge`, `ml.trn1.2xlarge`, `ml.trn1.32xlarge`. */
  instanceType: match(
    /^ml\.[a-z0-9]+\.[a-z0-9]+$/,
    (v) => `expected a SageMaker instance type such as ml.g5.xlarge, got "${v}"`,
  ),
  /** Instances of the job; more than one runs torchrun across instances. */
  instanceCount: int(1, 16),
  /** Accelerator devices per instance torchrun starts one process for (GPUs or NeuronCores); 1 = no torchrun. */
  devicesPerInstance: int(1, 64),
  /**
   * The deep-learning container (an ECR image URI): the PyTorch GPU training DLC for `gpu`,
   * `pytorch-training-neuronx` for `trainium`.
   */
  imageUri: rule(
    z.string(),
    (u) => parseEcrImageUri(u) !== undefined,
    (u) => `expected <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>, got "${u}"`,
  ),
  /** Storage volume per instance in GiB (instance types with local NVMe use that instead). */
  volumeSizeGiB: int(1, 16384),
}).superRefine(
  refine((k, fail) => {
    if (!INSTANCE_FAMILIES[k.accelerator].test(k.instanceType.split('.')[1]!))
      fail('instanceType', `${k.instanceType} is not a ${k.accelerator} instance type`);
    const repository = parseEcrImageUri(k.imageUri)!.repository;
    if (k.accelerator === 'trainium' && !repository.includes('neuronx'))
      fail('imageUri', `a trainium job needs a Neuron (neuronx) container, got ${repository}`);
  }),
);

const range = (ok: (lo: number, hi: number) => boolean, expected: string) =>
  rule(
    z.tuple([z.number(), z.number()]).readonly(),
    ([lo, hi]) => ok(lo, hi),
    ([lo, hi]) => `expected ${expected}, got [${lo}, ${hi}]`,
  );

/** Optional Bayesian hyperparameter tuning in place of the single training job. */
const trainingTuning = obj({
  /** Objective metric printed by the training script: maximize `val_ic` or minimize `val_loss`. */
  objective: z.enum(['val_ic', 'val_loss']),
  /** Training jobs in total. */
  maxJobs: int(1, 500),
  /** Training jobs at the same time (1-maxJobs). */
  maxParallelJobs: z.number(),
  /** Learning rate range (log scale), [min, max]. */
  learningRate: range((lo, hi) => lo > 0 && hi > lo && hi < 1, '0 < min < max < 1'),
  /** Hidden units range, [min, max] integers. */
  hidden: range(
    (lo, hi) => Number.isInteger(lo) && Number.isInteger(hi) && lo >= 1 && hi > lo,
    'integers 1 <= min < max',
  ),
}).superRefine(
  refine((t, fail) => {
    const p = t.maxParallelJobs;
    if (!Number.isInteger(p) || p < 1 || p > t.maxJobs)
      fail('maxParallelJobs', `must be an integer 1-${t.maxJobs}, got ${p}`);
  }),
);

/** The training workflow, the drift check and the strategy runner of one environment. */
const training = obj({
  /**
   * Model name: the SageMaker model package group and the models bucket prefix. Training job names
   * are `<modelName>-<8 hex>`, tuning job names at most 32 characters; the registry keeps versions
   * under `models/<modelName>/`, next to the features of each run.
   */
  modelName: rule(
    rule(
      z.string(),
      (m) => /^[a-z0-9](-?[a-z0-9])*$/.test(m) && m.length <= 20,
      (m) => `lowercase letters, digits and single dashes, at most 20 characters, got "${m}"`,
    ),
    (m) => m !== 'features',
    () => '"features" is the prefix of the feature files',
  ),
  /** Symbols whose daily bars the features are computed from. */
  symbols: list(
    match(/^[A-Z0-9][A-Z0-9._-]{0,19}$/, (s) => `not a symbol: "${s}"`),
    1,
    'at least one symbol is needed',
  ),
  /** First bar date (yyyy-MM-dd) of the training data. */
  fromDate: date,
  /** Bars ahead of the label (forward return). */
  horizon: int(1, 250),
  compute: trainingCompute,
  /** Hyperparameters passed to training/train.py (all values strings, as SageMaker requires). */
  hyperparameters: z.record(z.string(), z.string()).readonly(),
  /** Managed spot training (checkpoints make interruptions resumable). */
  useSpot: z.boolean(),
  /** Longest a job may train, in hours (MaxRuntimeInSeconds). */
  maxRuntimeHours: int(1, 24 * 28),
  /** Longest a spot job may wait for capacity plus train, in hours (MaxWaitTimeInSeconds, >= maxRuntimeHours). */
  maxWaitHours: int(1, 24 * 28),
  /** Retries of a job whose instance failed (RetryStrategy.MaximumRetryAttempts). */
  retryAttempts: int(1, 30),
  /** Bayesian tuning; absent = one training job. */
  tuning: trainingTuning.optional(),
  /** EventBridge schedule expression of the retrain; absent = no scheduled retrain (start it with `quant train --remote`). */
  retrainSchedule: schedule.optional(),
  /** The gate: the candidate's held-out Sharpe must beat the champion's by at least this. */
  minSharpeGain: num(-10, 10),
  /** The gate: the candidate's held-out information coefficient must be at least this. */
  minTestIc: num(-1, 1),
  /** Which approved model (per trading environment) the gate, drift check and runner use. */
  tradingEnvironment: z.enum(['paper', 'staging', 'prod']),
  /** Schedule expression of the drift check. */
  driftSchedule: schedule,
  /** Bars of live features the drift check compares with the training statistics. */
  driftLookbackBars: int(20, 5000),
  /** Alarm when the largest feature PSI reaches this (0.2 is the usual "significant shift"). */
  driftPsiAlarm: num(0.01, 10),
  /** Alarm when a training job runs longer than this many minutes. */
  durationAlarmMinutes: int(1, 24 * 60 * 28),
  /** Schedule expression of the strategy runner (after each bar is in the lake). */
  runnerSchedule: schedule,
  /** Strategy runner memory in MiB (ONNX inference). */
  runnerMemoryMiB: int(128, 10240),
}).superRefine(
  refine((c, fail) => {
    for (const key of Object.keys(c.hyperparameters))
      if (key.startsWith('sagemaker_'))
        fail(['hyperparameters', key], 'sagemaker_* names are set by the stack');
    // The features step's SQL and the feature set version follow these names (`trainingFeatures` in ./training.ts).
    const known: readonly string[] = [...FEATURE_NAMES, ...OPTIONAL_FEATURES];
    for (const f of c.hyperparameters.features?.split(',') ?? [])
      if (!known.includes(f.trim()))
        fail(['hyperparameters', 'features'], `unknown feature "${f.trim()}" (known: ${known.join(', ')})`);
    if (c.useSpot && c.maxWaitHours < c.maxRuntimeHours)
      fail(
        'maxWaitHours',
        `must be at least maxRuntimeHours (${c.maxRuntimeHours}) with spot training, got ${c.maxWaitHours}`,
      );
  }),
);

// ---- Disaster recovery ------------------------------------------------------------------------

/** AWS Backup's floor for a compliance vault lock's grace period, in days. */
export const MIN_LOCK_CHANGEABLE_DAYS = 3;

/** AWS Backup of the trading tables and the lake buckets, with copies in the DR region. */
const backup = obj({
  /** Daily backups (and their DR-region copies) are kept this many days. */
  dailyRetentionDays: int(1, 36500),
  /** Monthly backups (and copies) are kept this many days; 0 = no monthly backups. */
  monthlyRetentionDays: int(0, 36500),
  /** Hour (UTC) the daily backup window opens. */
  hourUtc: int(0, 23),
  /**
   * Vault lock of both vaults. Compliance: after `lockChangeableForDays` nobody, root included, can
   * delete a recovery point early or remove the lock. Governance: IAM principals allowed to can.
   */
  vaultLock: z.enum(['compliance', 'governance']),
  /** Grace period (days) in which a compliance lock can still be removed. */
  lockChangeableForDays: int(MIN_LOCK_CHANGEABLE_DAYS, 36500),
}).superRefine(
  refine((b, fail) => {
    if (b.monthlyRetentionDays > 0 && b.monthlyRetentionDays <= b.dailyRetentionDays)
      fail(
        'monthlyRetentionDays',
        `must be 0 or longer than dailyRetentionDays (${b.dailyRetentionDays}), got ${b.monthlyRetentionDays}`,
      );
  }),
);

/**
 * The warm standby in the DR region (lib/stacks/disaster-recovery-standby-stack.ts): the trading
 * compute deployed against the replicas, dormant until failover (docs/disaster-recovery.md).
 */
const standby = obj({
  /** Deploy the standby (NAT gateways, Elastic IPs, a stream and keys cost money while idle). */
  enabled: z.boolean(),
  /**
   * Nothing runs: the order path's and the kill switch's reserved concurrency is 0 and their rules
   * and stream mapping are disabled. Set false only after a failover (double trading otherwise).
   */
  dormant: z.boolean(),
  /** The standby's VPC in the DR region (NAT gateways with fixed Elastic IPs for the broker). */
  network: network.optional(),
});

const disasterRecovery = obj({
  /** Region of the replica buckets, the trading-table replicas and the backup copies. */
  drRegion: match(REGION, (v) => `expected a region such as us-west-2, got "${v}"`),
  backup,
  /** S3 Replication Time Control on the lake's replication (99.99% of objects within 15 minutes). */
  replicationTimeControl: z.boolean(),
  /** Alarm when an object's S3 replication takes longer than this, in seconds. */
  s3ReplicationAlarmSeconds: int(60, 86400),
  /** Alarm when the trading tables' replica lags by more than this (keep it under the RPO), in seconds. */
  tableReplicationAlarmSeconds: int(1, 3600),
  /**
   * Warm standby trading compute in the DR region.
   * @default none (failover deploys the trading compute: RTO well over 15 minutes)
   */
  standby: standby.optional(),
}).superRefine(
  refine((d, fail) => {
    const sb = d.standby;
    if (!sb?.enabled) return;
    if (!sb.network) fail('standby.network', 'missing: an enabled standby needs its VPC in the DR region');
  }),
);

// ---- The environment --------------------------------------------------------------------------

/** SageMaker pulls images from its own region. */
function imageInRegion(e: { region: string; training: z.output<typeof training> }, fail: Fail): void {
  const image = parseEcrImageUri(e.training.compute.imageUri)!;
  if (image.region !== e.region)
    fail(
      'training.compute.imageUri',
      `SageMaker pulls images from its own region (${e.region}), got one in ${image.region}`,
    );
}

function drAwayFromHome(
  e: { region: string; disasterRecovery?: z.output<typeof disasterRecovery> },
  fail: Fail,
): void {
  const dr = e.disasterRecovery;
  if (dr?.drRegion === e.region) {
    fail('disasterRecovery.drRegion', `must differ from the home region (${e.region})`);
    return;
  }
  // Checked once the DR region itself is right.
  const foreign = dr?.standby?.network?.availabilityZones.filter((az) => !az.startsWith(dr.drRegion)) ?? [];
  if (foreign.length > 0)
    fail(
      'disasterRecovery.standby.network.availabilityZones',
      `${foreign.join(', ')} not in drRegion ${dr!.drRegion}`,
    );
}

export const environmentSchema = obj({
  name: z.enum(['dev', 'staging', 'prod']),
  /** Target AWS account. */
  account: match(ACCOUNT, (v) => `expected a 12-digit AWS account id, got "${v}"`),
  /** Target AWS region. */
  region: match(REGION, (v) => `expected a region such as us-east-1, got "${v}"`),
  /** Stateful stacks get termination protection (prod). */
  terminationProtection: z.boolean(),
  network,
  dataLake,
  monitoring,
  vendorSync,
  backtest,
  ingestion,
  trading,
  feed,
  training,
  /**
   * Backups, cross-region copies and replication to a DR region (see docs/disaster-recovery.md).
   * Absent: none of it (dev).
   */
  disasterRecovery: disasterRecovery.optional(),
}).superRefine(
  refine((e, fail) => {
    const foreign = e.network.availabilityZones.filter((az) => !az.startsWith(e.region));
    if (foreign.length > 0)
      fail('network.availabilityZones', `${foreign.join(', ')} not in region ${e.region}`);
    const azs = e.network.availabilityZones;
    const outside = e.feed.availabilityZones.filter((az) => !azs.includes(az));
    if (outside.length > 0)
      fail(
        'feed.availabilityZones',
        `${outside.join(', ')} not in network.availabilityZones (${azs.join(', ')})`,
      );
    imageInRegion(e, fail);
    drAwayFromHome(e, fail);
  }),
);

/** The sections whose rules also depend on the home region, checked on their own (tests, tools). */
export const regionalSections = {
  training: obj({ region: z.string(), training }).superRefine(refine(imageInRegion)),
  disasterRecovery: obj({ region: z.string(), disasterRecovery }).superRefine(refine(drAwayFromHome)),
};

export const configSections = {
  network,
  lifecycle,
  dataLake,
  monitoring,
  vendorSync,
  vendorDataset,
  backtest,
  ingestion,
  vendorStream,
  trading,
  returnsJob,
  feed,
  feedChannel,
  feedGroup,
  training,
  trainingCompute,
  trainingTuning,
  disasterRecovery,
  backup,
  standby,
};

function describe(input: unknown): string {
  if (Array.isArray(input)) return 'a list';
  if (input === null || typeof input !== 'object') return JSON.stringify(input) ?? String(input);
  return 'an object';
}

function problem(issue: z.core.$ZodIssue): string {
  if ((issue.code === 'invalid_type' || issue.code === 'invalid_value') && issue.input === undefined)
    return 'missing';
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}, got ${describe(issue.input)}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}, got ${describe(issue.input)}`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    default:
      return issue.message;
  }
}

/** `prefix.a.b[2].c: problem`, one line per issue. */
function issueLine(prefix: string, issue: z.core.$ZodIssue): string {
  const at = issue.path.reduce<string>(
    (p, k) => (typeof k === 'number' ? `${p}[${k}]` : p ? `${p}.${String(k)}` : String(k)),
    prefix,
  );
  return `${at}: ${problem(issue)}`;
}

/** Parses `value` with `schema`; a mistake throws a `ConfigError`, one line per issue, paths under `prefix`. */
export function parseConfig<S extends z.ZodType>(schema: S, value: unknown, prefix = ''): z.output<S> {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.map((i) => issueLine(prefix, i)).join('\n'));
}

/** The checked, frozen config of one environment; every path in an error starts with its name. */
export function parseEnvironment(value: unknown): z.output<typeof environmentSchema> {
  const name = (value as { name?: unknown } | null)?.name;
  return parseConfig(environmentSchema, value, typeof name === 'string' && name !== '' ? name : 'config');
}
