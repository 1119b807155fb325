/**
 * The skeleton both s3rver hosts share (src/local/server-host.ts, the local cloud; and
 * src/sync/s3-server-host.ts, a stand-alone S3 endpoint): s3rver on 127.0.0.1 with S3's atomic and
 * conditional PUTs, and the child-process protocol's failure report.
 */
import crypto from 'node:crypto';
import fs, { promises as fsp } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { honourConditionalWrites } from './s3rver-conditional';

const require = createRequire(import.meta.url);

export interface StoredObject {
  bucket: string;
  key: string;
  content: Buffer | NodeJS.ReadableStream;
  metadata: Record<string, string>;
  size: number;
}

export interface Store {
  getMetadata(bucket: string, key: string): Promise<Record<string, unknown>>;
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
  putObject(object: StoredObject): Promise<{ size: number; md5: string }>;
}

/**
 * s3rver writes objects in place, so an upload cut off half-way leaves a truncated object visible.
 * Real S3 never shows a partial PUT: write to a temporary file, check the length, then rename; a
 * multipart completion the same way, with the real total of its parts.
 */
function makePutsAtomic(): void {
  const FilesystemStore = require('s3rver/lib/stores/filesystem.js');
  const S3Object = require('s3rver/lib/models/object.js');
  const { concatStreams } = require('s3rver/lib/utils.js');

  FilesystemStore.prototype.putObject = async function putObject(this: Store, object: StoredObject) {
    const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
    await fsp.mkdir(path.dirname(objectPath), { recursive: true });
    // The suffix keeps the temporary file out of listings (s3rver lists only `._S3rver_object` files).
    const tmp = `${objectPath}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.partial`;
    const md5 = crypto.createHash('md5');
    let size = 0;
    try {
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          md5.update(chunk);
          size += chunk.length;
          cb(null, chunk);
        },
      });
      const src = Buffer.isBuffer(object.content) ? [object.content] : object.content;
      await pipeline(src as NodeJS.ReadableStream, counter, fs.createWriteStream(tmp));
      if (Number.isFinite(object.size) && object.size !== size) {
        throw new Error(`incomplete upload: ${size} of ${object.size} bytes`);
      }
      const digest = md5.digest('hex');
      // Metadata first, then the rename that makes the new bytes visible.
      await this.putMetadata(object.bucket, object.key, object.metadata, digest);
      await fsp.rename(tmp, objectPath);
      return { size, md5: digest };
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw err;
    }
  };

  // The stock version builds the object from the initiate request's headers, whose
  // content-length is that request's (0): give it the real total of the parts.
  FilesystemStore.prototype.putObjectMultipart = async function putObjectMultipart(
    this: Store,
    bucket: string,
    uploadId: string,
    parts: Array<{ number: number }>,
  ) {
    const uploadDir = path.join(this.getResourcePath(bucket, undefined, 'uploads'), uploadId);
    const key = await fsp.readFile(path.join(uploadDir, 'key'), 'utf8');
    const metadata = JSON.parse(await fsp.readFile(path.join(uploadDir, 'metadata'), 'utf8'));
    const sorted = [...parts].sort((a, b) => a.number - b.number);
    const files = sorted.map((p) => path.join(uploadDir, String(p.number)));
    let total = 0;
    for (const f of files) total += (await fsp.stat(f)).size;
    const content = concatStreams(files.map((f) => fs.createReadStream(f)));
    const object = new S3Object(bucket, key, content, { ...metadata, 'content-length': String(total) });
    const result = await this.putObject(object);
    await fsp.rm(uploadDir, { recursive: true, force: true });
    return result;
  };
}

/** s3rver serving `directory` on 127.0.0.1 (`port` 0: any free port), atomic and conditional PUTs. */
export async function startS3rver(opts: {
  readonly directory: string;
  readonly port: number;
  readonly buckets: readonly string[];
}): Promise<{ readonly port: number; close(): Promise<void> }> {
  makePutsAtomic();
  honourConditionalWrites();
  const S3rver = require('s3rver');
  const server = new S3rver({
    address: '127.0.0.1',
    port: opts.port,
    silent: true,
    directory: opts.directory,
    configureBuckets: opts.buckets.map((name) => ({ name })),
  });
  const { port } = (await server.run()) as { port: number };
  return { port, close: () => server.close() };
}

/**
 * Runs a host's main; a failure is reported to the parent ({ type: 'error' }), with its stack on
 * stderr when `printStack`, and exits 1.
 */
export function runHost(main: () => Promise<void>, printStack = false): void {
  main().catch((err: unknown) => {
    process.send?.({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    if (printStack) console.error(err);
    process.exit(1);
  });
}
