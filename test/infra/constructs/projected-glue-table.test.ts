import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { AreaStack, ProjectedGlueTable } from '../../../lib/constructs';
import { BARS, NEWS_SENTIMENT } from '../../../src/contract/lake';
import { nagViolations, resourcesOfType } from '../helpers';

interface TableInput {
  Name: string;
  Parameters: Record<string, string>;
  PartitionKeys: unknown[];
  StorageDescriptor: {
    Location: string;
    Columns: unknown[];
    SerdeInfo: { SerializationLibrary: string; Parameters: Record<string, string> };
  };
}

function build(f: (stack: Stack, bucket: s3.IBucket) => void): Template {
  const stack = new AreaStack(undefined, 'T', { env: { account: '111111111111', region: 'us-east-1' } });
  f(stack, s3.Bucket.fromBucketName(stack, 'Lake', 'lake-bucket'));
  return Template.fromStack(stack);
}

describe('ProjectedGlueTable', () => {
  it('projects every partition key of the contract table: enum, injected, years from the start date', () => {
    const t = build(
      (stack, bucket) =>
        new ProjectedGlueTable(stack, 'Bars', {
          table: BARS,
          bucket,
          databaseName: 'quant_test',
          projectionStart: '2015-03-01',
          enumValues: { interval: ['1m', '1d'] },
          compression: 'ZSTD',
        }),
    );
    const [[id, table]] = resourcesOfType(t, 'AWS::Glue::Table');
    // The L1 is the child `Default`: its logical id is the construct's id.
    expect(id).toBe('Bars');
    const input = table.Properties!.TableInput as TableInput;
    expect(input.Name).toBe('bars');
    expect(input.Parameters).toEqual({
      classification: 'parquet',
      EXTERNAL: 'TRUE',
      'parquet.compression': 'ZSTD',
      'projection.enabled': 'true',
      'storage.location.template':
        's3://lake-bucket/bars/interval=${interval}/symbol=${symbol}/year=${year}/',
      'projection.interval.type': 'enum',
      'projection.interval.values': '1m,1d',
      'projection.symbol.type': 'injected',
      'projection.year.type': 'integer',
      'projection.year.range': '2015,2099',
    });
    expect(input.PartitionKeys).toEqual([
      { Name: 'interval', Type: 'string' },
      { Name: 'symbol', Type: 'string' },
      { Name: 'year', Type: 'int' },
    ]);
    // Columns as the contract defines them, in Hive types.
    expect(input.StorageDescriptor.Columns).toEqual(
      BARS.columns.map((c) => ({
        Name: c.name,
        Type: { TIMESTAMP: 'timestamp', DOUBLE: 'double', BIGINT: 'bigint' }[c.type as string],
      })),
    );
    expect(input.StorageDescriptor.Location).toBe('s3://lake-bucket/bars/');
    expect(input.StorageDescriptor.SerdeInfo.SerializationLibrary).toMatch(/ParquetHiveSerDe$/);
  });

  it('projects a DATE key daily from the start date to today; CSV skips the header', () => {
    const t = build(
      (stack, bucket) =>
        new ProjectedGlueTable(stack, 'News', {
          table: NEWS_SENTIMENT,
          bucket,
          databaseName: 'quant_test',
          projectionStart: '2020-01-01',
          format: 'csv',
        }),
    );
    const input = resourcesOfType(t, 'AWS::Glue::Table')[0][1].Properties!.TableInput as TableInput;
    expect(input.Parameters).toMatchObject({
      classification: 'csv',
      'projection.dt.type': 'date',
      'projection.dt.range': '2020-01-01,NOW',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.interval': '1',
      'projection.dt.interval.unit': 'DAYS',
      'skip.header.line.count': '1',
    });
    expect(input.Parameters['parquet.compression']).toBeUndefined();
    expect(input.StorageDescriptor.SerdeInfo.Parameters).toEqual({ 'field.delim': ',' });
  });

  it('refuses a date or year key without a projection start', () => {
    expect(() =>
      build(
        (stack, bucket) =>
          new ProjectedGlueTable(stack, 'News', { table: NEWS_SENTIMENT, bucket, databaseName: 'd' }),
      ),
    ).toThrow(/news_sentiment: partition key dt needs projectionStart/);
  });

  it('a table without partition keys has no projection', () => {
    const t = build(
      (stack, bucket) =>
        new ProjectedGlueTable(stack, 'Plain', {
          table: { name: 'plain', prefix: 'p', partitionKeys: [], columns: [{ name: 'a', type: 'VARCHAR' }] },
          bucket,
          databaseName: 'd',
        }),
    );
    const input = resourcesOfType(t, 'AWS::Glue::Table')[0][1].Properties!.TableInput as TableInput;
    expect(input.Parameters).toEqual({ classification: 'parquet', EXTERNAL: 'TRUE' });
  });

  it('has no unacknowledged cdk-nag findings (AwsSolutions, NIST 800-53 R5)', () => {
    const stack = new AreaStack(undefined, 'N', { env: { account: '111111111111', region: 'us-east-1' } });
    new ProjectedGlueTable(stack, 'Bars', {
      table: BARS,
      bucket: s3.Bucket.fromBucketName(stack, 'Lake', 'lake-bucket'),
      databaseName: 'quant_test',
      projectionStart: '2015-03-01',
    });
    expect(nagViolations(stack)).toEqual([]);
    expect(nagViolations(stack, 'NIST.800.53.R5')).toEqual([]);
  });
});
