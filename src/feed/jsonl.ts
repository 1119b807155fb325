/**
 * JSON text for decoded messages, per the decode contract: integers as numbers when
 * |v| <= 2^53-1 else decimal strings, prices as exact decimal numbers, null for null values.
 */
import { Decimal } from '../sbe/decimal';
import type { DecodedMessage } from '../sbe/codec';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export function jsonValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'bigint':
      return v <= MAX_SAFE && v >= -MAX_SAFE ? v.toString() : `"${v.toString()}"`;
    case 'string':
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      break;
  }
  // Exact decimal text is a valid JSON number; readers round it no worse than a double would.
  if (v instanceof Decimal) return v.toString();
  if (Array.isArray(v)) return `[${v.map(jsonValue).join(',')}]`;
  const parts: string[] = [];
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (x !== undefined) parts.push(`${JSON.stringify(k)}:${jsonValue(x)}`);
  }
  return `{${parts.join(',')}}`;
}

/** One line of `quant feed decode --jsonl` (without the newline). */
export function messageJsonLine(packet: number, seq: number, sendingTime: bigint, m: DecodedMessage): string {
  return (
    `{"packet":${packet},"seq":${seq},"sendingTime":"${sendingTime}","templateId":${m.templateId},"schemaId":${m.schemaId},` +
    `"version":${m.version},"blockLength":${m.blockLength},"name":${JSON.stringify(m.name)},"body":${jsonValue(m.body)}}`
  );
}
