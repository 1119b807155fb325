-- Raw ticks of the selected days -> one row per (symbol, venue, seq): removes the duplicates that
-- retried consumer batches can leave; the runner writes one file per (dt, symbol).
-- Spark SQL, run unchanged by DuckDB locally. Parameter: {{dt_filter}} boolean on dt.
SELECT venue, type, exchange_ts, receive_ts, seq, price, size, bid, bid_size, ask, ask_size, dt, symbol
FROM (
  SELECT
    t.*,
    row_number() OVER (PARTITION BY symbol, venue, seq ORDER BY receive_ts, exchange_ts) AS rn
  FROM ticks t
  WHERE {{dt_filter}}
) d
WHERE rn = 1
