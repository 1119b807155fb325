/** Market-data types shared by feed handlers, ingestion, bars and backtests. */
export * from './events';
export * from './codec';
export * from './validate';
