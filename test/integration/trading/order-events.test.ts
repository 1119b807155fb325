/**
 * Order events on the trading bus, against a loopback server speaking the EventBridge JSON protocol
 * (there is no local EventBridge): which events go out, their shape, batching by 10 and the retry of
 * entries EventBridge reports as failed.
 */
import { createServer, type Server } from 'node:http';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvent, type AuditEvent, type AuditSink } from '../../../src/trading/audit';
import { EventBridgeOrderEvents, FanOutSink, ORDER_EVENT_SOURCE } from '../../../src/trading/order-events';

interface Entry {
  EventBusName: string;
  Source: string;
  DetailType: string;
  Detail: string;
  Time: number;
}

let server: Server;
let client: EventBridgeClient;
const calls: { target: string; entries: Entry[] }[] = [];
let failNext = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const { Entries } = JSON.parse(body) as { Entries: Entry[] };
      calls.push({ target: String(req.headers['x-amz-target']), entries: Entries });
      // Fail the first `failNext` entries of this call (EventBridge answers 200 with per-entry errors).
      const out = Entries.map((_, i) =>
        i < failNext
          ? { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }
          : { EventId: `e-${i}` },
      );
      const failed = Math.min(failNext, Entries.length);
      failNext = 0;
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ FailedEntryCount: failed, Entries: out }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  client = new EventBridgeClient({
    endpoint: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'LOCAL', secretAccessKey: 'LOCAL' },
  });
});
afterAll(async () => {
  client?.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

const T = Date.UTC(2026, 10, 20, 15, 0, 0);
const base = { account: 'main', strategy: 'sma', signalId: 's-1', orderId: 's-1:AAPL' };

describe('order events on the trading bus', () => {
  it('publishes order, fill and state events (not signals or checks) in batches of 10, retrying failed entries', async () => {
    const events: AuditEvent[] = [
      auditEvent('signal', base, { signal: {} }, T),
      auditEvent('check', base, { decision: 'approve' }, T),
      ...Array.from({ length: 11 }, (_, i) => auditEvent('order', base, { status: 'SUBMITTED', i }, T)),
      auditEvent('fill', base, { qty: 10, price: 190, cashCents: -190_000 }, T),
      auditEvent('state', { account: 'main' }, { from: 'ACTIVE', to: 'HALTED' }, T),
    ];
    failNext = 2;
    await new EventBridgeOrderEvents(client, 'trading-bus').put(events);
    expect(calls.every((c) => c.target === 'AWSEvents.PutEvents')).toBe(true);
    // 13 events: 10, then the 2 failed entries again, then the last 3
    expect(calls.map((c) => c.entries.length)).toEqual([10, 2, 3]);
    const sent = calls.slice(1).flatMap((c) => c.entries);
    expect(sent.slice(0, 2).map((e) => JSON.parse(e.Detail).eventId)).toEqual(
      calls[0].entries.slice(0, 2).map((e) => JSON.parse(e.Detail).eventId),
    );
    const all = [calls[0].entries.slice(2), sent].flat();
    expect(all).toHaveLength(13);
    expect(new Set(all.map((e) => e.DetailType))).toEqual(
      new Set(['OrderStatus', 'OrderFill', 'TradingStateChange']),
    );
    for (const e of all) expect(e).toMatchObject({ EventBusName: 'trading-bus', Source: ORDER_EVENT_SOURCE });
    const fill = all.find((e) => e.DetailType === 'OrderFill')!;
    expect(JSON.parse(fill.Detail)).toMatchObject({
      type: 'fill',
      orderId: 's-1:AAPL',
      detail: { qty: 10, price: 190, cashCents: -190_000 },
    });
    expect(fill.Time).toBe(T / 1000);
  });

  it('the audit trail is written first; a failing audit publishes nothing', async () => {
    calls.length = 0;
    const order: string[] = [];
    const audit: AuditSink = { put: async () => void order.push('audit') };
    const bus: AuditSink = { put: async () => void order.push('bus') };
    await new FanOutSink(audit, [bus]).put([auditEvent('order', base, {}, T)]);
    expect(order).toEqual(['audit', 'bus']);
    const broken: AuditSink = {
      put: async () => {
        throw new Error('firehose down');
      },
    };
    const real = new EventBridgeOrderEvents(client, 'trading-bus');
    await expect(new FanOutSink(broken, [real]).put([auditEvent('order', base, {}, T)])).rejects.toThrow(
      /firehose down/,
    );
    expect(calls).toEqual([]);
  });
});
