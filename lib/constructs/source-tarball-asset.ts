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
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { writeTarball } from '../../src/ml/aws/model-artifacts';

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

/** A gzipped ustar archive of `files` (relative to `dir`), byte-identical for identical content. */
export function buildTarball(dir: string, files: readonly string[]): Buffer {
  return writeTarball(files.map((name) => ({ name, data: readFileSync(path.join(dir, name)) })));
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
  /** The archive built at synth (in the OS temp directory, named by its hash). */
  readonly tarballPath: string;

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
    this.tarballPath = file;
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
