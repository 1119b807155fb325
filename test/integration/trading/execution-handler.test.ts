import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import {
  CreateStreamCommand,
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Context, KinesisStreamEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditSink } from '../../../src/trading/audit';
import { PaperBroker, type BrokerAdapter } from '../../../src/trading/broker';
import { tradingServices, type TradingServices } from '../../../src/trading/context';
import { FileDeadLetters } from '../../../src/trading/dead-letters';
import { createExecutionHandler, type SignalOutcome } from '../../../src/trading/execution-handler';
import { localCloudWorld } from '../../helpers/local-cloud';

const lc = localCloudWorld({ name: 'exec-handler' });
let svc: TradingServices;
const NOW = Date.UTC(2026, 10, 20, 15, 0, 0);
const LIMITS = {
  securities: { AAPL: { region: 'US', adv: 50_000_000, referencePrice: 190 } },
  limits: { maxPositionWeight: 0.05, priceCollarPct: 0.05, maxReferenceAgeMs: 60_000 },
};
// A Lambda context: plain data the runtime passes, built here as the runtime would.
const context = {
  functionName: 'execution',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

const signal = (signalId: string, account: string, extra: Record<string, unknown> = {}) => ({
  signalId,
  account,
  strategy: 'sma',
  createdAt: NOW,
  orders: [{ symbol: 'AAPL', side: 'buy', qty: 10, price: 190, priceTime: NOW - 1000, ...extra }],
});

/** Puts raw records into a kinesalite stream and reads them back as a Lambda Kinesis event. */
async function kinesisEvent(stream: string, records: string[]): Promise<KinesisStreamEvent> {
  await lc.clients.kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
  for (let i = 0; i < 100; i++) {
    const d = await lc.clients.kinesis.send(new DescribeStreamCommand({ StreamName: stream }));
    if (d.StreamDescription?.StreamStatus === 'ACTIVE') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await lc.clients.kinesis.send(
    new PutRecordsCommand({
      StreamName: stream,
      Records: records.map((r) => ({ Data: Buffer.from(r), PartitionKey: 'acct' })),
    }),
  );
  const d = await lc.clients.kinesis.send(new DescribeStreamCommand({ StreamName: stream }));
  const shardId = d.StreamDescription!.Shards![0].ShardId!;
  const it = await lc.clients.kinesis.send(
    new GetShardIteratorCommand({ StreamName: stream, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
  );
  const got = await lc.clients.kinesis.send(
    new GetRecordsCommand({ ShardIterator: it.ShardIterator, Limit: 1000 }),
  );
  return {
    Records: got.Records!.map((r) => ({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: r.PartitionKey!,
        sequenceNumber: r.SequenceNumber!,
        data: Buffer.from(r.Data!).toString('base64'),
        approximateArrivalTimestamp: (r.ApproximateArrivalTimestamp?.getTime() ?? NOW) / 1000,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `${shardId}:${r.SequenceNumber}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::111111111111:role/execution',
      awsRegion: 'us-east-1',
      eventSourceARN: `arn:aws:kinesis:us-east-1:111111111111:stream/${stream}`,
    })),
  };
}

function harness(account: string, audit: AuditSink = svc.audit, tradedAccount?: string) {
  const submitted: string[] = [];
  const paper = new PaperBroker(() => ({ price: 190 }));
  const broker: BrokerAdapter = {
    name: 'paper',
    submit: async (o) => (submitted.push(o.clientOrderId), paper.submit(o)),
    lookup: (id) => paper.lookup(id),
  };
  const dlqFile = path.join(lc.dir, `${account}-dlq.jsonl`);
  const outcomes: SignalOutcome[] = [];
  const handler = createExecutionHandler({
    doc: lc.clients.doc,
    ordersTable: svc.tables.orders,
    risk: svc.risk,
    books: svc.books,
    broker,
    audit,
    now: () => NOW,
    deadLetters: new FileDeadLetters(dlqFile),
    persistenceStore: new DynamoDBPersistenceLayer({
      tableName: svc.tables.idempotency,
      awsSdkV3Client: lc.clients.dynamodb,
    }),
    onOutcome: (o) => outcomes.push(o),
    tradedAccount,
  });
  const dlq = () =>
    existsSync(dlqFile)
      ? readFileSync(dlqFile, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { reason: string; record: string; source: string })
      : [];
  return { handler, submitted, dlq, outcomes };
}

async function setupAccount(a: string): Promise<void> {
  await svc.books.create(a, 100_000_000);
  await svc.risk.putLimits(a, LIMITS);
}

beforeAll(async () => {
  svc = await tradingServices(lc.clients, {}, { limitsTtlMs: 0 });
});
describe('execution handler (kinesalite → handler → dynalite)', () => {
  it('poison records go to the DLQ with their reason; the batch continues; ten deliveries make one order', async () => {
    await setupAccount('h1');
    const { handler, submitted, dlq } = harness('h1');
    const good = JSON.stringify(signal('h1-sig-1', 'h1'));
    const records = [
      JSON.stringify({ signalId: 'h1-missing', account: 'h1' }), // missing fields
      '{"signalId": "h1-nan", "account": "h1", "strategy": "s", "createdAt": 1, "orders": [{"qty": NaN}]}',
      JSON.stringify(signal('h1-neg', 'h1', { qty: -5 })),
      JSON.stringify(signal('h1-unknown', 'h1', { symbol: 'ZZZZ' })),
      JSON.stringify(signal('h1-wrongtype', 'h1', { price: '190' })),
      '\u0000\u0001 not json',
      ...Array.from({ length: 10 }, () => good),
      JSON.stringify(signal('h1-sig-2', 'h1', { qty: 5 })),
    ];
    const event = await kinesisEvent('signals-h1', records);
    expect(event.Records).toHaveLength(records.length);
    const res = await handler.kinesis(event, context);
    expect(res.batchItemFailures).toEqual([]);
    const letters = dlq();
    expect(letters.map((l) => l.reason)).toEqual([
      expect.stringMatching(/strategy: .*; createdAt: /),
      expect.stringMatching(/not valid JSON/),
      expect.stringMatching(/orders\.0\.qty: must be a positive whole number/),
      expect.stringMatching(/unknown symbol ZZZZ/),
      expect.stringMatching(/orders\.0\.price: .*expected number/),
      expect.stringMatching(/not valid JSON/),
    ]);
    expect(letters[0].source).toMatch(/^kinesis:\d+/);
    expect(letters[2].record).toContain('h1-neg');
    expect(submitted).toEqual(['h1-sig-1:AAPL', 'h1-sig-2:AAPL']);
    const orders = await lc.clients.doc.send(new ScanCommand({ TableName: svc.tables.orders }));
    const mine = orders.Items!.filter((o) => o.account === 'h1');
    expect(mine.map((o) => o.orderId).sort()).toEqual(['h1-sig-1:AAPL', 'h1-sig-2:AAPL']);
    expect((await svc.books.get('h1'))!.positions.AAPL.qty).toBe(15);
  });

  it('a transient failure is reported as a batch item failure; the retry does not duplicate the order', async () => {
    await setupAccount('h2');
    let fail = true;
    const flaky: AuditSink = {
      put: async (events) => {
        if (fail && events.some((e) => e.signalId === 'h2-sig-1')) {
          fail = false;
          throw new Error('firehose throttled');
        }
        return svc.audit.put(events);
      },
    };
    const { handler, submitted } = harness('h2', flaky);
    const event = await kinesisEvent('signals-h2', [
      JSON.stringify(signal('h2-sig-0', 'h2')),
      JSON.stringify(signal('h2-sig-1', 'h2')),
      JSON.stringify(signal('h2-sig-2', 'h2')),
    ]);
    const first = await handler.kinesis(event, context);
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: event.Records[1].kinesis.sequenceNumber }]);
    expect(submitted).toEqual(['h2-sig-0:AAPL', 'h2-sig-1:AAPL', 'h2-sig-2:AAPL']);
    // Lambda retries the failed record (here: the whole batch again, which is also allowed)
    const second = await handler.kinesis(event, context);
    expect(second.batchItemFailures).toEqual([]);
    expect(submitted).toHaveLength(3);
    expect((await svc.books.get('h2'))!.positions.AAPL.qty).toBe(30);
  });

  it('EventBridge events run the same path', async () => {
    await setupAccount('h3');
    const { handler, submitted, dlq } = harness('h3');
    await handler.eventBridge(
      {
        id: 'e1',
        'detail-type': 'TradingSignal',
        source: 'quant.strategies',
        detail: signal('h3-sig', 'h3'),
      },
      context,
    );
    await handler.eventBridge(
      { id: 'e2', 'detail-type': 'TradingSignal', source: 'quant.strategies', detail: { bad: true } },
      context,
    );
    expect(submitted).toEqual(['h3-sig:AAPL']);
    expect(dlq()).toHaveLength(1);
    expect(dlq()[0].source).toBe('eventbridge:e2');
  });

  it('a signal for an account the deployment does not trade is dead-lettered, never executed', async () => {
    await setupAccount('h7');
    await setupAccount('h8');
    const { handler, submitted, dlq } = harness('h7', svc.audit, 'h7');
    const event = await kinesisEvent('signals-h7', [
      JSON.stringify(signal('h8-sig', 'h8')),
      JSON.stringify(signal('h7-sig', 'h7')),
    ]);
    const res = await handler.kinesis(event, context);
    expect(res.batchItemFailures).toEqual([]);
    await handler.eventBridge(
      { id: 'e8', 'detail-type': 'TradingSignal', source: 'quant.strategies', detail: signal('h8-eb', 'h8') },
      context,
    );
    expect(submitted).toEqual(['h7-sig:AAPL']);
    expect(dlq().map((l) => l.reason)).toEqual([
      'account h8: not traded by this deployment (it trades h7)',
      'account h8: not traded by this deployment (it trades h7)',
    ]);
    expect((await svc.books.get('h8'))!.positions).toEqual({});
  });

  it('after each signal: marks the book at the signal prices, reports utilization and state, latches a drawdown halt', async () => {
    const a = 'h4';
    await svc.books.create(a, 100_000_000);
    await svc.risk.putLimits(a, {
      securities: { AAPL: { region: 'US', adv: 50_000_000, referencePrice: 190 } },
      limits: { maxPositionWeight: 0.05, regionCaps: { US: 0.1 }, maxDrawdown: 0.015, maxDailyLoss: 0.5 },
    });
    const { handler, submitted, outcomes } = harness(a);
    const DAY = 86_400_000;
    const send = (id: string, side: string, qty: number, price: number, at: number) =>
      handler.eventBridge(
        {
          id,
          'detail-type': 'TradingSignal',
          source: 'quant.strategies',
          detail: {
            signalId: id,
            account: a,
            strategy: 'sma',
            createdAt: at,
            orders: [{ symbol: 'AAPL', side, qty, price, priceTime: at - 1000 }],
          },
        },
        context,
      );
    // buy 200 at 190: 38,000 of 1,000,000 → weight 0.038 (76% of 0.05), US 38% of 0.1
    await send('h4-a', 'buy', 200, 190, NOW);
    expect(outcomes[0]).toMatchObject({ status: 'executed', orders: 1, state: 'ACTIVE' });
    expect(outcomes[0].utilization!.maxPositionWeight).toBeCloseTo(76, 9);
    expect(outcomes[0].utilization!.regionCap).toBeCloseTo(38, 9);
    expect(outcomes[0].utilization!.maxDrawdown).toBe(0);
    // next day, sell 1 quoted at 100 (the paper broker fills at 190): cash 962,000 + 190;
    // 199 × 100 = 19,900 → NAV 982,090: drawdown 0.01791 ≥ 0.015 → HALTED, 119.4% of the limit
    await send('h4-b', 'sell', 1, 100, NOW + DAY);
    const book = (await svc.books.get(a))!;
    expect(book).toMatchObject({
      navCents: 98_209_000,
      startOfDayNavCents: 100_000_000,
      markDay: new Date(NOW + DAY).toISOString().slice(0, 10),
    });
    expect(outcomes[1]).toMatchObject({ status: 'executed', state: 'HALTED' });
    expect(outcomes[1].utilization!.maxDrawdown).toBeCloseTo(119.4, 9);
    expect(await svc.risk.getState({ account: a })).toMatchObject({
      state: 'HALTED',
      actor: 'system',
      reason: 'maxDrawdown reached',
    });
    // latched: a price recovery does not clear it; nothing more reaches the broker
    await send('h4-c', 'buy', 1, 190, NOW + 2 * DAY);
    expect(outcomes[2]).toMatchObject({ state: 'HALTED', rejected: 1, rejectsByRule: { tradingState: 1 } });
    expect(submitted).toEqual(['h4-a:AAPL', 'h4-b:AAPL']);
  });
});
