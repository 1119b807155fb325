import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';

export interface SourceTarballAssetProps {
  /** Directory whose files become the archive's root (e.g. `training/` with `train.py` at its top). */
  readonly sourceDir: string;
  /**
   * Relative paths (posix) left out of the archive.
   * @default caches, bytecode and tests: `__pycache__/`, `*.pyc`, `.pytest_cache/`, `tests/`
   */
  readonly exclude?: (relativePath: string) => boolean;
}

const defaultExclude = (rel: string) =>
  /(^|\/)(__pycache__|\.pytest_cache|tests)(\/|$)/.test(rel) || rel.endsWith('.pyc') || /(^|\/)\./.test(rel);

/** Files under `dir` (posix relative paths, sorted), without excluded ones. */
function listFiles(dir: string, exclude: (rel: string) => boolean): string[] {
  return readdirSync(dir, { recursive: true })
    .map((f) => String(f).split(path.sep).join('/'))
    .filter((rel) => !exclude(rel) && statSync(path.join(dir, rel)).isFile())
    .sort();
}

/** One 512-byte ustar header (mode 0644, owner 0, mtime 0: the archive depends on content only). */
function tarHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', 155);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
    if (cut < 0 || Buffer.byteLength(base) > 100 || Buffer.byteLength(prefix) > 155)
      throw new Error(`SourceTarballAsset: path too long for a tar header: ${name}`);
  }
  const put = (value: string, offset: number, length: number) => h.write(value, offset, length, 'utf8');
  const octal = (n: number, offset: number, length: number) =>
    put(`${n.toString(8).padStart(length - 1, '0')}\0`, offset, length);
  put(base, 0, 100);
  octal(0o644, 100, 8);
  octal(0, 108, 8);
  octal(0, 116, 8);
  octal(size, 124, 12);
  octal(0, 136, 12);
  put('        ', 148, 8);
  put('0', 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  put(prefix, 345, 155);
  let sum = 0;
  for (const byte of h) sum += byte;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return h;
}

/** A gzipped ustar archive of `files` (relative to `dir`), byte-identical for identical content. */
export function buildTarball(dir: string, files: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const rel of files) {
    const data = readFileSync(path.join(dir, rel));
    parts.push(tarHeader(rel, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  // zlib writes MTIME 0 in the gzip header: the output depends on the bytes only.
  return gzipSync(Buffer.concat(parts), { level: 9 });
}

/**
 * A directory packed as a `.tar.gz` file asset at synth time, in Node (no Docker, no `tar` binary):
 * what SageMaker script mode expects as its source directory. The archive is deterministic (sorted
 * names, zero times and owners), so the asset hash changes only when a file does.
 */
export class SourceTarballAsset extends Construct {
  readonly asset: s3assets.Asset;
  /** Files in the archive, relative to the source directory. */
  readonly files: readonly string[];

  constructor(scope: Construct, id: string, props: SourceTarballAssetProps) {
    super(scope, id);
    if (!existsSync(props.sourceDir) || !statSync(props.sourceDir).isDirectory())
      throw new Error(`SourceTarballAsset: ${props.sourceDir} is not a directory`);
    this.files = listFiles(props.sourceDir, props.exclude ?? defaultExclude);
    if (this.files.length === 0) throw new Error(`SourceTarballAsset: no files in ${props.sourceDir}`);
    const tarball = buildTarball(props.sourceDir, this.files);
    const hash = createHash('sha256').update(tarball).digest('hex').slice(0, 32);
    const dir = path.join(os.tmpdir(), 'quant-source-tarballs');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${hash}.tar.gz`);
    if (!existsSync(file)) {
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, tarball);
      renameSync(tmp, file);
    }
    this.asset = new s3assets.Asset(this, 'Asset', { path: file });
  }

  /** `s3://bucket/key` of the archive. */
  get s3ObjectUrl(): string {
    return this.asset.s3ObjectUrl;
  }

  grantRead(grantee: iam.IGrantable): void {
    this.asset.grantRead(grantee);
  }
}
