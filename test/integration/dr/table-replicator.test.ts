import {
  CreateTableCommand,
  GetItemCommand,
  ScanCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseTableMap, replicateRecords, sourceTableOf } from '../../../src/dr/table-replicator';
import { localCloudWorld } from '../../helpers/local-cloud';

const lc = localCloudWorld({ name: 'dr-replicator', services: ['dynamodb'] });
const stream = (table: string) =>
  `arn:aws:dynamodb:ap-southeast-1:333333333333:table/${table}/stream/2026-12-07T00:00:00.000`;
const targets = { 'prod-Trading-RiskTable-ABC': 'quant-prod-risk' };

// Records in the Lambda event format of DynamoDB Streams (binary as base64, times in epoch seconds).
const record = (
  seq: string,
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE',
  pk: string,
  image?: Record<string, unknown>,
  created = 1_765_000_000,
): DynamoDBRecord =>
  ({
    eventID: `e${seq}`,
    eventName,
    eventSourceARN: stream('prod-Trading-RiskTable-ABC'),
    dynamodb: {
      Keys: { pk: { S: pk } },
      NewImage: image ? { pk: { S: pk }, ...image } : undefined,
      SequenceNumber: seq,
      ApproximateCreationDateTime: created,
    },
  }) as DynamoDBRecord;

async function replica(db: DynamoDBClient): Promise<Record<string, unknown>[]> {
  const r = await db.send(new ScanCommand({ TableName: 'quant-prod-risk' }));
  return (r.Items ?? []).sort((a, b) => String(a.pk.S).localeCompare(String(b.pk.S)));
}

beforeAll(async () => {
  await lc.clients.dynamodb.send(
    new CreateTableCommand({
      TableName: 'quant-prod-risk',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    }),
  );
});
describe('trading-table replication into a DynamoDB replica (dynalite)', () => {
  it('applies inserts, modifies and removes in order; the replica ends equal to the source', async () => {
    const r = await replicateRecords(
      lc.clients.dynamodb,
      [
        record('1', 'INSERT', 'STATE#main#*', { state: { S: 'ACTIVE' }, version: { N: '0' } }),
        record('2', 'MODIFY', 'STATE#main#*', { state: { S: 'HALTED' }, version: { N: '1' } }),
        record('3', 'INSERT', 'BOOK#main', {
          positions: { M: { SPY: { M: { qty: { N: '100' }, price: { N: '450.12' } } } } },
          sig: { B: Buffer.from([0, 1, 254]).toString('base64') },
        }),
        record('4', 'INSERT', 'RATE#main#sma#1', { n: { N: '3' } }),
        record('5', 'REMOVE', 'RATE#main#sma#1'),
      ],
      targets,
      () => 1_765_000_004_000,
    );
    expect(r).toEqual({ applied: 5, maxLagSeconds: 4 });
    const items = await replica(lc.clients.dynamodb);
    expect(items.map((i) => i.pk)).toEqual([{ S: 'BOOK#main' }, { S: 'STATE#main#*' }]);
    expect(items[1]).toEqual({ pk: { S: 'STATE#main#*' }, state: { S: 'HALTED' }, version: { N: '1' } });
    const book = await lc.clients.dynamodb.send(
      new GetItemCommand({ TableName: 'quant-prod-risk', Key: { pk: { S: 'BOOK#main' } } }),
    );
    expect([...book.Item!.sig.B!]).toEqual([0, 1, 254]);
    expect(book.Item!.positions).toEqual({
      M: { SPY: { M: { qty: { N: '100' }, price: { N: '450.12' } } } },
    });
  });

  it('a redelivered batch changes nothing (whole images are idempotent)', async () => {
    const before = await replica(lc.clients.dynamodb);
    await replicateRecords(
      lc.clients.dynamodb,
      [record('2', 'MODIFY', 'STATE#main#*', { state: { S: 'HALTED' }, version: { N: '1' } })],
      targets,
    );
    expect(await replica(lc.clients.dynamodb)).toEqual(before);
  });

  it('stops at the first record it cannot apply and names its sequence number', async () => {
    const foreign = {
      ...record('7', 'INSERT', 'X', { a: { S: '1' } }),
      eventSourceARN: stream('other-table'),
    };
    const r = await replicateRecords(
      lc.clients.dynamodb,
      [
        record('6', 'INSERT', 'LIMITS#main', { config: { S: '{}' } }),
        foreign,
        record('8', 'INSERT', 'Y', {}),
      ],
      targets,
    );
    expect(r).toMatchObject({
      applied: 1,
      failedSequenceNumber: '7',
      error: 'no replica configured for table other-table',
    });
    expect((await replica(lc.clients.dynamodb)).map((i) => i.pk)).not.toContainEqual({ S: 'Y' });
  });

  it('parses stream ARNs and the table map, refusing malformed ones', () => {
    expect(sourceTableOf(stream('t-1'))).toBe('t-1');
    expect(() => sourceTableOf('arn:aws:dynamodb:r:1:table/t')).toThrow(/not a DynamoDB stream ARN/);
    expect(parseTableMap('{"a":"b"}')).toEqual({ a: 'b' });
    expect(() => parseTableMap('[1]')).toThrow(/expected an object/);
    expect(() => parseTableMap('{"a":""}')).toThrow(/replica of a must be a table name/);
  });
});
