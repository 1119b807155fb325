/**
 * Conditional writes for s3rver, as S3 does them: a PUT with `If-None-Match: *` fails with 412
 * PreconditionFailed when the key exists, a PUT with `If-Match: <etag>` fails with 412 when the
 * object's ETag differs (404 NoSuchKey when there is no object). The lake writer builds its
 * optimistic concurrency on them (src/lake/writer.ts), so the local server must honour them.
 *
 * Stock s3rver ignores both headers. The check and the write must be one step: every PUT, GET and
 * DELETE of a key runs under an in-process lock of that key (one server process owns its directory),
 * so no write lands between a check and the rename that publishes an object, and no GET returns
 * the bytes of one version with the ETag of another (the metadata is written before the rename).
 * Only single PUTs carry the headers here; CompleteMultipartUpload does not check them.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface StoredObject {
  bucket: string;
  key: string;
  content: unknown;
}

type Method = (...args: unknown[]) => Promise<unknown>;

/** Runs `fn` after every earlier holder of `key` finished (a promise chain per key). */
function keyLock(): <T>(key: string, fn: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  return async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const prev = tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}

function header(content: unknown, name: string): string | undefined {
  const headers = (content as { headers?: Record<string, string | string[] | undefined> } | null)?.headers;
  const v = headers?.[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Patches s3rver's filesystem store (call after any other patch of putObject, once per process). */
export function honourConditionalWrites(): void {
  const FilesystemStore = require('s3rver/lib/stores/filesystem.js') as { prototype: Record<string, Method> };
  const S3Error = require('s3rver/lib/models/error.js') as new (
    code: string,
    message: string,
    detail?: Record<string, string>,
  ) => Error;
  const proto = FilesystemStore.prototype;
  const withKey = keyLock();
  const id = (bucket: unknown, key: unknown): string => `${String(bucket)}\u0000${String(key)}`;

  const putObject = proto.putObject;
  proto.putObject = function (this: unknown, ...args: unknown[]) {
    const object = args[0] as StoredObject;
    return withKey(id(object.bucket, object.key), async () => {
      const ifMatch = header(object.content, 'if-match');
      const ifNoneMatch = header(object.content, 'if-none-match');
      if (ifMatch !== undefined || ifNoneMatch !== undefined) {
        const current = await (proto.getMetadata as Method)
          .call(this, object.bucket, object.key)
          .then((m) => String((m as { etag: unknown }).etag))
          .catch((err: NodeJS.ErrnoException) => {
            if (err.code === 'ENOENT') return undefined;
            throw err;
          });
        if (ifNoneMatch !== undefined && ifNoneMatch.trim() === '*' && current !== undefined) {
          throw new S3Error(
            'PreconditionFailed',
            'At least one of the pre-conditions you specified did not hold',
            {
              Condition: 'If-None-Match',
            },
          );
        }
        if (ifMatch !== undefined) {
          if (current === undefined)
            throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: object.key });
          const unquote = (s: string): string => s.trim().replace(/^"|"$/g, '');
          if (ifMatch.trim() !== '*' && unquote(ifMatch) !== unquote(current)) {
            throw new S3Error(
              'PreconditionFailed',
              'At least one of the pre-conditions you specified did not hold',
              {
                Condition: 'If-Match',
              },
            );
          }
        }
      }
      return putObject.apply(this, args);
    });
  };
  for (const name of ['getObject', 'deleteObject']) {
    const original = proto[name];
    proto[name] = function (this: unknown, ...args: unknown[]) {
      return withKey(id(args[0], args[1]), () => original.apply(this, args));
    };
  }
}
