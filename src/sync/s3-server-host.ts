/**
 * Child-process host of one stand-alone S3 server (s3rver) on 127.0.0.1: the vendor account's
 * bucket in the demo, and the second endpoint in sync tests and benchmarks. A child process because
 * s3rver's ListObjectsV2 continuation tokens need --openssl-legacy-provider (docs/architecture.md).
 *
 * Its PUTs are atomic and conditional as S3's (src/local/s3rver-store.ts); on top, it keeps object
 * metadata in memory and lists without a stat per file, as a sync over many keys needs.
 *
 * Protocol: args `--dir DIR [--port N] [--bucket NAME]...`; sends { type: 'ready', port } over IPC,
 * exits when the parent disconnects.
 */
import fs, { promises as fsp } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { runHost, startS3rver, type Store, type StoredObject } from '../local/s3rver-store';

const require = createRequire(import.meta.url);

function patchStore(): void {
  const FilesystemStore = require('s3rver/lib/stores/filesystem.js');
  cacheMetadata(FilesystemStore);
  listWithoutStat(FilesystemStore);
}

/**
 * Object metadata (size, ETag, user metadata) kept in memory. Stock s3rver answers every listed key
 * with a stat and two file reads, so listing 10,000 keys cost seconds, where S3 answers from its
 * index in ten requests; that made a local incremental sync measure the server's listing, not the
 * sync. This process is the only writer of its directory: every store method that changes an object
 * drops its entry, and a read that raced with a change is not cached (generation check).
 */
function cacheMetadata(FilesystemStore: { prototype: Record<string, unknown> }): void {
  const proto = FilesystemStore.prototype as unknown as Record<
    string,
    (this: Store, ...args: unknown[]) => Promise<unknown>
  >;
  const cache = new Map<string, Record<string, unknown>>();
  const generation = new Map<string, number>();
  let epoch = 0;
  const id = (bucket: unknown, key: unknown): string => `${String(bucket)}\u0000${String(key)}`;
  const drop = (k: string): void => {
    cache.delete(k);
    generation.set(k, (generation.get(k) ?? 0) + 1);
  };
  const getMetadata = proto.getMetadata;
  proto.getMetadata = async function (this: Store, bucket: unknown, key: unknown) {
    const k = id(bucket, key);
    const hit = cache.get(k);
    if (hit) return { ...hit };
    const gen = generation.get(k) ?? 0;
    const e = epoch;
    const meta = (await getMetadata.call(this, bucket, key)) as Record<string, unknown>;
    if ((generation.get(k) ?? 0) === gen && epoch === e) cache.set(k, { ...meta });
    return meta;
  };
  // Mutations drop the entry before and after they run (a reader in between is not cached).
  const mutating: Record<string, (args: unknown[]) => string[]> = {
    putObject: (a) => [id((a[0] as StoredObject).bucket, (a[0] as StoredObject).key)],
    putMetadata: (a) => [id(a[0], a[1])],
    copyObject: (a) => [id(a[2], a[3])],
    deleteObject: (a) => [id(a[0], a[1])],
  };
  for (const [name, keysOf] of Object.entries(mutating)) {
    const original = proto[name];
    proto[name] = async function (this: Store, ...args: unknown[]) {
      const keys = keysOf(args);
      keys.forEach(drop);
      let result: unknown;
      try {
        result = await original.apply(this, args);
      } finally {
        keys.forEach(drop);
      }
      if (name === 'putObject') {
        // S3 lists a new object from its index; read the entry back now (files hot in the page
        // cache, off the response path) instead of on the next listing. Same read as a GET does.
        const o = args[0] as StoredObject;
        void proto.getMetadata.call(this, o.bucket, o.key).catch(() => undefined);
      }
      return result;
    };
  }
  for (const name of ['deleteBucket', 'reset']) {
    const original = proto[name];
    proto[name] = function (this: Store, ...args: unknown[]) {
      cache.clear();
      epoch++;
      return original.apply(this, args);
    };
  }
}

/**
 * s3rver's listing walks the bucket with a stat per file (three files per key) on every page; the
 * directory entries already say which are directories. Otherwise the stock method (same order: a
 * per-directory sorted walk; same prefix, start-after and max-keys handling) with one fix below.
 */
function listWithoutStat(FilesystemStore: {
  prototype: Record<string, unknown>;
  encodeKeyPath(key: string): string;
  decodeKeyPath(keyPath: string): string;
}): void {
  const S3Object = require('s3rver/lib/models/object.js');
  function* walk(dir: string, recurse: (dirPath: string) => boolean): Generator<string> {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const entryPath = path.posix.join(dir, entry.name);
      if (!entry.isDirectory()) yield entryPath;
      else if (recurse(entryPath)) yield* walk(entryPath, recurse);
    }
  }
  FilesystemStore.prototype.listObjects = async function listObjects(
    this: Store & { getBucketPath(bucket: string): string },
    bucket: string,
    options: { delimiter?: string; startAfter?: string; prefix?: string; maxKeys?: number },
  ) {
    const { delimiter = '', startAfter = '', prefix = '', maxKeys = Infinity } = options;
    const bucketPath = this.getBucketPath(bucket);
    const delimiterEnc = FilesystemStore.encodeKeyPath(delimiter);
    const startAfterPath = `${bucketPath}/${FilesystemStore.encodeKeyPath(startAfter)}`;
    const prefixPath = `${bucketPath}/${FilesystemStore.encodeKeyPath(prefix)}`;
    const commonPrefixes = new Set<string>();
    const it = walk(bucketPath, (dirPath) => {
      if (dirPath < startAfterPath && !startAfterPath.includes(dirPath)) return false;
      if (dirPath.startsWith(prefixPath)) {
        const rel = dirPath.slice(prefixPath.length);
        const idx = delimiterEnc ? rel.indexOf(delimiterEnc) : -1;
        // Beneath a common prefix: stock s3rver never looks, so a prefix holding only deeper
        // "folders" (a/b/c with nothing directly in a/b/) went missing from CommonPrefixes. Look
        // until the prefix has been seen once (the walk is lazy: keys found so far are counted).
        if (idx === -1) return true;
        const cp = prefix + FilesystemStore.decodeKeyPath(rel.slice(0, idx + delimiterEnc.length));
        return !commonPrefixes.has(cp);
      }
      return prefixPath.startsWith(dirPath);
    });
    const objectSuffix = '._S3rver_object';
    const keys: string[] = [];
    let isTruncated = false;
    for (const keyPath of it) {
      if (!keyPath.endsWith(objectSuffix)) continue;
      const key = FilesystemStore.decodeKeyPath(keyPath.slice(bucketPath.length + 1, -objectSuffix.length));
      if (key <= startAfter || !key.startsWith(prefix)) continue;
      if (delimiter) {
        const idx = key.slice(prefix.length).indexOf(delimiter);
        if (idx !== -1) {
          commonPrefixes.add(key.slice(0, prefix.length + idx + 1));
          continue;
        }
      }
      if (keys.length < maxKeys) keys.push(key);
      else {
        isTruncated = true;
        break;
      }
    }
    const metadata = await Promise.all(
      keys.map((key) =>
        this.getMetadata(bucket, key).catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') return undefined;
          throw err;
        }),
      ),
    );
    return {
      objects: keys.flatMap((key, i) =>
        metadata[i] === undefined ? [] : [new S3Object(bucket, key, null, metadata[i])],
      ),
      commonPrefixes: [...commonPrefixes].sort(),
      isTruncated,
    };
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const dirIdx = argv.indexOf('--dir');
  if (dirIdx < 0) throw new Error('--dir is required');
  const dir = argv[dirIdx + 1];
  const portIdx = argv.indexOf('--port');
  const port = portIdx >= 0 ? Number(argv[portIdx + 1]) : 0;
  const buckets = argv.flatMap((a, i) => (a === '--bucket' ? [argv[i + 1]] : []));
  await fsp.mkdir(dir, { recursive: true });
  patchStore();
  const server = await startS3rver({ directory: dir, port, buckets });
  const close = async (): Promise<void> => {
    await server.close().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGTERM', () => void close());
  process.on('disconnect', () => void close());
  process.send?.({ type: 'ready', port: server.port });
}

runHost(main);
