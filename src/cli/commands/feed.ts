import fs, { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { InputError } from '../../errors';
import { SbeCodec } from '../../sbe/codec';
import { loadSchema } from '../../sbe/schema';
import { decodeCapture, newDecodeStats, totalErrors } from '../../feed/decode';
import { jsonValue, messageJsonLine } from '../../feed/jsonl';
import { formatTable, pairsText, printJson } from '../output';
import { parseEndpoint, type Endpoint } from '../../feed/net';
import { runSimulator } from '../../feed/simulator';
import { FeedRunner } from '../../feed/runner';
import type { BookKinds } from '../../feed/handler';
import { replayCapture } from '../../feed/replay';
import { replayCredentialsFromEnv, replayCredentialsFromSecret } from '../../feed/replay-credentials';
import type { ReplayCredentials } from '../../feed/tcp-replay';
import { ProducerEventSink } from '../../feed/event-sink';
import { TickProducer } from '../../ingest/producer';
import { ensureStream } from '../../ingest/runner';
import { inAwsMode, openPlatform, type GlobalOptions, type PlatformContext } from '../context';
import { int, oneOf, optionalInt, probability } from '../options';

interface DecodeOptions {
  schema: string;
  pcap: string;
  jsonl?: boolean;
}

function readCapture(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new InputError(`--pcap: cannot read ${file}: ${(err as Error).message}`, 'pcap');
  }
}

/** Writes to stdout in large chunks, waiting for drain so big captures do not buffer in memory. */
async function writeOut(chunk: string): Promise<void> {
  if (!process.stdout.write(chunk))
    await new Promise<void>((resolve) => process.stdout.once('drain', () => resolve()));
}

function endpoints(list: string[] | undefined, flag: string): Endpoint[] {
  return (list ?? []).map((x) => parseEndpoint(x, flag));
}

interface SimulateOptions {
  schema: string;
  feedA: string;
  feedB: string;
  snapshot?: string;
  packets: string;
  rate: string;
  lossA?: string;
  lossB?: string;
  dupA?: string;
  dupB?: string;
  reorderA?: string;
  reorderB?: string;
  lossBoth?: string;
  seed: string;
  iface: string;
  json?: boolean;
  mbo?: boolean;
}

interface RunOptions {
  schema: string;
  feedA: string;
  feedB: string;
  snapshot?: string;
  relayUdp?: string[];
  relayTcp?: string;
  duration?: string;
  iface: string;
  json?: boolean;
  channel: string;
  metricsPort?: string;
  emf?: boolean;
  metricsInterval: string;
  replay?: string;
  replayMaxGap: string;
  replaySecret?: string;
  replayUsername?: string;
  kinesis?: string;
  books: string;
  decoder: string;
  orderEvents?: string;
}

interface ReplayCliOptions {
  pcap: string;
  feedA: string;
  feedB?: string;
  repeat: string;
  rate: string;
  startSeq: string;
  iface: string;
}

/** `quant feed ...`: the CME MDP 3.0 feed handler tools. */
export function registerFeed(program: Command): void {
  const feed = program.command('feed').description('CME MDP 3.0 feed handler: decode, simulate, run, replay');
  feed
    .command('decode')
    .description('decode the SBE messages of a pcap capture (UDP MDP packets or TCP recovery 0xCAFE frames)')
    .requiredOption('--schema <xml>', 'the exchange SBE schema (templates_FixBinary.xml)')
    .requiredOption('--pcap <file>', 'a classic pcap capture')
    .option('--jsonl', 'one JSON object per message on stdout (otherwise a per-template summary)')
    .action(feedDecode);

  feed
    .command('simulate')
    .description('publish a synthetic channel as feeds A and B (plus a snapshot loop) on loopback multicast')
    .requiredOption('--schema <xml>', 'the exchange SBE schema (version 9 or later)')
    .option('--feed-a <group:port>', 'incremental feed A', '239.255.0.1:14310')
    .option('--feed-b <group:port>', 'incremental feed B', '239.255.0.2:14311')
    .option('--snapshot <group:port>', 'market recovery (snapshot loop) feed', '239.255.0.3:14312')
    .option('--packets <n>', 'incremental packets to publish', '10000')
    .option('--rate <n>', 'packets per second', '10000')
    .option('--loss-a <p>', 'probability a packet is lost on feed A')
    .option('--loss-b <p>', 'probability a packet is lost on feed B')
    .option('--dup-a <p>', 'probability a packet is duplicated on feed A')
    .option('--dup-b <p>', 'probability a packet is duplicated on feed B')
    .option('--reorder-a <p>', 'probability a packet is swapped with the next on feed A')
    .option('--reorder-b <p>', 'probability a packet is swapped with the next on feed B')
    .option('--loss-both <p>', 'probability a packet is lost on both feeds (a real gap)')
    .option('--seed <n>', 'random seed', '11')
    .option(
      '--mbo',
      'also market by order: order entries (46/47) and 53 order snapshots on the recovery feed',
    )
    .option('--iface <ip>', 'multicast interface', '127.0.0.1')
    .option('--json', 'machine-readable output')
    .action(feedSimulate);

  feed
    .command('run')
    .description(
      'join feeds A and B (and the snapshot loop), arbitrate, decode, build books, relay to subscribers',
    )
    .requiredOption('--schema <xml>', 'the exchange SBE schema')
    .option('--feed-a <group:port>', 'incremental feed A', '239.255.0.1:14310')
    .option('--feed-b <group:port>', 'incremental feed B', '239.255.0.2:14311')
    .option('--snapshot <group:port>', 'market recovery (snapshot loop) feed', '239.255.0.3:14312')
    .option('--relay-udp <host:port...>', 'unicast UDP subscribers (raw packets, byte-exact)')
    .option('--relay-tcp <host:port>', 'listen for TCP subscribers (4-byte big-endian length + packet)')
    .option('--duration <seconds>', 'stop after this long (default: until Ctrl-C)')
    .option('--iface <ip>', 'multicast interface', '127.0.0.1')
    .option('--channel <id>', 'channel id: metrics dimension and TCP replay ApplID', '1')
    .option(
      '--metrics-port <port>',
      'serve Prometheus text at http://127.0.0.1:<port>/metrics (0: any free port)',
    )
    .option('--emf', 'CloudWatch embedded metric format: one JSON line per interval on stdout')
    .option('--metrics-interval <seconds>', 'seconds between EMF lines (and packets/s windows)', '10')
    .option('--replay <host:port>', 'TCP replay server: small gaps are requested from it')
    .option(
      '--replay-secret <arn>',
      'Secrets Manager secret {"username","password"} for the replay logon (with --aws)',
    )
    .option(
      '--replay-username <name>',
      'replay logon username; the password comes from QUANT_REPLAY_PASSWORD',
    )
    .option(
      '--replay-max-gap <n>',
      'gaps up to this many packets use TCP replay, larger the snapshot loop',
      '2000',
    )
    .option(
      '--kinesis <stream>',
      'put normalized events into this Kinesis stream (local cloud, or AWS with --aws)',
    )
    .option('--json', 'machine-readable summary')
    .option(
      '--books <kind>',
      'books to build: mbp (market by price), mbo (market by order; quotes from it) or both',
      'mbp',
    )
    .option(
      '--order-events <file>',
      'write every market-by-order book change as JSONL to this file (with --books mbo|both)',
    )
    .option(
      '--decoder <where>',
      'worker: decode on a worker thread so the relay never waits for it; inline: on the feed thread',
      'worker',
    )
    .action(feedRun);

  feed
    .command('replay')
    .description('replay the MDP packets of a capture to feeds A and B with rewritten sequence numbers')
    .requiredOption('--pcap <file>', 'a classic pcap capture of UDP MDP packets')
    .option('--feed-a <group:port>', 'feed A', '239.255.0.1:14310')
    .option('--feed-b <group:port>', 'feed B (omit to send on A only)')
    .option('--repeat <n>', 'times to send the capture', '1')
    .option('--rate <n>', 'packets per second', '10000')
    .option('--start-seq <n>', 'sequence number of the first packet sent', '1')
    .option('--iface <ip>', 'multicast interface', '127.0.0.1')
    .action(feedReplay);
}

async function feedDecode(opts: DecodeOptions): Promise<void> {
  const codec = new SbeCodec(loadSchema(opts.schema));
  const capture = readCapture(opts.pcap);
  const stats = newDecodeStats();
  const perTemplate = new Map<string, number>();
  let pending = '';
  for (const row of decodeCapture(codec, capture, stats, opts.pcap)) {
    if (opts.jsonl) {
      pending += messageJsonLine(row.packet, row.seq, row.sendingTime, row.message) + '\n';
      if (pending.length > 1 << 16) {
        await writeOut(pending);
        pending = '';
      }
    } else {
      const key = `${row.message.templateId} ${row.message.name}`;
      perTemplate.set(key, (perTemplate.get(key) ?? 0) + 1);
    }
  }
  if (pending) await writeOut(pending);
  const errors = totalErrors(stats);
  const errText = errors === 0 ? 'no errors' : `${errors} skipped: ${pairsText(stats.errors)}`;
  const summary = `${stats.records} records, ${stats.udpPackets} UDP packets, ${stats.tcpSegments} TCP segments, ${stats.decoded}/${stats.messages} messages decoded, ${errText}`;
  if (opts.jsonl) {
    process.stderr.write(`${summary}\n`);
  } else {
    const rows = [...perTemplate].map(([template, messages]) => ({ template, messages }));
    if (rows.length > 0) console.log(formatTable(rows));
    console.log(summary);
  }
}

async function feedSimulate(o: SimulateOptions): Promise<void> {
  const opts = {
    feedA: parseEndpoint(o.feedA, '--feed-a'),
    feedB: parseEndpoint(o.feedB, '--feed-b'),
    snapshot: o.snapshot ? parseEndpoint(o.snapshot, '--snapshot') : undefined,
    packets: int(o.packets, '--packets', { max: 1e9 }),
    rate: int(o.rate, '--rate', { max: 10_000_000 }),
    a: {
      loss: probability(o.lossA, '--loss-a'),
      dup: probability(o.dupA, '--dup-a'),
      reorder: probability(o.reorderA, '--reorder-a'),
    },
    b: {
      loss: probability(o.lossB, '--loss-b'),
      dup: probability(o.dupB, '--dup-b'),
      reorder: probability(o.reorderB, '--reorder-b'),
    },
    lossBoth: probability(o.lossBoth, '--loss-both'),
    seed: int(o.seed, '--seed', { max: 1e9 }),
    iface: o.iface,
    mbo: o.mbo === true,
  };
  const codec = new SbeCodec(loadSchema(o.schema));
  const r = await runSimulator(codec, opts);
  const summary = { packets: r.channel.lastSeq, sentA: r.sentA, sentB: r.sentB, lostOnBoth: r.lostBoth };
  if (o.json) printJson(summary);
  else
    console.log(
      `published ${summary.packets} packets: ${r.sentA} on A, ${r.sentB} on B, ${r.lostBoth} lost on both`,
    );
}

async function feedRun(o: RunOptions, cmd: Command): Promise<void> {
  const codec = new SbeCodec(loadSchema(o.schema));
  const relayUdp = endpoints(o.relayUdp, '--relay-udp');
  const relayTcp = o.relayTcp ? parseEndpoint(o.relayTcp, '--relay-tcp', true) : undefined;
  const duration = optionalInt(o.duration, '--duration', { max: 86_400 * 7 });
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(o.channel))
    throw new InputError(`--channel: "${o.channel}" is not a channel id (letters, digits, . _ -)`, 'channel');
  const metricsPort = optionalInt(o.metricsPort, '--metrics-port', { min: 0, max: 65535 });
  const metricsInterval = int(o.metricsInterval, '--metrics-interval', { max: 3600 });
  const books: BookKinds = oneOf(o.books, '--books', ['mbp', 'mbo', 'both']);
  const decoder = oneOf(o.decoder, '--decoder', ['worker', 'inline']);
  if (o.orderEvents !== undefined && books === 'mbp')
    throw new InputError('--order-events: needs market-by-order books (--books mbo or both)', 'order-events');
  const replayServer = o.replay ? parseEndpoint(o.replay, '--replay') : undefined;
  const maxGapPackets = int(o.replayMaxGap, '--replay-max-gap', { max: 1_000_000 });
  const globals = cmd.optsWithGlobals<GlobalOptions>();
  if (replayServer && o.replaySecret && o.replayUsername)
    throw new InputError('--replay-secret and --replay-username: give one of them', 'replay-secret');
  if (replayServer && !o.replaySecret && !o.replayUsername)
    throw new InputError(
      '--replay: the TCP replay service requires a logon: add --replay-secret <arn> (with --aws) or --replay-username <name> with QUANT_REPLAY_PASSWORD',
      'replay',
    );
  if (replayServer && o.replaySecret && !inAwsMode(globals))
    throw new InputError(
      '--replay-secret: Secrets Manager needs --aws (locally use --replay-username)',
      'replay-secret',
    );
  let ctx: PlatformContext | undefined;
  let credentials: ReplayCredentials | undefined;
  if (replayServer && o.replaySecret) {
    ctx = await openPlatform(globals);
    credentials = await replayCredentialsFromSecret(ctx.clients.secretsManager, o.replaySecret).catch(
      async (err: unknown) => {
        await ctx?.close();
        throw err;
      },
    );
  } else if (replayServer && o.replayUsername)
    credentials = replayCredentialsFromEnv(o.replayUsername, process.env);
  const replay =
    replayServer && credentials ? { server: replayServer, credentials, maxGapPackets } : undefined;
  let sink: ProducerEventSink | undefined;
  if (o.kinesis) {
    ctx ??= await openPlatform(globals);
    if (ctx.runtime.mode === 'local') await ensureStream(ctx.clients.kinesis, o.kinesis);
    sink = new ProducerEventSink(new TickProducer({ kinesis: ctx.clients.kinesis, streamName: o.kinesis }));
  }
  let orderOut: fs.WriteStream | undefined;
  if (o.orderEvents !== undefined) {
    let fd: number;
    try {
      fd = fs.openSync(o.orderEvents, 'w');
    } catch (err) {
      throw new InputError(
        `--order-events: cannot write ${o.orderEvents}: ${(err as Error).message}`,
        'order-events',
      );
    }
    orderOut = fs.createWriteStream('', { fd });
  }
  // With --emf, stdout carries only EMF documents; everything else goes to stderr.
  const say = (line: string): void => void (o.emf ? process.stderr : process.stdout).write(`${line}\n`);
  try {
    const runner = await FeedRunner.start(codec, {
      feedA: parseEndpoint(o.feedA, '--feed-a'),
      feedB: parseEndpoint(o.feedB, '--feed-b'),
      snapshot: o.snapshot ? parseEndpoint(o.snapshot, '--snapshot') : undefined,
      iface: o.iface,
      channel: o.channel,
      relay: relayUdp.length > 0 || relayTcp ? { udp: relayUdp, tcpListen: relayTcp } : undefined,
      onEvent: sink ? (e) => sink.push(e) : undefined,
      books,
      decoder,
      onOrder: orderOut ? (e) => void orderOut.write(`${jsonValue(e)}\n`) : undefined,
      replay,
      metrics:
        metricsPort !== undefined || o.emf
          ? {
              port: metricsPort,
              emf: o.emf ? (line) => void process.stdout.write(`${line}\n`) : undefined,
              intervalSeconds: metricsInterval,
            }
          : undefined,
      kinesisStats: sink ? () => sink.producerStats : undefined,
    });
    process.stderr.write(
      `feed handler running${runner.relay?.tcpPort ? `, TCP relay on port ${runner.relay.tcpPort}` : ''}${runner.metrics?.port ? `, metrics on http://127.0.0.1:${runner.metrics.port}/metrics` : ''}\n`,
    );
    await new Promise<void>((resolve) => {
      const stop = (): void => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      if (duration !== undefined) setTimeout(stop, duration * 1000).unref();
    });
    await runner.stop();
    const kinesis = sink ? await sink.close() : undefined;
    if (orderOut)
      await new Promise<void>((resolve, reject) =>
        orderOut.end((err?: Error | null) => (err ? reject(err) : resolve())),
      );
    const a = runner.sequencer.arbiter.stats;
    const recovery = runner.recoveryStats();
    const engine = runner.engineStats();
    const { trades, quotes } = runner.events;
    const summary = {
      packetsA: a.feeds.A.packets,
      packetsB: a.feeds.B.packets,
      delivered: a.delivered,
      duplicates: a.feeds.A.duplicates + a.feeds.B.duplicates,
      gaps: a.gaps,
      recoveries: recovery.completed,
      replayRecovered: recovery.replayRecovered,
      replayFailed: recovery.replayFailed,
      trades,
      quotes,
      orderEvents: orderOut ? runner.events.orders : undefined,
      decodeErrors: engine.decodeStats.errors,
      orderBooks: engine.orderBooks && {
        instruments: engine.orderBooks.instruments,
        orders: engine.orderBooks.orders,
        ...engine.orderBooks.stats,
      },
      decoder: runner.decoderThread && { ...runner.decoderThread.stats },
      relay: runner.relay?.stats,
      kinesis: kinesis && {
        stream: o.kinesis,
        eventsSent: kinesis.eventsSent,
        records: kinesis.recordsSent,
        dropped: sink!.stats.dropped,
      },
    };
    if (o.json) say(JSON.stringify(summary, null, 2));
    else
      say(
        `received A ${summary.packetsA}, B ${summary.packetsB}; delivered ${summary.delivered}, duplicates ${summary.duplicates}, gaps ${summary.gaps} (${summary.replayRecovered} replayed), recoveries ${summary.recoveries}, events ${trades + quotes}${kinesis ? `, ${kinesis.eventsSent} events in ${kinesis.recordsSent} Kinesis records` : ''}`,
      );
  } finally {
    await ctx?.close();
  }
}

async function feedReplay(o: ReplayCliOptions): Promise<void> {
  const startSeq = int(o.startSeq, '--start-seq', { max: 0xffffffff });
  const r = await replayCapture(readCapture(o.pcap), {
    feedA: parseEndpoint(o.feedA, '--feed-a'),
    feedB: o.feedB ? parseEndpoint(o.feedB, '--feed-b') : undefined,
    repeat: int(o.repeat, '--repeat', { max: 1e9 }),
    rate: int(o.rate, '--rate', { max: 10_000_000 }),
    startSeq,
    iface: o.iface,
  });
  console.log(`replayed ${r.packets} packets, sequence ${startSeq}..${r.lastSeq}`);
}
