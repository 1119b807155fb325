/**
 * The feed phase of `npm start`: a synthetic CME channel (definitions, book updates, trades) on
 * feeds A and B with independent loss, occasional loss on both feeds (a real gap) and a snapshot loop
 * on the recovery feed, through the full handler (arbitration, decode, books, recovery). Gaps are
 * filled by TCP replay from the local replay server over real TCP; arbitrated packets are relayed to
 * a local UDP subscriber over real UDP; normalized events go to `sink` in batches and, with
 * `kinesis`, through the ingestion producer into the stream. The feeds are offered in process (not
 * multicast) so the phase gives the same result on every run.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { InputError } from '../errors';
import { TickProducer } from '../ingest/producer';
import { ensureStream } from '../ingest/runner';
import type { MarketEvent } from '../market-data/events';
import { SbeCodec } from '../sbe/codec';
import { loadSchema } from '../sbe/schema';
import { FeedHandler } from './handler';
import { PROJECT_SCHEMA_PATH } from './project-schema';
import { Relay } from './net';
import { SyntheticChannel } from './synthetic';
import { ReplayClient, ReplayServer } from './tcp-replay';

export interface FeedDemoOptions {
  /** MDP 3.0 SBE schema (CME's templates_FixBinary.xml version 9 or later, or the project's). @default the project's schemas/mdp3/quant-mdp3.xml */
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
  /** Fill gaps of at most this many packets by TCP replay (0: snapshot loop only). @default 2000 */
  readonly maxReplayGap?: number;
  /** Put the events into this Kinesis stream (created if missing, for the local cloud). */
  readonly kinesis?: { readonly client: KinesisClient; readonly stream: string; readonly create?: boolean };
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
  /** Gaps filled by TCP replay, and replays that failed (then the snapshot loop). */
  readonly replayed: number;
  readonly replayFailed: number;
  /** Packets relayed to the local UDP subscriber, and how many it received. */
  readonly relayed: number;
  readonly subscriberReceived: number;
  /** Events and records acknowledged by Kinesis (with `kinesis`). */
  readonly kinesisEvents?: number;
  readonly kinesisRecords?: number;
  /** One line for the demo output. */
  readonly line: string;
}

export function defaultSchemaPath(): string {
  return PROJECT_SCHEMA_PATH;
}

/** Runs the feed phase in process; see the module comment. */
export async function runFeedDemo(opts: FeedDemoOptions = {}): Promise<FeedDemoSummary> {
  const schemaPath = opts.schemaPath ?? defaultSchemaPath();
  if (!existsSync(schemaPath))
    throw new InputError(
      `schemaPath: ${schemaPath} does not exist (pass an MDP 3.0 SBE schema such as CME's templates_FixBinary.xml)`,
      'schemaPath',
    );
  const codec = new SbeCodec(loadSchema(schemaPath));
  const total = opts.packets ?? 20_000;
  const lossA = opts.lossA ?? 0.02;
  const lossB = opts.lossB ?? 0.02;
  const lossBoth = opts.lossBoth ?? 0.0005;
  const snapshotEvery = opts.snapshotEvery ?? 1000;
  const channel = new SyntheticChannel(codec, { seed: opts.seed ?? 7 });
  const maxReplayGap = opts.maxReplayGap ?? 2000;
  const published = new Map<number, Buffer>();
  // The local replay service requires a logon like CME's; credentials for this run only.
  const credentials = { username: 'demo', password: randomBytes(12).toString('hex') };
  const replayServer =
    maxReplayGap > 0 ? await ReplayServer.start({ history: published, channel: 1, credentials }) : null;
  const subscriber = dgram.createSocket('udp4');
  let subscriberReceived = 0;
  subscriber.on('message', () => subscriberReceived++);
  await new Promise<void>((resolve) => subscriber.bind(0, '127.0.0.1', () => resolve()));
  try {
    subscriber.setRecvBufferSize(4 << 20);
  } catch {
    // capped by the kernel; the demo yields often enough
  }
  const relay = await Relay.start({
    udp: [{ host: '127.0.0.1', port: (subscriber.address() as { port: number }).port }],
  });
  let producer: TickProducer | undefined;
  if (opts.kinesis) {
    if (opts.kinesis.create) await ensureStream(opts.kinesis.client, opts.kinesis.stream, 2);
    // No linger: records are sealed by size or at the end only, so a re-run puts the same records.
    producer = new TickProducer({
      kinesis: opts.kinesis.client,
      streamName: opts.kinesis.stream,
      lingerMs: 3_600_000,
    });
  }
  try {
    return await run();
  } catch (err) {
    // Clears the producer's linger timer (and sends what it can) so the process can exit.
    await producer?.flush().catch(() => {});
    throw err;
  } finally {
    await relay.close();
    await replayServer?.close();
    await new Promise<void>((resolve) => subscriber.close(() => resolve()));
  }

  async function run(): Promise<FeedDemoSummary> {
    const client = new ReplayClient({
      server: replayServer?.endpoint ?? { host: '127.0.0.1', port: 1 },
      channel: 1,
      credentials,
    });
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
      {
        arbiter: { gapPacketThreshold: 32, gapTimeoutMs: 1e9 },
        onArbitrated: (buf) => relay.send(buf),
        replay: replayServer
          ? {
              request: (from, to) => client.request(from, to),
              maxGapPackets: maxReplayGap,
            }
          : undefined,
      },
    );
    let seed = (opts.seed ?? 7) * 2654435761;
    const rand = (): number => {
      seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) | 0;
      return ((seed ^ (seed >>> 13)) >>> 0) / 4294967296;
    };
    async function deliver(): Promise<void> {
      const out = batch;
      batch = [];
      if (out.length === 0) return;
      if (opts.sink) await opts.sink(out);
      if (producer) await producer.putAll(out);
    }
    let offeredA = 0;
    let offeredB = 0;
    const offer = (p: Buffer, always = false): void => {
      published.set(p.readUInt32LE(0), p);
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
      if (batch.length >= 1000) await deliver();
      // Let replies (TCP replay) and the UDP subscriber in. libuv reads at most 32 datagrams per
      // loop turn, so wait for the subscriber to catch up (bounded) rather than overflow its buffer.
      if (i % 100 === 0) {
        let turns = 0;
        do await new Promise((resolve) => setImmediate(resolve));
        while (relay.stats.udpSent - subscriberReceived > 64 && ++turns < 100);
      }
    }
    await handler.idle();
    // Flush the tail: a final loop completes any recovery still running.
    for (const p of channel.snapshotLoop(snapshotSeq)) handler.onSnapshot(p);
    await deliver();
    const k = producer ? await producer.close() : undefined;
    const relayed = relay.stats.udpSent;
    for (let i = 0; i < 200 && subscriberReceived < relayed; i++) await new Promise((r) => setTimeout(r, 5));
    const a = handler.arbiter.stats;
    const rec = handler.recovery;
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
      replayed: rec.replayRecovered,
      replayFailed: rec.replayFailed,
      relayed,
      subscriberReceived,
      kinesisEvents: k?.eventsSent,
      kinesisRecords: k?.recordsSent,
      line:
        `feed: ${channel.lastSeq} packets on A/B (${offeredA}+${offeredB} received, ${a.feeds.A.duplicates + a.feeds.B.duplicates} duplicates dropped), ` +
        `${a.gaps} gaps (${rec.replayRecovered} recovered by TCP replay, ${rec.replayFailed + rec.replayTooLarge} by snapshot), ${rec.completed} snapshot recoveries, ` +
        `${trades + quotes} events (${trades} trades, ${quotes} quotes); relayed ${relayed} packets to a UDP subscriber (${subscriberReceived === relayed ? 'all' : subscriberReceived} received)` +
        (k && opts.kinesis
          ? `; ${k.eventsSent} events in ${k.recordsSent} records put to Kinesis ${opts.kinesis.stream}`
          : ''),
    };
  }
}
