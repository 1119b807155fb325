/**
 * Readers of `news_sentiment` wait for (or refuse) an incomplete news write the way bar readers
 * do (src/lake/commit.ts): a pull that writes several `dt=`/`symbol=` partitions announces itself
 * with a pending marker, and a read of a symbol it touches must not see part of it. Partitions
 * nest by day first, so the test is a predicate on symbol (and day), not a path prefix.
 */
import { NEWS_SENTIMENT } from '../contract/lake';
import { waitForCompleteWrites, type PendingWrite } from '../lake/commit';
import type { QueryEngine } from '../lake/query';

const PARTITION = /^dt=(\d{4}-\d{2}-\d{2})\/symbol=([^/]+)$/;

export interface NewsReadScope {
  /** Symbols read (all when not given). */
  readonly symbols?: readonly string[];
  /** First and last UTC day (`YYYY-MM-DD`) read, inclusive (every day when not given). */
  readonly fromDay?: string;
  readonly toDay?: string;
  /**
   * How long a read waits for a running pull before it fails; an abandoned one fails it at once.
   * @default 10 minutes (a pull of a few days commits in seconds)
   */
  readonly maxWaitMs?: number;
  /** @default 200 */
  readonly pollMs?: number;
}

/** Whether a `news_sentiment` partition path is inside `scope`. */
export function newsPartitionInScope(partition: string, scope: NewsReadScope): boolean {
  const m = PARTITION.exec(partition);
  if (!m) return true; // not a layout this code wrote: take it as touching everything
  const [, dt, symbol] = m;
  if (scope.symbols && !scope.symbols.includes(symbol)) return false;
  if (scope.fromDay !== undefined && dt < scope.fromDay) return false;
  if (scope.toDay !== undefined && dt > scope.toDay) return false;
  return true;
}

/** Resolves once no news write into `scope` is incomplete (true when it had to wait). */
export async function waitForNewsWrites(
  list: () => Promise<readonly PendingWrite[]>,
  scope: NewsReadScope = {},
): Promise<boolean> {
  const what = `${NEWS_SENTIMENT.name}${scope.symbols ? ` of ${scope.symbols.join(', ')}` : ''}`;
  return waitForCompleteWrites(list, (pp) => newsPartitionInScope(pp, scope), what, {
    maxWaitMs: scope.maxWaitMs ?? 10 * 60_000,
    pollMs: scope.pollMs,
    field: NEWS_SENTIMENT.name,
    action: 'news pull',
  });
}

/** The same wait through a query engine (DuckDB reads the local server's files; Athena lists S3). */
export async function waitForNewsOnEngine(engine: QueryEngine, scope: NewsReadScope = {}): Promise<boolean> {
  const list = engine.pendingWrites?.bind(engine);
  if (!list) return false;
  return waitForNewsWrites(() => list(NEWS_SENTIMENT.name), scope);
}
