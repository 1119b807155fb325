/**
 * The files of a SageMaker training job's `model.tar.gz` (what training/train.py wrote to
 * SM_MODEL_DIR), read in memory: a small ustar/pax reader, so no `tar` binary or package is needed.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { MODEL_ARTIFACTS, type ModelArtifact } from '../../contract/models';
import { InputError } from '../../errors';

const S3_TIMEOUT_MS = 60_000;

const text = (b: Uint8Array, start: number, length: number): string => {
  const s = Buffer.from(b.subarray(start, start + length)).toString('utf8');
  const nul = s.indexOf('\0');
  return nul >= 0 ? s.slice(0, nul) : s;
};
const octal = (b: Uint8Array, start: number, length: number): number =>
  parseInt(text(b, start, length).trim() || '0', 8);

/** Regular files of a (gzipped) tar archive by path (`./` prefixes removed). */
export function readTarball(archive: Uint8Array): Map<string, Uint8Array> {
  const tar = archive[0] === 0x1f && archive[1] === 0x8b ? gunzipSync(archive) : archive;
  const files = new Map<string, Uint8Array>();
  let offset = 0;
  let longName: string | undefined;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((x) => x === 0)) break;
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156] || 48);
    const prefix = text(header, 257, 6).startsWith('ustar') ? text(header, 345, 155) : '';
    const name = longName ?? (prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100));
    const data = tar.subarray(offset + 512, offset + 512 + size);
    if (data.length < size) throw new InputError('model archive: truncated tar file', 'modelArtifacts');
    longName = undefined;
    if (type === 'x') {
      // A pax header: `<len> path=<name>\n` overrides the next entry's name.
      const m = /\d+ path=([^\n]*)\n/.exec(Buffer.from(data).toString('utf8'));
      longName = m?.[1];
    } else if (type === 'L') {
      longName = text(data, 0, data.length);
    } else if (type === '0' || type === '\0' || type === '7') {
      files.set(name.replace(/^(\.\/)+/, ''), data);
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
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
      throw new Error(`tar: path too long for a ustar header: ${name}`);
  }
  const put = (value: string, offset: number, length: number) => h.write(value, offset, length, 'utf8');
  const octalField = (n: number, offset: number, length: number) =>
    put(`${n.toString(8).padStart(length - 1, '0')}\0`, offset, length);
  put(base, 0, 100);
  octalField(0o644, 100, 8);
  octalField(0, 108, 8);
  octalField(0, 116, 8);
  octalField(size, 124, 12);
  octalField(0, 136, 12);
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

/**
 * A gzipped ustar archive of the entries in the given order, byte-identical for identical input
 * (zero times and owners; zlib writes MTIME 0 in the gzip header).
 */
export function writeTarball(
  entries: ReadonlyArray<{ readonly name: string; readonly data: Uint8Array }>,
): Buffer {
  const parts: Buffer[] = [];
  for (const { name, data } of entries) {
    parts.push(
      tarHeader(name, data.length),
      Buffer.from(data),
      Buffer.alloc((512 - (data.length % 512)) % 512),
    );
  }
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts), { level: 9 });
}

/** `s3://bucket/key` → parts; InputError for anything else. */
export function parseS3Uri(uri: string, field: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(uri);
  if (!m) throw new InputError(`${field}: not an s3://bucket/key URI: "${uri}"`, field);
  return { bucket: m[1], key: m[2] };
}

/** model.onnx, manifest.json and evaluation.json of a training job's output archive. */
export async function fetchModelArtifacts(
  s3: Pick<S3Client, 'send'>,
  modelArtifactsUri: string,
): Promise<Record<ModelArtifact, Uint8Array>> {
  const { bucket, key } = parseS3Uri(modelArtifactsUri, 'modelArtifacts');
  const obj = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), {
    abortSignal: AbortSignal.timeout(S3_TIMEOUT_MS),
  });
  const files = readTarball(await obj.Body!.transformToByteArray());
  const out = {} as Record<ModelArtifact, Uint8Array>;
  for (const name of MODEL_ARTIFACTS) {
    const f = files.get(name);
    if (!f)
      throw new InputError(
        `modelArtifacts: ${modelArtifactsUri} has no ${name} (found: ${[...files.keys()].join(', ') || 'nothing'})`,
        'modelArtifacts',
      );
    out[name] = f;
  }
  return out;
}
