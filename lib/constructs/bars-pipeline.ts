import path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import type { Construct } from 'constructs';
import { BARS, LAKE_PREFIXES, TICKS } from '../../src/contract/lake';
import { packageRoot } from '../../src/package-root';
import { acknowledgeWildcards } from './acknowledge-wildcards';
import { Area } from './area';
import { allow, putMetricData } from './policy-statements';
import { GlueBarsEvents } from './glue-bars-events';
import { INGESTION_WILDCARD_REASONS } from './tick-stream';

/** Prefixes the Glue jobs read and write (src/contract/lake.ts). */
const INGEST_PREFIXES = {
  ticks: TICKS.prefix,
  quarantine: LAKE_PREFIXES.quarantine,
  bars: BARS.prefix,
} as const;

export interface BarsPipelineProps {
  /** Raw zone: ticks to compact and to build bars from. */
  readonly rawBucket: s3.IBucket;
  /** Curated zone: the bars. */
  readonly curatedBucket: s3.IBucket;
  /** Key of both zones (job output, bookmarks). */
  readonly lakeKey: kms.IKey;
  /** Key of the jobs' CloudWatch logs. */
  readonly logKey: kms.IKey;
  /** @default 'G.1X' */
  readonly workerType?: string;
  /** Workers of each job (a driver and at least one executor). @default 2 */
  readonly workers?: number;
  /** Hour (UTC) of the daily run. @default 2 */
  readonly dailyRunHourUtc?: number;
}

/**
 * The daily bars pipeline: Glue jobs (compaction of yesterday's ticks, then 1m and 1d bars of new days,
 * their SQL in glue-jobs/<job>/) run by a Glue workflow, an on-demand trigger for backfills, a security
 * configuration that encrypts everything they write, and a role limited to the ticks and bars prefixes.
 */
export class BarsPipeline extends Area {
  readonly role: iam.Role;
  readonly jobs: Readonly<Record<'compaction' | 'bars1m' | 'bars1d', glue.CfnJob>>;
  readonly workflow: glue.CfnWorkflow;

  constructor(scope: Construct, id: string, props: BarsPipelineProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const raw = props.rawBucket;
    const curated = props.curatedBucket;
    this.role = new iam.Role(this, 'GlueRole', {
      assumedBy: new iam.ServicePrincipal('glue.amazonaws.com'),
      description: 'Glue bars and compaction jobs: read/write the raw and curated zones',
    });
    raw.grantRead(this.role, `${INGEST_PREFIXES.ticks}/*`);
    raw.grantPut(this.role, `${INGEST_PREFIXES.ticks}/*`);
    // Compaction replaces tick objects: a plain delete, which in the versioned raw bucket only adds a
    // delete marker (the ticks stay recoverable). Deleting a version would lose them for good.
    allow(
      this.role,
      {
        actions: ['s3:DeleteObject'],
        resources: [raw.arnForObjects(`${INGEST_PREFIXES.ticks}/*`)],
      },
      {
        effect: iam.Effect.DENY,
        actions: ['s3:DeleteObjectVersion'],
        resources: [raw.arnForObjects('*')],
      },
    );
    curated.grantReadWrite(this.role, `${INGEST_PREFIXES.bars}/*`);
    curated.grantDelete(this.role, `${INGEST_PREFIXES.bars}/*`);
    // Listing is per bucket; restrict it to the prefixes the jobs work in.
    for (const [bucket, prefix] of [
      [raw, INGEST_PREFIXES.ticks],
      [curated, INGEST_PREFIXES.bars],
    ] as const) {
      allow(this.role, {
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${prefix}/*`, prefix] } },
      });
    }
    const jobLogGroups = `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:/aws-glue/*`;
    allow(
      this.role,
      {
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:AssociateKmsKey'],
        resources: [jobLogGroups, `${jobLogGroups}:*`],
      },
      putMetricData('Glue'),
    );
    props.logKey.grantEncryptDecrypt(this.role);
    props.lakeKey.grantEncryptDecrypt(this.role);

    const securityConfiguration = new glue.CfnSecurityConfiguration(this, 'GlueSecurity', {
      name: `${stack.stackName}-glue`.slice(0, 255),
      encryptionConfiguration: {
        s3Encryptions: [{ s3EncryptionMode: 'SSE-KMS', kmsKeyArn: props.lakeKey.keyArn }],
        cloudWatchEncryption: { cloudWatchEncryptionMode: 'SSE-KMS', kmsKeyArn: props.logKey.keyArn },
        jobBookmarksEncryption: { jobBookmarksEncryptionMode: 'CSE-KMS', kmsKeyArn: props.lakeKey.keyArn },
      },
    });

    const asset = (name: string, file: string): s3assets.Asset => {
      const a = new s3assets.Asset(this, name, { path: path.join(packageRoot(), 'glue-jobs', file) });
      a.grantRead(this.role);
      return a;
    };
    const barsScript = asset('BarsScript', 'bars/job.py');
    const barsSql = asset('BarsSql', 'bars/bars.sql');
    const compactionScript = asset('CompactionScript', 'compaction/job.py');
    const compactionSql = asset('CompactionSql', 'compaction/compaction.sql');

    const rawTicks = `s3://${raw.bucketName}/${INGEST_PREFIXES.ticks}`;
    // The bars jobs publish BarsUpdated once their bars are written (glue-jobs/bars/job.py).
    const barsEvents = new GlueBarsEvents(this, 'BarsEvents', { role: this.role });
    const job = (
      idName: string,
      script: s3assets.Asset,
      sql: s3assets.Asset,
      args: Record<string, string>,
      bookmarks: boolean,
    ): glue.CfnJob =>
      new glue.CfnJob(this, idName, {
        role: this.role.roleArn,
        glueVersion: '5.0',
        command: { name: 'glueetl', pythonVersion: '3', scriptLocation: script.s3ObjectUrl },
        workerType: props.workerType ?? 'G.1X',
        numberOfWorkers: props.workers ?? 2,
        maxRetries: 1,
        timeout: 120,
        executionProperty: { maxConcurrentRuns: 1 },
        securityConfiguration: securityConfiguration.ref,
        defaultArguments: {
          '--job-bookmark-option': bookmarks ? 'job-bookmark-enable' : 'job-bookmark-disable',
          '--enable-metrics': 'true',
          '--enable-continuous-cloudwatch-log': 'true',
          '--extra-files': sql.s3ObjectUrl,
          // Empty = the job decides (new days via bookmarks; yesterday for compaction).
          '--dt': '',
          ...args,
        },
      });
    const barsJob = (interval: '1m' | '1d') =>
      job(
        `Bars${interval}Job`,
        barsScript,
        barsSql,
        {
          '--interval': interval,
          '--raw-path': rawTicks,
          '--curated-path': `s3://${curated.bucketName}/${INGEST_PREFIXES.bars}`,
          ...barsEvents.jobArguments,
        },
        true,
      );
    this.jobs = {
      compaction: job(
        'CompactionJob',
        compactionScript,
        compactionSql,
        { '--raw-path': rawTicks, '--target-file-mb': '128' },
        false,
      ),
      bars1m: barsJob('1m'),
      bars1d: barsJob('1d'),
    };

    // Daily: compaction, then both bar intervals. On demand: `aws glue start-workflow-run`.
    this.workflow = new glue.CfnWorkflow(this, 'DailyWorkflow', {
      description: 'Daily: compact yesterday’s ticks, then build 1m and 1d bars of new days',
      maxConcurrentRuns: 1,
    });
    const start = new glue.CfnTrigger(this, 'DailyStart', {
      type: 'SCHEDULED',
      schedule: `cron(0 ${props.dailyRunHourUtc ?? 2} * * ? *)`,
      startOnCreation: true,
      workflowName: this.workflow.ref,
      actions: [{ jobName: this.jobs.compaction.ref }],
    });
    const after = new glue.CfnTrigger(this, 'BarsAfterCompaction', {
      type: 'CONDITIONAL',
      startOnCreation: true,
      workflowName: this.workflow.ref,
      predicate: {
        logical: 'AND',
        conditions: [{ logicalOperator: 'EQUALS', jobName: this.jobs.compaction.ref, state: 'SUCCEEDED' }],
      },
      actions: [{ jobName: this.jobs.bars1m.ref }, { jobName: this.jobs.bars1d.ref }],
    });
    // Backfills outside the workflow: `aws glue start-trigger` runs both bar jobs now (pass --dt per run).
    new glue.CfnTrigger(this, 'BarsOnDemand', {
      type: 'ON_DEMAND',
      actions: [{ jobName: this.jobs.bars1m.ref }, { jobName: this.jobs.bars1d.ref }],
    });
    for (const t of [start, after]) t.addResourceDependency(this.workflow);

    acknowledgeWildcards(this, INGESTION_WILDCARD_REASONS);
  }
}
