import { createServer, type IncomingMessage, type Server } from 'node:http';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_BUCKETS } from '../../../src/local/buckets';
import { RiskStore } from '../../../src/risk/store';
import type { AuditEvent } from '../../../src/trading/audit';
import { PaperBroker, RestBroker, type BrokerAdapter } from '../../../src/trading/broker';
import {
  executeSignal,
  getOrder,
  reconcileOpenOrders,
  reconcileOrder,
  type ExecutionDeps,
} from '../../../src/trading/execution';
import { parseSignal } from '../../../src/trading/signals';
import { tradingWorld } from '../../helpers/trading-world';

const NOW = Date.UTC(2026, 10, 20, 15, 0, 0);
const QUOTES: Record<string, number> = { AAPL: 190, MSFT: 400 };
const w = tradingWorld({
  accounts: 'acct',
  now: NOW,
  quote: (s) => (QUOTES[s] ? { price: QUOTES[s] } : undefined),
});

const LIMITS = {
  securities: {
    AAPL: { region: 'US', assetClass: 'equity', sector: 'Technology', adv: 50_000_000, referencePrice: 190 },
    MSFT: { region: 'US', assetClass: 'equity', sector: 'Technology', adv: 20_000_000, referencePrice: 400 },
  },
  limits: { maxPositionWeight: 0.05, priceCollarPct: 0.05, maxReferenceAgeMs: 60_000 },
};

/** A fresh account with a 1,000,000 book and the limits above. */
const account = () => w.account(LIMITS);
const deps = (broker?: BrokerAdapter): ExecutionDeps => w.deps(broker ? { broker } : {});

const buy = (signalId: string, acct: string, qty: number, extra: Record<string, unknown> = {}) =>
  parseSignal({
    signalId,
    account: acct,
    strategy: 'sma',
    createdAt: NOW,
    orders: [{ symbol: 'AAPL', side: 'buy', qty, price: 190, priceTime: NOW - 1000, ...extra }],
  });

async function auditEvents(): Promise<AuditEvent[]> {
  const list = await w.clients.s3.send(
    new ListObjectsV2Command({ Bucket: LOCAL_BUCKETS.audit, Prefix: 'audit_events/' }),
  );
  const out: AuditEvent[] = [];
  for (const o of list.Contents ?? []) {
    const body = await w.clients.s3.send(new GetObjectCommand({ Bucket: LOCAL_BUCKETS.audit, Key: o.Key! }));
    for (const l of (await body.Body!.transformToString()).split('\n')) if (l) out.push(JSON.parse(l));
  }
  return out;
}

describe('execution against dynalite', () => {
  it('approves, fills at the paper broker, books cash in cents and writes the audit trail', async () => {
    const a = await account();
    const r = await executeSignal(deps(), buy('sig-fill', a, 100));
    expect(r.orders).toHaveLength(1);
    expect(r.orders[0]).toMatchObject({
      status: 'FILLED',
      approvedQty: 100,
      filledQty: 100,
      fillPrice: 190,
      cashCents: -1_900_000,
    });
    const book = await w.books.get(a);
    expect(book!.positions.AAPL.qty).toBe(100);
    expect(book!.cashCents).toBe(100_000_000 - 1_900_000);
    const events = (await auditEvents()).filter((e) => e.signalId === 'sig-fill');
    expect(events.map((e) => e.type)).toEqual(['signal', 'check', 'order', 'fill', 'order']);
    expect(events[1].detail).toMatchObject({ decision: 'approve', approvedQty: 100 });
  });

  it('one signal delivered ten times (also concurrently) gives exactly one order', async () => {
    const a = await account();
    const broker = new PaperBroker((s) => ({ price: QUOTES[s] }));
    const submitted: string[] = [];
    const counting: BrokerAdapter = {
      name: 'counting',
      submit: async (o) => (submitted.push(o.clientOrderId), broker.submit(o)),
      lookup: (id) => broker.lookup(id),
    };
    const sig = buy('sig-dup', a, 50);
    const results = await Promise.all(Array.from({ length: 5 }, () => executeSignal(deps(counting), sig)));
    for (let i = 0; i < 5; i++) results.push(await executeSignal(deps(counting), sig));
    expect(results.reduce((s, r) => s + r.orders.length, 0)).toBe(1);
    expect(results.reduce((s, r) => s + r.duplicates.length, 0)).toBe(9);
    expect(submitted).toEqual(['sig-dup:AAPL']);
    expect((await w.books.get(a))!.positions.AAPL.qty).toBe(50);
  });

  it('concurrent executions for one account never overshoot a limit', async () => {
    const a = await account();
    // 5% of 1,000,000 at 190 = 263 shares; twelve concurrent signals of 40 ask for 480
    const rs = await Promise.all(
      Array.from({ length: 12 }, (_, i) => executeSignal(deps(), buy(`sig-conc-${i}`, a, 40))),
    );
    const approved = rs.reduce((s, r) => s + r.orders[0].approvedQty, 0);
    const book = await w.books.get(a);
    expect(book!.positions.AAPL.qty).toBe(approved);
    expect(approved).toBe(263); // every share of room is used (resizes), none beyond it
    expect(rs.filter((r) => r.orders[0].status === 'REJECTED').length).toBeGreaterThan(0);
  });

  it('HALTED lets zero orders through; resume needs who and why', async () => {
    const a = await account();
    const submitted: string[] = [];
    const broker = new PaperBroker((s) => ({ price: QUOTES[s] }));
    const counting: BrokerAdapter = {
      name: 'c',
      submit: async (o) => (submitted.push(o.clientOrderId), broker.submit(o)),
      lookup: (id) => broker.lookup(id),
    };
    await w.risk.halt({ account: a }, 'risk-officer', 'drill');
    const rs = await Promise.all(
      Array.from({ length: 5 }, (_, i) => executeSignal(deps(counting), buy(`sig-halt-${i}`, a, 1))),
    );
    expect(submitted).toEqual([]);
    for (const r of rs)
      expect(r.orders[0]).toMatchObject({
        status: 'REJECTED',
        breaches: [{ rule: 'tradingState', limit: 0, value: 0 }],
      });
    await expect(w.risk.resume({ account: a }, '', 'x')).rejects.toThrow(/actor/);
    // a strategy-level halt also stops it; the account resume does not clear it
    await w.risk.resume({ account: a }, 'risk-officer', 'drill over');
    await w.risk.halt({ account: a, strategy: 'sma' }, 'pm', 'bad fills');
    expect((await executeSignal(deps(counting), buy('sig-halt-s', a, 1))).orders[0].status).toBe('REJECTED');
    await w.risk.resume({ account: a, strategy: 'sma' }, 'pm', 'fixed');
    expect((await executeSignal(deps(counting), buy('sig-halt-ok', a, 1))).orders[0].status).toBe('FILLED');
    expect(submitted).toEqual(['sig-halt-ok:AAPL']);
  });

  it('a stale reference price rejects', async () => {
    const a = await account();
    const r = await executeSignal(deps(), buy('sig-stale', a, 10, { priceTime: NOW - 60_001 }));
    expect(r.orders[0]).toMatchObject({
      status: 'REJECTED',
      breaches: [{ rule: 'staleReferencePrice', limit: 60_000, value: 60_001 }],
    });
  });

  it('orders per second per strategy: concurrent executions never take more than the limit in one second', async () => {
    const a = await account();
    await w.risk.putLimits(a, { ...LIMITS, limits: { ...LIMITS.limits, maxOrdersPerSecond: 3 } });
    // five concurrent signals of one share in the same clock second: three pass, two hit the rate
    const rs = await Promise.all(
      Array.from({ length: 5 }, (_, i) => executeSignal(deps(), buy(`sig-rate-${i}`, a, 1))),
    );
    const statuses = rs.map((r) => r.orders[0].status).sort();
    expect(statuses).toEqual(['FILLED', 'FILLED', 'FILLED', 'REJECTED', 'REJECTED']);
    for (const r of rs.filter((x) => x.orders[0].status === 'REJECTED'))
      expect(r.orders[0].breaches).toEqual([{ rule: 'maxOrdersPerSecond', limit: 3, value: 4 }]);
    // another strategy has its own budget; the next second starts a new window
    const other = parseSignal({ ...buy('sig-rate-other', a, 1), strategy: 'pairs' });
    expect((await executeSignal(deps(), other)).orders[0].status).toBe('FILLED');
    const later = { ...deps(), now: () => NOW + 1000 };
    expect((await executeSignal(later, buy('sig-rate-next', a, 1))).orders[0].status).toBe('FILLED');
    expect((await w.books.get(a))!.positions.AAPL.qty).toBe(5);
  });

  it('limits changed at run time apply after the cache TTL', async () => {
    const a = await account();
    let clock = 0;
    const cached = new RiskStore(w.clients.doc, w.tables.risk, { limitsTtlMs: 1000, now: () => clock });
    expect((await cached.getLimits(a)).limits.maxPositionWeight).toBe(0.05);
    await w.risk.putLimits(a, { ...LIMITS, limits: { ...LIMITS.limits, maxPositionWeight: 0.01 } });
    clock = 999;
    expect((await cached.getLimits(a)).limits.maxPositionWeight).toBe(0.05);
    clock = 1000;
    expect((await cached.getLimits(a)).limits.maxPositionWeight).toBe(0.01);
    await expect(w.risk.putLimits(a, { securities: {}, limits: { maxPositonWeight: 1 } })).rejects.toThrow(
      /maxPositonWeight/,
    );
  });
});

describe('REST broker adapter against a local HTTP server', () => {
  let server: Server;
  let url: string;
  const requests: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  const orders = new Map<string, Record<string, unknown>>();
  let delayMs = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        requests.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        const reply = (status: number, value: unknown): void => {
          setTimeout(() => {
            res.writeHead(status, { 'content-type': 'application/json' });
            res.end(JSON.stringify(value));
          }, delayMs);
        };
        if (req.method === 'POST' && req.url === '/v2/orders') {
          const o = JSON.parse(body);
          // The broker records the order even when its answer arrives too late for the client.
          const rec = {
            id: `b-${orders.size + 1}`,
            client_order_id: o.client_order_id,
            status: 'filled',
            filled_qty: o.qty,
            filled_avg_price: o.limit_price,
          };
          orders.set(o.client_order_id, rec);
          return reply(200, rec);
        }
        const m = req.url!.match(/^\/v2\/orders:by_client_order_id\?client_order_id=(.+)$/);
        if (req.method === 'GET' && m) {
          const rec = orders.get(decodeURIComponent(m[1]));
          return rec ? reply(200, rec) : reply(404, { message: 'order not found' });
        }
        reply(404, {});
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('sends the order with keys and client order id; a timeout leaves it UNKNOWN until reconciled, never resubmitted', async () => {
    const a = await account();
    const broker = new RestBroker({ baseUrl: url, keyId: 'AKID', secretKey: 'SECRET', timeoutMs: 1000 });
    // Margins wide enough that the server has read the order long before the client gives up,
    // even on a loaded machine (client and server share this process's event loop).
    delayMs = 3000;
    const r = await executeSignal(deps(broker), buy('sig-timeout', a, 20));
    expect(r.orders[0]).toMatchObject({ status: 'UNKNOWN' });
    expect(r.orders[0].reason).toMatch(/did not answer within 1000 ms/);
    const posts = requests.filter((q) => q.method === 'POST');
    expect(posts).toHaveLength(1);
    expect(posts[0].headers['apca-api-key-id']).toBe('AKID');
    expect(posts[0].headers['apca-api-secret-key']).toBe('SECRET');
    expect(JSON.parse(posts[0].body)).toEqual({
      symbol: 'AAPL',
      qty: '20',
      side: 'buy',
      type: 'limit',
      time_in_force: 'day',
      limit_price: '190.00',
      client_order_id: 'sig-timeout:AAPL',
    });
    // the reservation holds while UNKNOWN
    expect((await w.books.get(a))!.positions.AAPL.qty).toBe(20);
    // redelivery does not resubmit
    await executeSignal(deps(broker), buy('sig-timeout', a, 20));
    expect(requests.filter((q) => q.method === 'POST')).toHaveLength(1);
    delayMs = 0;
    const rec = await reconcileOrder(deps(broker), 'sig-timeout:AAPL');
    expect(rec).toMatchObject({ status: 'FILLED', filledQty: 20, fillPrice: 190, cashCents: -380_000 });
    expect(requests.filter((q) => q.method === 'POST')).toHaveLength(1);
    expect(requests.at(-1)!.url).toBe('/v2/orders:by_client_order_id?client_order_id=sig-timeout%3AAAPL');
    expect((await w.books.get(a))!.cashCents).toBe(100_000_000 - 380_000);
  });

  it('scheduled reconciliation: resolves old UNKNOWN orders once (even with two reconcilers), leaves fresh ones', async () => {
    const a = await account();
    const slow = new RestBroker({ baseUrl: url, keyId: 'k', secretKey: 's', timeoutMs: 500 });
    delayMs = 2000;
    await executeSignal(deps(slow), buy('sig-sched-old', a, 7));
    const fresh = { ...deps(slow), now: () => NOW + 100_000 };
    await executeSignal(fresh, buy('sig-sched-new', a, 3, { priceTime: NOW + 99_000 }));
    delayMs = 0;
    await new Promise((r) => setTimeout(r, 400)); // both late answers have reached the broker
    const posts = requests.filter((q) => q.method === 'POST').length;
    const broker = new RestBroker({ baseUrl: url, keyId: 'k', secretKey: 's' });
    // 130 s after the first order: only it is older than the 120 s lease
    const later = { ...deps(broker), now: () => NOW + 130_000 };
    const [r1, r2] = await Promise.all([
      reconcileOpenOrders(later, { account: a }),
      reconcileOpenOrders(later, { account: a }),
    ]);
    const done = [...r1, ...r2];
    expect(done.map((o) => [o.orderId, o.status])).toEqual([['sig-sched-old:AAPL', 'FILLED']]);
    expect((await getOrder(deps(), 'sig-sched-new:AAPL'))!.status).toBe('UNKNOWN');
    const book = (await w.books.get(a))!;
    expect(book.cashCents).toBe(100_000_000 - 7 * 19_000); // booked once
    expect(book.positions.AAPL.qty).toBe(10); // 7 filled + 3 still reserved
    expect(requests.filter((q) => q.method === 'POST').length).toBe(posts); // nothing resubmitted
  });

  it('reconciling an order the broker never received cancels it and releases the reservation', async () => {
    const a = await account();
    const down = new RestBroker({
      baseUrl: 'http://127.0.0.1:1',
      keyId: 'k',
      secretKey: 's',
      timeoutMs: 200,
    });
    const r = await executeSignal(deps(down), buy('sig-down', a, 30));
    expect(r.orders[0].status).toBe('UNKNOWN');
    expect((await w.books.get(a))!.positions.AAPL.qty).toBe(30);
    const broker = new RestBroker({ baseUrl: url, keyId: 'k', secretKey: 's' });
    const rec = await reconcileOrder(deps(broker), 'sig-down:AAPL');
    expect(rec.status).toBe('CANCELED');
    expect((await w.books.get(a))!.positions.AAPL.qty).toBe(0);
    expect(await getOrder(deps(), 'sig-down:AAPL')).toMatchObject({ status: 'CANCELED' });
  });
});
