import { Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { glueColumn } from '../../src/contract/lake';
import type { Column, TableDef } from '../../src/contract/lake';

const PARQUET = {
  inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  serdeInfo: {
    serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    parameters: { 'serialization.format': '1' },
  },
};
const CSV = {
  inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
  serdeInfo: {
    serializationLibrary: 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe',
    parameters: { 'field.delim': ',' },
  },
};

export interface ProjectedGlueTableProps {
  /** The table: name, key prefix, partition keys and columns (one definition, src/contract/lake.ts). */
  readonly table: Pick<TableDef, 'name' | 'prefix' | 'partitionKeys' | 'columns'>;
  /** Bucket the table's objects are in, under `table.prefix`. */
  readonly bucket: s3.IBucket;
  /** Glue database of the table. */
  readonly databaseName: string;
  /**
   * The database resource when it is in the same stack (the table is created after it).
   * @default no dependency (the database exists already)
   */
  readonly database?: glue.CfnDatabase;
  /**
   * First day the projection covers, yyyy-MM-dd: the start of DATE keys' ranges and the first year of
   * INTEGER keys' ranges. Required when the table has a DATE or INTEGER partition key.
   * @default none
   */
  readonly projectionStart?: string;
  /**
   * Last year an INTEGER partition key (a year) covers; a fixed bound keeps synth deterministic.
   * @default 2099
   */
  readonly lastYear?: number;
  /**
   * Partition keys with a closed set of values (enum projection).
   * @default none: every VARCHAR key is injected (queries must name its value)
   */
  readonly enumValues?: Readonly<Record<string, readonly string[]>>;
  /** @default 'parquet' */
  readonly format?: 'parquet' | 'csv';
  /**
   * Parquet compression of what Athena writes into the table (`parquet.compression`).
   * @default not set (Athena's default)
   */
  readonly compression?: string;
  /** @default no description */
  readonly description?: string;
}

/**
 * An external Glue table with partition projection: Athena computes the partitions from the
 * projection (no crawler, no `MSCK REPAIR`), so data is queryable as soon as it lands. Date keys
 * project daily from `projectionStart` to today, integer keys over years, string keys by enum or
 * injection. The L1 table is the child `Default`, so its logical id is this construct's id.
 */
export class ProjectedGlueTable extends Construct {
  readonly table: glue.CfnTable;
  readonly tableName: string;

  constructor(scope: Construct, id: string, props: ProjectedGlueTableProps) {
    super(scope, id);
    const t = props.table;
    const location = `s3://${props.bucket.bucketName}/${t.prefix}/`;
    const parameters: Record<string, string> = {
      classification: props.format ?? 'parquet',
      EXTERNAL: 'TRUE',
    };
    if (props.compression) parameters['parquet.compression'] = props.compression;
    if (t.partitionKeys.length > 0) {
      parameters['projection.enabled'] = 'true';
      parameters['storage.location.template'] =
        location + t.partitionKeys.map((k) => `${k.name}=\${${k.name}}`).join('/') + '/';
      for (const key of t.partitionKeys) {
        for (const [setting, value] of Object.entries(this.projection(key, props)))
          parameters[`projection.${key.name}.${setting}`] = value;
      }
    }
    if (props.format === 'csv') parameters['skip.header.line.count'] = '1';
    this.tableName = t.name;
    this.table = new glue.CfnTable(this, 'Default', {
      catalogId: Stack.of(this).account,
      databaseName: props.databaseName,
      tableInput: {
        name: t.name,
        description: props.description,
        tableType: 'EXTERNAL_TABLE',
        parameters,
        partitionKeys: t.partitionKeys.map(glueColumn),
        storageDescriptor: {
          location,
          columns: t.columns.map(glueColumn),
          ...(props.format === 'csv' ? CSV : PARQUET),
        },
      },
    });
    if (props.database) this.table.addResourceDependency(props.database);
  }

  private projection(key: Column, props: ProjectedGlueTableProps): Record<string, string> {
    const values = props.enumValues?.[key.name];
    if (values) return { type: 'enum', values: values.join(',') };
    const start = (): string => {
      if (!props.projectionStart || !/^\d{4}-\d{2}-\d{2}$/.test(props.projectionStart))
        throw new Error(
          `ProjectedGlueTable ${props.table.name}: partition key ${key.name} needs projectionStart (yyyy-MM-dd)`,
        );
      return props.projectionStart;
    };
    switch (key.type) {
      case 'DATE':
        return {
          type: 'date',
          range: `${start()},NOW`,
          format: 'yyyy-MM-dd',
          interval: '1',
          'interval.unit': 'DAYS',
        };
      case 'INTEGER':
      case 'BIGINT':
        return { type: 'integer', range: `${start().slice(0, 4)},${props.lastYear ?? 2099}` };
      case 'VARCHAR':
        return { type: 'injected' };
      default:
        throw new Error(`ProjectedGlueTable ${props.table.name}: cannot project ${key.name} (${key.type})`);
    }
  }
}
