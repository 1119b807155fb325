/**
 * Backup of the local trading tables (DynamoDB API: DescribeTable, Scan) and of the lake buckets
 * (S3 API: ListObjectsV2, GetObject) into a directory, in the format of format.ts. The directory
 * appears only once complete: everything is written beside it first, then renamed.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  DescribeTableCommand,
  ScanCommand,
  type AttributeValue,
  type DescribeTableCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { AwsClients } from '../aws/clients';
import { InputError } from '../errors';
import { LOCAL_BUCKET_NAMES } from '../local/buckets';
import { isAlive } from '../local/lease';
import { LOCAL_TRADING_TABLES } from '../trading/tables';
import {
  BACKUP_FORMAT,
  DR_CONCURRENCY,
  encodeItem,
  MANIFEST_FILE,
  sha256,
  type Manifest,
  type ObjectEntry,
} from './format';
import { mapLimit } from '../map-limit';

/** What a local backup holds: the trading tables and every lake bucket (the audit trail included). */
export interface BackupScope {
  readonly tables: readonly string[];
  readonly buckets: readonly string[];
}

export const LOCAL_BACKUP_SCOPE: BackupScope = {
  tables: Object.values(LOCAL_TRADING_TABLES),
  buckets: LOCAL_BUCKET_NAMES,
};

export interface BackupSummary {
  readonly dir: string;
  readonly tables: number;
  readonly items: number;
  readonly objects: number;
  readonly bytes: number;
}

/** Every item of a table, as stored (attribute values, types kept); strongly consistent. */
export async function scanTable(
  clients: AwsClients,
  table: string,
): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const r = await clients.dynamodb.send(
      new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: start }),
    );
    items.push(...(r.Items ?? []));
    start = r.LastEvaluatedKey;
  } while (start);
  return items;
}

/** Every object key of a bucket. */
export async function listKeys(clients: AwsClients, bucket: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const r = await clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of r.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key);
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

export async function getObjectBytes(clients: AwsClients, bucket: string, key: string): Promise<Uint8Array> {
  return (await getObject(clients, bucket, key)).body;
}

/** An object's bytes with its content type and user metadata (one GetObject). */
export async function getObject(
  clients: AwsClients,
  bucket: string,
  key: string,
): Promise<{ body: Uint8Array; contentType?: string; metadata?: Record<string, string> }> {
  const r = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!r.Body) throw new Error(`s3://${bucket}/${key}: empty response body`);
  const metadata = r.Metadata && Object.keys(r.Metadata).length > 0 ? r.Metadata : undefined;
  return { body: await r.Body.transformToByteArray(), contentType: r.ContentType, metadata };
}

/** The table's description, or undefined when the table does not exist. */
async function describeTable(
  clients: AwsClients,
  name: string,
): Promise<DescribeTableCommandOutput | undefined> {
  try {
    return await clients.dynamodb.send(new DescribeTableCommand({ TableName: name }));
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException') return undefined;
    throw err;
  }
}

/** Refuses a target that already holds something: a backup never mixes with or overwrites another. */
function checkTarget(dir: string): void {
  if (existsSync(dir) && readdirSync(dir).length > 0)
    throw new InputError(`--to: ${dir} is not empty (give a new or empty directory)`, '--to');
}

/**
 * Removes staging directories of backups to `target` whose process is gone (a killed `quant dr
 * backup`): they never became backups, and nothing else would ever delete them.
 */
function removeAbandonedStaging(target: string): void {
  const parent = path.dirname(target);
  const prefix = `${path.basename(target)}.partial-`;
  if (!existsSync(parent)) return;
  for (const name of readdirSync(parent)) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (pid !== process.pid && !isAlive(pid))
      rmSync(path.join(parent, name), { recursive: true, force: true });
  }
}

export async function backupLocal(
  clients: AwsClients,
  dir: string,
  scope: BackupScope = LOCAL_BACKUP_SCOPE,
  progress: (line: string) => void = () => {},
): Promise<BackupSummary> {
  const target = path.resolve(dir);
  checkTarget(target);
  removeAbandonedStaging(target);
  const staging = `${target}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(path.join(staging, 'dynamodb'), { recursive: true });
  mkdirSync(path.join(staging, 's3'), { recursive: true });
  try {
    const manifest: Manifest = {
      format: BACKUP_FORMAT,
      createdAt: new Date().toISOString(),
      tables: [],
      buckets: [],
    };
    let items = 0;
    let bytes = 0;
    let objects = 0;
    for (const [i, name] of scope.tables.entries()) {
      const d = await describeTable(clients, name);
      if (!d) {
        // A data directory that never traded has no trading tables: nothing of them to keep.
        progress(`table ${name}: absent`);
        continue;
      }
      const rows = await scanTable(clients, name);
      const text = rows.map((r) => `${encodeItem(r)}\n`).join('');
      const file = `dynamodb/table-${i}.jsonl`;
      writeFileSync(path.join(staging, file), text);
      manifest.tables.push({
        name,
        file,
        items: rows.length,
        bytes: Buffer.byteLength(text),
        sha256: sha256(text),
        keySchema: (d.Table?.KeySchema ?? []).map((k) => ({
          AttributeName: k.AttributeName ?? '',
          KeyType: k.KeyType === 'RANGE' ? 'RANGE' : 'HASH',
        })),
        attributes: (d.Table?.AttributeDefinitions ?? []).map((a) => ({
          AttributeName: a.AttributeName ?? '',
          AttributeType: a.AttributeType === 'N' ? 'N' : a.AttributeType === 'B' ? 'B' : 'S',
        })),
      });
      items += rows.length;
      progress(`table ${name}: ${rows.length} items`);
    }
    for (const [b, bucket] of scope.buckets.entries()) {
      const keys = await listKeys(clients, bucket);
      const entries: ObjectEntry[] = await mapLimit(keys, DR_CONCURRENCY, async (key, o) => {
        const { body, contentType, metadata } = await getObject(clients, bucket, key);
        const file = `s3/b${b}-o${o}`;
        writeFileSync(path.join(staging, file), body);
        return { key, file, bytes: body.byteLength, sha256: sha256(body), contentType, metadata };
      });
      for (const e of entries) bytes += e.bytes;
      objects += entries.length;
      manifest.buckets.push({ name: bucket, objects: entries });
      progress(`bucket ${bucket}: ${entries.length} objects`);
    }
    // The manifest last: a directory without one is not a backup.
    writeFileSync(path.join(staging, MANIFEST_FILE), `${JSON.stringify(manifest, null, 1)}\n`);
    checkTarget(target);
    rmSync(target, { recursive: true, force: true });
    mkdirSync(path.dirname(target), { recursive: true });
    renameSync(staging, target);
    return { dir: target, tables: manifest.tables.length, items, objects, bytes };
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
}
