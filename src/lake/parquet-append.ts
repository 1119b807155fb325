/**
 * The lake's append path (ticks): rows → one Parquet object per Hive partition, encoded in JS from
 * typed columns, compressed on libuv's thread pool, and PUT straight from memory.
 *
 * Why not DuckDB's COPY (the merge path still uses it): for appends it spent ~2 CPU-µs per tick on
 * one thread (stage through a table function, PARTITION_BY, Parquet encode, temporary files, read
 * back for the PUT), which caps a 2-core machine at ~0.6M rows/s. Here the only per-row work on the
 * main thread is one counting-sort pass and one gather per column; GZIP (level 1, native zlib)
 * runs on the thread pool, so the second core compresses while the first gathers the next
 * partition. Each object is committed by one PUT, which S3 makes visible atomically.
 *
 * Layout: every column OPTIONAL (as DuckDB writes them, so files of both writers read alike), one
 * data page (v1) per column per row group. VARCHAR columns are dictionary-encoded (a table whose
 * strings have more than MAX_DICTIONARY distinct values takes the DuckDB path), BIGINT → INT64,
 * INTEGER → INT32, DOUBLE → DOUBLE (NaN/null → NULL). Other column types take the DuckDB path.
 */
import type { ColumnChunk, Encoding, FileMetaData, RowGroup, SchemaElement, Statistics } from 'hyparquet';
import { ByteWriter } from 'hyparquet-writer';
import { writePageHeader } from 'hyparquet-writer/src/datapage.js';
import { writeRleBitPackedHybrid } from 'hyparquet-writer/src/encoding.js';
import { writeMetadata } from 'hyparquet-writer/src/metadata.js';
import { promisify } from 'node:util';
import { gzip as gzipCallback, gzipSync, constants as zlibConstants } from 'node:zlib';
import { InputError } from '../errors';
import type { Column, TableDef } from '../contract/lake';

const gzip = promisify(gzipCallback);
/**
 * zlib's output chunk size: 64 KiB measured fastest here (16 KiB means more callbacks; a chunk the
 * size of the page costs a large allocation per page on the main thread).
 */
const GZIP_CHUNK = 64 * 1024;

/** Distinct strings a dictionary-encoded column may hold before the DuckDB path is used. */
const MAX_DICTIONARY = 4096;
/** Rows per row group: large enough to amortize page headers, small enough to bound reader memory. */
export const ROW_GROUP_ROWS = 1 << 20;

/** A column in the encoder's form (converted once per batch). */
export type TypedColumn =
  | {
      readonly kind: 'INT64';
      readonly words: Int32Array;
      readonly valid?: Uint8Array;
      /** TIMESTAMP: microseconds since the epoch, typed as DuckDB types its own TIMESTAMP columns. */
      readonly timestamp?: true;
    }
  | { readonly kind: 'INT32'; readonly values: Int32Array; readonly valid?: Uint8Array }
  | { readonly kind: 'DOUBLE'; readonly values: Float64Array }
  | { readonly kind: 'DICT'; readonly codes: Int32Array; readonly dict: readonly string[] };

const isMissing = (v: unknown): boolean =>
  v === null || v === undefined || (typeof v === 'number' && v !== v);

/** Dictionary codes of a string column (-1 = NULL), or undefined past MAX_DICTIONARY values. */
function dictionaryOf(
  values: ArrayLike<unknown>,
  length: number,
  toText: (v: unknown) => string | undefined,
): { codes: Int32Array; dict: string[] } | undefined {
  const codes = new Int32Array(length);
  const dict: string[] = [];
  const index = new Map<string, number>();
  // Recently seen raw values and their codes: feeds interleave a handful of values (symbols,
  // trade/quote), so a short linear scan with === answers almost every row without hashing.
  const recent: unknown[] = [];
  const recentCode: number[] = [];
  let slot = 0;
  for (let i = 0; i < length; i++) {
    const v = values[i];
    let code = -2;
    for (let r = 0; r < recent.length; r++) {
      if (recent[r] === v) {
        code = recentCode[r];
        break;
      }
    }
    if (code === -2) {
      code = -1;
      if (v !== null && v !== undefined) {
        const s = toText(v);
        if (s === undefined) return undefined;
        let c = index.get(s);
        if (c === undefined) {
          if (dict.length >= MAX_DICTIONARY) return undefined;
          c = dict.length;
          dict.push(s);
          index.set(s, c);
        }
        code = c;
      }
      // Only primitives are remembered: a Date is a new object on every row.
      if (typeof v !== 'object' || v === null) {
        recent[slot] = v;
        recentCode[slot] = code;
        slot = (slot + 1) % RECENT;
      }
    }
    codes[i] = code;
  }
  return { codes, dict };
}

/** Raw values remembered by dictionaryOf. */
const RECENT = 16;

/** Text of a VARCHAR value (strings, and numbers as the DuckDB path takes them); objects are refused. */
const scalarText = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'bigint' ? String(v) : undefined;

const DATE_TEXT = /^\d{4}-\d{2}-\d{2}$/;
/** A DATE value as 'YYYY-MM-DD', or undefined when it is not a valid calendar date. */
function dateText(v: unknown): string | undefined {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : v.toISOString().slice(0, 10);
  if (typeof v !== 'string' || !DATE_TEXT.test(v)) return undefined;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v ? v : undefined;
}

/**
 * Converts one column; undefined when its values are not of the expected JS types (the DuckDB path
 * then reports the exact problem).
 */
function typedColumn(col: Column, values: ArrayLike<unknown>, length: number): TypedColumn | undefined {
  switch (col.type) {
    case 'DOUBLE': {
      if (values instanceof Float64Array) return { kind: 'DOUBLE', values };
      const out = new Float64Array(length);
      for (let i = 0; i < length; i++) {
        const v = values[i];
        if (isMissing(v)) out[i] = NaN;
        else if (typeof v === 'number') out[i] = v;
        else return undefined;
      }
      return { kind: 'DOUBLE', values: out };
    }
    case 'BIGINT': {
      if (values instanceof BigInt64Array) {
        return { kind: 'INT64', words: new Int32Array(values.buffer, values.byteOffset, length * 2) };
      }
      const out = new BigInt64Array(length);
      let valid: Uint8Array | undefined;
      for (let i = 0; i < length; i++) {
        const v = values[i];
        if (isMissing(v)) {
          valid ??= new Uint8Array(length).fill(1);
          valid[i] = 0;
        } else if (typeof v === 'bigint' && v >= -(2n ** 63n) && v < 2n ** 63n) out[i] = v;
        else if (typeof v === 'number' && Number.isSafeInteger(v)) out[i] = BigInt(v);
        else return undefined;
      }
      return { kind: 'INT64', words: new Int32Array(out.buffer), valid };
    }
    case 'TIMESTAMP': {
      // Epoch milliseconds (or Dates) to microseconds, rounded as the DuckDB path's
      // make_timestamp(round(ms * 1000)) rounds (half away from zero).
      const out = new BigInt64Array(length);
      let valid: Uint8Array | undefined;
      for (let i = 0; i < length; i++) {
        const v = values[i];
        const ms = v instanceof Date ? v.getTime() : v;
        if (isMissing(ms)) {
          valid ??= new Uint8Array(length).fill(1);
          valid[i] = 0;
        } else if (typeof ms === 'number' && Number.isFinite(ms) && Math.abs(ms) < 2 ** 52 / 1000) {
          const us = ms * 1000;
          out[i] = BigInt(us < 0 ? -Math.round(-us) : Math.round(us));
        } else return undefined;
      }
      return { kind: 'INT64', words: new Int32Array(out.buffer), valid, timestamp: true };
    }
    case 'INTEGER': {
      if (values instanceof Int32Array) return { kind: 'INT32', values };
      const out = new Int32Array(length);
      let valid: Uint8Array | undefined;
      for (let i = 0; i < length; i++) {
        const v = values[i];
        if (isMissing(v)) {
          valid ??= new Uint8Array(length).fill(1);
          valid[i] = 0;
        } else if (typeof v === 'number' && (v | 0) === v) out[i] = v;
        else return undefined;
      }
      return { kind: 'INT32', values: out, valid };
    }
    case 'VARCHAR': {
      const d = dictionaryOf(values, length, scalarText);
      return d && { kind: 'DICT', ...d };
    }
    default:
      return undefined;
  }
}

/** One Parquet object of a partition: its partition values (`{dt, symbol}`), bytes and row count. */
export interface EncodedPartition {
  readonly values: Readonly<Record<string, string>>;
  readonly bytes: Uint8Array;
  readonly rows: number;
}

export interface PreparedAppend {
  /** Partition values (text) of each partition, in first-seen order. */
  readonly partitions: ReadonlyArray<Readonly<Record<string, string>>>;
  /** Encodes partition `p` (rows in arrival order). */
  encode(p: number): Promise<EncodedPartition>;
}

/**
 * Converts the batch and groups its rows by partition, or returns undefined when the table or the
 * values need the DuckDB path. Throws InputError for rows without a partition value.
 */
export function prepareAppend(
  table: TableDef,
  columns: Readonly<Record<string, ArrayLike<unknown>>>,
  length: number,
  rowGroupRows = ROW_GROUP_ROWS,
): PreparedAppend | undefined {
  const typed: TypedColumn[] = [];
  for (const c of table.columns) {
    const t = typedColumn(c, columns[c.name], length);
    if (!t) return undefined;
    typed.push(t);
  }
  // Partition keys: dictionary codes combined into one partition id per row.
  const keys: Array<{ codes: Int32Array; dict: string[] }> = [];
  for (const k of table.partitionKeys) {
    const values = columns[k.name];
    const d =
      k.type === 'DATE'
        ? dictionaryOf(values, length, dateText)
        : k.type === 'VARCHAR'
          ? dictionaryOf(values, length, scalarText)
          : k.type === 'INTEGER'
            ? dictionaryOf(values, length, (v) =>
                typeof v === 'number' && (v | 0) === v ? String(v) : undefined,
              )
            : undefined;
    if (!d) return undefined;
    let missing = 0;
    for (let i = 0; i < length; i++) if (d.codes[i] < 0) missing++;
    if (missing > 0) {
      throw new InputError(`${table.name}.${k.name}: ${missing} row(s) have no value for this partition key`);
    }
    keys.push(d);
  }
  // One partition id per row from the keys' codes; ids map to partitions through a dense table
  // (a Map when the key space is too large for one).
  let space = 1;
  for (const k of keys) space *= k.dict.length;
  const partOf = new Int32Array(length);
  const partitions: Array<Record<string, string>> = [];
  const counts: number[] = [];
  const dense = space <= 1 << 20 ? new Int32Array(space).fill(-1) : undefined;
  const sparse = new Map<number, number>();
  const [k0, k1] = keys;
  const width0 = k0?.dict.length ?? 1;
  for (let i = 0; i < length; i++) {
    let id: number;
    if (keys.length === 2) id = k0.codes[i] + k1.codes[i] * width0;
    else {
      id = 0;
      let stride = 1;
      for (const k of keys) {
        id += k.codes[i] * stride;
        stride *= k.dict.length;
      }
    }
    let p = dense ? dense[id] : (sparse.get(id) ?? -1);
    if (p < 0) {
      p = partitions.length;
      if (dense) dense[id] = p;
      else sparse.set(id, p);
      partitions.push(
        Object.fromEntries(table.partitionKeys.map((k, j) => [k.name, keys[j].dict[keys[j].codes[i]]])),
      );
      counts.push(0);
    }
    partOf[i] = p;
    counts[p]++;
  }
  // Counting sort: row indexes grouped by partition, arrival order kept within each.
  const start = new Int32Array(partitions.length + 1);
  for (let p = 0; p < partitions.length; p++) start[p + 1] = start[p] + counts[p];
  const fill = start.slice(0, partitions.length);
  const order = new Int32Array(length);
  for (let i = 0; i < length; i++) order[fill[partOf[i]]++] = i;

  return {
    partitions,
    async encode(p) {
      const rows = order.subarray(start[p], start[p + 1]);
      return {
        values: partitions[p],
        bytes: await encodeColumns(
          table.columns.map((c) => c.name),
          typed,
          rows,
          rowGroupRows,
        ),
        rows: rows.length,
      };
    },
  };
}

/** A page body before compression, and what its header needs. */
interface PageBody {
  readonly body: Uint8Array;
  readonly dictionary?: number;
  /** Min/max of a data page (INT64 columns: time ranges let readers skip files and row groups). */
  readonly statistics?: Statistics;
  /** @default PLAIN (RLE_DICTIONARY for dictionary-encoded columns) */
  readonly encoding?: Encoding;
}

/**
 * Scratch space reused by every gather (page bodies are built one at a time, synchronously):
 * allocating and zeroing a fresh multi-megabyte array per column per partition cost more than
 * the gather itself.
 */
let scratch = new ArrayBuffer(1 << 20);
function scratchBytes(n: number): ArrayBuffer {
  if (scratch.byteLength < n) scratch = new ArrayBuffer(Math.max(n, scratch.byteLength * 2));
  return scratch;
}
const levelWriter = new ByteWriter(1 << 16);

/** Definition levels (RLE/bit-packed) for `valid` (1 = value present, undefined = all present). */
function definitionLevels(valid: Uint8Array | undefined, n: number): Uint8Array {
  const w = levelWriter;
  w.index = 0;
  w.offset = 0;
  w.appendUint32(0);
  if (!valid) {
    // Every value present: one RLE run of 1s.
    w.appendVarInt(n << 1);
    w.appendUint8(1);
  } else {
    writeRleBitPackedHybrid(w, valid, 1);
  }
  w.view.setUint32(0, w.offset - 4, true);
  return w.getBytes();
}

/** A page body: definition levels, then `valueBytes` bytes of the scratch space. */
function pageBody(levels: Uint8Array, valueBytes: number): Uint8Array {
  // Not zero-filled: every byte is written below.
  const body = Buffer.allocUnsafeSlow(levels.length + valueBytes);
  body.set(levels, 0);
  body.set(new Uint8Array(scratch, 0, valueBytes), levels.length);
  return body;
}

/** Gathers column `c` at `rows` into a data page body (and a dictionary page for strings). */
function columnPages(c: TypedColumn, rows: Int32Array): PageBody[] {
  const n = rows.length;
  switch (c.kind) {
    case 'DOUBLE': {
      const src = c.values;
      const out = new Float64Array(scratchBytes(n * 8), 0, n);
      let valid: Uint8Array | undefined;
      let k = 0;
      for (let j = 0; j < n; j++) {
        const v = src[rows[j]];
        if (v === v) out[k++] = v;
        else {
          valid ??= new Uint8Array(n).fill(1);
          valid[j] = 0;
        }
      }
      const levels = definitionLevels(valid, n);
      // Sizes and on-grid prices repeat a few values: a dictionary page plus small indexes is a
      // fraction of the bytes (and of the compression work) of PLAIN doubles.
      return doubleDictionaryPages(out, k, levels) ?? [{ body: pageBody(levels, k * 8) }];
    }
    case 'INT64': {
      const w = c.words;
      const valid = c.valid && gatherValid(c.valid, rows);
      const out = new Int32Array(scratchBytes(n * 8), 0, n * 2);
      let k = 0;
      // Min and max compared on the word pairs (high word signed, low word unsigned): no BigInt per row.
      let minHi = 0x7fffffff;
      let minLo = 0xffffffff;
      let maxHi = -0x80000000;
      let maxLo = 0;
      for (let j = 0; j < n; j++) {
        const i = rows[j];
        if (valid && !valid[j]) continue;
        const lo = w[2 * i];
        const hi = w[2 * i + 1];
        out[k++] = lo;
        out[k++] = hi;
        const ulo = lo >>> 0;
        if (hi < minHi || (hi === minHi && ulo < minLo)) {
          minHi = hi;
          minLo = ulo;
        }
        if (hi > maxHi || (hi === maxHi && ulo > maxLo)) {
          maxHi = hi;
          maxLo = ulo;
        }
      }
      const statistics: Statistics = {
        null_count: BigInt(n - k / 2),
        ...(k > 0
          ? {
              min_value: (BigInt(minHi) << 32n) | BigInt(minLo),
              max_value: (BigInt(maxHi) << 32n) | BigInt(maxLo),
            }
          : {}),
      };
      const levels = definitionLevels(valid, n);
      // Timestamps and sequence numbers grow by small steps: delta-encoded they shrink to a few
      // bits per value, which also takes most of the bytes out of the compressor's way.
      const delta = deltaBinaryPacked(out, k / 2);
      if (delta) {
        const body = Buffer.allocUnsafeSlow(levels.length + delta.length);
        body.set(levels, 0);
        body.set(delta, levels.length);
        return [{ body, encoding: 'DELTA_BINARY_PACKED', statistics }];
      }
      return [{ body: pageBody(levels, k * 4), statistics }];
    }
    case 'INT32': {
      const valid = c.valid && gatherValid(c.valid, rows);
      const out = new Int32Array(scratchBytes(n * 4), 0, n);
      let k = 0;
      for (let j = 0; j < n; j++) {
        if (valid && !valid[j]) continue;
        out[k++] = c.values[rows[j]];
      }
      return [{ body: pageBody(definitionLevels(valid, n), k * 4) }];
    }
    case 'DICT': {
      // A dictionary of the values this row group uses, in first-seen order.
      const local = new Int32Array(c.dict.length).fill(-1);
      const used: string[] = [];
      const idx = new Int32Array(n);
      let valid: Uint8Array | undefined;
      let k = 0;
      for (let j = 0; j < n; j++) {
        const code = c.codes[rows[j]];
        if (code < 0) {
          valid ??= new Uint8Array(n).fill(1);
          valid[j] = 0;
          continue;
        }
        let l = local[code];
        if (l < 0) {
          l = local[code] = used.length;
          used.push(c.dict[code]);
        }
        idx[k++] = l;
      }
      const dictPage = new ByteWriter(64);
      for (const s of used) {
        const b = Buffer.from(s, 'utf8');
        dictPage.appendUint32(b.length);
        dictPage.appendBytes(b);
      }
      const levels = definitionLevels(valid, n);
      const page = new ByteWriter(levels.length + k / 2 + 64);
      page.appendBytes(levels);
      const bitWidth = Math.max(1, Math.ceil(Math.log2(Math.max(used.length, 1))));
      page.appendUint8(bitWidth);
      writeRleBitPackedHybrid(page, idx.subarray(0, k), bitWidth);
      return [{ body: dictPage.getBytes(), dictionary: used.length }, { body: page.getBytes() }];
    }
  }
}

/** Integer values below this are dictionary-coded through a table (sizes, quantities). */
const SMALL_CODES = 1 << 16;
/** Code of each small integer in the dictionary being built; -1 between uses (reset entry by entry). */
const smallCodes = new Int32Array(SMALL_CODES).fill(-1);
let indexScratch = new ArrayBuffer(1 << 20);
function scratchIndexes(n: number): ArrayBuffer {
  if (indexScratch.byteLength < n * 4)
    indexScratch = new ArrayBuffer(Math.max(n * 4, indexScratch.byteLength * 2));
  return indexScratch;
}

/** Distinct doubles a column chunk may hold and still be dictionary-encoded. */
const MAX_DOUBLE_DICTIONARY = 1024;

/** Dictionary pages for `k` gathered doubles, or undefined when they have too many distinct values. */
function doubleDictionaryPages(values: Float64Array, k: number, levels: Uint8Array): PageBody[] | undefined {
  const dict: number[] = [];
  try {
    return doubleDictionaryInto(dict, values, k, levels);
  } finally {
    for (const v of dict) if (v >>> 0 === v && v < SMALL_CODES) smallCodes[v] = -1;
  }
}

function doubleDictionaryInto(
  dict: number[],
  values: Float64Array,
  k: number,
  levels: Uint8Array,
): PageBody[] | undefined {
  const limit = Math.min(MAX_DOUBLE_DICTIONARY, k >>> 3);
  let index: Map<number, number> | undefined;
  // Small non-negative integers (sizes) are coded through a table instead of hashing doubles.
  const small = smallCodes;
  const idx = new Int32Array(scratchIndexes(k), 0, k);
  let prev = NaN;
  let prevCode = -1;
  for (let j = 0; j < k; j++) {
    // Continuous prices show themselves early: more than half of the first 256 values distinct.
    if (j === 256 && dict.length > 128) return undefined;
    const v = values[j];
    if (v === prev) {
      idx[j] = prevCode;
      continue;
    }
    const asSmall = v >>> 0 === v && v < SMALL_CODES ? v : -1;
    let code = asSmall >= 0 ? small[asSmall] : (index ??= new Map()).get(v);
    if (code === undefined || code < 0) {
      if (dict.length >= limit) return undefined;
      code = dict.length;
      dict.push(v);
      if (asSmall >= 0) small[asSmall] = code;
      else index!.set(v, code);
    }
    idx[j] = code;
    prev = v;
    prevCode = code;
  }
  const bitWidth = Math.max(1, Math.ceil(Math.log2(Math.max(dict.length, 1))));
  const page = new ByteWriter(levels.length + ((k * bitWidth) >>> 3) + 64);
  page.appendBytes(levels);
  page.appendUint8(bitWidth);
  writeRleBitPackedHybrid(page, idx, bitWidth);
  const dictBody = new Uint8Array(Float64Array.from(dict).buffer);
  return [
    { body: dictBody, dictionary: dict.length },
    { body: page.getBytes(), encoding: 'RLE_DICTIONARY' },
  ];
}

function gatherValid(valid: Uint8Array, rows: Int32Array): Uint8Array {
  const out = new Uint8Array(rows.length);
  for (let j = 0; j < rows.length; j++) out[j] = valid[rows[j]];
  return out;
}

const PHYSICAL: Record<TypedColumn['kind'], 'INT64' | 'INT32' | 'DOUBLE' | 'BYTE_ARRAY'> = {
  INT64: 'INT64',
  INT32: 'INT32',
  DOUBLE: 'DOUBLE',
  DICT: 'BYTE_ARRAY',
};

interface CompressedChunk {
  readonly codec: 'GZIP' | 'UNCOMPRESSED';
  readonly pages: ReadonlyArray<{ readonly page: PageBody; readonly gz: Uint8Array }>;
}

/** Bytes of a page that are trial-compressed to decide a column chunk's codec. */
const SAMPLE_BYTES = 32 * 1024;

/**
 * Compresses a column chunk's pages on the thread pool. A sample of its largest page picks how:
 * - shrinks by less than a tenth: stored UNCOMPRESSED (the codec is per column chunk);
 * - shrinks by less than 40% (random-walk prices: LZ77 finds no matches, only the byte entropy
 *   pays): deflate with Huffman coding only, about twice as fast for the same size;
 * - otherwise deflate level 1.
 */
async function compressChunk(pages: readonly PageBody[]): Promise<CompressedChunk> {
  const largest = pages.reduce((a, b) => (b.body.length > a.body.length ? b : a));
  let strategy: number = zlibConstants.Z_DEFAULT_STRATEGY;
  if (largest.body.length > 4 * SAMPLE_BYTES) {
    const mid = largest.body.length >>> 1;
    const sample = largest.body.subarray(mid - SAMPLE_BYTES / 2, mid + SAMPLE_BYTES / 2);
    const ratio =
      gzipSync(sample, { level: 1, strategy: zlibConstants.Z_HUFFMAN_ONLY }).length / SAMPLE_BYTES;
    if (ratio > 0.9) return { codec: 'UNCOMPRESSED', pages: pages.map((page) => ({ page, gz: page.body })) };
    if (ratio > 0.6) strategy = zlibConstants.Z_HUFFMAN_ONLY;
  }
  return {
    codec: 'GZIP',
    pages: await Promise.all(
      pages.map(async (page) => ({
        page,
        gz: await gzip(page.body, { level: 1, strategy, chunkSize: GZIP_CHUNK }),
      })),
    ),
  };
}

const MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]); // PAR1

/**
 * One Parquet file holding `rows` of the typed columns (named `names`; all rows in order when
 * `rows` is the identity). Pages are compressed concurrently on the
 * thread pool; the file is assembled once from its segments (headers and compressed pages).
 */
export async function encodeColumns(
  names: readonly string[],
  typed: readonly TypedColumn[],
  rows: Int32Array,
  rowGroupRows = ROW_GROUP_ROWS,
): Promise<Uint8Array> {
  const groups: Array<{ rows: number; columns: Array<Promise<CompressedChunk>> }> = [];
  for (let g = 0; g < rows.length; g += rowGroupRows) {
    const sub = rows.subarray(g, Math.min(rows.length, g + rowGroupRows));
    groups.push({
      rows: sub.length,
      // Compression runs on the thread pool while the next column is gathered.
      columns: typed.map((c) => compressChunk(columnPages(c, sub))),
    });
  }
  const segments: Uint8Array[] = [MAGIC];
  let offset = MAGIC.length;
  const rowGroups: RowGroup[] = [];
  for (const group of groups) {
    const chunks: ColumnChunk[] = [];
    let total = 0n;
    for (let ci = 0; ci < typed.length; ci++) {
      const { pages, codec } = await group.columns[ci];
      const start = offset;
      let uncompressed = 0;
      let dictionaryOffset: bigint | undefined;
      let dataOffset = 0n;
      for (const { page, gz } of pages) {
        const header = new ByteWriter(64);
        if (page.dictionary !== undefined) {
          dictionaryOffset = BigInt(offset);
          writePageHeader(header, {
            type: 'DICTIONARY_PAGE',
            uncompressed_page_size: page.body.length,
            compressed_page_size: gz.length,
            dictionary_page_header: { num_values: page.dictionary, encoding: 'PLAIN' },
          });
        } else {
          dataOffset = BigInt(offset);
          writePageHeader(header, {
            type: 'DATA_PAGE',
            uncompressed_page_size: page.body.length,
            compressed_page_size: gz.length,
            data_page_header: {
              num_values: group.rows,
              encoding: page.encoding ?? (typed[ci].kind === 'DICT' ? 'RLE_DICTIONARY' : 'PLAIN'),
              definition_level_encoding: 'RLE',
              repetition_level_encoding: 'RLE',
            },
          });
        }
        segments.push(header.getBytes(), gz);
        offset += header.offset + gz.length;
        uncompressed += header.offset + page.body.length;
      }
      total += BigInt(uncompressed);
      const encodings: Encoding[] = ['RLE'];
      for (const { page } of pages) {
        const e =
          page.encoding ??
          (page.dictionary === undefined && typed[ci].kind === 'DICT' ? 'RLE_DICTIONARY' : 'PLAIN');
        if (!encodings.includes(e)) encodings.push(e);
      }
      chunks.push({
        file_offset: BigInt(start),
        meta_data: {
          type: PHYSICAL[typed[ci].kind],
          encodings,
          path_in_schema: [names[ci]],
          codec,
          num_values: BigInt(group.rows),
          total_uncompressed_size: BigInt(uncompressed),
          total_compressed_size: BigInt(offset - start),
          data_page_offset: dataOffset,
          dictionary_page_offset: dictionaryOffset,
          statistics: pages.find((p) => p.page.statistics)?.page.statistics,
        },
      });
    }
    rowGroups.push({ columns: chunks, total_byte_size: total, num_rows: BigInt(group.rows) });
  }
  const schema: SchemaElement[] = [
    { name: 'schema', num_children: names.length },
    ...typed.map((c, i): SchemaElement => ({
      name: names[i],
      type: PHYSICAL[c.kind],
      repetition_type: 'OPTIONAL',
      ...(c.kind === 'DICT' ? { converted_type: 'UTF8' as const } : {}),
      ...(c.kind === 'INT64' && c.timestamp
        ? {
            converted_type: 'TIMESTAMP_MICROS' as const,
            logical_type: { type: 'TIMESTAMP' as const, isAdjustedToUTC: false, unit: 'MICROS' as const },
          }
        : {}),
    })),
  ];
  const metadata: Omit<FileMetaData, 'metadata_length'> = {
    version: 2,
    schema,
    num_rows: BigInt(rows.length),
    row_groups: rowGroups,
    created_by: 'quant-platform lake',
  };
  const footer = new ByteWriter(4096);
  writeMetadata(footer, metadata as FileMetaData); // thrift metadata, then its 4-byte length
  segments.push(footer.getBytes(), MAGIC);
  return Buffer.concat(segments);
}

/** Values per DELTA_BINARY_PACKED block, and miniblocks per block (32 values each). */
const DELTA_BLOCK = 128;
const DELTA_MINIBLOCKS = 4;
const MINIBLOCK = DELTA_BLOCK / DELTA_MINIBLOCKS;
const TWO_32 = 4294967296;

/**
 * DELTA_BINARY_PACKED encoding of `count` int64 values given as little-endian 32-bit word pairs,
 * or undefined when a delta is too large for this encoder (|delta| ≥ 2^52 or a miniblock needing
 * more than 32 bits): the caller then writes the page PLAIN. Deltas are computed from the word
 * pairs as exact JS numbers, so no BigInt is created per value.
 */
export function deltaBinaryPacked(words: Int32Array, count: number): Uint8Array | undefined {
  const w = new ByteWriter(64 + count);
  w.appendVarInt(DELTA_BLOCK);
  w.appendVarInt(DELTA_MINIBLOCKS);
  w.appendVarInt(count);
  if (count === 0) {
    w.appendVarInt(0);
    return w.getBytes();
  }
  const first = (BigInt(words[1]) << 32n) | BigInt(words[0] >>> 0);
  w.appendVarBigInt((first << 1n) ^ (first >> 63n)); // zigzag
  const deltas = new Float64Array(DELTA_BLOCK);
  const widths = new Uint8Array(DELTA_MINIBLOCKS);
  for (let b = 1; b < count; b += DELTA_BLOCK) {
    const m = Math.min(DELTA_BLOCK, count - b);
    let min = Infinity;
    for (let j = 0; j < m; j++) {
      const i = b + j;
      const d =
        (words[2 * i + 1] - words[2 * i - 1]) * TWO_32 + ((words[2 * i] >>> 0) - (words[2 * i - 2] >>> 0));
      if (!(Math.abs(d) < 2 ** 52)) return undefined;
      deltas[j] = d;
      if (d < min) min = d;
    }
    for (let j = 0; j < m; j++) deltas[j] -= min;
    const miniblocks = Math.ceil(m / MINIBLOCK);
    for (let mb = 0; mb < DELTA_MINIBLOCKS; mb++) {
      let max = 0;
      for (let j = mb * MINIBLOCK; j < Math.min(m, (mb + 1) * MINIBLOCK); j++)
        if (deltas[j] > max) max = deltas[j];
      if (max >= TWO_32) return undefined;
      widths[mb] = mb < miniblocks ? (max === 0 ? 0 : Math.floor(Math.log2(max)) + 1) : 0;
    }
    // min delta (zigzag varint: it may be negative and beyond 32 bits)
    const minBig = BigInt(min);
    w.appendVarBigInt((minBig << 1n) ^ (minBig >> 63n));
    for (let mb = 0; mb < DELTA_MINIBLOCKS; mb++) w.appendUint8(widths[mb]);
    for (let mb = 0; mb < miniblocks; mb++) {
      const width = widths[mb];
      if (width === 0) continue;
      // Little-endian bit packing of 32 values (the last miniblock is padded with zeros).
      let acc = 0;
      let bits = 0;
      for (let j = mb * MINIBLOCK; j < (mb + 1) * MINIBLOCK; j++) {
        acc += (j < m ? deltas[j] : 0) * 2 ** bits;
        bits += width;
        while (bits >= 8) {
          w.appendUint8(acc % 256);
          acc = Math.floor(acc / 256);
          bits -= 8;
        }
      }
    }
  }
  return w.getBytes();
}
