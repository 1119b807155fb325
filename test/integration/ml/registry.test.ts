/** The local model registry on the local S3 server: versions, approval per environment, rollback, concurrency. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients, type AwsClients } from '../../../src/aws/clients';
import { LOCAL_BUCKETS } from '../../../src/local/buckets';
import { LocalCloud } from '../../../src/local/cloud';
import { InputError } from '../../../src/errors';
import { S3ModelRegistry } from '../../../src/ml/registry/s3-registry';
import { updateJson } from '../../../src/ml/registry/s3-index';

const dir = mkdtempSync(path.join(os.tmpdir(), 'registry-'));
let cloud: LocalCloud;
let clients: AwsClients;
let registry: S3ModelRegistry;

beforeAll(async () => {
  cloud = await LocalCloud.start({ dataDir: dir });
  clients = createClients(cloud.runtime);
  registry = new S3ModelRegistry(clients.s3, LOCAL_BUCKETS.models);
});
afterAll(async () => {
  clients?.destroy();
  await cloud?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const files = (tag: string) => ({
  'model.onnx': new TextEncoder().encode(`onnx bytes ${tag}`),
  'manifest.json': new TextEncoder().encode(JSON.stringify({ modelName: 'm', tag })),
  'evaluation.json': new TextEncoder().encode(JSON.stringify({ ic: 0.1, tag })),
});

describe('the local S3 server honours conditional writes', () => {
  it('If-None-Match: * fails on an existing key and If-Match on a changed ETag', async () => {
    const Bucket = LOCAL_BUCKETS.models;
    const put = (extra: object) =>
      clients.s3.send(new PutObjectCommand({ Bucket, Key: 'cond/x', Body: 'v', ...extra }));
    const first = await put({ IfNoneMatch: '*' });
    await expect(put({ IfNoneMatch: '*' })).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
    await expect(put({ IfMatch: '"0123"' })).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
    await put({ IfMatch: first.ETag, Body: 'w' });
    const got = await clients.s3.send(new GetObjectCommand({ Bucket, Key: 'cond/x' }));
    expect(await got.Body!.transformToString()).toBe('w');
  });

  it('concurrent read-modify-write updates of one document lose nothing', async () => {
    const Bucket = LOCAL_BUCKETS.models;
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        updateJson<{ items: number[] }, void>(clients.s3, Bucket, 'cond/counter.json', (cur) => ({
          next: { items: [...(cur?.items ?? []), i] },
          result: undefined,
        })),
      ),
    );
    const got = await clients.s3.send(new GetObjectCommand({ Bucket, Key: 'cond/counter.json' }));
    const doc = JSON.parse(await got.Body!.transformToString()) as { items: number[] };
    expect([...doc.items].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });
});

describe('S3ModelRegistry', () => {
  it('numbers versions 1, 2, ... and registering the same model.onnx again returns its version', async () => {
    const a = await registry.register({
      modelName: 'alpha',
      files: files('a'),
      actor: 't',
      metrics: { test_ic: 0.05 },
    });
    const b = await registry.register({ modelName: 'alpha', files: files('b'), actor: 't' });
    const again = await registry.register({ modelName: 'alpha', files: files('a'), actor: 't' });
    expect([a.version.version, b.version.version]).toEqual([1, 2]);
    expect(a.created && b.created).toBe(true);
    expect(again).toMatchObject({ created: false, version: { version: 1 } });
    expect(a.version.status).toBe('PendingManualApproval');
    expect(a.version.location).toBe('s3://quant-models/models/alpha/1/');
    const bytes = await registry.artifact('alpha', 2, 'evaluation.json');
    expect(JSON.parse(new TextDecoder().decode(bytes))).toEqual({ ic: 0.1, tag: 'b' });
    const list = await registry.list('alpha');
    expect(list.map((v) => v.version)).toEqual([2, 1]);
    expect(list[1].metrics).toEqual({ test_ic: 0.05 });
  });

  it('concurrent registrations get distinct versions and all are listed', async () => {
    const rs = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        registry.register({ modelName: 'beta', files: files(`c${i}`), actor: 't' }),
      ),
    );
    expect(rs.map((r) => r.version.version).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await registry.list('beta')).length).toBe(6);
  });

  it('approves per environment and rolls back to the previous approved version in one call', async () => {
    for (const tag of ['r1', 'r2', 'r3'])
      await registry.register({ modelName: 'gamma', files: files(tag), actor: 't' });
    expect(await registry.current('gamma', 'paper')).toBeUndefined();
    expect(await registry.approve('gamma', 1, 'paper', 'alice')).toMatchObject({
      changed: true,
      previous: undefined,
    });
    expect(await registry.approve('gamma', 3, 'paper', 'alice')).toMatchObject({
      changed: true,
      previous: 1,
    });
    expect(await registry.approve('gamma', 3, 'paper', 'alice')).toMatchObject({ changed: false });
    await registry.approve('gamma', 2, 'prod', 'bob');
    expect(await registry.current('gamma', 'paper')).toBe(3);
    expect((await registry.get('gamma', 3)).currentFor).toEqual(['paper']);
    expect(await registry.rollback('gamma', 'paper', 'alice')).toEqual({
      modelName: 'gamma',
      env: 'paper',
      from: 3,
      to: 1,
    });
    expect(await registry.current('gamma', 'paper')).toBe(1);
    expect(await registry.current('gamma', 'prod')).toBe(2);
    await expect(registry.rollback('gamma', 'paper', 'alice')).rejects.toThrow(
      /no earlier approved version for paper/,
    );
    await expect(registry.rollback('gamma', 'staging', 'alice')).rejects.toThrow(InputError);
  });

  it('rejects unknown versions, rejecting a current version, and approving a rejected one', async () => {
    await registry.register({ modelName: 'delta', files: files('d1'), actor: 't' });
    await registry.register({ modelName: 'delta', files: files('d2'), actor: 't' });
    await expect(registry.get('delta', 9)).rejects.toThrow(/delta@9 is not registered \(versions: 1, 2\)/);
    await registry.approve('delta', 1, 'staging', 't');
    await expect(registry.reject('delta', 1, 't')).rejects.toThrow(/current for staging: roll back first/);
    expect((await registry.reject('delta', 2, 't')).status).toBe('Rejected');
    await expect(registry.approve('delta', 2, 'paper', 't')).rejects.toThrow(
      /Rejected and cannot be approved/,
    );
    await expect(registry.list('bad name')).rejects.toThrow(/not a valid model name/);
  });

  it('lists every model when no name is given', async () => {
    const names = new Set((await registry.list()).map((v) => v.modelName));
    expect([...names].sort()).toEqual(['alpha', 'beta', 'delta', 'gamma']);
  });
});
