/**
 * The bars pipeline's event: published when bars land in the curated zone (`quant lake import`,
 * `quant bars build`, the Glue bars jobs in AWS). The strategy runner and any retrain trigger
 * react to it. Imports nothing.
 */

/** EventBridge `detail-type` and `source` of the event. */
export const BARS_UPDATED_EVENT = { detailType: 'BarsUpdated', source: 'quant.bars' } as const;

/** The event's `detail`. */
export interface BarsUpdatedDetail {
  /** Bar interval written (`1d`, `1m`, ...). */
  readonly interval: string;
  /** Symbols whose bars were written (at most the first 100; `symbolCount` says how many). */
  readonly symbols: readonly string[];
  readonly symbolCount: number;
  /** Newest bar written (ISO 8601 UTC): consumers read bars up to it. */
  readonly through: string;
  readonly rows: number;
}

/** Environment variables of publishers in AWS. */
export const BARS_EVENTS_ENV = {
  /** EventBridge bus the event goes to. @default 'default' */
  bus: 'BARS_EVENT_BUS',
} as const;

/**
 * Arguments of the Glue bars jobs (glue-jobs/bars/job.py) that publish the event in AWS: the bus
 * and the names above, passed by the ingestion stack so that the job writes no name of its own.
 * An empty bus: the job publishes nothing.
 */
export const BARS_EVENT_JOB_ARGS = {
  bus: '--bars-event-bus',
  source: '--bars-event-source',
  detailType: '--bars-event-detail-type',
} as const;

/** Most symbols listed in the event's `symbols` (`symbolCount` has them all). */
export const BARS_EVENT_MAX_SYMBOLS = 100;

/** Locally the bus is a JSON-lines file of EventBridge-shaped events under the data directory. */
export const LOCAL_EVENT_BUS_FILE = 'events/bus.jsonl';
