/**
 * Names shared by the vendor streaming service (src/vendor-stream), its CLI (`quant ingest stream`)
 * and its infrastructure (lib/constructs/vendor-stream-service.ts): vendors, environment variables,
 * the quarantine prefix, and the metric namespace, service dimension and metric names.
 * Imports nothing.
 */

export const VENDORS = ['polygon', 'alpaca'] as const;
export type Vendor = (typeof VENDORS)[number];

/** The vendor key when running locally (Alpaca: `KEY_ID:SECRET`). */
export const VENDOR_KEY_ENV = 'QUANT_VENDOR_KEY';
/** In AWS: the Secrets Manager secret holding the key (its SecretString, same format as above). */
export const VENDOR_KEY_SECRET_ENV = 'QUANT_VENDOR_KEY_SECRET_ARN';
/** Kinesis stream the service produces into. */
export const VENDOR_STREAM_NAME_ENV = 'QUANT_TICKS_STREAM';

/** Raw-zone prefix of the messages the adapters refused (JSON lines with their reason). */
export const VENDOR_QUARANTINE_PREFIX = 'quarantine/vendor-stream';

/** CloudWatch (embedded metric format) namespace and the `service` dimension of the service. */
export const VENDOR_STREAM_METRICS = { namespace: 'QuantPlatform', service: 'vendor-stream' } as const;

/** Metric names, emitted per interval with dimensions `service` and `vendor`. */
export const VENDOR_STREAM_METRIC = {
  /** Trade/quote/bar events received over the WebSocket in the interval (Count; rate = /period). */
  messages: 'MessagesReceived',
  /** Events acknowledged by Kinesis. */
  published: 'EventsPublished',
  reconnects: 'Reconnects',
  /** Gaps over a disconnect that were backfilled from the REST history endpoint. */
  gapsBackfilled: 'GapsBackfilled',
  /** Events recovered by backfill. */
  backfilled: 'EventsBackfilled',
  /** Gaps whose backfill failed after every retry. */
  gapsUnfilled: 'GapsUnfilled',
  duplicates: 'Duplicates',
  /** Events dropped because a bounded queue was full (slow consumer). */
  drops: 'Drops',
  quarantined: 'Quarantined',
  /** Exchange timestamp to Kinesis acknowledgement, p99 of the interval (Milliseconds). */
  endToEndLatency: 'EndToEndLatencyP99',
  /** Receive to Kinesis acknowledgement, p99 of the interval (Milliseconds). */
  receiveToKinesisLatency: 'ReceiveToKinesisLatencyP99',
  /**
   * Estimated vendor clock offset: the smallest (receive − exchange) time of the interval, in
   * Milliseconds. Negative: the vendor's clock runs ahead of ours.
   */
  clockSkew: 'ClockSkewMs',
  /** Vendor refused the key (bad, expired or revoked). */
  authFailures: 'AuthFailures',
  /** REST calls answered 429 or 5xx (retried). */
  restRetries: 'RestRetries',
} as const;
