/**
 * The execution Lambda's logic, with every client passed in (lambda/execution is a thin shell).
 * Kinesis batches go through the Powertools batch processor (ReportBatchItemFailures: only
 * records that failed transiently are retried); EventBridge delivers one signal per event. Each
 * signal runs once per signal id (Powertools idempotency on DynamoDB); a signal that can never
 * succeed (malformed, unknown symbol, no book) goes to the dead-letter queue with its reason and
 * counts as processed, so the batch continues.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import type { AwsClients } from '../aws/clients';
import { InputError } from '../errors';
import { auditEvent } from './audit';
import type { DeadLetters } from './dead-letters';
import { assertTradedAccount, executeSignal, reconcileOpenOrders, type ExecutionDeps } from './execution';
import { postTrade, utilizationByRule } from './post-trade';
import type { TradingState } from '../risk/types';
import { parseSignal, type Signal } from './signals';
import type { TradingServices } from './context';

export interface ExecutionHandlerDeps extends ExecutionDeps {
  readonly deadLetters: DeadLetters;
  readonly persistenceStore: BasePersistenceLayer;
  /** Called with each signal's outcome (metrics in the Lambda). */
  readonly onOutcome?: (o: SignalOutcome) => void;
}

/** The stores every execution handler runs on: orders, risk, books, audit, dead letters, idempotency. */
export function executionStores(clients: Pick<AwsClients, 'doc' | 'dynamodb'>, svc: TradingServices) {
  return {
    doc: clients.doc,
    ordersTable: svc.tables.orders,
    risk: svc.risk,
    books: svc.books,
    audit: svc.audit,
    deadLetters: svc.deadLetters,
    persistenceStore: new DynamoDBPersistenceLayer({
      tableName: svc.tables.idempotency,
      awsSdkV3Client: clients.dynamodb,
    }),
  };
}

export interface SignalOutcome {
  readonly signalId?: string;
  readonly status: 'executed' | 'dead_letter';
  readonly orders: number;
  readonly rejected: number;
  readonly duplicates: number;
  readonly rejectsByRule: Record<string, number>;
  /** The account's state after the signal (automatic transitions latched). */
  readonly state?: TradingState;
  /** Highest limit utilization per rule after the signal, percent. */
  readonly utilization?: Record<string, number>;
  readonly reason?: string;
}

export interface EventBridgeSignalEvent {
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly detail: unknown;
}

/** What an idempotent execution stores and returns (small: no full order records). */
type StoredResult = Required<Omit<SignalOutcome, 'status' | 'reason'>>;

export function createExecutionHandler(deps: ExecutionHandlerDeps) {
  const config = new IdempotencyConfig({ eventKeyJmesPath: 'signalId', expiresAfterSeconds: 7 * 24 * 3600 });
  const execute = makeIdempotent(
    async (signal: Signal): Promise<StoredResult> => {
      // Symbols without limits can never trade: reject the signal as malformed (to the DLQ).
      const limits = await deps.risk.getLimits(signal.account);
      for (const t of signal.targets ?? signal.orders ?? []) {
        if (!Object.hasOwn(limits.securities, t.symbol)) {
          throw new InputError(
            `signal ${signal.signalId}: unknown symbol ${t.symbol} (not in the limits' securities)`,
            'symbol',
          );
        }
      }
      const r = await executeSignal(deps, signal);
      const post = await postTrade(deps, signal, limits);
      const rejectsByRule: Record<string, number> = {};
      for (const o of r.orders) {
        if (o.status !== 'REJECTED') continue;
        for (const b of o.breaches) rejectsByRule[b.rule] = (rejectsByRule[b.rule] ?? 0) + 1;
      }
      return {
        signalId: r.signalId,
        orders: r.orders.length,
        rejected: r.orders.filter((o) => o.status === 'REJECTED').length,
        duplicates: r.duplicates.length,
        rejectsByRule,
        state: post.state,
        utilization: utilizationByRule(post.utilization),
      };
    },
    { persistenceStore: deps.persistenceStore, config },
  );

  async function deadLetter(source: string, raw: string, reason: string, signalId?: string): Promise<void> {
    await deps.deadLetters.send({
      source,
      reason,
      record: raw,
      time: new Date((deps.now ?? Date.now)()).toISOString(),
    });
    await deps.audit.put([auditEvent('dead_letter', { account: 'unknown', signalId }, { source, reason })]);
    deps.onOutcome?.({
      signalId,
      status: 'dead_letter',
      orders: 0,
      rejected: 0,
      duplicates: 0,
      rejectsByRule: {},
      reason,
    });
  }

  /** One signal from any source; poison goes to the DLQ, transient errors are thrown (retry). */
  async function handleOne(raw: string, source: string): Promise<void> {
    let signal: Signal;
    try {
      signal = parseSignal(raw, source);
      // Before the idempotency record and any read of limits: another account is poison, not a retry.
      assertTradedAccount(deps, signal.account);
    } catch (err) {
      if (err instanceof InputError) return deadLetter(source, raw, err.message);
      throw err;
    }
    try {
      const r = await execute(signal);
      deps.onOutcome?.({ ...r, status: 'executed' });
    } catch (err) {
      if (err instanceof InputError) return deadLetter(source, raw, err.message, signal.signalId);
      // Powertools wraps errors of the idempotent function; unwrap poison from inside it.
      const cause = (err as { cause?: unknown }).cause;
      if (cause instanceof InputError) return deadLetter(source, raw, cause.message, signal.signalId);
      throw err;
    }
  }

  const processor = new BatchProcessor(EventType.KinesisDataStreams);
  const recordHandler = async (record: KinesisStreamRecord): Promise<void> => {
    const raw = Buffer.from(record.kinesis.data, 'base64').toString('utf8');
    await handleOne(raw, `kinesis:${record.kinesis.sequenceNumber}`);
  };

  return {
    /** Kinesis event source mapping with ReportBatchItemFailures. */
    async kinesis(event: KinesisStreamEvent, context: Context) {
      config.registerLambdaContext(context);
      // In order: signals of one shard are applied in sequence.
      return processPartialResponse(event, recordHandler, processor, { context, processInParallel: false });
    },
    /**
     * Scheduled reconciliation: orders left UNKNOWN (broker timeout) or still working are
     * resolved by asking the broker; counts by resulting status.
     */
    async reconcile(minAgeMs?: number): Promise<Record<string, number>> {
      const done = await reconcileOpenOrders(deps, { minAgeMs });
      const byStatus: Record<string, number> = {};
      for (const o of done) byStatus[o.status] = (byStatus[o.status] ?? 0) + 1;
      return byStatus;
    },
    /** EventBridge rule target: one signal in `detail`. */
    async eventBridge(event: EventBridgeSignalEvent, context: Context): Promise<void> {
      config.registerLambdaContext(context);
      await handleOne(JSON.stringify(event.detail ?? null), `eventbridge:${event.id}`);
    },
  };
}

/** The EventBridge schedule's event (the reconciliation trigger). */
export function isScheduledEvent(e: unknown): boolean {
  const x = e as { source?: unknown; 'detail-type'?: unknown } | null;
  return (
    typeof x === 'object' && x !== null && x.source === 'aws.events' && x['detail-type'] === 'Scheduled Event'
  );
}

/** Tells the two event shapes apart (one function serves both triggers). */
export function isKinesisEvent(e: unknown): e is KinesisStreamEvent {
  return typeof e === 'object' && e !== null && Array.isArray((e as { Records?: unknown }).Records);
}
