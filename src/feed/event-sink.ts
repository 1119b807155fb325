/**
 * Normalized feed events -> the ingestion producer (Kinesis `ticks`), without ever blocking the feed:
 * the handler's callback is synchronous, so events are buffered and handed to the producer in
 * batches by one async pump. If Kinesis falls so far behind that the buffer passes its limit, the
 * newest events are dropped and counted (the feed and the relay must keep going).
 */
import type { MarketEvent } from '../market-data/events';
import type { ProducerStats, TickProducer } from '../ingest/producer';

export interface EventSinkStats {
  accepted: number;
  /** Dropped because the buffer was full (Kinesis too slow). */
  dropped: number;
}

export class ProducerEventSink {
  readonly stats: EventSinkStats = { accepted: 0, dropped: 0 };
  private buf: MarketEvent[] = [];
  private pumping: Promise<void> | null = null;
  private error: unknown = null;

  constructor(
    private readonly producer: TickProducer,
    /** Events buffered before new ones are dropped. @default 200_000 */
    private readonly maxBuffered = 200_000,
  ) {}

  /** Synchronous: buffers the event and makes sure the pump runs. */
  push(e: MarketEvent): void {
    if (this.buf.length >= this.maxBuffered) {
      this.stats.dropped++;
      return;
    }
    this.stats.accepted++;
    this.buf.push(e);
    if (!this.pumping) this.pumping = this.pump();
  }

  private async pump(): Promise<void> {
    try {
      while (this.buf.length > 0) {
        const batch = this.buf;
        this.buf = [];
        // putAll waits only when the producer's own buffer is full (back-pressure).
        await this.producer.putAll(batch);
      }
    } catch (err) {
      this.error = err;
    } finally {
      this.pumping = null;
    }
  }

  /** The producer's counters (records put, events sent and failed). */
  get producerStats(): ProducerStats {
    return this.producer.stats;
  }

  /** Hands over everything buffered, flushes and closes the producer (throws if events failed for good). */
  async close(): Promise<ProducerStats> {
    while (this.pumping) await this.pumping;
    if (this.buf.length > 0) await this.pump();
    if (this.error) throw this.error;
    return this.producer.close();
  }
}
