/**
 * Signal → orders: the one code path of the execution Lambda, `quant paper` and the demo.
 *
 * Per order: (1) claim the order id with a conditional put (a redelivered signal finds its order
 * and stops: never a second order); (2) risk-check against the book and reserve the approved
 * quantity with a write conditional on the book version the check read (a concurrent execution
 * that changed the book forces a fresh check: limits are never overshot); (3) submit with the order
 * id as client order id; a timeout leaves the order UNKNOWN, to be reconciled, never resubmitted;
 * (4) book the fill in integer cents. Every step is an audit event.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { InputError } from '../errors';
import { RiskEngine } from '../risk/engine';
import type { RiskStore } from '../risk/store';
import type { Breach, Decision, RiskConfig, RiskOrder, Side } from '../risk/types';
import type { ReturnsWindow } from '../risk/var';
import { auditEvent, type AuditEvent, type AuditSink } from './audit';
import { BookConflict, bookToPortfolio, withPosition, type Book, type BookStore } from './book';
import { BrokerTimeout, type BrokerAdapter, type BrokerOrder } from './broker';
import type { Signal } from './signals';

export type OrderStatus = 'PENDING' | 'REJECTED' | 'SUBMITTED' | 'FILLED' | 'CANCELED' | 'UNKNOWN';

export interface OrderRecord {
  readonly orderId: string;
  readonly signalId: string;
  readonly account: string;
  readonly strategy: string;
  readonly symbol: string;
  readonly side: Side;
  /** Requested shares. */
  readonly qty: number;
  readonly price: number;
  readonly priceTime: number;
  readonly status: OrderStatus;
  readonly decision?: Decision;
  readonly approvedQty: number;
  readonly breaches: Breach[];
  readonly filledQty: number;
  readonly fillPrice: number;
  /** Signed cash change of the fill in integer cents. */
  readonly cashCents: number;
  readonly brokerOrderId?: string;
  readonly reason?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface ExecutionDeps {
  readonly doc: DynamoDBDocumentClient;
  readonly ordersTable: string;
  readonly risk: RiskStore;
  readonly books: BookStore;
  readonly broker: BrokerAdapter;
  readonly audit: AuditSink;
  /** @default Date.now */
  readonly now?: () => number;
  /** Returns window for the VaR and correlation rules. */
  readonly window?: ReturnsWindow;
}

export interface SignalResult {
  readonly signalId: string;
  /** Orders this call created. */
  readonly orders: OrderRecord[];
  /** Orders that already existed (a redelivery): nothing was sent again. */
  readonly duplicates: OrderRecord[];
}

interface Intent {
  readonly symbol: string;
  readonly side: Side;
  readonly qty: number;
  readonly price: number;
  readonly priceTime: number;
}

export const orderIdOf = (signalId: string, symbol: string): string => `${signalId}:${symbol}`;

/** Orders that move the book from its positions to the signal's targets. */
export function intentsOf(signal: Signal, book: Book): Intent[] {
  if (signal.orders) return signal.orders.map((o) => ({ ...o }));
  const nav = book.navCents / 100;
  const out: Intent[] = [];
  for (const t of signal.targets ?? []) {
    const target = t.targetQty ?? Math.trunc((t.targetWeight! * nav) / t.price);
    const delta = target - (book.positions[t.symbol]?.qty ?? 0);
    if (delta === 0) continue;
    out.push({
      symbol: t.symbol,
      side: delta > 0 ? 'buy' : 'sell',
      qty: Math.abs(delta),
      price: t.price,
      priceTime: t.priceTime,
    });
  }
  return out;
}

/** The stored limits with the signal's quote as the reference time of the ordered symbol. */
function withQuote(config: RiskConfig, intent: Intent): RiskConfig {
  const sec = Object.hasOwn(config.securities, intent.symbol) ? config.securities[intent.symbol] : undefined;
  if (!sec) return config;
  return {
    limits: config.limits,
    securities: { ...config.securities, [intent.symbol]: { ...sec, referenceTime: intent.priceTime } },
  };
}

export async function executeSignal(deps: ExecutionDeps, signal: Signal): Promise<SignalResult> {
  const now = deps.now ?? Date.now;
  const base = { account: signal.account, strategy: signal.strategy, signalId: signal.signalId };
  const events: AuditEvent[] = [auditEvent('signal', base, { signal }, now())];
  const orders: OrderRecord[] = [];
  const duplicates: OrderRecord[] = [];
  try {
    const book = await deps.books.get(signal.account);
    if (!book)
      throw new InputError(`account ${signal.account}: no book (create it before trading)`, 'account');
    for (const intent of intentsOf(signal, book)) {
      const orderId = orderIdOf(signal.signalId, intent.symbol);
      const t = new Date(now()).toISOString();
      const pending: OrderRecord = {
        orderId,
        ...base,
        ...intent,
        status: 'PENDING',
        approvedQty: 0,
        breaches: [],
        filledQty: 0,
        fillPrice: 0,
        cashCents: 0,
        createdAt: t,
        updatedAt: t,
      };
      if (!(await claimOrder(deps, pending))) {
        const existing = await getOrder(deps, orderId);
        if (existing) duplicates.push(existing);
        continue;
      }
      orders.push(await placeOrder(deps, pending, events));
    }
  } finally {
    await deps.audit.put(events);
  }
  return { signalId: signal.signalId, orders, duplicates };
}

async function claimOrder(deps: ExecutionDeps, order: OrderRecord): Promise<boolean> {
  try {
    await deps.doc.send(
      new PutCommand({
        TableName: deps.ordersTable,
        Item: order,
        ConditionExpression: 'attribute_not_exists(orderId)',
      }),
    );
    return true;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return false;
    throw err;
  }
}

export async function getOrder(deps: Pick<ExecutionDeps, 'doc' | 'ordersTable'>, orderId: string) {
  const r = await deps.doc.send(
    new GetCommand({ TableName: deps.ordersTable, Key: { orderId }, ConsistentRead: true }),
  );
  return r.Item as OrderRecord | undefined;
}

/** Writes the next version of an order if it is still in the status we read. */
async function updateOrder(
  deps: ExecutionDeps,
  prev: OrderRecord,
  next: Partial<OrderRecord>,
): Promise<OrderRecord> {
  const rec: OrderRecord = { ...prev, ...next, updatedAt: new Date((deps.now ?? Date.now)()).toISOString() };
  await deps.doc.send(
    new PutCommand({
      TableName: deps.ordersTable,
      Item: rec,
      ConditionExpression: '#s = :s',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':s': prev.status },
    }),
  );
  return rec;
}

async function placeOrder(
  deps: ExecutionDeps,
  pending: OrderRecord,
  events: AuditEvent[],
): Promise<OrderRecord> {
  const now = deps.now ?? Date.now;
  const base = {
    account: pending.account,
    strategy: pending.strategy,
    signalId: pending.signalId,
    orderId: pending.orderId,
  };
  const ro: RiskOrder = {
    symbol: pending.symbol,
    side: pending.side,
    qty: pending.qty,
    price: pending.price,
    strategy: pending.strategy,
  };
  let approvedQty = 0;
  let decision: Decision = 'reject';
  let breaches: Breach[] = [];
  // Orders of this strategy in the current second, counted once per order (a slot is taken even
  // if another rule then rejects it: the rate counts attempts toward the broker, conservatively).
  let ordersInLastSecond: number | undefined;
  for (let attempt = 0; ; attempt++) {
    if (attempt >= 25) throw new Error(`order ${pending.orderId}: book of ${pending.account} too contended`);
    const [state, config, book] = await Promise.all([
      deps.risk.effectiveState(pending.account, pending.strategy),
      deps.risk.getLimits(pending.account),
      deps.books.get(pending.account),
    ]);
    if (!book) throw new InputError(`account ${pending.account}: no book`, 'account');
    const rate = config.limits.maxOrdersPerSecond;
    if (rate !== undefined && ordersInLastSecond === undefined) {
      ordersInLastSecond = await deps.risk.takeOrderSlot(pending.account, pending.strategy, now(), rate);
    }
    const engine = new RiskEngine(withQuote(config, pending), deps.window);
    const d = engine.check(engine.snapshot(bookToPortfolio(book, state)), ro, {
      resize: true,
      now: now(),
      ordersInLastSecond,
    });
    ({ decision, breaches, approvedQty } = d);
    if (approvedQty === 0) break;
    const sign = pending.side === 'buy' ? 1 : -1;
    try {
      await deps.books.replace(book, withPosition(book, pending.symbol, sign * approvedQty, pending.price));
      break;
    } catch (err) {
      if (!(err instanceof BookConflict)) throw err;
    }
  }
  events.push(
    auditEvent('check', base, { decision, breaches, approvedQty, requestedQty: pending.qty }, now()),
  );
  if (approvedQty === 0) {
    const rec = await updateOrder(deps, pending, { status: 'REJECTED', decision, breaches });
    events.push(auditEvent('order', base, { status: rec.status, breaches }, now()));
    return rec;
  }
  let rec = await updateOrder(deps, pending, { status: 'SUBMITTED', decision, breaches, approvedQty });
  events.push(
    auditEvent(
      'order',
      base,
      { status: 'SUBMITTED', qty: approvedQty, price: pending.price, broker: deps.broker.name },
      now(),
    ),
  );
  let result: BrokerOrder;
  try {
    result = await deps.broker.submit({
      clientOrderId: rec.orderId,
      symbol: rec.symbol,
      side: rec.side,
      qty: approvedQty,
      limitPrice: rec.price,
    });
  } catch (err) {
    // The broker may or may not have the order: it stays reserved and UNKNOWN until reconciled.
    const reason = err instanceof BrokerTimeout ? err.message : `submit failed: ${(err as Error).message}`;
    rec = await updateOrder(deps, rec, { status: 'UNKNOWN', reason });
    events.push(auditEvent('order', base, { status: 'UNKNOWN', reason }, now()));
    return rec;
  }
  return settle(deps, rec, result, events);
}

/** Books a broker result: fill into cash and marks, unfilled quantity released from the book. */
async function settle(
  deps: ExecutionDeps,
  rec: OrderRecord,
  result: BrokerOrder,
  events: AuditEvent[],
): Promise<OrderRecord> {
  const now = deps.now ?? Date.now;
  const base = { account: rec.account, strategy: rec.strategy, signalId: rec.signalId, orderId: rec.orderId };
  if (result.status === 'accepted' || result.status === 'partially_filled') {
    // Still working at the broker: leave it SUBMITTED (reconciliation picks the fills up).
    if (rec.status === 'SUBMITTED' && rec.brokerOrderId === result.brokerOrderId) return rec;
    return updateOrder(deps, rec, { status: 'SUBMITTED', brokerOrderId: result.brokerOrderId });
  }
  const sign = rec.side === 'buy' ? 1 : -1;
  const filled = result.filledQty;
  const cashCents = -sign * Math.round(filled * result.fillPrice * 100);
  const unfilled = rec.approvedQty - filled;
  for (let attempt = 0; ; attempt++) {
    if (attempt >= 25) throw new Error(`order ${rec.orderId}: book of ${rec.account} too contended`);
    const book = await deps.books.get(rec.account);
    if (!book) throw new Error(`account ${rec.account}: book vanished`);
    const price = filled > 0 ? result.fillPrice : (book.positions[rec.symbol]?.price ?? rec.price);
    const moved = withPosition(book, rec.symbol, -sign * unfilled, price);
    try {
      await deps.books.replace(book, { ...moved, cashCents: book.cashCents + cashCents });
      break;
    } catch (err) {
      if (!(err instanceof BookConflict)) throw err;
    }
  }
  const status: OrderStatus = filled > 0 ? 'FILLED' : 'CANCELED';
  const out = await updateOrder(deps, rec, {
    status,
    filledQty: filled,
    fillPrice: result.fillPrice,
    cashCents,
    brokerOrderId: result.brokerOrderId,
    reason: result.reason,
  });
  if (filled > 0)
    events.push(auditEvent('fill', base, { qty: filled, price: result.fillPrice, cashCents }, now()));
  events.push(auditEvent('order', base, { status, reason: result.reason }, now()));
  return out;
}

/**
 * Resolves an UNKNOWN (or still working) order by asking the broker for its client order id.
 * Never submits: an order the broker does not know is CANCELED and its reservation released.
 */
export async function reconcileOrder(deps: ExecutionDeps, orderId: string): Promise<OrderRecord> {
  const rec = await getOrder(deps, orderId);
  if (!rec) throw new InputError(`order ${orderId}: not found`, 'orderId');
  if (rec.status !== 'UNKNOWN' && rec.status !== 'SUBMITTED') return rec;
  const found = await deps.broker.lookup(orderId);
  const events: AuditEvent[] = [];
  try {
    const result: BrokerOrder = found ?? {
      clientOrderId: orderId,
      brokerOrderId: '',
      status: 'canceled',
      filledQty: 0,
      fillPrice: 0,
      reason: 'unknown to the broker at reconciliation (never reached it)',
    };
    return await settle(deps, rec, result, events);
  } finally {
    await deps.audit.put(events);
  }
}

export interface ReconcileOptions {
  /** Only this account's orders. @default every account */
  readonly account?: string;
  /**
   * Only orders untouched for this long: longer than an execution can run (Lambda timeout 60 s),
   * so an order whose submission is still in flight is never resolved under its executor.
   * @default 120000
   */
  readonly minAgeMs?: number;
}

/**
 * Resolves every UNKNOWN or still-working order older than `minAgeMs` by asking the broker (the
 * execution Lambda runs this on a schedule). Each order is first leased with a write conditional on
 * its `updatedAt`, so two reconcilers never book the same fill twice. Never submits anything.
 */
export async function reconcileOpenOrders(
  deps: ExecutionDeps,
  opts: ReconcileOptions = {},
): Promise<OrderRecord[]> {
  const now = deps.now ?? Date.now;
  const cutoff = new Date(now() - (opts.minAgeMs ?? 120_000)).toISOString();
  const open: OrderRecord[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await deps.doc.send(
      new ScanCommand({
        TableName: deps.ordersTable,
        FilterExpression: `#s IN (:u, :w) AND updatedAt < :cut${opts.account ? ' AND account = :a' : ''}`,
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: {
          ':u': 'UNKNOWN',
          ':w': 'SUBMITTED',
          ':cut': cutoff,
          ...(opts.account ? { ':a': opts.account } : {}),
        },
        ExclusiveStartKey: start,
      }),
    );
    open.push(...((page.Items ?? []) as OrderRecord[]));
    start = page.LastEvaluatedKey;
  } while (start);
  const out: OrderRecord[] = [];
  for (const rec of open) {
    try {
      await deps.doc.send(
        new PutCommand({
          TableName: deps.ordersTable,
          Item: { ...rec, updatedAt: new Date(now()).toISOString() },
          ConditionExpression: 'updatedAt = :old AND #s = :s',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':old': rec.updatedAt, ':s': rec.status },
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) continue; // another reconciler has it
      throw err;
    }
    out.push(await reconcileOrder(deps, rec.orderId));
  }
  return out;
}
