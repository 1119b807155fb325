/**
 * Time and cost of a bulk copy (`quant sync estimate`). A planning aid: every input and price is an
 * assumption the output lists, so a reader can check it against the current AWS price pages.
 */
import { InputError } from '../errors';

const UNITS: Readonly<Record<string, number>> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  PB: 1e15,
  KIB: 2 ** 10,
  MIB: 2 ** 20,
  GIB: 2 ** 30,
  TIB: 2 ** 40,
  PIB: 2 ** 50,
};

/** Parses `100TB`, `1.5 TiB`, `500GB`, `1024` (bytes). Decimal units are powers of 1000, *iB of 1024. */
export function parseSize(text: string, field: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? (m[2] === '' ? 'B' : m[2].toUpperCase()) : '';
  if (!m || !(unit in UNITS)) {
    throw new InputError(`${field}: expected a size like 100TB, 1.5TiB or 500GB, got "${text}"`, field);
  }
  const bytes = Number(m[1]) * UNITS[unit];
  if (!Number.isFinite(bytes) || bytes <= 0 || bytes > 1e18) {
    throw new InputError(`${field}: size must be between 1 byte and 1 EB, got "${text}"`, field);
  }
  return bytes;
}

/** Prices in USD (AWS list prices, us-east-1 source to ap-southeast-1 destination, 2025). */
export interface Prices {
  /** DataSync, per GB copied. */
  readonly dataSyncPerGb: number;
  /** Data transfer between regions, per GB (billed to the source bucket owner unless Requester Pays). */
  readonly interRegionTransferPerGb: number;
  /** S3 GET/LIST at the source, per 1,000 requests. */
  readonly sourceGetPer1000: number;
  /** S3 PUT at the destination, per 1,000 requests. */
  readonly destPutPer1000: number;
  /** S3 Standard storage at the destination, per GB-month. */
  readonly destStoragePerGbMonth: number;
}

export const DEFAULT_PRICES: Prices = {
  dataSyncPerGb: 0.0125,
  interRegionTransferPerGb: 0.02,
  sourceGetPer1000: 0.0004,
  destPutPer1000: 0.005,
  destStoragePerGbMonth: 0.025,
};

export interface EstimateInput {
  readonly bytes: number;
  /** Link speed available to the copy, in Gbit/s. */
  readonly gbps: number;
  /** Share of the link a long copy sustains (protocol overhead, small objects, retries). @default 0.8 */
  readonly efficiency?: number;
  /** Average object size; sets the request count. @default 64 MB */
  readonly avgObjectBytes?: number;
  /** Daily increment for the scheduled incremental. @default none */
  readonly dailyBytes?: number;
  readonly prices?: Prices;
}

export interface Estimate {
  readonly bytes: number;
  readonly objects: number;
  readonly effectiveGbps: number;
  readonly fullCopyHours: number;
  readonly fullCopyDays: number;
  readonly cost: {
    readonly dataSync: number;
    readonly interRegionTransfer: number;
    readonly requests: number;
    readonly total: number;
    readonly storagePerMonth: number;
  };
  readonly daily?: { readonly bytes: number; readonly hours: number; readonly costPerMonth: number };
  readonly assumptions: readonly string[];
}

const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

export function estimateTransfer(input: EstimateInput): Estimate {
  const efficiency = input.efficiency ?? 0.8;
  const avg = input.avgObjectBytes ?? 64e6;
  const p = input.prices ?? DEFAULT_PRICES;
  if (!(input.gbps > 0 && input.gbps <= 1000))
    throw new InputError(`gbps: expected 0-1000, got ${input.gbps}`, 'gbps');
  if (!(efficiency > 0 && efficiency <= 1)) {
    throw new InputError(`efficiency: expected a fraction in (0, 1], got ${efficiency}`, 'efficiency');
  }
  if (!(avg > 0)) throw new InputError(`avgObjectBytes: must be positive, got ${avg}`, 'avgObjectBytes');
  const effectiveBps = input.gbps * 1e9 * efficiency;
  const hours = (input.bytes * 8) / effectiveBps / 3600;
  const gb = input.bytes / 1e9;
  const objects = Math.ceil(input.bytes / avg);
  const costOf = (bytes: number): { dataSync: number; transfer: number; requests: number } => {
    const n = Math.ceil(bytes / avg);
    return {
      dataSync: (bytes / 1e9) * p.dataSyncPerGb,
      transfer: (bytes / 1e9) * p.interRegionTransferPerGb,
      requests: (n / 1000) * (p.sourceGetPer1000 + p.destPutPer1000),
    };
  };
  const full = costOf(input.bytes);
  const daily = input.dailyBytes
    ? (() => {
        const c = costOf(input.dailyBytes);
        return {
          bytes: input.dailyBytes,
          hours: round((input.dailyBytes * 8) / effectiveBps / 3600, 3),
          costPerMonth: round(30 * (c.dataSync + c.transfer + c.requests)),
        };
      })()
    : undefined;
  return {
    bytes: input.bytes,
    objects,
    effectiveGbps: round(input.gbps * efficiency, 3),
    fullCopyHours: round(hours),
    fullCopyDays: round(hours / 24),
    cost: {
      dataSync: round(full.dataSync),
      interRegionTransfer: round(full.transfer),
      requests: round(full.requests),
      total: round(full.dataSync + full.transfer + full.requests),
      storagePerMonth: round(gb * p.destStoragePerGbMonth),
    },
    daily,
    assumptions: [
      `sustained throughput = ${input.gbps} Gbit/s x ${efficiency} efficiency = ${round(input.gbps * efficiency, 3)} Gbit/s (one DataSync task moves up to about 10 Gbit/s; split by prefix into several tasks for more)`,
      `sizes in decimal units (1 TB = 10^12 bytes); average object ${round(avg / 1e6, 3)} MB -> ${objects} objects (one GET at the source and one PUT at the destination each; listing and verification requests not counted)`,
      `DataSync $${p.dataSyncPerGb}/GB copied; inter-region transfer $${p.interRegionTransferPerGb}/GB (billed to the vendor as bucket owner unless Requester Pays is on)`,
      `S3 requests: GET $${p.sourceGetPer1000}/1000 at the source, PUT $${p.destPutPer1000}/1000 at the destination; S3 Standard storage $${p.destStoragePerGbMonth}/GB-month at the destination`,
      'list prices (2025) for us-east-1 -> ap-southeast-1, before discounts and tax: check the AWS pricing pages',
      'no retries, throttling or verification re-reads; a month is 30 days',
    ],
  };
}
