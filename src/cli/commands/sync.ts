import { readFileSync } from 'node:fs';
import type { DataSyncClient } from '@aws-sdk/client-datasync';
import type * as DataSyncApi from '../../sync/datasync';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { Command } from 'commander';
import { parseTimeoutSeconds } from '../../aws/network';
import { makeS3Client } from '../../aws/s3-client';
import { InputError } from '../../errors';
import { syncS3, type SyncReport } from '../../sync/engine';
import { estimateTransfer, parseSize } from '../../sync/estimate';
import { buildVendorPolicies, type PolicyParams } from '../../sync/policy';
import { parseS3Uri } from '../../sync/uri';
import { formatTable, printJson } from '../output';
import { endpoint, int, num } from '../options';

interface RunOptions {
  source: string;
  dest: string;
  sourceEndpoint?: string;
  destEndpoint?: string;
  sourceProfile?: string;
  destProfile?: string;
  sourceRegion?: string;
  destRegion?: string;
  concurrency: string;
  dryRun?: boolean;
  delete?: boolean;
  json?: boolean;
}

/**
 * Credentials of one side, in this order: --<side>-profile; <SIDE>_AWS_ACCESS_KEY_ID and
 * <SIDE>_AWS_SECRET_ACCESS_KEY (+ <SIDE>_AWS_SESSION_TOKEN); <SIDE>_AWS_PROFILE; otherwise the
 * standard chain (AWS_* variables, AWS_PROFILE, instance/task role), or the local server's keys
 * for a loopback endpoint.
 */
export async function sideCredentials(
  side: 'source' | 'dest',
  profile: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<AwsCredentialIdentity | undefined> {
  const P = side.toUpperCase();
  const id = env[`${P}_AWS_ACCESS_KEY_ID`];
  const secret = env[`${P}_AWS_SECRET_ACCESS_KEY`];
  const chosenProfile = profile ?? (id ? undefined : env[`${P}_AWS_PROFILE`]);
  if (chosenProfile) {
    try {
      // Loaded on use: `quant sync run` starts faster without the profile machinery.
      const { fromIni } = await import('@aws-sdk/credential-providers');
      return await fromIni({ profile: chosenProfile })();
    } catch (err) {
      throw new InputError(
        `--${side}-profile: profile "${chosenProfile}" gave no credentials (${err instanceof Error ? err.message : String(err)})`,
        `${side}-profile`,
      );
    }
  }
  if (id || secret) {
    if (!id || !secret) {
      throw new InputError(
        `${P}_AWS_ACCESS_KEY_ID and ${P}_AWS_SECRET_ACCESS_KEY must be set together`,
        side,
      );
    }
    return { accessKeyId: id, secretAccessKey: secret, sessionToken: env[`${P}_AWS_SESSION_TOKEN`] };
  }
  return undefined;
}

function printReport(r: SyncReport): void {
  const rows = [
    {
      what: r.dryRun ? 'would copy' : 'copied',
      objects: r.dryRun ? r.planned.copy.objects : r.copied.objects,
      bytes: r.dryRun ? r.planned.copy.bytes : r.copied.bytes,
    },
    { what: 'skipped (unchanged)', objects: r.skipped.objects, bytes: r.skipped.bytes },
    {
      what: r.delete && !r.dryRun ? 'deleted' : r.delete ? 'would delete' : 'extra at destination (kept)',
      objects: r.delete && !r.dryRun ? r.deleted.objects : r.planned.delete.objects,
      bytes: r.delete && !r.dryRun ? r.deleted.bytes : r.planned.delete.bytes,
    },
    { what: 'failed', objects: r.failed.objects, bytes: r.failed.bytes },
  ];
  process.stdout.write(`${r.source} -> ${r.dest}${r.dryRun ? ' (dry run: nothing changed)' : ''}\n`);
  process.stdout.write(`${formatTable(rows)}\n`);
  for (const f of r.failed.items)
    process.stdout.write(`failed: ${f.key}: ${f.reason} (${f.attempts} attempts)\n`);
  process.stdout.write(
    `${r.elapsedSeconds} s; ${r.retries} retries; ${r.sourceChanges} source changes during copy; verified ${r.verified.etag} by ETag, ${r.verified.readBack} by read-back\n`,
  );
}

/** An error whose message is the whole story (exit code 1, no stack trace). */
function quietError(message: string): Error {
  const e = new Error(message);
  e.stack = message;
  return e;
}

function readPolicyConfig(file: string | undefined): Partial<PolicyParams> {
  if (!file) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(
      `--config: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      'config',
    );
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Partial<PolicyParams>;
  } catch (err) {
    throw new InputError(`--config: ${file} is not a JSON object (${(err as Error).message})`, 'config');
  }
}

/**
 * Runs `fn` with a DataSync client for the ARN's region (or --region) and always destroys it. The
 * ARN is checked before any client is made (bad input exits 2 without loading the SDK); the client
 * and helpers are loaded only by the commands that talk to DataSync (start-up time).
 */
async function withDataSync(
  kind: 'task' | 'execution',
  arnText: string,
  region: string | undefined,
  fn: (client: DataSyncClient, ds: typeof DataSyncApi, arn: string) => Promise<void>,
): Promise<void> {
  const ds = await import('../../sync/datasync');
  const arn = kind === 'task' ? ds.checkTaskArn(arnText) : ds.checkExecutionArn(arnText);
  const { DataSyncClient: Client } = await import('@aws-sdk/client-datasync');
  const r = region ?? arn.split(':')[3];
  const client = new Client(r ? { region: r } : {});
  try {
    await fn(client, ds, arn);
  } finally {
    client.destroy();
  }
}

/** `quant sync ...`: the local/any-endpoint sync engine, DataSync control, estimates and vendor policies. */
export function registerSync(program: Command): void {
  const sync = program
    .command('sync')
    .description('vendor data sync: S3-to-S3 engine, DataSync tasks, estimates, vendor policies');

  sync
    .command('run')
    .description(
      'copy new or changed objects from one S3 location to another (any S3-compatible endpoints), verified',
    )
    .requiredOption('--source <uri>', 'source s3://BUCKET/PREFIX')
    .requiredOption('--dest <uri>', 'destination s3://BUCKET/PREFIX')
    .option('--source-endpoint <url>', 'S3-compatible endpoint of the source (default AWS)')
    .option('--dest-endpoint <url>', 'S3-compatible endpoint of the destination (default AWS)')
    .option('--source-profile <name>', 'AWS profile for the source (or SOURCE_AWS_* variables)')
    .option('--dest-profile <name>', 'AWS profile for the destination (or DEST_AWS_* variables)')
    .option('--source-region <region>', 'region of the source bucket (or SOURCE_AWS_REGION)')
    .option('--dest-region <region>', 'region of the destination bucket (or DEST_AWS_REGION)')
    .option('--concurrency <n>', 'objects copied at the same time', '32')
    .option('--dry-run', 'list and compare only; change nothing')
    .option('--delete', 'delete destination objects under the prefix that the source does not have')
    .option('--json', 'print the report as JSON')
    .action(syncRun);

  sync
    .command('estimate')
    .description('time and cost of a full copy (and of the daily incremental); assumptions are printed')
    .requiredOption('--size <size>', 'data to copy, e.g. 100TB, 1.5PiB')
    .requiredOption('--gbps <n>', 'link speed available to the copy, Gbit/s')
    .option('--daily <size>', 'daily increment, e.g. 100GB')
    .option('--avg-object <size>', 'average object size', '64MB')
    .option('--efficiency <f>', 'share of the link sustained over the copy', '0.8')
    .option('--json', 'print JSON')
    .action(syncEstimate);

  sync
    .command('policy')
    .description(
      'the bucket policy and role trust the vendor side needs (JSON), from flags or a JSON config file',
    )
    .option('--print', 'print the documents (the only action; nothing is applied)')
    .option('--config <file>', 'JSON file with the parameters below (flags override it)')
    .option('--mode <mode>', 'pull (DataSync reads the vendor bucket) or push (vendor replicates to us)')
    .option('--account <id>', 'our AWS account')
    .option('--region <region>', 'our region')
    .option('--vendor-account <id>', "the vendor's AWS account")
    .option('--vendor-bucket <name>', "the vendor's bucket")
    .option('--vendor-region <region>', "the vendor bucket's region")
    .option('--vendor-prefix <prefix>', 'prefix to copy, ending in / (default: all)')
    .option('--vendor-kms-key-arn <arn>', "the vendor bucket's KMS key, if SSE-KMS")
    .option('--role-name <name>', 'our DataSync role (pull) or the vendor replication role (push)')
    .option('--role-arn <arn>', 'full role ARN (DataSyncStack output DataSyncRoleArn); overrides --role-name')
    .option('--dest-bucket <name>', 'our vendor-zone bucket (push)')
    .option('--dest-kms-key-arn <arn>', "our vendor zone's KMS key (push)")
    .option('--rtc', 'push: ask for S3 Replication Time Control (15-minute SLA, extra cost)')
    .action(syncPolicy);

  sync
    .command('start')
    .description('start an execution of a DataSync task (AWS)')
    .requiredOption('--task-arn <arn>', 'the DataSync task (stack output)')
    .option('--include <pattern...>', "only these paths, e.g. /2026/11/* (each starts with '/')")
    .option('--exclude <pattern...>', 'skip these paths')
    .option('--verify-all', 'verify all files at the end, not only the transferred ones')
    .option('--region <region>', 'AWS region of the task (default: from the ARN)')
    .option('--json', 'print JSON')
    .action(syncStart);

  sync
    .command('status')
    .description('status and counters of a DataSync task execution (AWS)')
    .requiredOption('--execution-arn <arn>', 'returned by quant sync start')
    .option('--region <region>', 'AWS region (default: from the ARN)')
    .option('--json', 'print JSON')
    .action(syncStatus);

  sync
    .command('history')
    .description('recent executions of a DataSync task, newest first (AWS)')
    .requiredOption('--task-arn <arn>', 'the DataSync task')
    .option('--limit <n>', 'how many', '10')
    .option('--region <region>', 'AWS region (default: from the ARN)')
    .option('--json', 'print JSON')
    .action(syncHistory);
}

async function syncRun(opts: RunOptions, cmd: Command): Promise<void> {
  const timeoutMs = parseTimeoutSeconds(cmd.optsWithGlobals<{ timeout?: string }>().timeout);
  const source = parseS3Uri(opts.source, 'source');
  const dest = parseS3Uri(opts.dest, 'dest');
  const concurrency = int(opts.concurrency, '--concurrency', {
    max: 1024,
    says: (v) => `expected an integer 1-1024, got "${v}"`,
  });
  const sourceEndpoint = endpoint(opts.sourceEndpoint, '--source-endpoint');
  const destEndpoint = endpoint(opts.destEndpoint, '--dest-endpoint');
  const [sourceCreds, destCreds] = await Promise.all([
    sideCredentials('source', opts.sourceProfile),
    sideCredentials('dest', opts.destProfile),
  ]);
  const maxSockets = Math.max(64, concurrency * 2);
  const client = (side: 'source' | 'dest', ep: string | undefined, credentials: typeof sourceCreds) =>
    makeS3Client({
      endpoint: ep,
      region: opts[`${side}Region`] ?? process.env[`${side.toUpperCase()}_AWS_REGION`],
      credentials,
      maxSockets,
      // The engine adds no per-command middleware (listing's parser sits on the client), so each
      // command class's middleware is resolved once, not on each of a run's thousands of requests.
      cacheMiddleware: true,
      timeoutMs,
    });
  const sourceClient = client('source', sourceEndpoint, sourceCreds);
  const destClient = client('dest', destEndpoint, destCreds);
  try {
    const report = await syncS3({
      source: { ...source, client: sourceClient, endpointLabel: sourceEndpoint },
      dest: { ...dest, client: destClient, endpointLabel: destEndpoint },
      concurrency,
      dryRun: opts.dryRun,
      delete: opts.delete,
    });
    if (opts.json) printJson(report);
    else printReport(report);
    if (report.failed.objects > 0) {
      throw quietError(`${report.failed.objects} object(s) failed to sync (reasons in the report)`);
    }
  } finally {
    sourceClient.destroy();
    destClient.destroy();
  }
}

interface EstimateOptions {
  size: string;
  gbps: string;
  daily?: string;
  avgObject: string;
  efficiency: string;
  json?: boolean;
}

function syncEstimate(opts: EstimateOptions): void {
  // Ranges are checked by estimateTransfer.
  const gbps = num(opts.gbps, '--gbps');
  const efficiency = num(opts.efficiency, '--efficiency');
  const est = estimateTransfer({
    bytes: parseSize(opts.size, 'size'),
    gbps,
    efficiency,
    avgObjectBytes: parseSize(opts.avgObject, 'avg-object'),
    dailyBytes: opts.daily ? parseSize(opts.daily, 'daily') : undefined,
  });
  if (opts.json) {
    printJson(est);
    return;
  }
  const rows = [
    { item: 'full copy time', value: `${est.fullCopyHours} h (${est.fullCopyDays} days)` },
    { item: 'objects', value: String(est.objects) },
    { item: 'DataSync', value: `$${est.cost.dataSync}` },
    { item: 'inter-region transfer', value: `$${est.cost.interRegionTransfer}` },
    { item: 'S3 requests', value: `$${est.cost.requests}` },
    { item: 'full copy total', value: `$${est.cost.total}` },
    { item: 'storage at destination', value: `$${est.cost.storagePerMonth} per month` },
  ];
  if (est.daily) {
    rows.push({
      item: 'daily incremental',
      value: `${est.daily.hours} h/day, $${est.daily.costPerMonth} per month`,
    });
  }
  process.stdout.write(
    `${formatTable(rows)}\n\nassumptions:\n${est.assumptions.map((a) => `- ${a}`).join('\n')}\n`,
  );
}

function syncPolicy(opts: Record<string, string | boolean | undefined>): void {
  const fromFile = readPolicyConfig(opts.config as string | undefined);
  const keys = [
    'mode',
    'account',
    'region',
    'vendorAccount',
    'vendorBucket',
    'vendorRegion',
    'vendorPrefix',
    'vendorKmsKeyArn',
    'roleName',
    'roleArn',
    'destBucket',
    'destKmsKeyArn',
  ] as const;
  const params: Record<string, unknown> = { ...fromFile };
  for (const k of keys) if (typeof opts[k] === 'string') params[k] = opts[k];
  if (opts.rtc) params.replicationTimeControl = true;
  // Pretty-printed: this is pasted into consoles and reviewed by people on both sides.
  process.stdout.write(`${JSON.stringify(buildVendorPolicies(params as PolicyParams), null, 2)}\n`);
}

interface StartOptions {
  taskArn: string;
  include?: string[];
  exclude?: string[];
  verifyAll?: boolean;
  region?: string;
  json?: boolean;
}

async function syncStart(opts: StartOptions): Promise<void> {
  await withDataSync('task', opts.taskArn, opts.region, async (client, ds, taskArn) => {
    const executionArn = await ds.startSync(client, {
      taskArn,
      includes: opts.include,
      excludes: opts.exclude,
      verifyAll: opts.verifyAll,
    });
    if (opts.json) printJson({ executionArn });
    else process.stdout.write(`started ${executionArn}\n`);
  });
}

async function syncStatus(opts: { executionArn: string; region?: string; json?: boolean }): Promise<void> {
  await withDataSync('execution', opts.executionArn, opts.region, async (client, ds, arn) => {
    const s = await ds.syncStatus(client, arn);
    if (opts.json) printJson(s);
    else process.stdout.write(`${formatTable([{ ...s }])}\n`);
  });
}

async function syncHistory(opts: {
  taskArn: string;
  limit: string;
  region?: string;
  json?: boolean;
}): Promise<void> {
  await withDataSync('task', opts.taskArn, opts.region, async (client, ds, arn) => {
    const limit = int(opts.limit, '--limit', {
      max: 100,
      says: (v) => `expected an integer 1-100, got "${v}"`,
    });
    const rows = await ds.syncHistory(client, arn, limit);
    if (opts.json) printJson(rows);
    else
      process.stdout.write(
        `${formatTable(
          rows.map((r) => ({ ...r })),
          [
            'startTime',
            'status',
            'filesTransferred',
            'bytesTransferred',
            'filesFailed',
            'durationSeconds',
            'error',
          ],
        )}\n`,
      );
  });
}
