/**
 * The engine's listing against a real local S3 server: the small ListObjectsV2 parser must give
 * exactly what the SDK's deserializer gives (keys, sizes, ETags, order, tokens, common prefixes),
 * and must actually be the one reading these pages.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeS3Client } from '../../../src/aws/clients';
import {
  listAll,
  listPage,
  parseListPage,
  type ListedObject,
  type ListTarget,
} from '../../../src/sync/listing';
import { startLocalS3Server, type LocalS3Server } from '../../../src/sync/local-s3';

let server: LocalS3Server;
let client: S3Client;
const BUCKET = 'listing';

const TRICKY = [
  'plain.csv',
  'with space/file name.txt',
  ' leading and trailing space ',
  `xml/a&b <c> "d" 'e'.txt`,
  'unicode/Zürich €/株式/データ 😀.bin',
  'unicode/\ue000 private use',
  'unicode/\u{10ffff}',
  `deep/${Array.from({ length: 30 }, (_, i) => `p${i}`).join('/')}/leaf.parquet`,
  "symbols/!#$&()+,;=@[]~'.txt",
  'folder-marker/',
  // s3rver lists these in walk order (a/b first), S3 in byte order (a-c first).
  'order/a/b',
  'order/a-c',
  'tab\there',
];
const MANY = Array.from({ length: 2345 }, (_, i) => `many/d${i % 7}/k${String(i).padStart(5, '0')}`);

beforeAll(async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sync-listing-'));
  server = await startLocalS3Server({ dir: tmp });
  client = makeS3Client({ endpoint: server.endpoint });
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const keys = [...TRICKY, ...MANY];
  for (let i = 0; i < keys.length; i += 64) {
    await Promise.all(
      keys
        .slice(i, i + 64)
        .map((key, j) =>
          client.send(
            new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: Buffer.alloc((i + j) % 97, 7) }),
          ),
        ),
    );
  }
});

afterAll(async () => {
  client?.destroy();
  await server?.stop();
});

const target = (prefix = ''): ListTarget => ({ client, bucket: BUCKET, prefix });

async function all(prefix: string, fast: boolean): Promise<ListedObject[]> {
  const out: ListedObject[] = [];
  for await (const page of listAll(target(prefix), prefix, fast)) out.push(...page);
  return out;
}

describe('listing', () => {
  it('the parser and the SDK give the same objects, in the same order, across pages', async () => {
    const fast = await all('', true);
    const sdk = await all('', false);
    expect(fast).toEqual(sdk);
    expect(fast.map((o) => o.key).sort()).toEqual([...TRICKY, ...MANY].sort());
    expect(fast.find((o) => o.key === MANY[100])).toMatchObject({ size: (TRICKY.length + 100) % 97 });
    expect(fast.every((o) => /^[0-9a-f]{32}$/.test(o.etag))).toBe(true);
    expect(await all('many/d3/', true)).toEqual(await all('many/d3/', false));
    expect((await all('many/d3/', true)).length).toBe(MANY.filter((k) => k.startsWith('many/d3/')).length);
  });

  it('with a delimiter: every common prefix; parser and SDK agree on small pages', async () => {
    for (const prefix of ['', 'unicode/', 'many/']) {
      // s3rver counts only keys against MaxKeys: '' holds 3 of them, 'unicode/' 2, 'many/'
      // only prefixes.
      let tokenFast: string | undefined;
      let tokenSdk: string | undefined;
      let pages = 0;
      do {
        const a = await listPage(target(), { prefix, token: tokenFast, delimiter: '/', maxKeys: 1 }, true);
        const b = await listPage(target(), { prefix, token: tokenSdk, delimiter: '/', maxKeys: 1 }, false);
        // This server's tokens are encrypted with a fresh IV per response: compare their presence.
        expect({ ...a, nextToken: a.nextToken !== undefined }).toEqual({
          ...b,
          nextToken: b.nextToken !== undefined,
        });
        tokenFast = a.nextToken;
        tokenSdk = b.nextToken;
        pages++;
      } while (tokenFast);
      expect(pages).toBe({ '': 3, 'unicode/': 2, 'many/': 1 }[prefix]);
    }
    // Every top-level "folder", also those holding only deeper folders (many/, deep/).
    const all = [...TRICKY, ...MANY];
    const root = await listPage(target(), { prefix: '', delimiter: '/' });
    expect([...root.prefixes].sort()).toEqual(
      [...new Set(all.filter((k) => k.includes('/')).map((k) => k.slice(0, k.indexOf('/') + 1)))].sort(),
    );
    expect(root.objects.map((o) => o.key).sort()).toEqual(all.filter((k) => !k.includes('/')).sort());
    const many = await listPage(target(), { prefix: 'many/', delimiter: '/' });
    expect(many.prefixes).toEqual(Array.from({ length: 7 }, (_, i) => `many/d${i}/`));
  });

  it('the pages this server sends are read by the parser, not the fallback', async () => {
    // s3rver answers unsigned requests: fetch the raw documents the SDK receives.
    let token: string | undefined;
    let pages = 0;
    do {
      const q = new URLSearchParams({ 'list-type': '2', ...(token ? { 'continuation-token': token } : {}) });
      const xml = await (await fetch(`${server.endpoint}/${BUCKET}?${q}`)).text();
      const page = parseListPage(xml);
      expect(page).toBeDefined();
      token = page!.nextToken;
      pages++;
    } while (token);
    expect(pages).toBe(3);
  });
});
