/**
 * Replication of the trading tables to the DR region: applies DynamoDB Streams records (the Lambda
 * event format) to the replica tables in order: INSERT and MODIFY put the new image, REMOVE deletes
 * the key. Records of one item arrive in order on one shard, and putting a whole image is
 * idempotent, so a retried batch converges to the source's state.
 */
import {
  DeleteItemCommand,
  PutItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { AttributeValue as StreamAttributeValue, DynamoDBRecord } from 'aws-lambda';

/** The table name in a stream ARN (`arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL`). */
export function sourceTableOf(eventSourceArn: string | undefined): string {
  const m = /:table\/([^/]+)\/stream\//.exec(eventSourceArn ?? '');
  if (!m) throw new Error(`not a DynamoDB stream ARN: ${String(eventSourceArn)}`);
  return m[1];
}

/** A stream image's attribute value (binary as base64 text) as the SDK's (binary as bytes). */
export function toSdkValue(v: StreamAttributeValue): AttributeValue {
  if (v.B !== undefined) return { B: Buffer.from(v.B, 'base64') };
  if (v.BS !== undefined) return { BS: v.BS.map((b) => Buffer.from(b, 'base64')) };
  if (v.M !== undefined) return { M: toSdkItem(v.M) };
  if (v.L !== undefined) return { L: v.L.map(toSdkValue) };
  return v as AttributeValue;
}

export function toSdkItem(image: Record<string, StreamAttributeValue>): Record<string, AttributeValue> {
  return Object.fromEntries(Object.entries(image).map(([k, v]) => [k, toSdkValue(v)]));
}

export interface ReplicationResult {
  readonly applied: number;
  /** Sequence number of the first record not applied (the batch resumes there), if any. */
  readonly failedSequenceNumber?: string;
  readonly error?: string;
  /** Seconds from the oldest applied change to its write in the replica. */
  readonly maxLagSeconds: number;
}

/** Parses the replicator's table map (`DR_TABLE_MAP`): source name → replica name. */
export function parseTableMap(text: string | undefined): Readonly<Record<string, string>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text ?? '');
  } catch {
    throw new Error('table map: not JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error('table map: expected an object of source table -> replica table');
  for (const [k, v] of Object.entries(parsed)) {
    if (typeof v !== 'string' || v === '') throw new Error(`table map: replica of ${k} must be a table name`);
  }
  return parsed as Record<string, string>;
}

/**
 * Applies `records` in order to the replicas named by `targets`. Stops at the first failure and
 * reports its sequence number, so the caller (Lambda's ReportBatchItemFailures) retries from there.
 */
export async function replicateRecords(
  dynamodb: DynamoDBClient,
  records: readonly DynamoDBRecord[],
  targets: Readonly<Record<string, string>>,
  now: () => number = Date.now,
): Promise<ReplicationResult> {
  let applied = 0;
  let maxLagSeconds = 0;
  for (const r of records) {
    try {
      const source = sourceTableOf(r.eventSourceARN);
      const TableName = targets[source];
      if (!TableName) throw new Error(`no replica configured for table ${source}`);
      const d = r.dynamodb;
      if (!d?.Keys) throw new Error(`record ${r.eventID ?? '?'} has no keys`);
      if (r.eventName === 'REMOVE') {
        await dynamodb.send(new DeleteItemCommand({ TableName, Key: toSdkItem(d.Keys) }));
      } else {
        if (!d.NewImage)
          throw new Error(`record ${r.eventID ?? '?'} has no new image (stream view must include NEW_IMAGE)`);
        await dynamodb.send(new PutItemCommand({ TableName, Item: toSdkItem(d.NewImage) }));
      }
      applied++;
      if (d.ApproximateCreationDateTime !== undefined)
        maxLagSeconds = Math.max(maxLagSeconds, now() / 1000 - d.ApproximateCreationDateTime);
    } catch (e) {
      return {
        applied,
        failedSequenceNumber: r.dynamodb?.SequenceNumber ?? r.eventID ?? '',
        error: (e as Error).message,
        maxLagSeconds,
      };
    }
  }
  return { applied, maxLagSeconds };
}
