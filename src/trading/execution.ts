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
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { InputError, describeZodIssues } from '../errors';
import { RiskEngine } from '../risk/engine';
import type { RiskStore } from '../risk/store';
import type { Breach, Decision, RiskConfig, RiskOrder, Side } from '../risk/types';
import type { ReturnsSource } from '../risk/returns-source';
import type { ReturnsWindow } from '../risk/var';
import {
  DEFAULT_CURVE_LOOKBACK_DAYS,
  curveLookback,
  planChildren,
  vwapCurveForWindow,
  type AlgoSpec,
  type VolumeBucket,
} from './algos';
import { auditEvent, type AuditEvent, type AuditSink } from './audit';
import { BookConflict, bookToPortfolio, withPosition, type Book, type BookStore } from './book';
import { BrokerTimeout, type BrokerAdapter, type BrokerOrder } from './broker';
import type { Signal } from './signals';
import { decideQuote, type QuoteSource } from './quotes';

/** SCHEDULED: a parent order worked by an algorithm (its children are orders of their own). */
export type OrderStatus =
  'PENDING' | 'REJECTED' | 'SUBMITTED' | 'FILLED' | 'CANCELED' | 'UNKNOWN' | 'SCHEDULED';

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
  /** Parent orders: the algorithm, the number of children and the shares it leaves unfilled. */
  readonly algo?: AlgoSpec;
  readonly slices?: number;
  readonly unscheduledQty?: number;
  /** Child orders: the parent's order id and the slice index. */
  readonly parentId?: string;
  readonly sliceIndex?: number;
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
  /** Returns window for the VaR and correlation rules (a fixed one: `quant paper`). */
  readonly window?: ReturnsWindow;
  /**
   * Where the execution path reads the window when `window` is not given (the curated zone in AWS).
   * With neither, orders under `varBudget` or `maxCorrelatedExposure` reject (rule `returnsWindow`).
   */
  readonly returns?: ReturnsSource;
  /** Releases the children of algorithm parents on their schedule (Step Functions in AWS). */
  readonly scheduler?: ChildScheduler;
  /**
   * Prices each algorithm child at its release (the lake's latest 1-minute bar in AWS). Without
   * it a child keeps the price the scheduler gave it (the parent's, or the simulated market's).
   */
  readonly quotes?: QuoteSource;
  /** 1-minute bars for VWAP parents whose signal carries no volume curve (the lake in AWS). */
  readonly minuteBars?: MinuteBarSource;
  /**
   * The only account this deployment trades (TRADING_ACCOUNT in AWS): the kill switch halts only
   * that one, so an order for any other account would escape it. Absent: any account (local runs).
   */
  readonly tradedAccount?: string;
}

/** Rejects (InputError: dead letter, never a retry) an account this deployment does not trade. */
export function assertTradedAccount(deps: Pick<ExecutionDeps, 'tradedAccount'>, account: string): void {
  if (deps.tradedAccount !== undefined && account !== deps.tradedAccount) {
    throw new InputError(
      `account ${account}: not traded by this deployment (it trades ${deps.tradedAccount})`,
      'account',
    );
  }
}

/** Past 1-minute bars of a symbol (close time and volume), for VWAP volume curves. */
export interface MinuteBarSource {
  /** Bars closed in [from, to] (epoch ms), oldest first. */
  read(symbol: string, from: number, to: number): Promise<ReadonlyArray<{ time: number; volume: number }>>;
  /** Where the bars of a symbol are read from (for messages). */
  describe(symbol: string): string;
}

/** One child order of an algorithm parent, as the scheduler hands it to `submitChildOrder`. */
export const childRequestSchema = z.strictObject({
  parentId: z.string().min(1).max(300),
  index: z.number().refine((v) => Number.isSafeInteger(v) && v >= 0, 'must be a whole number >= 0'),
  account: z.string().min(1),
  strategy: z.string().min(1),
  signalId: z.string().min(1),
  symbol: z.string().min(1),
  side: z.enum(['buy', 'sell']),
  qty: z.number().refine((v) => Number.isSafeInteger(v) && v > 0, 'must be a positive whole number'),
  price: z.number().refine((v) => Number.isFinite(v) && v > 0, 'must be a positive number'),
  priceTime: z.number().refine((v) => Number.isFinite(v) && v > 0, 'must be epoch milliseconds'),
  /** Release time, ISO 8601 (what a Step Functions Wait state reads). */
  at: z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'must be an ISO 8601 time'),
});
export type ChildRequest = z.infer<typeof childRequestSchema>;

export interface ParentPlan {
  readonly parentId: string;
  readonly children: ChildRequest[];
}

/** Starts the schedule of a parent; must be idempotent per parent id (a redelivery starts it again). */
export interface ChildScheduler {
  start(plan: ParentPlan): Promise<void>;
  /**
   * Stops the schedule of a parent (no more children released); idempotent. `not-running` when
   * there is nothing to stop (never started, finished, or already stopped).
   */
  stop?(parentId: string, cause: string): Promise<'stopped' | 'not-running'>;
}

/** A child's order id: one per (parent, slice), so a redelivered child finds its order. */
export const childOrderIdOf = (parentId: string, index: number): string => `${parentId}#${index}`;

/** A name for the parent's schedule that is the same on every delivery (Step Functions: 1-80 chars). */
export const scheduleNameOf = (parentId: string): string =>
  `algo-${createHash('sha256').update(parentId).digest('hex').slice(0, 40)}`;

export interface SignalResult {
  readonly signalId: string;
  /** Orders this call created. */
  readonly orders: OrderRecord[];
  /** Orders that already existed (a redelivery): nothing was sent again. */
  readonly duplicates: OrderRecord[];
  /** Algorithm parents scheduled (or found and their schedule started again) by this call. */
  readonly parents: OrderRecord[];
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
  const parents: OrderRecord[] = [];
  assertTradedAccount(deps, signal.account);
  try {
    if (signal.algo && !deps.scheduler)
      throw new InputError(`signal ${signal.signalId}: algo: no child scheduler configured here`, 'algo');
    const book = await deps.books.get(signal.account);
    if (!book)
      throw new InputError(`account ${signal.account}: no book (create it before trading)`, 'account');
    for (const intent of intentsOf(signal, book)) {
      const orderId = orderIdOf(signal.signalId, intent.symbol);
      const t = new Date(now()).toISOString();
      if (signal.algo) {
        parents.push(await scheduleParent(deps, signal, signal.algo, orderId, intent, events));
        continue;
      }
      const pending = newOrder({ orderId, ...base, ...intent }, 'PENDING', t);
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
  return { signalId: signal.signalId, orders, duplicates, parents };
}

/**
 * Records an algorithm parent (status SCHEDULED, claimed like any order) and starts its schedule.
 * The children are planned from the signal's `createdAt`, so every delivery plans the same
 * schedule; a redelivery finds the parent and starts the schedule again, which the scheduler
 * ignores (same name) unless the first delivery died before starting it.
 */
async function scheduleParent(
  deps: ExecutionDeps,
  signal: Signal,
  algo: AlgoSpec,
  parentId: string,
  intent: Intent,
  events: AuditEvent[],
): Promise<OrderRecord> {
  const now = deps.now ?? Date.now;
  const curve = await vwapCurveOf(deps, algo, intent.symbol, signal.createdAt);
  const { children, remaining } = planChildren(intent.qty, algo, signal.createdAt, curve);
  const t = new Date(now()).toISOString();
  const { account, strategy, signalId } = signal;
  const parent = newOrder({ orderId: parentId, account, strategy, signalId, ...intent }, 'SCHEDULED', t, {
    algo,
    slices: children.length,
    unscheduledQty: remaining,
  });
  const claimed = await claimOrder(deps, parent);
  const rec = claimed ? parent : ((await getOrder(deps, parentId)) ?? parent);
  if (rec.status !== 'SCHEDULED')
    throw new Error(`order ${parentId}: exists and is not an algorithm parent (${rec.status})`);
  await deps.scheduler!.start({
    parentId,
    children: children.map((c, index) => ({
      parentId,
      index,
      account: rec.account,
      strategy: rec.strategy,
      signalId: rec.signalId,
      symbol: rec.symbol,
      side: rec.side,
      qty: c.qty,
      price: rec.price,
      priceTime: rec.priceTime,
      at: new Date(c.time).toISOString(),
    })),
  });
  if (claimed) {
    events.push(
      auditEvent(
        'order',
        auditBase(rec),
        { status: 'SCHEDULED', algo, qty: rec.qty, slices: children.length, unscheduledQty: remaining },
        now(),
      ),
    );
  }
  return rec;
}

/**
 * The volume curve of a VWAP parent whose signal has none: the symbol's 1-minute bars over the
 * whole days before the signal's day (so every delivery builds the same curve). No bars, or no
 * volume in the schedule's minutes, is an InputError naming the symbol (the signal cannot work).
 */
async function vwapCurveOf(
  deps: ExecutionDeps,
  algo: AlgoSpec,
  symbol: string,
  start: number,
): Promise<VolumeBucket[] | undefined> {
  if (algo.algo !== 'vwap' || algo.volumeCurve) return undefined;
  if (!deps.minuteBars)
    throw new InputError(
      `algo.volumeCurve: ${symbol}: no volume curve in the signal and no bar source configured here`,
      'algo.volumeCurve',
    );
  const days = algo.lookbackDays ?? DEFAULT_CURVE_LOOKBACK_DAYS;
  const { from, to } = curveLookback(start, days);
  const bars = await deps.minuteBars.read(symbol, from, to);
  const where = `${deps.minuteBars.describe(symbol)} over the ${days} day(s) before ${new Date(start).toISOString().slice(0, 10)}`;
  if (bars.length === 0)
    throw new InputError(
      `algo.volumeCurve: ${symbol}: no 1-minute bars in ${where} (give volumeCurve, or import the bars)`,
      'algo.volumeCurve',
    );
  const curve = vwapCurveForWindow(bars, start, start + algo.durationSec * 1000);
  if (curve.length === 0)
    throw new InputError(
      `algo.volumeCurve: ${symbol}: ${bars.length} 1-minute bars in ${where}, none with volume in the schedule's minutes`,
      'algo.volumeCurve',
    );
  return curve;
}

export interface ChildResult {
  readonly order: OrderRecord;
  /** The child already had its order (a redelivery): nothing was sent again. */
  readonly duplicate: boolean;
}

/**
 * Submits one child of an algorithm parent through the same risk check, reservation and broker
 * path as a plain order, once per (parent id, slice index). Called by the Step Functions task in
 * AWS and by the simulated clock locally. Bad input is an InputError naming the field.
 */
export async function submitChildOrder(deps: ExecutionDeps, input: unknown): Promise<ChildResult> {
  const p = childRequestSchema.safeParse(input);
  if (!p.success) throw new InputError(`child order: ${describeZodIssues(p.error.issues)}`, 'child');
  const { parentId, index, at: _at, ...head } = p.data;
  assertTradedAccount(deps, head.account);
  const now = deps.now ?? Date.now;
  const orderId = childOrderIdOf(parentId, index);
  const t = new Date(now()).toISOString();
  let pending = newOrder({ orderId, ...head }, 'PENDING', t, { parentId, sliceIndex: index });
  if (!(await claimOrder(deps, pending))) {
    const existing = await getOrder(deps, orderId);
    if (!existing) throw new Error(`order ${orderId}: claimed but not readable`);
    return { order: existing, duplicate: true };
  }
  const events: AuditEvent[] = [];
  try {
    // A cancelled parent releases nothing more: the child is rejected, on the audit trail.
    const parent = await getOrder(deps, parentId);
    if (parent?.status === 'CANCELED') {
      const why = `parentCancelled: parent ${parentId} was cancelled${parent.reason ? ` (${parent.reason})` : ''}`;
      const rule: Breach = { rule: 'parentCancelled', limit: 0, value: 0 };
      return { order: await rejectPending(deps, pending, [rule], why, events), duplicate: false };
    }
    if (deps.quotes) {
      // Priced at the market at its release, never at a stale price.
      const limits = (await deps.risk.getLimits(head.account)).limits;
      const d = decideQuote(
        head.symbol,
        await deps.quotes.get(head.symbol, now()),
        now(),
        deps.quotes.maxAgeMs,
        limits.maxReferenceAgeMs,
      );
      if ('breach' in d)
        return { order: await rejectPending(deps, pending, [d.breach], d.reason, events), duplicate: false };
      pending = { ...pending, price: d.quote.price, priceTime: d.quote.priceTime };
    }
    return { order: await placeOrder(deps, pending, events), duplicate: false };
  } finally {
    await deps.audit.put(events);
  }
}

export interface CancelResult {
  readonly parent: OrderRecord;
  /** False when the parent was already cancelled (cancelling twice is fine). */
  readonly changed: boolean;
  /** What became of its schedule: stopped now, nothing running, or no scheduler here. */
  readonly schedule: 'stopped' | 'not-running' | 'not-stopped';
}

/**
 * Cancels an algorithm parent: marks it CANCELED (conditional on SCHEDULED; its audit event once),
 * so a child still in flight is rejected with rule `parentCancelled`, then stops its schedule
 * (StopExecution in AWS). Idempotent; an unknown id or an order that is not a parent is an
 * InputError. The children already done stay as they are.
 */
export async function cancelParent(
  deps: Pick<ExecutionDeps, 'doc' | 'ordersTable' | 'audit' | 'now' | 'scheduler'>,
  parentId: string,
  actor: string,
  why: string,
): Promise<CancelResult> {
  const now = deps.now ?? Date.now;
  let rec = await getOrder(deps, parentId);
  if (!rec) throw new InputError(`--parent: no order ${parentId}`, 'parent');
  if (!rec.algo) throw new InputError(`--parent: order ${parentId} is not an algorithm parent`, 'parent');
  let changed = false;
  if (rec.status === 'SCHEDULED') {
    const reason = `cancelled by ${actor}: ${why}`;
    try {
      rec = await updateOrder(deps, rec, { status: 'CANCELED', reason });
      changed = true;
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      rec = (await getOrder(deps, parentId))!; // cancelled concurrently
    }
    if (changed) {
      await deps.audit.put([
        auditEvent('order', auditBase(rec), { status: 'CANCELED', actor, reason: why }, now()),
      ]);
    }
  }
  if (rec.status !== 'CANCELED')
    throw new Error(`order ${parentId}: is ${rec.status}, not SCHEDULED or CANCELED`);
  const stop = deps.scheduler?.stop;
  const schedule = stop ? await stop.call(deps.scheduler, parentId, rec.reason ?? why) : 'not-stopped';
  return { parent: rec, changed, schedule };
}

/** A new order: nothing approved, filled or booked yet. */
function newOrder(
  head: Pick<OrderRecord, 'orderId' | 'account' | 'strategy' | 'signalId'> & Intent,
  status: OrderStatus,
  t: string,
  extra: Partial<OrderRecord> = {},
): OrderRecord {
  const nothing = { approvedQty: 0, breaches: [], filledQty: 0, fillPrice: 0, cashCents: 0 };
  return { ...head, status, ...nothing, ...extra, createdAt: t, updatedAt: t };
}

/** What every audit event of an order carries. */
const auditBase = (o: OrderRecord) => ({
  account: o.account,
  strategy: o.strategy,
  signalId: o.signalId,
  orderId: o.orderId,
});

/** Rejects a claimed order (its check and order audit events). */
async function rejectPending(
  deps: ExecutionDeps,
  pending: OrderRecord,
  breaches: Breach[],
  reason: string | undefined,
  events: AuditEvent[],
): Promise<OrderRecord> {
  const now = deps.now ?? Date.now;
  const base = auditBase(pending);
  events.push(
    auditEvent(
      'check',
      base,
      { decision: 'reject', breaches, approvedQty: 0, requestedQty: pending.qty, reason },
      now(),
    ),
  );
  const rec = await updateOrder(deps, pending, { status: 'REJECTED', decision: 'reject', breaches, reason });
  events.push(auditEvent('order', base, { status: rec.status, breaches, reason }, now()));
  return rec;
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
  deps: Pick<ExecutionDeps, 'doc' | 'ordersTable' | 'now'>,
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
  const base = auditBase(pending);
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
  let reason: string | undefined;
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
    const win = await windowFor(deps, config, pending);
    if (win.problem !== undefined) {
      // Never a silently unchecked VaR or correlation limit: no window, no order.
      decision = 'reject';
      breaches = [{ rule: 'returnsWindow', limit: 0, value: 0 }];
      approvedQty = 0;
      reason = win.problem;
      break;
    }
    const engine = new RiskEngine(withQuote(config, pending), win.window);
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
  if (approvedQty === 0) return rejectPending(deps, pending, breaches, reason, events);
  events.push(
    auditEvent('check', base, { decision, breaches, approvedQty, requestedQty: pending.qty }, now()),
  );
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

/**
 * The returns window for an order: not needed (no VaR or correlation limit), the fixed one, or the
 * source's; `problem` when a limit needs it and there is none, or it lacks the ordered symbol
 * (the engine would skip both rules for that symbol).
 */
async function windowFor(
  deps: ExecutionDeps,
  config: RiskConfig,
  order: { account: string; symbol: string },
): Promise<{ window?: ReturnsWindow; problem?: string }> {
  const L = config.limits;
  if (L.varBudget === undefined && L.maxCorrelatedExposure === undefined) return { window: deps.window };
  const found = deps.window
    ? { window: deps.window }
    : deps.returns
      ? await deps.returns.get(order.account)
      : { problem: 'no returns window source configured' };
  if (!found.window) return { problem: found.problem ?? 'no returns window' };
  if (!found.window.has(order.symbol)) return { problem: `returns window has no series for ${order.symbol}` };
  return { window: found.window };
}

/** Books a broker result: fill into cash and marks, unfilled quantity released from the book. */
async function settle(
  deps: ExecutionDeps,
  rec: OrderRecord,
  result: BrokerOrder,
  events: AuditEvent[],
): Promise<OrderRecord> {
  const now = deps.now ?? Date.now;
  const base = auditBase(rec);
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
