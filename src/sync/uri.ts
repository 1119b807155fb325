import { InputError } from '../errors';

export interface S3Location {
  readonly bucket: string;
  /** Key prefix, '' for the whole bucket, otherwise ending in '/' (the location is a folder). */
  readonly prefix: string;
}

// S3's rules for new buckets (3-63 chars, lower case, digits, dots, hyphens); s3rver follows them too.
const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Parses `s3://BUCKET/PREFIX`. The prefix is treated as a folder, like `aws s3 sync` does:
 * `s3://b/data` means the keys under `data/`, never `data2/...`.
 */
export function parseS3Uri(uri: string, field: string): S3Location {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(uri);
  if (!m) throw new InputError(`${field}: expected s3://BUCKET[/PREFIX], got "${uri}"`, field);
  const bucket = m[1];
  if (!BUCKET_RE.test(bucket) || bucket.includes('..')) {
    throw new InputError(
      `${field}: "${bucket}" is not a valid bucket name (3-63 characters: a-z, 0-9, '.', '-')`,
      field,
    );
  }
  let prefix = m[2] ?? '';
  if (prefix.split('/').some((seg, i, all) => seg === '' && i < all.length - 1)) {
    throw new InputError(`${field}: prefix "${prefix}" has an empty path segment ("//")`, field);
  }
  if (prefix !== '' && !prefix.endsWith('/')) prefix += '/';
  if (Buffer.byteLength(prefix) > 900)
    throw new InputError(`${field}: prefix is longer than 900 bytes`, field);
  return { bucket, prefix };
}

export function formatS3Uri(loc: S3Location): string {
  return `s3://${loc.bucket}/${loc.prefix}`;
}
