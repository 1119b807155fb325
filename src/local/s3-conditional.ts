/**
 * S3 conditional writes for s3rver, which ignores them: `PutObject` with `If-None-Match: *` fails
 * with 412 when the key exists, with `If-Match: <etag>` when the stored ETag differs (or the key is
 * missing), as in S3. Registry indexes (src/ml/registry/s3-registry.ts) rely on this for
 * optimistic concurrency. The check and the write of one key run under a per-key lock of the
 * server process, so two conditional writers never both succeed.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface StoredObject {
  bucket: string;
  key: string;
  content: unknown;
  metadata: Record<string, string>;
}

type Store = {
  putObject(o: StoredObject): Promise<{ size: number; md5: string }>;
  getMetadata(bucket: string, key: string): Promise<{ etag: string }>;
};

const strip = (etag: string): string => etag.trim().replace(/^W\//, '').replace(/^"|"$/g, '');

/** Call once in the server process, after any other patch of `putObject`. */
export function makeS3rverPutsConditional(): void {
  const FilesystemStore = require('s3rver/lib/stores/filesystem.js') as { prototype: Store };
  const S3Error = require('s3rver/lib/models/error.js') as new (
    code: string,
    message: string,
    detail?: Record<string, string>,
  ) => Error;
  const inner = FilesystemStore.prototype.putObject;
  const locks = new Map<string, Promise<unknown>>();

  FilesystemStore.prototype.putObject = async function putObject(this: Store, object: StoredObject) {
    const headers = (object.content as { headers?: Record<string, string | undefined> }).headers;
    const ifNoneMatch = headers?.['if-none-match'];
    const ifMatch = headers?.['if-match'];
    if (ifNoneMatch === undefined && ifMatch === undefined) return inner.call(this, object);
    const id = `${object.bucket}/${object.key}`;
    const before = locks.get(id) ?? Promise.resolve();
    const run = before.then(async () => {
      let current: string | undefined;
      try {
        current = strip((await this.getMetadata(object.bucket, object.key)).etag);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      const fail = (condition: string): never => {
        // The request body is not read: drop it so the connection can be answered at once.
        (object.content as { resume?: () => void }).resume?.();
        throw new S3Error(
          'PreconditionFailed',
          'At least one of the pre-conditions you specified did not hold',
          { Condition: condition },
        );
      };
      if (ifNoneMatch !== undefined && ifNoneMatch.trim() === '*' && current !== undefined)
        fail('If-None-Match');
      if (ifMatch !== undefined && (current === undefined || strip(ifMatch) !== current)) fail('If-Match');
      return inner.call(this, object);
    });
    const settled = run.catch(() => undefined);
    locks.set(id, settled);
    void settled.then(() => {
      if (locks.get(id) === settled) locks.delete(id);
    });
    return run;
  };
}
