/**
 * A JSON document in S3 updated with optimistic concurrency: read it with its ETag, change it,
 * write it back with `If-Match` (or `If-None-Match: *` when it did not exist); a 412 or 409 means
 * someone else wrote in between, so read again and retry. Used for registry indexes and promotions.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

export function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function isMissing(err: unknown): boolean {
  const name = (err as { name?: string })?.name;
  return httpStatus(err) === 404 || name === 'NoSuchKey' || name === 'NotFound';
}

export interface Versioned<T> {
  readonly value: T;
  readonly etag?: string;
}

/** Every S3 call the registry makes has this timeout. */
export const S3_TIMEOUT_MS = 30_000;

export const timeout = () => ({ abortSignal: AbortSignal.timeout(S3_TIMEOUT_MS) });

/** The object's bytes and ETag; undefined when it does not exist. */
async function getObject(s3: S3Client, bucket: string, key: string) {
  try {
    const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), timeout());
    return { bytes: await r.Body!.transformToByteArray(), etag: r.ETag };
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

export async function getBytes(s3: S3Client, bucket: string, key: string): Promise<Uint8Array | undefined> {
  return (await getObject(s3, bucket, key))?.bytes;
}

/**
 * Reads a JSON document with its ETag. A body whose MD5 differs from a single-part ETag was read
 * while being replaced (the local S3 server streams the file it finds after reading its metadata;
 * S3 never does): read again, so the ETag used for the conditional write is the body's.
 */
export async function readJson<T>(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<Versioned<T> | undefined> {
  for (let attempt = 0; ; attempt++) {
    const got = await getObject(s3, bucket, key);
    if (!got) return undefined;
    const { bytes, etag } = got;
    const md5 = /^"?([0-9a-f]{32})"?$/.exec(etag ?? '')?.[1];
    if (md5 && createHash('md5').update(bytes).digest('hex') !== md5) {
      if (attempt >= 10) throw new Error(`s3://${bucket}/${key}: body does not match its ETag`);
      await new Promise((r) => setTimeout(r, 5 * (attempt + 1)));
      continue;
    }
    try {
      return { value: JSON.parse(new TextDecoder().decode(bytes)) as T, etag };
    } catch (err) {
      throw new Error(`s3://${bucket}/${key}: not JSON (${(err as Error).message})`);
    }
  }
}

/** Writes `body` only if `key` does not exist yet; false when it does. */
export async function putIfAbsent(
  s3: S3Client,
  bucket: string,
  key: string,
  body: Uint8Array | string,
  contentType: string,
): Promise<boolean> {
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentType: contentType,
        IfNoneMatch: '*',
      }),
      timeout(),
    );
    return true;
  } catch (err) {
    if (httpStatus(err) === 412 || httpStatus(err) === 409) return false;
    throw err;
  }
}

/**
 * Applies `change` to the document at `key` (undefined when it does not exist) and writes the
 * result conditionally, retrying on a concurrent write. `change` may throw (nothing is written) and
 * must be a pure function of its input: it runs again on each retry.
 */
export async function updateJson<T, R>(
  s3: S3Client,
  bucket: string,
  key: string,
  change: (current: T | undefined) => { next: T; result: R } | { next?: undefined; result: R },
  attempts = 20,
): Promise<R> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const cur = await readJson<T>(s3, bucket, key);
    const { next, result } = change(cur?.value);
    if (next === undefined) return result;
    try {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: `${JSON.stringify(next, null, 2)}\n`,
          ContentType: 'application/json',
          ...(cur ? { IfMatch: cur.etag } : { IfNoneMatch: '*' }),
        }),
        timeout(),
      );
      return result;
    } catch (err) {
      const s = httpStatus(err);
      if (s !== 412 && s !== 409) throw err;
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 20 * (attempt + 1)));
    }
  }
  throw new Error(`s3://${bucket}/${key}: still changing under us after ${attempts} attempts`);
}
