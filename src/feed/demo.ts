/**
 * The feed phase of `npm start`: a synthetic CME channel (definitions, book updates, trades) on
 * feeds A and B with independent loss, occasional loss on both feeds (a real gap) and a snapshot loop
 * on the recovery feed, through the full handler (arbitration, decode, books, recovery). Normalized
 * events go to `sink` (e.g. the ingestion producer's putAll) in batches.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors';
import type { MarketEvent } from '../market-data/events';
import { SbeCodec } from '../sbe/codec';
import { loadSchema } from '../sbe/schema';
import { FeedHandler } from './handler';
import { SyntheticChannel } from './synthetic';

export interface FeedDemoOptions {
  /** CME SBE schema (templates_FixBinary.xml, version 9 or later). @default ../shared/data/cme-mdp3/schema/templates_FixBinary.v13.xml from the repo root */
  readonly schemaPath?: string;
  /** Incremental packets to publish. @default 20000 */
  readonly packets?: number;
  /** Probability a packet is lost on feed A only, on feed B only, on both. @default 0.02, 0.02, 0.0005 */
  readonly lossA?: number;
  readonly lossB?: number;
  readonly lossBoth?: number;
  /** A snapshot loop is published every this many packets. @default 1000 */
  readonly snapshotEvery?: number;
  readonly seed?: number;
  /** Receives normalized events in batches; awaited (back-pressure). */
  readonly sink?: (events: MarketEvent[]) => Promise<void> | void;
}

export interface FeedDemoSummary {
  readonly packets: number;
  readonly offeredA: number;
  readonly offeredB: number;
  readonly duplicatesDropped: number;
  readonly gaps: number;
  readonly recoveries: number;
  readonly trades: number;
  readonly quotes: number;
  readonly decodeErrors: number;
  /** Still recovering at the end (should be false: the run ends with a full snapshot loop). */
  readonly recovering: boolean;
  /** One line for the demo output. */
  readonly line: string;
}

export function defaultSchemaPath(): string {
  return path.resolve(
    import.meta.dirname,
    '../../../shared/data/cme-mdp3/schema/templates_FixBinary.v13.xml',
  );
}

/** Runs the feed phase in process; see the module comment. */
export async function runFeedDemo(opts: FeedDemoOptions = {}): Promise<FeedDemoSummary> {
  const schemaPath = opts.schemaPath ?? defaultSchemaPath();
  if (!existsSync(schemaPath))
    throw new InputError(
      `schemaPath: ${schemaPath} does not exist (pass the CME templates_FixBinary.xml)`,
      'schemaPath',
    );
  const codec = new SbeCodec(loadSchema(schemaPath));
  const total = opts.packets ?? 20_000;
  const lossA = opts.lossA ?? 0.02;
  const lossB = opts.lossB ?? 0.02;
  const lossBoth = opts.lossBoth ?? 0.0005;
  const snapshotEvery = opts.snapshotEvery ?? 1000;
  const channel = new SyntheticChannel(codec, { seed: opts.seed ?? 7 });
  let batch: MarketEvent[] = [];
  let trades = 0;
  let quotes = 0;
  const handler = new FeedHandler(
    codec,
    (e) => {
      if (e.type === 'trade') trades++;
      else quotes++;
      batch.push(e);
    },
    () => {},
    { arbiter: { gapPacketThreshold: 32, gapTimeoutMs: 1e9 } },
  );
  let seed = (opts.seed ?? 7) * 2654435761;
  const rand = (): number => {
    seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) | 0;
    return ((seed ^ (seed >>> 13)) >>> 0) / 4294967296;
  };
  let offeredA = 0;
  let offeredB = 0;
  const offer = (p: Buffer, always = false): void => {
    if (!always && rand() < lossBoth) return;
    if (always || rand() >= lossA) {
      handler.onIncremental('A', p);
      offeredA++;
    }
    if (always || rand() >= lossB) {
      handler.onIncremental('B', p);
      offeredB++;
    }
  };
  offer(channel.definitions(), true);
  let snapshotSeq = 1;
  for (let i = 1; i <= total; i++) {
    offer(channel.next());
    if (i % snapshotEvery === 0) {
      const loop = channel.snapshotLoop(snapshotSeq);
      snapshotSeq += loop.length;
      for (const p of loop) handler.onSnapshot(p);
    }
    if (batch.length >= 1000 && opts.sink) {
      const out = batch;
      batch = [];
      await opts.sink(out);
    }
  }
  // Flush the tail: a final loop completes any recovery still running.
  for (const p of channel.snapshotLoop(snapshotSeq)) handler.onSnapshot(p);
  if (batch.length > 0 && opts.sink) await opts.sink(batch);
  const a = handler.arbiter.stats;
  const decodeErrors = Object.values(handler.decodeStats.errors).reduce((x, y) => x + y, 0);
  return {
    packets: channel.lastSeq,
    offeredA,
    offeredB,
    duplicatesDropped: a.feeds.A.duplicates + a.feeds.B.duplicates,
    gaps: a.gaps,
    recoveries: handler.recovery.completed,
    trades,
    quotes,
    decodeErrors,
    recovering: handler.isRecovering,
    line: `feed: ${channel.lastSeq} packets on A/B (${offeredA}+${offeredB} received, ${a.feeds.A.duplicates + a.feeds.B.duplicates} duplicates dropped), ${a.gaps} gaps, ${handler.recovery.completed} recoveries, ${trades + quotes} events (${trades} trades, ${quotes} quotes)`,
  };
}
