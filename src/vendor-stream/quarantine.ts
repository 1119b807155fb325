/**
 * Where the adapters put what they refused: JSON lines with the reason, the vendor, the receive
 * time and the raw message, as objects under `quarantine/vendor-stream/<vendor>/dt=<day>/` in the
 * raw zone (the same bucket as the consumer's quarantine). Bounded: at most `maxBuffered` lines
 * wait for a write; beyond that they are counted as dropped.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { VENDOR_QUARANTINE_PREFIX } from '../contract/vendor-stream';

export interface QuarantineRecord {
  readonly reason: string;
  readonly detail: string;
  readonly vendor: string;
  /** Receive time, ISO 8601. */
  readonly receivedAt: string;
  /** `live` (WebSocket) or `backfill` (REST). */
  readonly source: 'live' | 'backfill';
  readonly raw: string;
}

export interface QuarantineSink {
  add(r: QuarantineRecord): void;
  flush(): Promise<void>;
  readonly dropped: number;
}

/** Keeps the records in memory (tests, and when no bucket is configured). */
export class MemoryQuarantine implements QuarantineSink {
  readonly records: QuarantineRecord[] = [];
  dropped = 0;
  constructor(private readonly max = 10_000) {}
  add(r: QuarantineRecord): void {
    if (this.records.length >= this.max) this.dropped++;
    else this.records.push(r);
  }
  async flush(): Promise<void> {}
}

export class S3Quarantine implements QuarantineSink {
  private buf: QuarantineRecord[] = [];
  private part = 0;
  private readonly runId = `${Date.now()}-${process.pid}`;
  private writing: Promise<void> = Promise.resolve();
  dropped = 0;
  readonly keys: string[] = [];

  constructor(
    private readonly o: {
      readonly s3: S3Client;
      readonly bucket: string;
      readonly vendor: string;
      /** @default 10000 */
      readonly maxBuffered?: number;
      /** Write once this many records wait. @default 1000 */
      readonly batch?: number;
    },
  ) {}

  add(r: QuarantineRecord): void {
    if (this.buf.length >= (this.o.maxBuffered ?? 10_000)) {
      this.dropped++;
      return;
    }
    this.buf.push(r);
    if (this.buf.length >= (this.o.batch ?? 1000)) void this.flush().catch(() => undefined);
  }

  /** Writes what waits (one object); a failed write keeps the records for the next flush. */
  flush(): Promise<void> {
    this.writing = this.writing
      .catch(() => undefined)
      .then(async () => {
        if (this.buf.length === 0) return;
        const records = this.buf;
        this.buf = [];
        const dt = records[0].receivedAt.slice(0, 10);
        const key = `${VENDOR_QUARANTINE_PREFIX}/${this.o.vendor}/dt=${dt}/${this.runId}-${String(this.part++).padStart(5, '0')}.jsonl`;
        try {
          await this.o.s3.send(
            new PutObjectCommand({
              Bucket: this.o.bucket,
              Key: key,
              Body: records.map((r) => JSON.stringify(r)).join('\n') + '\n',
              ContentType: 'application/x-ndjson',
            }),
          );
          this.keys.push(key);
        } catch (err) {
          this.buf = records.concat(this.buf);
          throw err;
        }
      });
    return this.writing;
  }
}
