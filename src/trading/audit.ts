/**
 * The audit trail: every signal, risk check (with its results), order, fill and state change as an
 * append-only event. In AWS events go to Firehose, which delivers them to the audit bucket (S3
 * Object Lock, compliance mode: nobody can alter or delete them within the retention); locally
 * each batch is one new object in the local audit bucket. Table `audit_events` reads both.
 */
import { randomUUID } from 'node:crypto';
import type { FirehoseClient } from '@aws-sdk/client-firehose';
import { PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { jsonReplacer } from '../format';
import { LAKE_PREFIXES } from '../contract/lake';

export type AuditType =
  | 'signal'
  | 'check'
  | 'order'
  | 'fill'
  | 'state'
  | 'dead_letter'
  // Model approvals and rollbacks, and strategy promotions (src/ml/registry/, src/strategy-runner/).
  | 'model'
  | 'promotion';

export interface AuditEvent {
  readonly eventId: string;
  readonly type: AuditType;
  /** ISO time. */
  readonly time: string;
  readonly account: string;
  readonly strategy?: string;
  readonly signalId?: string;
  readonly orderId?: string;
  /** Type-specific payload (breaches, quantities, prices, actor and reason ...). */
  readonly detail: Record<string, unknown>;
}

/** Glue table `audit_events`: one JSON object per line, partitioned by `dt`. */
export const AUDIT_PREFIX = `${LAKE_PREFIXES.auditEvents}/`;

export function auditEvent(
  type: AuditType,
  base: Omit<AuditEvent, 'eventId' | 'type' | 'time' | 'detail'>,
  detail: Record<string, unknown>,
  now: number = Date.now(),
): AuditEvent {
  return { eventId: randomUUID(), type, time: new Date(now).toISOString(), ...base, detail };
}

export interface AuditSink {
  put(events: readonly AuditEvent[]): Promise<void>;
}

const line = (e: AuditEvent): string => `${JSON.stringify(e, jsonReplacer)}\n`;

/** Firehose delivery stream → audit bucket. Retries records Firehose reports as failed. */
export class FirehoseAuditSink implements AuditSink {
  constructor(
    private readonly firehose: FirehoseClient,
    private readonly streamName: string,
  ) {}

  async put(events: readonly AuditEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += 500) {
      let batch = events.slice(i, i + 500);
      for (let attempt = 0; batch.length > 0; attempt++) {
        if (attempt >= 5)
          throw new Error(`audit: ${batch.length} events not accepted by Firehose after 5 attempts`);
        const r = await this.firehose.send(
          new PutRecordBatchCommand({
            DeliveryStreamName: this.streamName,
            Records: batch.map((e) => ({ Data: Buffer.from(line(e)) })),
          }),
        );
        if (!r.FailedPutCount) break;
        batch = batch.filter((_, k) => r.RequestResponses?.[k]?.ErrorCode);
        await new Promise((res) => setTimeout(res, 50 * 2 ** attempt));
      }
    }
  }
}

/** Local: each batch becomes a new object (never overwritten) under `audit_events/dt=.../`. */
export class S3AuditSink implements AuditSink {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async put(events: readonly AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    const dt = events[0].time.slice(0, 10);
    const key = `${AUDIT_PREFIX}dt=${dt}/${events[0].time.replace(/[:.]/g, '')}-${randomUUID()}.json`;
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: events.map(line).join(''),
        ContentType: 'application/x-ndjson',
      }),
    );
  }
}
