/**
 * Order events on the trading EventBridge bus: every order status change, fill and trading-state
 * change (the same events as the audit trail) is also published for consumers (blotters, post-trade
 * systems). The audit trail stays the record of truth; the bus is for reacting.
 */
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { jsonReplacer } from '../format';
import type { AuditEvent, AuditSink } from './audit';

/** `source` of the events this platform publishes (rules match on it). */
export const ORDER_EVENT_SOURCE = 'quant.trading';
const DETAIL_TYPES: Partial<Record<AuditEvent['type'], string>> = {
  order: 'OrderStatus',
  fill: 'OrderFill',
  state: 'TradingStateChange',
};

/** Publishes order, fill and state events to a bus; retries entries EventBridge reports as failed. */
export class EventBridgeOrderEvents implements AuditSink {
  constructor(
    private readonly events: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async put(all: readonly AuditEvent[]): Promise<void> {
    const mine = all.filter((e) => DETAIL_TYPES[e.type] !== undefined);
    // PutEvents takes at most 10 entries per call.
    for (let i = 0; i < mine.length; i += 10) {
      let batch = mine.slice(i, i + 10);
      for (let attempt = 0; batch.length > 0; attempt++) {
        if (attempt >= 5)
          throw new Error(`order events: ${batch.length} not accepted by EventBridge after 5 attempts`);
        const r = await this.events.send(
          new PutEventsCommand({
            Entries: batch.map((e) => ({
              EventBusName: this.busName,
              Source: ORDER_EVENT_SOURCE,
              DetailType: DETAIL_TYPES[e.type],
              Time: new Date(e.time),
              Detail: JSON.stringify(e, jsonReplacer),
            })),
          }),
        );
        if (!r.FailedEntryCount) break;
        batch = batch.filter((_, k) => r.Entries?.[k]?.ErrorCode);
        await new Promise((res) => setTimeout(res, 50 * 2 ** attempt));
      }
    }
  }
}

/** Writes to the audit trail first (the record of truth), then to every other sink. */
export class FanOutSink implements AuditSink {
  constructor(
    private readonly primary: AuditSink,
    private readonly others: readonly AuditSink[],
  ) {}

  async put(events: readonly AuditEvent[]): Promise<void> {
    await this.primary.put(events);
    for (const s of this.others) await s.put(events);
  }
}
