/**
 * The local S3 servers honour conditional writes as S3 does (If-None-Match: *, If-Match: <etag>),
 * over the real protocol: the lake's optimistic concurrency (src/lake/commit.ts) depends on it.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients } from '../../../src/aws/clients';
import { LocalCloud } from '../../../src/local/cloud';
import { LOCAL_BUCKETS } from '../../../src/local/buckets';
import { startLocalS3Server, type LocalS3Server } from '../../../src/sync/local-s3';

let dir: string;
let cloud: LocalCloud;
let vendor: LocalS3Server;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 's3-conditional-'));
  [cloud, vendor] = await Promise.all([
    LocalCloud.start({ dataDir: path.join(dir, 'cloud') }),
    startLocalS3Server({ dir: path.join(dir, 'vendor'), buckets: ['vendor'] }),
  ]);
});

afterAll(async () => {
  await Promise.all([cloud?.stop(), vendor?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

const status = (err: unknown): number | undefined =>
  (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

async function putStatus(
  s3: S3Client,
  bucket: string,
  key: string,
  body: string,
  cond: object,
): Promise<number> {
  try {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...cond }));
    return 200;
  } catch (err) {
    return status(err) ?? -1;
  }
}

describe.each([
  ['the local cloud (server-host.ts)', () => createClients(cloud.runtime).s3, LOCAL_BUCKETS.curated],
  [
    'the stand-alone server (s3-server-host.ts)',
    () =>
      new S3Client({
        endpoint: vendor.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      }),
    'vendor',
  ],
] as const)('conditional PUT on %s', (_name, client, bucket) => {
  it('answers 412 to If-None-Match: * on an existing key and to If-Match with another ETag', async () => {
    const s3 = client();
    const key = `cond/${Math.random().toString(36).slice(2)}`;
    expect(await putStatus(s3, bucket, key, 'v1', { IfNoneMatch: '*' })).toBe(200);
    expect(await putStatus(s3, bucket, key, 'v2', { IfNoneMatch: '*' })).toBe(412);
    const v1 = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(await v1.Body!.transformToString()).toBe('v1');
    expect(await putStatus(s3, bucket, key, 'v2', { IfMatch: '"0123456789abcdef0123456789abcdef"' })).toBe(
      412,
    );
    expect(await putStatus(s3, bucket, key, 'v2', { IfMatch: v1.ETag })).toBe(200);
    // The ETag read before the last write is stale now.
    expect(await putStatus(s3, bucket, key, 'v3', { IfMatch: v1.ETag })).toBe(412);
    expect(await putStatus(s3, bucket, `${key}-absent`, 'x', { IfMatch: v1.ETag })).toBe(404);
    const now = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(await now.Body!.transformToString()).toBe('v2');
    s3.destroy();
  });

  it('lets exactly one of many racing If-None-Match: * writers create a key', async () => {
    const s3 = client();
    const key = `race/${Math.random().toString(36).slice(2)}`;
    const codes = await Promise.all(
      Array.from({ length: 12 }, (_, i) => putStatus(s3, bucket, key, `writer ${i}`, { IfNoneMatch: '*' })),
    );
    expect(codes.filter((c) => c === 200)).toHaveLength(1);
    expect(codes.filter((c) => c === 412)).toHaveLength(11);
    s3.destroy();
  });
});
