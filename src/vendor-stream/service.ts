/**
 * The streaming service: one vendor connection into the `ticks` stream until a deadline, a signal
 * or a failure. `quant ingest stream` runs it locally; in AWS the same command runs as the ECS task
 * of lib/constructs/vendor-stream-service.ts, with the key from Secrets Manager and metrics in
 * CloudWatch embedded metric format on stdout (the awslogs driver ships them).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  VENDOR_KEY_ENV,
  VENDOR_KEY_SECRET_ENV,
  VENDOR_STREAM_METRIC as M,
  VENDOR_STREAM_METRICS,
  type Vendor,
} from '../contract/vendor-stream';
import { InputError } from '../errors';
import { alpaca } from './alpaca';
import { polygon } from './polygon';
import { S3Quarantine } from './quarantine';
import { VendorStream, type StreamStats, type VendorStreamOptions } from './session';
import type { VendorAdapter, VendorKey } from './types';

export const ADAPTERS: Readonly<Record<Vendor, VendorAdapter>> = { polygon, alpaca };

/** The key: from the secret named by QUANT_VENDOR_KEY_SECRET_ARN when set, else QUANT_VENDOR_KEY. */
export async function resolveVendorKey(
  adapter: VendorAdapter,
  env: NodeJS.ProcessEnv,
  secrets?: () => Pick<SecretsManagerClient, 'send'>,
): Promise<VendorKey> {
  const secretId = env[VENDOR_KEY_SECRET_ENV];
  if (secretId && secrets) {
    const s = await secrets().send(new GetSecretValueCommand({ SecretId: secretId }));
    if (!s.SecretString)
      throw new InputError(
        `${VENDOR_KEY_SECRET_ENV}: secret ${secretId} has no SecretString`,
        VENDOR_KEY_SECRET_ENV,
      );
    return adapter.parseKey(s.SecretString);
  }
  const text = env[VENDOR_KEY_ENV];
  if (!text)
    throw new InputError(
      `${VENDOR_KEY_ENV}: not set; put the ${adapter.vendor} key in it${adapter.vendor === 'alpaca' ? ' as KEY_ID:SECRET' : ''} (in AWS the service reads it from Secrets Manager)`,
      VENDOR_KEY_ENV,
    );
  return adapter.parseKey(text);
}

/** One CloudWatch embedded-metric-format line for an interval. */
export function vendorStreamEmf(
  vendor: Vendor,
  counts: Partial<Record<keyof typeof M, number | null>>,
  timestampMs = Date.now(),
): string {
  const units: Partial<Record<keyof typeof M, string>> = {
    endToEndLatency: 'Milliseconds',
    receiveToKinesisLatency: 'Milliseconds',
    clockSkew: 'Milliseconds',
  };
  const present = (Object.keys(counts) as Array<keyof typeof M>).filter(
    (k) => counts[k] !== null && counts[k] !== undefined,
  );
  return JSON.stringify({
    _aws: {
      Timestamp: timestampMs,
      CloudWatchMetrics: [
        {
          Namespace: VENDOR_STREAM_METRICS.namespace,
          Dimensions: [['service', 'vendor']],
          Metrics: present.map((k) => ({ Name: M[k], Unit: units[k] ?? 'Count' })),
        },
      ],
    },
    service: VENDOR_STREAM_METRICS.service,
    vendor,
    ...Object.fromEntries(present.map((k) => [M[k], counts[k]])),
  });
}

export interface RunVendorStreamOptions extends Pick<
  VendorStreamOptions,
  'key' | 'symbols' | 'channels' | 'url' | 'restUrl' | 'kinesis' | 'streamName' | 'log'
> {
  readonly vendor: Vendor;
  readonly s3: S3Client;
  /** The raw zone bucket (quarantine). */
  readonly rawBucket: string;
  /** Stop after this long; otherwise at `signal`. */
  readonly durationMs?: number;
  readonly signal?: AbortSignal;
  /** Write an EMF metrics line this often (ms). Off when absent. */
  readonly metricsIntervalMs?: number;
  readonly writeMetrics?: (line: string) => void;
  /** Test and benchmark knobs of the session. */
  readonly session?: Partial<VendorStreamOptions>;
}

export interface VendorStreamReport {
  readonly stats: StreamStats;
  /** Set when the stream stopped because it could not go on (refused key, refused subscription). */
  readonly error?: Error;
}

/** Runs one connection; resolves with the counts once everything received is in the stream. */
export async function runVendorStream(o: RunVendorStreamOptions): Promise<VendorStreamReport> {
  const { vendor, s3, rawBucket, durationMs, signal, metricsIntervalMs, writeMetrics, session, ...rest } = o;
  const s = new VendorStream({
    ...rest,
    adapter: ADAPTERS[vendor],
    quarantine: new S3Quarantine({ s3, bucket: rawBucket, vendor }),
    ...session,
  });
  let last: StreamStats = { ...s.stats };
  const emit = (): void => {
    const now = s.snapshot();
    const i = s.takeInterval();
    const d = (k: keyof StreamStats): number => (now[k] as number) - (last[k] as number);
    writeMetrics?.(
      vendorStreamEmf(vendor, {
        messages: d('received'),
        published: d('published'),
        reconnects: d('reconnects'),
        gapsBackfilled: d('gapsBackfilled'),
        backfilled: d('backfilled'),
        gapsUnfilled: d('gapsUnfilled'),
        duplicates: d('duplicates'),
        drops: d('drops'),
        quarantined: d('quarantined'),
        authFailures: d('authFailures'),
        restRetries: d('restRetries'),
        endToEndLatency: i.latencyEndToEndP99,
        receiveToKinesisLatency: i.latencyReceiveP99,
        clockSkew: i.skewMs,
      }),
    );
    last = now;
  };
  try {
    await s.start();
  } catch (err) {
    await s.stop();
    if (metricsIntervalMs) emit();
    throw err;
  }
  const metrics = metricsIntervalMs ? setInterval(emit, metricsIntervalMs) : undefined;
  let error: Error | undefined;
  let timer: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve) => {
    if (durationMs !== undefined) timer = setTimeout(resolve, durationMs);
    if (signal?.aborted) resolve();
    signal?.addEventListener('abort', () => resolve(), { once: true });
    s.done.catch((err: Error) => {
      error = err;
      resolve();
    });
  });
  clearTimeout(timer);
  clearInterval(metrics);
  const stats = await s.stop();
  if (metricsIntervalMs) emit();
  return { stats, error };
}
