import { describe, expect, it } from 'vitest';
import { openDuckDb } from '../../../src/lake/duckdb';
import { rankRows, RANKING_COLUMNS } from '../../../src/sweep/rank';
import { RANK_METRICS } from '../../../src/sweep/rank';

/** Seeded uniform numbers (mulberry32). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('rankRows', () => {
  it('orders rows exactly as the ranking query does in DuckDB (NULLS LAST, ties by total_return, then id)', async () => {
    const rnd = rng(3);
    // Few distinct values, so ties and NULLs are common and every tie-break is exercised.
    const pick = (): number | null => (rnd() < 0.15 ? null : Math.round((rnd() - 0.5) * 6) / 2);
    const rows = Array.from({ length: 300 }, (_, i) => ({
      param_set_id: (((i * 7919) % 300) + 1000).toString(16),
      params: `{"fast":${i}}`,
      total_return: pick(),
      cagr: pick(),
      sharpe: pick(),
      sortino: pick(),
      max_drawdown: pick(),
      calmar: pick(),
      volatility: pick(),
      trades: BigInt(i % 17),
      exposure: pick(),
    }));
    const db = await openDuckDb();
    try {
      const values = rows
        .map((r) => {
          const cells = RANKING_COLUMNS.map((c) => {
            const v = r[c];
            return v === null ? 'NULL' : typeof v === 'string' ? `'${v}'` : String(v);
          });
          return `(${cells.join(', ')})`;
        })
        .join(', ');
      await db.con.run(
        `CREATE TABLE backtest_results AS SELECT * FROM (VALUES ${values}) AS t(${RANKING_COLUMNS.join(', ')})`,
      );
      for (const metric of RANK_METRICS) {
        const sql = `SELECT param_set_id FROM backtest_results ORDER BY ${metric} DESC NULLS LAST, total_return DESC NULLS LAST, param_set_id LIMIT 40`;
        const expected = (await db.con.runAndReadAll(sql)).getRowObjectsJS().map((r) => r.param_set_id);
        const got = rankRows(rows, metric, 40);
        expect(
          got.map((r) => r.param_set_id),
          metric,
        ).toEqual(expected);
        expect(Object.keys(got[0])).toEqual([...RANKING_COLUMNS]);
      }
    } finally {
      db.close();
    }
  });
});
