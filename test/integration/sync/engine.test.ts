import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeS3Client } from '../../../src/aws/clients';
import { InputError } from '../../../src/errors';
import { MiB, SOURCE_ETAG_META, syncS3, type SyncOptions } from '../../../src/sync/engine';
import { startLocalS3Server, type LocalS3Server } from '../../../src/sync/local-s3';
import { startFaultProxy, type FaultProxy, type Verdict } from '../helpers/fault-proxy';

let vendor: LocalS3Server;
let lake: LocalS3Server;
let src: S3Client;
let dst: S3Client;
let bucketNo = 0;

beforeAll(async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sync-engine-'));
  [vendor, lake] = await Promise.all([
    startLocalS3Server({ dir: path.join(tmp, 'vendor') }),
    startLocalS3Server({ dir: path.join(tmp, 'lake') }),
  ]);
  src = makeS3Client({ endpoint: vendor.endpoint });
  dst = makeS3Client({ endpoint: lake.endpoint });
});

afterAll(async () => {
  src?.destroy();
  dst?.destroy();
  await Promise.all([vendor?.stop(), lake?.stop()]);
});

/** A fresh bucket pair per test so tests never see each other's objects. */
async function buckets(): Promise<{ s: string; d: string }> {
  bucketNo++;
  const s = `src-${bucketNo}`;
  const d = `dst-${bucketNo}`;
  await src.send(new CreateBucketCommand({ Bucket: s }));
  await dst.send(new CreateBucketCommand({ Bucket: d }));
  return { s, d };
}

async function put(
  client: S3Client,
  bucket: string,
  key: string,
  body: Buffer,
  meta?: Record<string, string>,
) {
  await client.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      Metadata: meta,
      ContentType: 'application/x-test',
    }),
  );
}

async function get(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

async function list(client: S3Client, bucket: string): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of page.Contents ?? []) m.set(o.Key!, o.ETag!);
    token = page.NextContinuationToken;
  } while (token);
  return m;
}

function opts(
  s: string,
  d: string,
  extra: Partial<SyncOptions> = {},
  clients: { src?: S3Client; dst?: S3Client } = {},
): SyncOptions {
  return {
    source: { client: clients.src ?? src, bucket: s, prefix: 'vendor/' },
    dest: { client: clients.dst ?? dst, bucket: d, prefix: 'mirror/' },
    partSize: 5 * MiB,
    retryDelayMs: 10,
    ...extra,
  };
}

const KEYS = [
  'plain.csv',
  'with space/file name.txt',
  'unicode/Zürich €/株式/データ 😀.bin',
  `deep/${Array.from({ length: 30 }, (_, i) => `p${i}`).join('/')}/leaf.parquet`,
  "symbols/!#$&()+,;=@[]~'.txt",
  // This server lists a/b before a-c (a directory walk); S3's byte order is the reverse. The engine
  // then waits for the whole destination listing before comparing (nothing copied twice or missed).
  'order/a/b',
  'order/a-c',
];

describe('syncS3 between two S3 servers', () => {
  it('copies keys with spaces, unicode and deep prefixes byte-exact, with metadata; a re-run copies nothing', async () => {
    const { s, d } = await buckets();
    const bodies = new Map(KEYS.map((k, i) => [k, crypto.randomBytes(1000 + i * 4099)]));
    bodies.set('empty/zero-bytes', Buffer.alloc(0));
    for (const [k, b] of bodies)
      await put(src, s, `vendor/${k}`, b, { origin: 'vendor', idx: k.length.toString() });
    await put(src, s, 'outside/not-synced.txt', Buffer.from('x'));

    const r1 = await syncS3(opts(s, d));
    expect(r1.failed.items).toEqual([]);
    expect(r1.copied.objects).toBe(bodies.size);
    expect(r1.copied.bytes).toBe([...bodies.values()].reduce((a, b) => a + b.length, 0));
    expect(r1.verified.etag).toBe(bodies.size);
    for (const [k, b] of bodies) {
      expect((await get(dst, d, `mirror/${k}`)).equals(b)).toBe(true);
      const head = await dst.send(new HeadObjectCommand({ Bucket: d, Key: `mirror/${k}` }));
      expect(head.Metadata).toMatchObject({ origin: 'vendor', idx: k.length.toString() });
      expect(head.ContentType).toBe('application/x-test');
    }
    expect([...(await list(dst, d)).keys()].sort()).toEqual(
      [...bodies.keys()].map((k) => `mirror/${k}`).sort(),
    );

    const r2 = await syncS3(opts(s, d));
    expect(r2.copied.objects).toBe(0);
    expect(r2.skipped.objects).toBe(bodies.size);
    expect(r2.planned.copy.objects).toBe(0);
  });

  it('pages through more than 1000 objects on both sides', async () => {
    const { s, d } = await buckets();
    const n = 1003;
    for (let i = 0; i < n; i += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, n - i) }, (_, j) =>
          put(src, s, `vendor/k${String(i + j).padStart(5, '0')}`, Buffer.from(`object ${i + j}`)),
        ),
      );
    }
    const r1 = await syncS3(opts(s, d, { concurrency: 32 }));
    expect(r1.listed.source).toBe(n);
    expect(r1.copied.objects).toBe(n);
    const r2 = await syncS3(opts(s, d));
    expect(r2.listed.dest).toBe(n);
    expect(r2.skipped.objects).toBe(n);
  });

  it('copies large objects in parts and verifies them', async () => {
    const { s, d } = await buckets();
    const big = crypto.randomBytes(12 * MiB + 12345);
    await put(src, s, 'vendor/big/one.bin', big, { kind: 'big' });
    const r = await syncS3(opts(s, d));
    expect(r.failed.items).toEqual([]);
    expect(r.copied).toEqual({ objects: 1, bytes: big.length });
    expect(r.verified.etag + r.verified.readBack).toBe(1);
    expect((await get(dst, d, 'mirror/big/one.bin')).equals(big)).toBe(true);
    const head = await dst.send(new HeadObjectCommand({ Bucket: d, Key: 'mirror/big/one.bin' }));
    expect(head.Metadata?.kind).toBe('big');
    const srcHead = await src.send(new HeadObjectCommand({ Bucket: s, Key: 'vendor/big/one.bin' }));
    expect(head.Metadata?.[SOURCE_ETAG_META]).toBe(srcHead.ETag!.replace(/"/g, ''));
    expect((await syncS3(opts(s, d))).skipped.objects).toBe(1);
  });

  it('copies objects whose size or content changed (same size: by the recorded source ETag)', async () => {
    const { s, d } = await buckets();
    for (const k of ['a', 'b', 'c', 'd']) await put(src, s, `vendor/${k}`, Buffer.alloc(100, k));
    await syncS3(opts(s, d));
    const sameSize = Buffer.alloc(100, 'z');
    const longer = Buffer.alloc(150, 'y');
    await put(src, s, 'vendor/b', sameSize);
    await put(src, s, 'vendor/c', longer);
    const r = await syncS3(opts(s, d));
    expect(r.copied.objects).toBe(2);
    expect(r.skipped.objects).toBe(2);
    expect((await get(dst, d, 'mirror/b')).equals(sameSize)).toBe(true);
    expect((await get(dst, d, 'mirror/c')).equals(longer)).toBe(true);
  });

  it('--dry-run plans but changes nothing; deletes only with delete', async () => {
    const { s, d } = await buckets();
    await put(src, s, 'vendor/keep', Buffer.from('keep'));
    await put(src, s, 'vendor/new', Buffer.from('new'));
    await put(dst, d, 'mirror/keep', Buffer.from('old!'));
    await put(dst, d, 'mirror/extra', Buffer.from('extra'));
    await put(dst, d, 'elsewhere/untouched', Buffer.from('x'));
    const before = await list(dst, d);

    const dry = await syncS3(opts(s, d, { dryRun: true, delete: true }));
    expect(dry.planned.copy.objects).toBe(2);
    expect(dry.planned.delete.objects).toBe(1);
    expect(dry.copied.objects).toBe(0);
    expect(dry.deleted.objects).toBe(0);
    expect(await list(dst, d)).toEqual(before);

    const noDelete = await syncS3(opts(s, d));
    expect(noDelete.copied.objects).toBe(2);
    expect(noDelete.planned.delete.objects).toBe(1);
    expect(noDelete.deleted.objects).toBe(0);
    expect((await list(dst, d)).has('mirror/extra')).toBe(true);

    const withDelete = await syncS3(opts(s, d, { delete: true }));
    expect(withDelete.deleted).toEqual({ objects: 1, bytes: 5 });
    expect([...(await list(dst, d)).keys()].sort()).toEqual([
      'elsewhere/untouched',
      'mirror/keep',
      'mirror/new',
    ]);
  });
});

describe('faults', () => {
  let srcProxy: FaultProxy;
  let dstProxy: FaultProxy;
  let viaSrc: S3Client;
  let viaDst: S3Client;
  beforeAll(async () => {
    srcProxy = await startFaultProxy(vendor.endpoint);
    dstProxy = await startFaultProxy(lake.endpoint);
    viaSrc = makeS3Client({ endpoint: srcProxy.endpoint });
    viaDst = makeS3Client({ endpoint: dstProxy.endpoint });
  });
  afterAll(async () => {
    viaSrc?.destroy();
    viaDst?.destroy();
    await Promise.all([srcProxy?.close(), dstProxy?.close()]);
  });

  it('detects a source object that changes during the copy and copies the new version', async () => {
    const { s, d } = await buckets();
    const v1 = crypto.randomBytes(4000);
    const v2 = crypto.randomBytes(4000);
    await put(src, s, 'vendor/moving.bin', v1);
    await put(src, s, 'vendor/still.bin', Buffer.from('still'));
    let changed = false;
    srcProxy.rule = async (req): Promise<Verdict> => {
      if (req.method === 'GET' && req.path === `/${s}/vendor/moving.bin` && !changed) {
        changed = true;
        await put(src, s, 'vendor/moving.bin', v2); // changes after the listing, before the read
      }
      return 'forward';
    };
    const r = await syncS3(opts(s, d, {}, { src: viaSrc }));
    srcProxy.rule = () => 'forward';
    expect(changed).toBe(true);
    expect(r.sourceChanges).toBe(1);
    expect(r.copied.objects).toBe(2);
    expect((await get(dst, d, 'mirror/moving.bin')).equals(v2)).toBe(true);
  });

  it('detects a change between the parts of a multipart copy and restarts it', async () => {
    const { s, d } = await buckets();
    const v1 = crypto.randomBytes(11 * MiB);
    const v2 = crypto.randomBytes(11 * MiB + 7);
    await put(src, s, 'vendor/big.bin', v1);
    let changed = false;
    srcProxy.rule = async (req): Promise<Verdict> => {
      const range = String(req.headers.range ?? '');
      if (
        req.method === 'GET' &&
        req.path === `/${s}/vendor/big.bin` &&
        !range.startsWith('bytes=0-') &&
        !changed
      ) {
        changed = true;
        await put(src, s, 'vendor/big.bin', v2);
      }
      return 'forward';
    };
    const r = await syncS3(opts(s, d, {}, { src: viaSrc }));
    srcProxy.rule = () => 'forward';
    expect(changed).toBe(true);
    expect(r.sourceChanges).toBeGreaterThanOrEqual(1);
    expect(r.failed.items).toEqual([]);
    expect((await get(dst, d, 'mirror/big.bin')).equals(v2)).toBe(true);
  });

  it('retries a failing destination write, then reports what still fails; nothing partial is left', async () => {
    const { s, d } = await buckets();
    for (const k of ['flaky', 'broken', 'fine1', 'fine2'])
      await put(src, s, `vendor/${k}`, crypto.randomBytes(2048));
    let flakyFailures = 0;
    dstProxy.rule = (req) => {
      if (req.method !== 'PUT') return 'forward';
      if (req.path === `/${d}/mirror/flaky` && flakyFailures < 2) {
        flakyFailures++;
        return { status: 500, code: 'InternalError' };
      }
      if (req.path === `/${d}/mirror/broken`) return { status: 503, code: 'ServiceUnavailable' };
      return 'forward';
    };
    const r = await syncS3(opts(s, d, { attempts: 3 }, { dst: viaDst }));
    dstProxy.rule = () => 'forward';
    expect(flakyFailures).toBe(2);
    expect(r.copied.objects).toBe(3);
    expect(r.failed.objects).toBe(1);
    expect(r.failed.items[0]).toMatchObject({ key: 'broken', attempts: 3 });
    expect(r.failed.items[0].reason).toMatch(/ServiceUnavailable/);
    const keys = [...(await list(dst, d)).keys()].sort();
    expect(keys).toEqual(['mirror/fine1', 'mirror/fine2', 'mirror/flaky']);
  });

  it('verifies by reading back when the destination ETag is not an MD5', async () => {
    const { s, d } = await buckets();
    const small = crypto.randomBytes(3000);
    const big = crypto.randomBytes(6 * MiB);
    await put(src, s, 'vendor/small', small);
    await put(src, s, 'vendor/big', big);
    dstProxy.opaqueEtag = (req) => req.method === 'PUT' || req.method === 'POST';
    const r = await syncS3(opts(s, d, {}, { dst: viaDst }));
    dstProxy.opaqueEtag = () => false;
    expect(r.failed.items).toEqual([]);
    expect(r.verified).toEqual({ etag: 0, readBack: 2 });
    expect((await get(dst, d, 'mirror/big')).equals(big)).toBe(true);
  });

  it('catches corruption in transit: retried, and a copy that never verifies is removed and reported', async () => {
    const { s, d } = await buckets();
    await put(src, s, 'vendor/once', crypto.randomBytes(5000));
    await put(src, s, 'vendor/always', crypto.randomBytes(5000));
    let corrupted = 0;
    dstProxy.corrupt = (req) => {
      if (req.method !== 'PUT') return false;
      if (req.path.endsWith('/always') || (req.path.endsWith('/once') && corrupted === 0)) {
        corrupted++;
        return true;
      }
      return false;
    };
    const r = await syncS3(opts(s, d, { attempts: 2 }, { dst: viaDst }));
    dstProxy.corrupt = () => false;
    expect(r.copied.objects).toBe(1);
    expect(r.failed.items).toEqual([
      { key: 'always', attempts: 2, reason: expect.stringMatching(/read-back MD5 differs/) },
    ]);
    expect([...(await list(dst, d)).keys()]).toEqual(['mirror/once']);
    expect((await get(dst, d, 'mirror/once')).equals(await get(src, s, 'vendor/once'))).toBe(true);
  });

  it('a source listing that fails part-way aborts the run: nothing is deleted', async () => {
    const { s, d } = await buckets();
    await Promise.all(
      Array.from({ length: 1002 }, (_, i) =>
        put(src, s, `vendor/k${String(i).padStart(4, '0')}`, Buffer.from(`${i}`)),
      ),
    );
    await put(dst, d, 'mirror/only-at-dest', Buffer.from('keep me'));
    srcProxy.rule = (req) =>
      req.method === 'GET' && req.query.get('list-type') === '2' && req.query.has('continuation-token')
        ? { status: 500, code: 'InternalError' }
        : 'forward';
    const err = await syncS3(opts(s, d, { delete: true }, { src: viaSrc })).catch((e: unknown) => e);
    srcProxy.rule = () => 'forward';
    expect(err).toBeInstanceOf(Error);
    expect(String(err)).toMatch(/InternalError/);
    expect((await list(dst, d)).has('mirror/only-at-dest')).toBe(true);
  });

  it('a destination listing that fails part-way aborts the run: nothing is deleted', async () => {
    const { s, d } = await buckets();
    await Promise.all(
      Array.from({ length: 1002 }, (_, i) =>
        put(dst, d, `mirror/k${String(i).padStart(4, '0')}`, Buffer.from(`${i}`)),
      ),
    );
    await put(src, s, 'vendor/k0000', Buffer.from('0'));
    dstProxy.rule = (req) =>
      req.method === 'GET' && req.query.get('list-type') === '2' && req.query.has('continuation-token')
        ? { status: 500, code: 'InternalError' }
        : 'forward';
    const err = await syncS3(opts(s, d, { delete: true, attempts: 1 }, { dst: viaDst })).catch(
      (e: unknown) => e,
    );
    dstProxy.rule = () => 'forward';
    expect(err).toBeInstanceOf(Error);
    expect(String(err)).toMatch(/InternalError/);
    expect((await list(dst, d)).size).toBe(1002);
  });

  it('compares and copies while the destination is still listing; a re-run finds exactly what changed', async () => {
    const { s, d } = await buckets();
    // Three listing pages a side, in key order (KEYS has the out-of-order case).
    const keys = Array.from({ length: 2400 }, (_, i) => `p${i % 3}/k${String(i).padStart(5, '0')}`);
    const body = (k: string, v: number): Buffer => Buffer.from(`${k} v${v} `.repeat(1 + (k.length % 5)));
    for (let i = 0; i < keys.length; i += 100) {
      await Promise.all(keys.slice(i, i + 100).map((k) => put(src, s, `vendor/${k}`, body(k, 1))));
    }
    expect((await syncS3(opts(s, d))).copied.objects).toBe(keys.length);

    // 1% changed: half the same size (found by the recorded source ETag), half a new size.
    const changed = keys.filter((_, i) => i % 100 === 7);
    for (const [i, k] of changed.entries()) {
      await put(src, s, `vendor/${k}`, i % 2 ? body(k, 2) : Buffer.concat([body(k, 2), Buffer.from('+')]));
    }
    // Hold the destination's last listing page until a changed object has been read from the
    // source: that happens only if objects are compared before the destination listing ends.
    let sourceGets = 0;
    let lastPageHeldFor: string | undefined;
    srcProxy.rule = (req) => {
      if (req.method === 'GET' && !req.query.has('list-type')) sourceGets++;
      return 'forward';
    };
    let destPages = 0;
    dstProxy.rule = async (req): Promise<Verdict> => {
      // The engine's listing pages (the preflight sends max-keys=1).
      const page = req.method === 'GET' && req.query.get('list-type') === '2' && !req.query.has('max-keys');
      if (page && ++destPages === 3) {
        for (let i = 0; i < 200 && sourceGets === 0; i++) await new Promise((r) => setTimeout(r, 25));
        lastPageHeldFor = sourceGets > 0 ? 'a source read' : 'nothing (timed out)';
      }
      return 'forward';
    };
    const r = await syncS3(opts(s, d, {}, { src: viaSrc, dst: viaDst }));
    srcProxy.rule = () => 'forward';
    dstProxy.rule = () => 'forward';
    expect(lastPageHeldFor).toBe('a source read');
    expect(r.failed.items).toEqual([]);
    expect(r.listed).toEqual({ source: keys.length, dest: keys.length });
    expect(r.copied.objects).toBe(changed.length);
    expect(r.skipped.objects).toBe(keys.length - changed.length);
    for (const [i, k] of changed.entries()) {
      const want = i % 2 ? body(k, 2) : Buffer.concat([body(k, 2), Buffer.from('+')]);
      expect((await get(dst, d, `mirror/${k}`)).equals(want)).toBe(true);
    }
    const again = await syncS3(opts(s, d));
    expect(again.copied.objects).toBe(0);
    expect(again.skipped.objects).toBe(keys.length);
  });

  it('wrong credentials and a missing bucket are clear input errors', async () => {
    const { s, d } = await buckets();
    const badCreds = makeS3Client({
      endpoint: vendor.endpoint,
      credentials: { accessKeyId: 'WRONG', secretAccessKey: 'WRONG' },
    });
    try {
      const e1 = await syncS3(opts(s, d, {}, { src: badCreds })).catch((e: unknown) => e);
      expect(e1).toBeInstanceOf(InputError);
      expect((e1 as Error).message).toMatch(
        /^source: credentials rejected .*InvalidAccessKeyId.*SOURCE_AWS_ACCESS_KEY_ID/,
      );
      const e2 = await syncS3({
        ...opts(s, d),
        dest: { client: dst, bucket: 'no-such-bucket', prefix: '' },
      }).catch((e: unknown) => e);
      expect(e2).toBeInstanceOf(InputError);
      expect((e2 as Error).message).toMatch(/^dest: bucket "no-such-bucket" does not exist/);
    } finally {
      badCreds.destroy();
    }
  });
});
