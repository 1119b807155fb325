/**
 * Feed relay benchmark: multicast -> unicast relay on loopback at 10k, 50k and 100k
 * packets/s. Loss and added latency (p50/p99/p99.9) of our relay next to `socat` relaying the same
 * stream in the same run, over a "direct" baseline (the subscriber joins the group itself).
 *
 * One process sends and receives, so send and receive times come from one clock: a worker thread
 * paces the sender (busy-wait, due packets computed from the elapsed time) and stamps
 * process.hrtime.bigint() into each packet's SendingTime; the main thread is the subscriber. The relay
 * under test runs in a child process (its own core, as socat has): this file re-run with
 * `--relay-child`. The packet has the real v9 capture's shape (1,196 bytes, 2 messages, 39 entries;
 * bench/feed-packet.ts, the project's schema) with a rewritten MsgSeqNum.
 *
 * All relays run for the whole of a rate, each on its own multicast group (an idle relay costs
 * nothing); the paths take turns in 1-second slices (FEED_RELAY_SECONDS of them per path) so drifts in
 * the shared machine's load hit every path alike. A packet not at the subscriber 300 ms after the
 * slice's last send counts as lost. Paths:
 * - direct: sender -> multicast -> subscriber (the baseline);
 * - ours, handler: `FeedRunner` (arbitration, full decode, books, relay), the stream on feed A,
 *   decoding inline (on the relay's thread);
 * - ours, handler + decoder worker: the same, decoding on a worker thread (what `quant feed run` does);
 * - ours, relay only: the same sockets, arbiter and `Relay` without decoding (the relay path itself);
 * - socat: `socat -u UDP4-RECV:... UDP4-SENDTO:...` (skipped, with a message, when not installed).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import { Arbiter } from '../src/feed/arbiter';
import { joinMulticast, Relay, type Endpoint } from '../src/feed/net';
import { buildPacket } from '../src/feed/packet';
import { PROJECT_SCHEMA_PATH } from '../src/feed/project-schema';
import { FeedRunner } from '../src/feed/simulator';
import { SbeCodec } from '../src/sbe/codec';
import { loadSchema } from '../src/sbe/schema';
import { bookCapturePacket } from './feed-packet';

const SCHEMA = PROJECT_SCHEMA_PATH;
const SECONDS = Number(process.env.FEED_RELAY_SECONDS ?? 3);
const WARMUP_SECONDS = 0.5;
const RATES = (process.env.FEED_RELAY_RATES ?? '10000,50000,100000').split(',').map(Number);
const RECV_BUFFER = 8 << 20;

type ChildMode = 'handler' | 'handler-worker' | 'relay';
interface ChildConfig {
  readonly mode: ChildMode;
  readonly feedA: Endpoint;
  readonly feedB: Endpoint;
  readonly subscriber: Endpoint;
}

// ---------------------------------------------------------------------------------------------------
// Child: the relay under test. Prints "ready", then on stdin EOF prints its counters as JSON and exits.
async function relayChild(cfg: ChildConfig): Promise<void> {
  let stats: () => unknown;
  let stop: () => Promise<void>;
  if (cfg.mode === 'handler' || cfg.mode === 'handler-worker') {
    let events = 0;
    const runner = await FeedRunner.start(new SbeCodec(loadSchema(SCHEMA)), {
      feedA: cfg.feedA,
      feedB: cfg.feedB,
      relay: { udp: [cfg.subscriber] },
      // No snapshot loop here: start live (books fill from the incremental feed).
      recoverAtStart: false,
      onEvent: () => events++,
      decoder: cfg.mode === 'handler-worker' ? 'worker' : 'inline',
    });
    stats = () => {
      const e = runner.engineStats();
      return {
        delivered: runner.sequencer.arbiter.stats.delivered,
        gaps: runner.sequencer.arbiter.stats.gaps,
        recoveries: e.recovery.started,
        decodeErrors: e.decodeStats.errors,
        events,
        decoder: runner.decoderThread?.stats,
        relay: runner.relay?.stats,
      };
    };
    stop = () => runner.stop();
  } else {
    const relay = await Relay.start({ udp: [cfg.subscriber] });
    const arbiter = new Arbiter((p) => relay.send(p.buf));
    const receivers = [
      await joinMulticast(cfg.feedA, (b) => arbiter.onPacket('A', b)),
      await joinMulticast(cfg.feedB, (b) => arbiter.onPacket('B', b)),
    ];
    const timer = setInterval(() => arbiter.poll(), 5);
    stats = () => ({ delivered: arbiter.stats.delivered, gaps: arbiter.stats.gaps, relay: relay.stats });
    stop = async () => {
      clearInterval(timer);
      await Promise.all(receivers.map((r) => r.close()));
      await relay.close();
    };
  }
  // Where a stall comes from: the longest event-loop delay and the longest GC pause of the relay.
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  let maxGcMs = 0;
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) maxGcMs = Math.max(maxGcMs, e.duration);
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  process.stdout.write('ready\n');
  process.stdin.resume();
  await new Promise<void>((resolve) => process.stdin.once('end', () => resolve()));
  gcObserver.disconnect();
  const s = {
    ...(stats() as object),
    rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
    maxLoopDelayMs: Math.round(loopDelay.max / 1e6),
    maxGcMs: Math.round(maxGcMs),
  };
  await stop();
  process.stdout.write(`${JSON.stringify(s)}\n`);
}

// ---------------------------------------------------------------------------------------------------
// Sender worker (plain JS): connected socket, so send() goes out synchronously (no address lookup).
const SENDER = `
const { parentPort } = require('node:worker_threads');
const dgram = require('node:dgram');
parentPort.on('message', async (m) => {
  const s = dgram.createSocket('udp4');
  await new Promise((r) => s.bind(0, '127.0.0.1', r));
  s.setMulticastInterface('127.0.0.1');
  s.setMulticastTTL(0);
  try { s.setSendBufferSize(${RECV_BUFFER}); } catch {}
  s.connect(m.port, m.host);
  await new Promise((r) => s.once('connect', r));
  // A ring of copies: a send the kernel could not take at once still references its buffer.
  const ring = Array.from({ length: 4096 }, () => Buffer.from(m.packet));
  const total = m.count;
  const t0 = process.hrtime.bigint();
  let sent = 0, errors = 0, lagMax = 0, lastYield = t0;
  s.on('error', () => errors++);
  while (sent < total) {
    const now = process.hrtime.bigint();
    const elapsed = Number(now - t0);
    const due = Math.min(total, Math.floor((elapsed * m.rate) / 1e9) + 1);
    if (due - sent > lagMax) lagMax = due - sent;
    while (sent < due) {
      const b = ring[sent & 4095];
      b.writeUInt32LE(m.firstSeq + sent, 0);
      b.writeBigUInt64LE(process.hrtime.bigint(), 4);
      s.send(b);
      sent++;
    }
    // Let libuv complete send requests about once a millisecond.
    if (now - lastYield > 1000000n) {
      lastYield = now;
      await new Promise((r) => setImmediate(r));
    }
  }
  const t1 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, 20));
  s.close();
  parentPort.postMessage({ sent, seconds: Number(t1 - t0) / 1e9, lagMax, errors });
});
`;

interface SendResult {
  sent: number;
  seconds: number;
  lagMax: number;
  errors: number;
}

function send(worker: Worker, packet: Buffer, to: Endpoint, rate: number, count: number, firstSeq: number) {
  return new Promise<SendResult>((resolve) => {
    worker.once('message', resolve);
    worker.postMessage({ packet, host: to.host, port: to.port, rate, count, firstSeq });
  });
}

// ---------------------------------------------------------------------------------------------------
// Subscriber: records latency by sequence number for the measured window.
class Window {
  latency = new Float64Array(0);
  got = new Uint8Array(0);
  first = 0;
  dup = 0;
  arm(first: number, n: number): void {
    this.first = first;
    this.latency = new Float64Array(n);
    this.got = new Uint8Array(n);
    this.dup = 0;
  }
  onPacket(b: Buffer): void {
    const t = process.hrtime.bigint();
    const i = b.readUInt32LE(0) - this.first;
    if (i < 0 || i >= this.got.length) return;
    if (this.got[i]) {
      this.dup++;
      return;
    }
    this.got[i] = 1;
    this.latency[i] = Number(t - b.readBigUInt64LE(4)) / 1000;
  }
  /** Latencies (µs) of the packets received in this window, and the count of those missing. */
  collect(into: number[]): number {
    let lost = 0;
    for (let i = 0; i < this.got.length; i++)
      if (this.got[i]) into.push(this.latency[i]);
      else lost++;
    return lost;
  }
}

function percentiles(l: readonly number[]): { p50: number; p99: number; p999: number } {
  const sorted = Float64Array.from(l).sort();
  const q = (p: number): number =>
    sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return { p50: q(0.5), p99: q(0.99), p999: q(0.999) };
}

async function udpSubscriber(win: Window): Promise<{ socket: dgram.Socket; port: number }> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  socket.setRecvBufferSize(RECV_BUFFER);
  socket.on('message', (b) => win.onPacket(b));
  return { socket, port: socket.address().port };
}

/** utime + stime of a process in seconds (Linux /proc). */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Waits (at most 5 s) until these processes use less than 10% of a core over 200 ms. */
async function quiet(pids: readonly (number | undefined)[]): Promise<void> {
  const end = Date.now() + 5000;
  while (Date.now() < end) {
    const before = pids.map(cpuSeconds);
    await new Promise((r) => setTimeout(r, 200));
    if (pids.every((p, i) => !(cpuSeconds(p) - before[i] > 0.02))) return;
  }
}

async function startChild(cfg: ChildConfig): Promise<{ child: ChildProcess; done: Promise<string> }> {
  const child = spawn(
    process.execPath,
    // Heap capped: with no snapshot loop here a gap leaves the handler recovering, queueing every
    // decoded message (~3 KB each for this packet), which must not eat the shared machine's memory.
    [
      '--max-old-space-size=2048',
      // e.g. FEED_RELAY_CHILD_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the relay
      ...(process.env.FEED_RELAY_CHILD_FLAGS ?? '').split(' ').filter(Boolean),
      '--import',
      'tsx',
      import.meta.filename,
      '--relay-child',
      JSON.stringify(cfg),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! });
  const it = lines[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.value !== 'ready') throw new Error(`relay child did not start: ${String(first.value)}`);
  const done = it.next().then((r) => String(r.value));
  return { child, done };
}

async function startSocat(group: Endpoint, subPort: number): Promise<ChildProcess> {
  const child = spawn(
    'socat',
    [
      '-u',
      `UDP4-RECV:${group.port},bind=${group.host},ip-add-membership=${group.host}:127.0.0.1,reuseaddr,rcvbuf=${RECV_BUFFER}`,
      `UDP4-SENDTO:127.0.0.1:${subPort}`,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  // Our relay children exit when their stdin closes; socat would outlive a crashed bench.
  const kill = (): void => void child.kill('SIGTERM');
  process.once('exit', kill);
  child.once('exit', () => process.off('exit', kill));
  await new Promise((r) => setTimeout(r, 300)); // socat has no ready signal; it binds at once
  if (child.exitCode !== null) throw new Error(`socat exited with ${child.exitCode}`);
  return child;
}

async function main(): Promise<void> {
  const codec = new SbeCodec(loadSchema(SCHEMA));
  const packet = bookCapturePacket(codec);
  const channelReset = buildPacket(0, 0n, [
    codec.encode('ChannelReset4', {
      TransactTime: 0n,
      MatchEventIndicator: ['EndOfEvent'],
      NoMDEntries: [{ ApplID: 1 }],
    }),
  ]);
  const socatAvailable = spawnSync('socat', ['-V'], { stdio: 'ignore' }).error === undefined;
  const base = 20000 + Math.floor(Math.random() * 30000);
  const group = (n: number): Endpoint => ({ host: `239.255.${(base >> 8) & 0xff}.${n}`, port: base });
  const G = {
    direct: group(1),
    oursA: group(2),
    oursB: group(3),
    oursA2: group(4),
    oursB2: group(5),
    socat: group(6),
    oursA3: group(7),
    oursB3: group(8),
  };

  const win = new Window();
  const direct = await joinMulticast(G.direct, (b) => win.onPacket(b));
  direct.socket.setRecvBufferSize(RECV_BUFFER);
  const sub = await udpSubscriber(win);
  const worker = new Worker(SENDER, { eval: true });

  console.log(
    `packet: ${packet.length} bytes (v9 capture's shape, 2 messages); ${SECONDS} x 1 s measured per path (paths interleaved) after ${WARMUP_SECONDS}s warm-up; load average ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  if (!socatAvailable)
    console.log('peer unavailable: socat is not installed (apt-get install socat); not measured');

  type Path = 'direct' | 'ours, handler' | 'ours, handler + decoder worker' | 'ours, relay only' | 'socat';
  const paths: Path[] = ['direct', 'ours, handler', 'ours, handler + decoder worker', 'ours, relay only'];
  if (socatAvailable) paths.push('socat');
  const groupOf: Record<Path, Endpoint> = {
    direct: G.direct,
    'ours, handler': G.oursA,
    'ours, handler + decoder worker': G.oursA3,
    'ours, relay only': G.oursA2,
    socat: G.socat,
  };
  const rows: string[] = [];
  // Each path has its own contiguous sequence (in a range of its own, so a straggler can never land
  // in another path's window): a jump would look like a gap to the arbiter and hold packets back.
  const seqOf = new Map(paths.map((p, i) => [p, 1 + i * 1e9]));
  for (const rate of RATES) {
    // Every relay runs for the whole rate, each on its own group (idle while another path is
    // measured); the paths take turns in 1-second slices so background load drifts hit all alike.
    const stops: Partial<Record<Path, () => Promise<string>>> = {};
    const pids: Partial<Record<Path, number>> = {};
    for (const p of paths) {
      if (p === 'socat') {
        const c = await startSocat(G.socat, sub.port);
        pids[p] = c.pid;
        stops[p] = async () => {
          c.kill('SIGTERM');
          await new Promise((r) => c.once('exit', r));
          return '';
        };
      } else if (p !== 'direct') {
        const mode: ChildMode =
          p === 'ours, handler' ? 'handler' : p === 'ours, relay only' ? 'relay' : 'handler-worker';
        const feeds = {
          handler: [G.oursA, G.oursB],
          relay: [G.oursA2, G.oursB2],
          'handler-worker': [G.oursA3, G.oursB3],
        }[mode];
        const { child, done } = await startChild({
          mode,
          feedA: feeds[0]!,
          feedB: feeds[1]!,
          subscriber: { host: '127.0.0.1', port: sub.port },
        });
        pids[p] = child.pid;
        stops[p] = async () => {
          child.stdin!.end();
          const s = await done;
          await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(null)));
          return s;
        };
      }
    }
    const acc = new Map<
      Path,
      { lat: number[]; lost: number; n: number; sent: number; secs: number; cpu: number }
    >();
    for (const p of paths) {
      const w = await send(
        worker,
        packet,
        groupOf[p],
        rate,
        Math.round(rate * WARMUP_SECONDS),
        seqOf.get(p)!,
      );
      seqOf.set(p, seqOf.get(p)! + w.sent);
      acc.set(p, { lat: [], lost: 0, n: 0, sent: 0, secs: 0, cpu: 0 });
    }
    await quiet(Object.values(pids));
    for (let slice = 0; slice < SECONDS; slice++) {
      for (const p of paths) {
        const a = acc.get(p)!;
        const n = rate;
        if (p === 'ours, handler' || p === 'ours, handler + decoder worker') {
          // Without a snapshot loop here, a gap (one lost packet) would leave the handler recovering
          // (queueing every decoded message) for good; a ChannelReset ends that, so each slice starts
          // live as after a completed recovery.
          const r = await send(worker, channelReset, groupOf[p], rate, 1, seqOf.get(p)!);
          seqOf.set(p, seqOf.get(p)! + r.sent);
        }
        // A relay still working off the previous slice's backlog would steal this slice's CPU.
        await quiet(Object.values(pids));
        const seq = seqOf.get(p)!;
        win.arm(seq, n);
        const cpu0 = cpuSeconds(pids[p]);
        const s = await send(worker, packet, groupOf[p], rate, n, seq);
        seqOf.set(p, seq + s.sent);
        await new Promise((r) => setTimeout(r, 300)); // stragglers
        a.cpu += cpuSeconds(pids[p]) - cpu0;
        a.lost += win.collect(a.lat);
        a.n += n;
        a.sent += s.sent;
        a.secs += s.seconds;
      }
    }
    const load = os.loadavg()[0].toFixed(1);
    const base = percentiles(acc.get('direct')!.lat);
    for (const p of paths) {
      const a = acc.get(p)!;
      const r = percentiles(a.lat);
      const childStats = await stops[p]?.();
      const us = (x: number): string => (Number.isNaN(x) ? '-' : x.toFixed(0));
      const added = (x: number, b: number): string => (p === 'direct' ? '-' : us(x - b));
      rows.push(
        `| ${rate / 1000}k | ${p} | ${(a.sent / a.secs / 1000).toFixed(1)}k | ${a.lost} (${((100 * a.lost) / a.n).toFixed(2)}%) | ${us(r.p50)} / ${us(r.p99)} / ${us(r.p999)} | ${added(r.p50, base.p50)} / ${added(r.p99, base.p99)} / ${added(r.p999, base.p999)} | ${Number.isNaN(a.cpu) ? '-' : ((a.cpu * 1e6) / (a.n - a.lost)).toFixed(1)} | ${load} |`,
      );
      console.log(rows[rows.length - 1], childStats ? `child: ${childStats}` : '');
    }
  }
  await worker.terminate();
  await direct.close();
  sub.socket.close();
  console.log(
    '\n| rate | path | sent/s | lost | latency µs p50 / p99 / p99.9 | added vs direct µs p50 / p99 / p99.9 | relay CPU µs per packet delivered | load (1 min) |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
}

if (process.argv[2] === '--relay-child') await relayChild(JSON.parse(process.argv[3]) as ChildConfig);
else await main();
