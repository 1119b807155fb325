/**
 * The transaction cost analysis table of the lake: one row per parent order (an algorithm parent,
 * or a plain order as a parent of one fill), written by `quant paper`, `quant tca record` and the
 * daily TCA job in AWS (lambda/tca) through the lake's commit protocol, and read by `quant tca`,
 * `quant query` (DuckDB) and Athena (the Glue table of the lake catalog, from this definition).
 * Imports nothing (src/contract/lake.ts lists it among the lake's tables).
 */

export const TCA_TABLE = {
  name: 'tca',
  zone: 'results',
  prefix: 'tca',
  partitionKeys: [
    { name: 'account', type: 'VARCHAR' },
    { name: 'dt', type: 'DATE' },
  ],
  columns: [
    { name: 'parent_id', type: 'VARCHAR' },
    { name: 'strategy', type: 'VARCHAR' },
    { name: 'symbol', type: 'VARCHAR' },
    { name: 'side', type: 'VARCHAR' },
    { name: 'algo', type: 'VARCHAR' },
    { name: 'qty', type: 'BIGINT' },
    { name: 'filled_qty', type: 'BIGINT' },
    { name: 'children', type: 'BIGINT' },
    { name: 'decision_time', type: 'TIMESTAMP' },
    { name: 'start_time', type: 'TIMESTAMP' },
    { name: 'end_time', type: 'TIMESTAMP' },
    { name: 'decision_price', type: 'DOUBLE' },
    { name: 'arrival_price', type: 'DOUBLE' },
    { name: 'avg_fill_price', type: 'DOUBLE' },
    { name: 'end_price', type: 'DOUBLE' },
    { name: 'interval_vwap', type: 'DOUBLE' },
    { name: 'interval_twap', type: 'DOUBLE' },
    { name: 'market_volume', type: 'DOUBLE' },
    { name: 'shortfall_bps', type: 'DOUBLE' },
    { name: 'delay_bps', type: 'DOUBLE' },
    { name: 'impact_bps', type: 'DOUBLE' },
    { name: 'timing_bps', type: 'DOUBLE' },
    { name: 'opportunity_bps', type: 'DOUBLE' },
    { name: 'vs_vwap_bps', type: 'DOUBLE' },
    { name: 'vs_interval_bps', type: 'DOUBLE' },
    { name: 'participation', type: 'DOUBLE' },
    { name: 'sigma', type: 'DOUBLE' },
    { name: 'adv', type: 'DOUBLE' },
  ],
  key: ['parent_id'],
} as const;
