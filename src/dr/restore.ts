/**
 * Restore of a local backup (backup.ts) into the local cloud: every file is checked against the
 * manifest first (a missing or corrupt file is bad input naming it, and nothing is written), then
 * tables are created with their key schema and filled (BatchWriteItem), buckets filled (PutObject).
 * The target must be empty: a restore never merges into live state.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  ScanCommand,
  type AttributeValue,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { AwsClients } from '../aws/clients';
import type { BackupSummary as RestoreSummary } from './backup';
import { describeZodIssues, InputError } from '../errors';
import { decodeItem, DR_CONCURRENCY, MANIFEST_FILE, manifestSchema, sha256, type Manifest } from './format';
import { mapLimit } from '../map-limit';

export interface LoadedBackup {
  readonly dir: string;
  readonly manifest: Manifest;
  /** Items of each table, by table name. */
  readonly items: ReadonlyMap<string, Record<string, AttributeValue>[]>;
  /** Bytes of each object, by `bucket/key`. */
  readonly objects: ReadonlyMap<string, Uint8Array>;
}

const bad = (file: string, problem: string): InputError => new InputError(`${file}: ${problem}`, file);

/** Reads and checks a whole backup; throws InputError naming the first missing or corrupt file. */
export function loadBackup(dir: string): LoadedBackup {
  const root = path.resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory())
    throw new InputError(`--from: ${root} is not a directory`, '--from');
  const manifestPath = path.join(root, MANIFEST_FILE);
  if (!existsSync(manifestPath)) throw bad(manifestPath, 'missing (not a quant dr backup, or incomplete)');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (e) {
    throw bad(manifestPath, `not valid JSON (${(e as Error).message})`);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) throw bad(manifestPath, describeZodIssues(parsed.error.issues));
  const manifest = parsed.data;
  const read = (ref: { file: string; bytes: number; sha256: string }): Buffer => {
    const p = path.join(root, ref.file);
    if (!existsSync(p)) throw bad(p, 'missing (listed in the manifest)');
    const data = readFileSync(p);
    if (data.byteLength !== ref.bytes)
      throw bad(p, `corrupt: ${data.byteLength} bytes, the manifest says ${ref.bytes}`);
    if (sha256(data) !== ref.sha256) throw bad(p, 'corrupt: its SHA-256 does not match the manifest');
    return data;
  };
  const items = new Map<string, Record<string, AttributeValue>[]>();
  for (const t of manifest.tables) {
    const p = path.join(root, t.file);
    const lines = read(t)
      .toString('utf8')
      .split('\n')
      .filter((l) => l !== '');
    const rows = lines.map((l, i) => {
      try {
        return decodeItem(l);
      } catch {
        throw bad(`${p}:${i + 1}`, 'not a JSON item');
      }
    });
    if (rows.length !== t.items) throw bad(p, `${rows.length} items, the manifest says ${t.items}`);
    items.set(t.name, rows);
  }
  const objects = new Map<string, Uint8Array>();
  for (const b of manifest.buckets) for (const o of b.objects) objects.set(`${b.name}/${o.key}`, read(o));
  return { dir: root, manifest, items, objects };
}

async function waitActive(clients: AwsClients, table: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const d = await clients.dynamodb.send(new DescribeTableCommand({ TableName: table }));
    if (d.Table?.TableStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`table ${table} did not become ACTIVE`);
}

async function tableHasItems(clients: AwsClients, table: string): Promise<boolean> {
  try {
    const r = await clients.dynamodb.send(new ScanCommand({ TableName: table, Limit: 1 }));
    return (r.Items ?? []).length > 0;
  } catch (e) {
    if (e instanceof ResourceNotFoundException) return false;
    throw e;
  }
}

async function bucketHasObjects(clients: AwsClients, bucket: string): Promise<boolean> {
  try {
    const r = await clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1 }));
    return (r.Contents ?? []).length > 0;
  } catch (e) {
    if ((e as { name?: string }).name === 'NoSuchBucket') return false;
    throw e;
  }
}

async function writeItems(
  clients: AwsClients,
  table: string,
  rows: readonly Record<string, AttributeValue>[],
): Promise<void> {
  const batches: Record<string, AttributeValue>[][] = [];
  for (let i = 0; i < rows.length; i += 25) batches.push(rows.slice(i, i + 25));
  await mapLimit(batches, 4, async (batch) => {
    let pending: WriteRequest[] = batch.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 20) throw new Error(`table ${table}: items left unprocessed after ${attempt} attempts`);
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt)));
      const r = await clients.dynamodb.send(
        new BatchWriteItemCommand({ RequestItems: { [table]: pending } }),
      );
      pending = r.UnprocessedItems?.[table] ?? [];
    }
  });
}

/** Restores a checked backup into the (empty) local cloud of `clients`. */
export async function restoreLocal(
  clients: AwsClients,
  backup: LoadedBackup,
  progress: (line: string) => void = () => {},
): Promise<RestoreSummary> {
  const { manifest } = backup;
  // Before anything is written: the target holds nothing the restore could clash with.
  for (const t of manifest.tables)
    if (await tableHasItems(clients, t.name))
      throw new InputError(
        `table ${t.name} already holds items: restore into an empty data directory`,
        'table',
      );
  for (const b of manifest.buckets)
    if (await bucketHasObjects(clients, b.name))
      throw new InputError(
        `bucket ${b.name} already holds objects: restore into an empty data directory`,
        'bucket',
      );
  let items = 0;
  for (const t of manifest.tables) {
    try {
      await clients.dynamodb.send(
        new CreateTableCommand({
          TableName: t.name,
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: t.keySchema,
          AttributeDefinitions: t.attributes,
        }),
      );
    } catch (e) {
      if (!(e instanceof ResourceInUseException)) throw e;
    }
    await waitActive(clients, t.name);
    const rows = backup.items.get(t.name) ?? [];
    await writeItems(clients, t.name, rows);
    items += rows.length;
    progress(`table ${t.name}: ${rows.length} items restored`);
  }
  let objects = 0;
  let bytes = 0;
  for (const b of manifest.buckets) {
    try {
      await clients.s3.send(new CreateBucketCommand({ Bucket: b.name }));
    } catch (e) {
      const name = (e as { name?: string }).name;
      if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw e;
    }
    await mapLimit(b.objects, DR_CONCURRENCY, async (o) => {
      const body = backup.objects.get(`${b.name}/${o.key}`);
      if (!body) throw new Error(`internal: ${b.name}/${o.key} not loaded`);
      await clients.s3.send(
        new PutObjectCommand({
          Bucket: b.name,
          Key: o.key,
          Body: body,
          ContentType: o.contentType,
          Metadata: o.metadata,
        }),
      );
    });
    for (const o of b.objects) bytes += o.bytes;
    objects += b.objects.length;
    progress(`bucket ${b.name}: ${b.objects.length} objects restored`);
  }
  return { dir: backup.dir, tables: manifest.tables.length, items, objects, bytes };
}
