/**
 * Writes a sweep batch's results (the ECS task and the local workers; never the Lambda steps, which
 * stay free of DuckDB: see results.ts).
 */
import { writeTable } from '../lake/writer';
import { BACKTEST_RESULTS } from '../contract/lake';
import type { ResultRow } from './evaluate';
import { checkPartitionValue, type ResultsTarget } from './results';

/** Writes one batch's rows as one object; returns its key. */
export async function writeBatchResults(
  target: ResultsTarget,
  ids: { readonly strategy: string; readonly sweepId: string; readonly batchId: string },
  rows: readonly ResultRow[],
): Promise<string | undefined> {
  if (rows.length === 0) return undefined;
  const col = <K extends keyof ResultRow>(k: K) => rows.map((r) => r[k]);
  const report = await writeTable(
    { clients: target.clients, buckets: target.buckets, tmpDir: target.tmpDir },
    BACKTEST_RESULTS,
    {
      length: rows.length,
      columns: {
        param_set_id: col('param_set_id'),
        params: col('params'),
        bars_source: col('bars_source'),
        bars: col('bars'),
        periods: col('periods'),
        total_return: col('total_return'),
        cagr: col('cagr'),
        sharpe: col('sharpe'),
        sortino: col('sortino'),
        max_drawdown: col('max_drawdown'),
        calmar: col('calmar'),
        volatility: col('volatility'),
        trades: col('trades'),
        turnover: col('turnover'),
        exposure: col('exposure'),
        completed_at: col('completed_at'),
        strategy: rows.map(() => checkPartitionValue('strategy', ids.strategy)),
        sweep_id: rows.map(() => checkPartitionValue('sweepId', ids.sweepId)),
      },
    },
    { mode: 'append', fileName: `batch-${checkPartitionValue('batchId', ids.batchId)}` },
  );
  return report.keys[0];
}
