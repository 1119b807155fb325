-- Trades -> OHLCV bars, labelled by their close time (UTC); daily bars by their session date (the
-- day's start), as imported daily bars are.
-- Written in Spark SQL; the local engine (DuckDB) runs the same text after defining the Spark
-- functions it lacks (timestamp_micros, named_struct) as macros.
-- Parameters (replaced by both runners): {{interval_ns}} bar length in ns, {{label_offset_ns}} from a
-- bar's start to its label (the length, or 0 for daily bars), {{dt_filter}} boolean on dt.
-- Input view `ticks` (raw zone); output: one row per (symbol, bar), `interval` is added by the runner.
WITH trades AS (
  -- The raw zone may hold a tick twice until compaction has run: keep one per (symbol, venue, seq).
  SELECT symbol, venue, seq, max(exchange_ts) AS exchange_ts, max(price) AS price, max(size) AS size
  FROM ticks
  WHERE type = 'trade' AND {{dt_filter}}
  GROUP BY symbol, venue, seq
),
bucketed AS (
  SELECT symbol, exchange_ts - (exchange_ts % {{interval_ns}}) AS bucket, exchange_ts, seq, price, size
  FROM trades
)
SELECT
  symbol,
  timestamp_micros(CAST((bucket + {{label_offset_ns}}) / 1000 AS BIGINT)) AS ts,
  year(timestamp_micros(CAST((bucket + {{label_offset_ns}}) / 1000 AS BIGINT))) AS year,
  -- First and last trade by exchange time, ties broken by sequence number.
  min_by(price, named_struct('t', exchange_ts, 's', seq)) AS open,
  max(price) AS high,
  min(price) AS low,
  max_by(price, named_struct('t', exchange_ts, 's', seq)) AS close,
  sum(size) AS volume,
  sum(price * size) / sum(size) AS vwap,
  count(*) AS trades
FROM bucketed
GROUP BY symbol, bucket
