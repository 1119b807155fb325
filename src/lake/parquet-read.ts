/**
 * Reading Parquet objects in pure JS (hyparquet), for the readers that run in Lambdas (DuckDB's
 * native module is not in their bundles) and for files written by the lake's own encoders.
 */
import { parquetReadObjects } from 'hyparquet';
import { gunzipSync } from 'node:zlib';

/** Decompressors for hyparquet readers (it decodes only snappy by itself; our writers use GZIP). */
export const PARQUET_DECOMPRESSORS = {
  GZIP: (input: Uint8Array): Uint8Array => new Uint8Array(gunzipSync(input)),
};

/** The rows of a Parquet file held in memory (`columns` only, when given). */
export async function parquetRows(bytes: Uint8Array, columns?: string[]): Promise<Record<string, unknown>[]> {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  return (await parquetReadObjects({ file, columns, compressors: PARQUET_DECOMPRESSORS })) as Record<
    string,
    unknown
  >[];
}

/** Epoch ms of a TIMESTAMP value as hyparquet returns it (Date; micros as bigint without a logical type; text). */
export function epochMs(v: unknown): number {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'bigint') return Number(v / 1000n); // a TIMESTAMP without logical type: micros
  if (typeof v === 'number') return v;
  if (typeof v === 'string')
    return Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v.replace(' ', 'T')}Z`);
  return NaN;
}
