/**
 * Publishes `BarsUpdated` (src/contract/bars.ts) once bars are in the curated zone: to EventBridge
 * in AWS, locally to the local bus (a JSON-lines file of EventBridge-shaped events in the data
 * directory, read with `readLocalEvents`). The event has the shape the strategy runner's handler
 * accepts (src/strategy-runner/handler.ts).
 */
import { randomUUID } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Runtime } from '../aws/clients';
import {
  BARS_EVENT_MAX_SYMBOLS,
  BARS_EVENTS_ENV,
  BARS_UPDATED_EVENT,
  LOCAL_EVENT_BUS_FILE,
  type BarsUpdatedDetail,
} from '../contract/bars';

/** An event as EventBridge delivers it to a rule's target. */
export interface BusEvent<D = unknown> {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: D;
}

/** The detail of bars just written: `ts` are the bar labels (ISO or epoch ms). */
export function barsUpdatedDetail(
  interval: string,
  symbols: Iterable<string>,
  ts: Iterable<unknown>,
  rows: number,
): BarsUpdatedDetail {
  let newest = -Infinity;
  for (const t of ts) {
    const ms =
      t instanceof Date
        ? t.getTime()
        : typeof t === 'number'
          ? t
          : typeof t === 'string'
            ? Date.parse(t)
            : NaN;
    if (Number.isFinite(ms)) newest = Math.max(newest, ms);
  }
  if (!Number.isFinite(newest)) throw new Error('BarsUpdated: no bar time among the bars written');
  const all = [...new Set(symbols)].sort();
  return {
    interval,
    symbols: all.slice(0, BARS_EVENT_MAX_SYMBOLS),
    symbolCount: all.length,
    through: new Date(newest).toISOString(),
    rows,
  };
}

/** Where the local bus keeps its events. */
export const localBusFile = (dataDir: string): string => path.join(dataDir, LOCAL_EVENT_BUS_FILE);

/** Events of the local bus, oldest first (optionally one detail-type). */
export async function readLocalEvents(dataDir: string, detailType?: string): Promise<BusEvent[]> {
  let text: string;
  try {
    text = await readFile(localBusFile(dataDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as BusEvent)
    .filter((e) => detailType === undefined || e['detail-type'] === detailType);
}

/**
 * Publishes one BarsUpdated event. No bars written (rows 0): nothing is published. Locally one line
 * is appended (a single write, so concurrent commands do not interleave lines); in AWS one
 * PutEvents to `BARS_EVENT_BUS` (default bus), with a timeout.
 */
export async function publishBarsUpdated(
  runtime: Runtime,
  events: () => Pick<EventBridgeClient, 'send'>,
  detail: BarsUpdatedDetail,
  env: Readonly<Record<string, string | undefined>> = process.env,
  now = new Date(),
): Promise<BusEvent<BarsUpdatedDetail> | undefined> {
  if (detail.rows === 0) return undefined;
  if (runtime.mode === 'local') {
    const event: BusEvent<BarsUpdatedDetail> = {
      version: '0',
      id: randomUUID(),
      'detail-type': BARS_UPDATED_EVENT.detailType,
      source: BARS_UPDATED_EVENT.source,
      account: '000000000000',
      time: now.toISOString(),
      region: runtime.region,
      resources: [],
      detail,
    };
    const file = localBusFile(runtime.dataDir);
    await mkdir(path.dirname(file), { recursive: true });
    await appendFile(file, `${JSON.stringify(event)}\n`);
    return event;
  }
  const bus = env[BARS_EVENTS_ENV.bus] || 'default';
  const r = await events().send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: bus,
          Source: BARS_UPDATED_EVENT.source,
          DetailType: BARS_UPDATED_EVENT.detailType,
          Time: now,
          Detail: JSON.stringify(detail),
        },
      ],
    }),
    { abortSignal: AbortSignal.timeout(10_000) },
  );
  if (r.FailedEntryCount)
    throw new Error(`BarsUpdated: not put on ${bus}: ${r.Entries?.[0]?.ErrorMessage ?? 'failed'}`);
  return undefined;
}
