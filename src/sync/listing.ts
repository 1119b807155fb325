/**
 * Listing for the sync engine: ListObjectsV2 pages through the SDK (signing, endpoints, retries),
 * with the result document read by a small parser instead of the SDK's general XML deserializer.
 *
 * Why: a sync compares every key on both sides, so a listing is most of an incremental run. The
 * SDK turns each 1,000-key page into a DOM, a schema-driven object graph with Date objects, and then
 * walks the whole output once more to build a log entry with sensitive fields masked (even with no
 * logger): 20-30 µs of CPU per key once warm, more in a fresh process. The engine needs key, size
 * and ETag per object; reading those straight from the text is a few µs per key. Anything the
 * parser does not fully understand (CDATA, comments, namespace prefixes, unknown entities, counts
 * that do not add up) leaves the page to the SDK, so the result is the same either way; tests
 * compare both on the same pages.
 */
import {
  ListObjectsV2Command,
  type ListObjectsV2CommandInput,
  type S3Client,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { DeserializeHandler, DeserializeHandlerArguments } from '@smithy/types';
import { formatS3Uri, type S3Location } from './uri';

export interface ListedObject {
  readonly key: string;
  readonly size: number;
  /** Without quotes. */
  readonly etag: string;
}

export interface ListPage {
  readonly objects: ListedObject[];
  /** Common prefixes (only with a delimiter), as the server sent them. */
  readonly prefixes: string[];
  readonly truncated: boolean;
  readonly nextToken?: string;
}

export interface ListTarget extends S3Location {
  readonly client: S3Client;
}

export const stripQuotes = (etag: string | undefined): string =>
  (etag ?? '').replace(/^W\//, '').replace(/"/g, '');

const ENTITY = /&(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/g;
const NAMED_ENTITY: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** XML text to string; undefined for an entity XML does not define (the SDK then decides). */
function decodeText(s: string): string | undefined {
  if (!s.includes('&')) return s;
  let bad = false;
  const out = s.replace(ENTITY, (_m, e: string) => {
    if (e[0] !== '#') return NAMED_ENTITY[e];
    const cp = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    if (!(cp >= 0 && cp <= 0x10ffff)) {
      bad = true;
      return '';
    }
    return String.fromCodePoint(cp);
  });
  // A bare '&' left after decoding was not an entity we know.
  if (bad || /&(?!(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)/.test(s)) return undefined;
  return out;
}

const count = (s: string, needle: string): number => {
  let n = 0;
  for (let i = s.indexOf(needle); i !== -1; i = s.indexOf(needle, i + needle.length)) n++;
  return n;
};

const CONTENTS = /<Contents>([^]*?)<\/Contents>/g;
const COMMON = /<CommonPrefixes>\s*<Prefix>([^<]*)<\/Prefix>\s*<\/CommonPrefixes>/g;
const field = (block: string, name: string): string | undefined => {
  const open = block.indexOf(`<${name}>`);
  if (open === -1) return undefined;
  const start = open + name.length + 2;
  const end = block.indexOf(`</${name}>`, start);
  return end === -1 ? undefined : block.slice(start, end);
};

/** The usual `&quot;HEX&quot;` ETag without the general entity decoder (two per key, cold CLI). */
function quotedEtag(raw: string | undefined): string | undefined {
  if (raw === undefined || !raw.startsWith('&quot;') || !raw.endsWith('&quot;') || raw.length < 12) {
    return undefined;
  }
  const inner = raw.slice(6, -6);
  return inner.includes('&') || inner.startsWith('W/') ? undefined : inner;
}

/**
 * Reads a ListObjectsV2 result document (ListBucketResult). Returns undefined for anything outside
 * the plain form S3 sends, so the caller falls back to the SDK's deserializer.
 */
export function parseListPage(xml: string): ListPage | undefined {
  if (!/^(<\?xml[^>]*\?>)?\s*<ListBucketResult[\s>]/.test(xml)) return undefined;
  // XML normalises raw line breaks in text; S3 escapes CR. Leave the unusual to the SDK.
  if (xml.includes('<![CDATA[') || xml.includes('<!--') || xml.includes('\r')) return undefined;
  const objects: ListedObject[] = [];
  for (const m of xml.matchAll(CONTENTS)) {
    const rawKey = field(m[1], 'Key');
    const rawSize = field(m[1], 'Size');
    const rawEtag = field(m[1], 'ETag');
    if (rawKey === undefined || rawSize === undefined || !/^\d+$/.test(rawSize.trim())) return undefined;
    const key = decodeText(rawKey);
    const etag = quotedEtag(rawEtag) ?? decodeText(rawEtag ?? '');
    if (key === undefined || etag === undefined) return undefined;
    objects.push({ key, size: Number(rawSize.trim()), etag: stripQuotes(etag) });
  }
  const prefixes: string[] = [];
  for (const m of xml.matchAll(COMMON)) {
    const p = decodeText(m[1]);
    if (p === undefined) return undefined;
    prefixes.push(p);
  }
  // Every element accounted for: same number of openings as parsed entries.
  if (count(xml, '<Contents') !== objects.length) return undefined;
  if (count(xml, '<CommonPrefixes') !== prefixes.length) return undefined;
  const keyCount = field(xml, 'KeyCount');
  if (keyCount !== undefined && Number(keyCount.trim()) !== objects.length + prefixes.length)
    return undefined;
  const truncatedText = field(xml, 'IsTruncated')?.trim();
  if (truncatedText !== 'true' && truncatedText !== 'false') return undefined;
  const token = field(xml, 'NextContinuationToken');
  const nextToken = token === undefined ? undefined : decodeText(token.trim());
  if (token !== undefined && nextToken === undefined) return undefined;
  return { objects, prefixes, truncated: truncatedText === 'true', nextToken };
}

/** An empty result: what the SDK's deserializer reads once the page was taken (output unused). */
const STUB = Buffer.from(
  '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsTruncated>false</IsTruncated></ListBucketResult>',
);

async function collect(body: unknown): Promise<Buffer> {
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const chunks: Buffer[] = [];
  for await (const c of body as Readable) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

interface RawResponse {
  statusCode?: number;
  body?: unknown;
}

/** On a ListObjectsV2 input: the client's `quantSyncListPage` middleware parses the page into it. */
const FAST_PAGE = Symbol('quantSyncFastPage');
interface FastBox {
  page?: ListPage;
}
const withFastListing = new WeakSet<S3Client>();

/**
 * Adds the page parser to the client once (not to each command: a client with `cacheMiddleware`
 * resolves each command class's middleware once and would ignore per-command additions). It acts
 * only on inputs carrying FAST_PAGE; a box is shared by reference, so it survives the SDK's copies
 * of the input.
 */
function addFastListing(client: S3Client): void {
  if (withFastListing.has(client)) return;
  withFastListing.add(client);
  client.middlewareStack.addRelativeTo(
    (next: DeserializeHandler<ServiceInputTypes, ServiceOutputTypes>) =>
      async (args: DeserializeHandlerArguments<ServiceInputTypes>) => {
        const box = (args.input as { [FAST_PAGE]?: FastBox })[FAST_PAGE];
        const out = await next(args);
        if (!box) return out;
        // Inside the deserializer, per attempt (retries are outside): a 200 page is read here and
        // the deserializer gets an empty document; errors and anything unparsed pass through.
        const res = out.response as RawResponse;
        box.page = undefined;
        if (res.statusCode === 200 && res.body !== undefined) {
          const bytes = await collect(res.body);
          box.page = parseListPage(bytes.toString('utf8'));
          // A copy: the SDK re-prototypes the body it is given (Uint8ArrayBlobAdapter.mutate).
          res.body = box.page ? Buffer.from(STUB) : bytes;
        }
        return out;
      },
    {
      relation: 'after',
      toMiddleware: 'deserializerMiddleware',
      name: 'quantSyncListPage',
      override: true,
    },
  );
}

/** One ListObjectsV2 page. `fastParse: false` uses only the SDK's deserializer (tests compare). */
export async function listPage(
  target: ListTarget,
  input: { prefix: string; token?: string; delimiter?: string; maxKeys?: number },
  fastParse = true,
): Promise<ListPage> {
  const request: ListObjectsV2CommandInput = {
    Bucket: target.bucket,
    Prefix: input.prefix || undefined,
    ContinuationToken: input.token,
    Delimiter: input.delimiter,
    MaxKeys: input.maxKeys,
  };
  const box: FastBox = {};
  if (fastParse) {
    addFastListing(target.client);
    Object.assign(request, { [FAST_PAGE]: box });
  }
  const cmd = new ListObjectsV2Command(request);
  const out = await target.client.send(cmd);
  if (box.page) return box.page;
  const objects: ListedObject[] = [];
  for (const o of out.Contents ?? []) {
    if (o.Key !== undefined) objects.push({ key: o.Key, size: o.Size ?? 0, etag: stripQuotes(o.ETag) });
  }
  return {
    objects,
    prefixes: (out.CommonPrefixes ?? []).flatMap((p) => (p.Prefix === undefined ? [] : [p.Prefix])),
    truncated: out.IsTruncated === true,
    nextToken: out.NextContinuationToken,
  };
}

/**
 * Every object under `prefix` (default: the target's), page by page. `explainFirst` replaces the
 * error of the first request (the sync engine's bucket/credentials/endpoint check).
 */
export async function* listAll(
  target: ListTarget,
  prefix: string = target.prefix,
  fastParse = true,
  explainFirst?: (err: unknown) => unknown,
): AsyncGenerator<ListedObject[]> {
  let token: string | undefined;
  let first = true;
  do {
    let page: ListPage;
    try {
      page = await listPage(target, { prefix, token }, fastParse);
    } catch (err) {
      throw first && explainFirst ? explainFirst(err) : err;
    }
    first = false;
    if (page.objects.length > 0) yield page.objects;
    if (page.truncated && !page.nextToken) {
      throw new Error(`listing ${formatS3Uri({ ...target, prefix })}: truncated page without a token`);
    }
    token = page.truncated ? page.nextToken : undefined;
  } while (token);
}

/**
 * S3's listing order (UTF-8 bytes, i.e. code points) for two keys; JavaScript's `<` compares UTF-16
 * units, which differs when one side has a character above U+FFFF and the other U+E000-U+FFFF.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // Surrogates (D800-DFFF) encode code points above FFFF: order them after E000-FFFF.
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}
