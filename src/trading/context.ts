/**
 * Wires the trading services for one runtime: tables (created in dynalite locally), the risk
 * store, books, the audit sink (Firehose in AWS, the local audit bucket locally) and the
 * dead-letter sink (SQS in AWS, a file locally). The CLI, the Lambdas and the demo all use it.
 */
import path from 'node:path';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import type { AwsClients } from '../aws/clients';
import { lakeBuckets } from '../lake/buckets';
import { RiskStore } from '../risk/store';
import { FirehoseAuditSink, S3AuditSink, auditEvent, type AuditSink } from './audit';
import { BookStore } from './book';
import { FileDeadLetters, SqsDeadLetters, type DeadLetters } from './dead-letters';
import { EventBridgeOrderEvents, FanOutSink } from './order-events';
import { ensureLocalTradingTables, tradingTablesFromEnv, type TradingTables } from './tables';
import type { StateScope } from '../risk/store';
import type { TradingState } from '../risk/types';
import { optionalText, readEnv, text } from '../contract/env';
import { TRADING_ENV } from '../contract/trading';

export interface TradingServices {
  readonly tables: TradingTables;
  readonly risk: RiskStore;
  readonly books: BookStore;
  readonly audit: AuditSink;
  readonly deadLetters: DeadLetters;
}

export async function tradingServices(
  clients: AwsClients,
  env: NodeJS.ProcessEnv = process.env,
  opts: { limitsTtlMs?: number } = {},
): Promise<TradingServices> {
  const rt = clients.runtime;
  let tables: TradingTables;
  let audit: AuditSink;
  let deadLetters: DeadLetters;
  if (rt.mode === 'local') {
    tables = await ensureLocalTradingTables(clients.dynamodb);
    audit = new S3AuditSink(clients.s3, lakeBuckets(rt).audit);
    deadLetters = new FileDeadLetters(path.join(rt.dataDir, 'dead-letters', 'execution.jsonl'));
  } else {
    tables = tradingTablesFromEnv(env);
    const e = readEnv(
      {
        stream: text(TRADING_ENV.auditStream),
        dlq: text(TRADING_ENV.deadLetterQueueUrl),
        orderBus: optionalText(TRADING_ENV.orderBus),
      },
      env,
    );
    audit = new FirehoseAuditSink(new FirehoseClient({ region: rt.region }), e.stream);
    // Order, fill and state events also go to the trading bus for consumers.
    if (e.orderBus)
      audit = new FanOutSink(audit, [new EventBridgeOrderEvents(clients.eventBridge, e.orderBus)]);
    deadLetters = new SqsDeadLetters(clients.sqs, e.dlq);
  }
  return {
    tables,
    risk: new RiskStore(clients.doc, tables.risk, { limitsTtlMs: opts.limitsTtlMs }),
    books: new BookStore(clients.doc, tables.risk),
    audit,
    deadLetters,
  };
}

/** Changes a trading state and records the change on the audit trail. */
export async function changeState(
  svc: TradingServices,
  scope: StateScope,
  action: 'halt' | 'reduce' | 'resume',
  actor: string,
  reason: string,
  to?: TradingState,
) {
  const r =
    action === 'resume'
      ? await svc.risk.resume(scope, actor, reason, to ?? 'ACTIVE')
      : await svc.risk.halt(scope, actor, reason, action === 'reduce' ? 'REDUCING' : 'HALTED');
  if (r.after !== r.before) {
    await svc.audit.put([
      auditEvent(
        'state',
        { account: scope.account, strategy: scope.strategy },
        {
          from: r.before.state,
          to: r.after.state,
          actor,
          reason,
          version: r.after.version,
        },
      ),
    ]);
  }
  return r;
}
