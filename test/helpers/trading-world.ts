/**
 * The trading functions' world on a test file's local cloud (test/helpers/local-cloud.ts): the
 * trading tables, the risk and book stores, and execution deps over them. Call it at the file's top
 * level: its fields are set from its beforeAll on.
 */
import { beforeAll } from 'vitest';
import type { AwsClients } from '../../src/aws/clients';
import { LOCAL_BUCKETS } from '../../src/local/buckets';
import { RiskStore } from '../../src/risk/store';
import { S3AuditSink } from '../../src/trading/audit';
import { BookStore } from '../../src/trading/book';
import { PaperBroker, type BrokerAdapter, type Quote } from '../../src/trading/broker';
import type { ExecutionDeps } from '../../src/trading/execution';
import { ensureLocalTradingTables, type TradingTables } from '../../src/trading/tables';
import { localCloudWorld } from './local-cloud';

export interface TradingWorld {
  readonly dir: string;
  readonly clients: AwsClients;
  readonly tables: TradingTables;
  readonly risk: RiskStore;
  readonly books: BookStore;
  /** Execution deps at the world's `now` with a paper broker on its quotes; `extra` overrides. */
  deps(extra?: Partial<ExecutionDeps>): ExecutionDeps;
  /** A fresh account (`<accounts>-N`) with a 1,000,000 book and `limits` (securities and limits). */
  account(limits: unknown): Promise<string>;
}

export interface TradingWorldOptions {
  /** Prefix of the accounts' names (and of the data directory's). */
  readonly accounts: string;
  readonly now: number;
  readonly quote: (symbol: string) => Quote | undefined;
  /**
   * The broker of `deps()`.
   * @default a paper broker on `quote`
   */
  readonly broker?: () => BrokerAdapter;
  /**
   * The data directory's shared cloud (`LocalCloud.up`), which `quant` commands attach to.
   * @default false: the test's own cloud
   */
  readonly shared?: boolean;
}

export function tradingWorld(opts: TradingWorldOptions): TradingWorld {
  const lc = localCloudWorld({ name: `trading-${opts.accounts}`, shared: opts.shared });
  let n = 0;
  const w = {
    dir: lc.dir,
    get clients() {
      return lc.clients;
    },
    deps: (extra: Partial<ExecutionDeps> = {}): ExecutionDeps => ({
      doc: w.clients.doc,
      ordersTable: w.tables.orders,
      risk: w.risk,
      books: w.books,
      broker: opts.broker?.() ?? new PaperBroker(opts.quote),
      audit: new S3AuditSink(w.clients.s3, LOCAL_BUCKETS.audit),
      now: () => opts.now,
      ...extra,
    }),
    account: async (limits: unknown): Promise<string> => {
      const a = `${opts.accounts}-${++n}`;
      await w.books.create(a, 100_000_000);
      await w.risk.putLimits(a, limits);
      return a;
    },
  } as { -readonly [K in keyof TradingWorld]: TradingWorld[K] };
  beforeAll(async () => {
    w.tables = await ensureLocalTradingTables(w.clients.dynamodb);
    w.risk = new RiskStore(w.clients.doc, w.tables.risk, { limitsTtlMs: 0 });
    w.books = new BookStore(w.clients.doc, w.tables.risk);
  });
  return w;
}

/** A broker that records every client order id it was sent (a paper broker on `quote` fills). */
export function countingBroker(quote: (symbol: string) => Quote | undefined): {
  broker: BrokerAdapter;
  sent: string[];
} {
  const paper = new PaperBroker(quote);
  const sent: string[] = [];
  return {
    sent,
    broker: {
      name: 'counting',
      submit: async (o) => (sent.push(o.clientOrderId), paper.submit(o)),
      lookup: (id) => paper.lookup(id),
    },
  };
}
