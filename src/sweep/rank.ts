/**
 * The sweep's ranking in JS: the same rows, in the same order, as the ranking query of request.ts
 * (`ORDER BY <metric> DESC NULLS LAST, total_return DESC NULLS LAST, param_set_id LIMIT n`), which
 * Athena runs in AWS. A local sweep ranks its rows with this instead of starting DuckDB for one
 * query (test/unit/sweep/rank.test.ts checks both orders agree).
 */

/** Metrics a sweep can be ranked by (columns of backtest_results, larger is better). */
export const RANK_METRICS = ['sharpe', 'sortino', 'calmar', 'cagr', 'total_return'] as const;
export type RankMetric = (typeof RANK_METRICS)[number];

/** The columns of a ranked row, in the query's SELECT order. */
export const RANKING_COLUMNS = [
  'param_set_id',
  'params',
  'total_return',
  'cagr',
  'sharpe',
  'sortino',
  'max_drawdown',
  'calmar',
  'volatility',
  'trades',
  'exposure',
] as const;

type Value = number | bigint | null | undefined;

/** DESC NULLS LAST on one numeric column: negative when a comes first. */
function desc(a: Value, b: Value): number {
  const an = a === null || a === undefined;
  const bn = b === null || b === undefined;
  if (an || bn) return an === bn ? 0 : an ? 1 : -1;
  return a > b ? -1 : a < b ? 1 : 0;
}

/** The best `topN` rows by `rankBy`, each with RANKING_COLUMNS only (in that order). */
export function rankRows(
  rows: readonly Record<string, unknown>[],
  rankBy: RankMetric,
  topN: number,
): Record<string, unknown>[] {
  const sorted = [...rows].sort(
    (a, b) =>
      desc(a[rankBy] as Value, b[rankBy] as Value) ||
      desc(a.total_return as Value, b.total_return as Value) ||
      (a.param_set_id! < b.param_set_id! ? -1 : a.param_set_id! > b.param_set_id! ? 1 : 0),
  );
  return sorted.slice(0, topN).map((r) => {
    const out: Record<string, unknown> = {};
    for (const c of RANKING_COLUMNS) out[c] = r[c] ?? null;
    return out;
  });
}
