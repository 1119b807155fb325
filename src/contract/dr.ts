/** Names shared by the disaster-recovery infrastructure (lib/) and its runtime (src/dr, lambda/). */

/** Table replicator: JSON object mapping each source table name to its DR-region table name. */
export const DR_TABLE_MAP_ENV = 'DR_TABLE_MAP';
/** Table replicator: the DR region its client writes to. */
export const DR_REGION_ENV = 'DR_REGION';
/** Metrics namespace of the table replicator (replication lag, records applied). */
export const DR_METRICS_NAMESPACE = 'Quant/DR';
/** Seconds between a change in the home table and its write in the DR replica (maximum per batch). */
export const DR_REPLICATION_LAG_METRIC = 'TableReplicationLagSeconds';
