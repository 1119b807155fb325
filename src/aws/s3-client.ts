/**
 * The S3 client for any S3-compatible endpoint, apart from the other clients (src/aws/clients.ts):
 * S3-only commands such as `quant sync run` import this alone instead of every SDK client (~0.25 s of
 * CLI start).
 */
import { S3Client } from '@aws-sdk/client-s3';
import type { AwsCredentialIdentity } from '@smithy/types';
import { ATTEMPTS, DEFAULT_TIMEOUT_MS, httpHandler, withNetworkErrors } from './network';

/** Credentials the local stand-ins accept (s3rver's defaults; kinesalite and dynalite accept any). */
export const LOCAL_CREDENTIALS: AwsCredentialIdentity = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface S3ClientOptions {
  /** S3-compatible endpoint; AWS's own when absent. */
  readonly endpoint?: string;
  /** @default the SDK's region resolution, or us-east-1 for a custom endpoint */
  readonly region?: string;
  /** @default the SDK's default credential chain (LOCAL_CREDENTIALS for a loopback endpoint) */
  readonly credentials?: AwsCredentialIdentity;
  /** @default 64 */
  readonly maxSockets?: number;
  /**
   * Resolve each command class's middleware once instead of on every request (the SDK's
   * `cacheMiddleware`): for clients whose commands never add middleware of their own. @default false
   */
  readonly cacheMiddleware?: boolean;
  /** Longest wait for one request, all attempts included. @default DEFAULT_TIMEOUT_MS (60 s) */
  readonly timeoutMs?: number;
}

function isLoopback(endpoint: string): boolean {
  const host = new URL(endpoint).hostname;
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
}

/** An S3 client for any S3-compatible endpoint (the local server, another account's bucket, AWS). */
export function makeS3Client(opts: S3ClientOptions = {}): S3Client {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!opts.endpoint) {
    return withNetworkErrors(
      new S3Client({
        region: opts.region,
        credentials: opts.credentials,
        cacheMiddleware: opts.cacheMiddleware,
        maxAttempts: ATTEMPTS,
        requestHandler: httpHandler(timeoutMs, { httpsAgent: { maxSockets: opts.maxSockets ?? 64 } }),
      }),
      timeoutMs,
    );
  }
  const client = new S3Client({
    endpoint: opts.endpoint,
    region: opts.region ?? 'us-east-1',
    credentials: opts.credentials ?? (isLoopback(opts.endpoint) ? LOCAL_CREDENTIALS : undefined),
    forcePathStyle: true,
    cacheMiddleware: opts.cacheMiddleware,
    // Only send/verify checksums when an API requires it: s3rver would store aws-chunked framing.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: ATTEMPTS,
    requestHandler: httpHandler(timeoutMs, {
      httpAgent: { keepAlive: true, maxSockets: opts.maxSockets ?? 64 },
      httpsAgent: { keepAlive: true, maxSockets: opts.maxSockets ?? 64 },
    }),
  });
  return withNetworkErrors(client, timeoutMs);
}
