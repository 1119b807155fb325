import { Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { TABLES } from '../../src/contract/lake';
import type { TableDef, Zone } from '../../src/contract/lake';
import { Area } from './area';
import { ProjectedGlueTable } from './projected-glue-table';

/** Values of the enum-projected partition keys of the lake tables (the bar intervals the jobs build). */
const ENUM_KEYS: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  bars: { interval: ['1m', '1d'] },
};

export interface LakeCatalogProps {
  /** Environment name: the database is `quant_<env>`, the workgroup `quant-<env>`. */
  readonly environmentName: string;
  /** The bucket of each zone a table lives in, and the Athena results bucket. */
  readonly buckets: Readonly<Record<Zone, s3.IBucket>>;
  /** Key Athena encrypts query results with. */
  readonly resultsKey: kms.IKey;
  /** First day of the date projections (yyyy-MM-dd); its year starts the year projections. */
  readonly projectionStart: string;
  /**
   * The tables, each from its one definition.
   * @default TABLES of src/contract/lake.ts
   */
  readonly tables?: readonly TableDef[];
  /**
   * Per-query cutoff of bytes scanned (Athena allows 10 MB and more).
   * @default 1 TB
   */
  readonly bytesScannedCutoffPerQuery?: number;
}

/**
 * The lake's catalog: a Glue database with one partition-projected table per lake table (no crawlers)
 * and the Athena workgroup that enforces its settings (engine 3, KMS-encrypted results, a scan cutoff,
 * CloudWatch metrics). Nothing here holds data: the definitions are rebuilt from this code.
 */
export class LakeCatalog extends Area {
  readonly databaseName: string;
  readonly workgroupName: string;
  readonly database: glue.CfnDatabase;
  readonly tables: Readonly<Record<string, glue.CfnTable>>;
  readonly workgroup: athena.CfnWorkGroup;
  private readonly athenaResults: s3.IBucket;

  constructor(scope: Construct, id: string, props: LakeCatalogProps) {
    super(scope, id);
    const stack = Stack.of(this);
    // Glue and Athena have no generated names; derive them from the environment, not from a literal.
    const env = props.environmentName.toLowerCase().replace(/[^a-z0-9]/g, '_');
    this.databaseName = `quant_${env}`;
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: {
        name: this.databaseName,
        description: `Quant platform data lake (${props.environmentName})`,
      },
    });
    const tables: Record<string, glue.CfnTable> = {};
    for (const table of props.tables ?? TABLES) {
      tables[table.name] = new ProjectedGlueTable(this, `Table-${table.name}`, {
        table,
        bucket: props.buckets[table.zone],
        databaseName: this.databaseName,
        database: this.database,
        projectionStart: props.projectionStart,
        enumValues: ENUM_KEYS[table.name],
        compression: 'ZSTD',
      }).table;
    }
    this.tables = tables;

    this.athenaResults = props.buckets.athenaResults;
    this.workgroupName = `quant-${env.replace(/_/g, '-')}`;
    this.workgroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: this.workgroupName,
      description: `Quant platform queries (${props.environmentName})`,
      state: 'ENABLED',
      // Deleting the stack fails rather than silently dropping saved queries.
      recursiveDeleteOption: false,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery ?? 1_000_000_000_000,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${this.athenaResults.bucketName}/results/`,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: props.resultsKey.keyArn },
        },
      },
    });
  }

  /**
   * Lets `grantee` run Athena queries in the workgroup over the lake tables: read access to
   * `readBuckets`, read and put access to Athena results (no delete), and the Glue catalog reads Athena makes on its behalf.
   */
  grantQuery(grantee: iam.IGrantable, readBuckets: readonly s3.IBucket[]): void {
    const stack = Stack.of(this);
    iam.Grant.addToPrincipal({
      grantee,
      actions: [
        'athena:StartQueryExecution',
        'athena:GetQueryExecution',
        'athena:GetQueryResults',
        'athena:StopQueryExecution',
        'athena:GetWorkGroup',
      ],
      resourceArns: [
        stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: this.workgroupName }),
      ],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: [
        'glue:GetDatabase',
        'glue:GetTable',
        'glue:GetTables',
        'glue:GetPartition',
        'glue:GetPartitions',
      ],
      resourceArns: [
        stack.formatArn({ service: 'glue', resource: 'catalog' }),
        stack.formatArn({ service: 'glue', resource: 'database', resourceName: this.databaseName }),
        stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${this.databaseName}/*` }),
      ],
    });
    for (const b of readBuckets) b.grantRead(grantee);
    // Athena writes the results as the caller and never deletes them (the bucket's lifecycle does).
    this.athenaResults.grantRead(grantee);
    this.athenaResults.grantPut(grantee);
  }
}
