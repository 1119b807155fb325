/**
 * The on-disk format of a local backup (`quant dr backup --to DIR`): one manifest naming every
 * file with its size and SHA-256, DynamoDB items as JSON lines of attribute values (types kept),
 * and each S3 object as one file. A restore checks every file against the manifest before it
 * writes anything.
 */
import { createHash } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import * as z from 'zod';

export const BACKUP_FORMAT = 'quant-dr-backup/1';
export const MANIFEST_FILE = 'manifest.json';

const fileRef = z.object({
  file: z.string().regex(/^[a-z0-9-]+\/[A-Za-z0-9._-]+$/, 'a relative path inside the backup'),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

const keyAttribute = z.object({ AttributeName: z.string().min(1), AttributeType: z.enum(['S', 'N', 'B']) });

export const manifestSchema = z.object({
  format: z.literal(BACKUP_FORMAT),
  createdAt: z.string(),
  tables: z.array(
    fileRef.extend({
      name: z.string().min(3),
      items: z.number().int().nonnegative(),
      keySchema: z.array(z.object({ AttributeName: z.string().min(1), KeyType: z.enum(['HASH', 'RANGE']) })),
      attributes: z.array(keyAttribute),
    }),
  ),
  buckets: z.array(
    z.object({
      name: z.string().min(3),
      objects: z.array(
        fileRef.extend({
          key: z.string().min(1),
          contentType: z.string().optional(),
          metadata: z.record(z.string(), z.string()).optional(),
        }),
      ),
    }),
  ),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type TableEntry = Manifest['tables'][number];
export type ObjectEntry = Manifest['buckets'][number]['objects'][number];

export const sha256 = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

/** An item as JSON: binary attributes (B, BS) as base64 under `B64` / `BS64`. */
export function encodeItem(item: Record<string, AttributeValue>): string {
  return JSON.stringify(item, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      if (o.B instanceof Uint8Array) return { B64: Buffer.from(o.B).toString('base64') };
      if (Array.isArray(o.BS))
        return { BS64: (o.BS as Uint8Array[]).map((b) => Buffer.from(b).toString('base64')) };
    }
    return v;
  });
}

/** The inverse of `encodeItem`. */
export function decodeItem(line: string): Record<string, AttributeValue> {
  return JSON.parse(line, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      if (typeof o.B64 === 'string') return { B: Buffer.from(o.B64, 'base64') };
      if (Array.isArray(o.BS64)) return { BS: (o.BS64 as string[]).map((b) => Buffer.from(b, 'base64')) };
    }
    return v;
  }) as Record<string, AttributeValue>;
}

/** JSON with object keys sorted at every level: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(o)
          .sort()
          .map((k) => [k, o[k]]),
      );
    }
    return v;
  });
}

/** Requests in flight at once against the local stand-ins (each object is its own request). */
export const DR_CONCURRENCY = 16;
