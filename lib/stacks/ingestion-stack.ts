/**
 * Market-data ingestion: the Kinesis `ticks` stream, the Lambda consumer that lands ticks
 * in the raw zone as Parquet, and the Glue jobs (compaction, 1m and 1d bars) run daily by a Glue
 * workflow. Runtime logic lives in src/ingest; the Glue jobs' SQL in glue-jobs/<job>/<job>.sql.
 */
import type { StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { IngestionConfig } from '../config/types';
import {
  acknowledgeWildcards,
  AreaStack,
  BarsPipeline,
  INGESTION_WILDCARD_REASONS,
  IngestionMonitoring,
  NewsIngest,
  TickStream,
  VendorStreamService,
} from '../constructs';
import type { LakeZone } from './data-lake-stack';
import type { IMonitoring } from './monitoring-stack';

export interface IngestionStackProps extends StackProps {
  readonly config: IngestionConfig;
  /** The lake: raw and curated buckets and their key. */
  readonly lake: {
    readonly buckets: Readonly<Record<LakeZone, s3.IBucket>>;
    readonly lakeKey: kms.IKey;
  };
  readonly monitoring: IMonitoring;
  /** Network of the vendor streaming services (when `config.vendorStreams` lists any). */
  readonly vpc?: ec2.IVpc;
  /** @default PRIVATE_WITH_EGRESS */
  readonly egressSubnets?: ec2.SubnetSelection;
}

function check(cond: boolean, field: string, problem: string): void {
  if (!cond) throw new Error(`ingestion.${field}: ${problem}`);
}

/** Every config check of this stack, at the top of its constructor. */
function checkIngestionConfig(c: IngestionConfig, vpc: ec2.IVpc | undefined): void {
  if (c.vendorStreams?.length) {
    check(vpc !== undefined, 'vendorStreams', 'the vendor streaming services need the VPC (props.vpc)');
  }
}

export class IngestionStack extends AreaStack {
  readonly ticks: TickStream;
  readonly bars: BarsPipeline;
  readonly stream: kinesis.Stream;
  readonly vendorStreams?: VendorStreamService;
  /** The scheduled news pull into `news_sentiment` (alternative data). */
  readonly news: NewsIngest;

  constructor(scope: Construct, id: string, props: IngestionStackProps) {
    super(scope, id, props);
    const { config, lake, monitoring } = props;
    checkIngestionConfig(config, props.vpc);
    const { raw, curated } = lake.buckets;
    const logs = { logKey: monitoring.logKey, logRetentionDays: monitoring.logRetentionDays };

    this.ticks = new TickStream(this, 'Stream', {
      rawBucket: raw,
      ...logs,
      streamMode: config.streamMode,
      shardCount: config.shardCount,
      retentionHours: config.retentionHours,
      consumerBatchSize: config.consumerBatchSize,
      consumerBatchingWindowSeconds: config.consumerBatchingWindowSeconds,
      consumerParallelization: config.consumerParallelization,
      consumerMemoryMiB: config.consumerMemoryMiB,
    });
    this.stream = this.ticks.stream;

    this.bars = new BarsPipeline(this, 'Bars', {
      rawBucket: raw,
      curatedBucket: curated,
      lakeKey: lake.lakeKey,
      logKey: monitoring.logKey,
      workerType: config.glueWorkerType,
      workers: config.glueWorkers,
      dailyRunHourUtc: config.dailyRunHourUtc,
    });

    // Alternative data: the scheduled news pull into the curated zone.
    this.news = new NewsIngest(this, 'News', { bucket: curated, ...logs });

    new IngestionMonitoring(this, 'Monitoring', {
      monitoring,
      ticks: this.ticks,
      streamKey: this.ticks.key,
      jobs: this.bars.jobs,
      news: this.news,
      iteratorAgeAlarmSeconds: config.iteratorAgeAlarmSeconds,
    });
    if (config.vendorStreams?.length) {
      this.vendorStreams = new VendorStreamService(this, 'VendorStream', {
        vpc: props.vpc!,
        subnets: props.egressSubnets,
        stream: this.stream,
        rawBucket: raw,
        connections: config.vendorStreams,
        monitoring,
      });
    }
    // The vendor streaming tasks' wildcards (the areas acknowledge their own).
    acknowledgeWildcards(this, INGESTION_WILDCARD_REASONS);
  }
}
