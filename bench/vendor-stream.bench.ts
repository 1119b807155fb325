/**
 * `npm run bench -- vendor-stream`: ticks through one vendor adapter (Polygon protocol) into local
 * Kinesis (kinesalite), end to end: WebSocket frames from the simulator (a child process) -> JSON
 * parse -> validate -> de-dup -> normalise -> TickProducer (KPL aggregation, PutRecords) -> acknowledged.
 *
 * 1. Throughput: the simulator sends VENDOR_BENCH_TICKS trades (default 300,000; 10 symbols, 50 per
 *    frame) as fast as the client reads them. Reported: ticks/s (wall) and ticks per CPU-second of the
 *    adapter's process (its main thread does all the work; kinesalite and the simulator run in other
 *    processes), against the goal of 50,000 ticks/s per core.
 * 2. Latency: 10,000 ticks/s (the design's rate) for VENDOR_BENCH_PACED_SECONDS (default 5):
 *    p99 of receive -> Kinesis acknowledgement. The session measures it per drained batch from the
 *    batch's first (oldest) receive time, so it is an upper bound for the batch's other ticks.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClients } from '../src/aws/clients';
import { ensureStream } from '../src/ingest/runner';
import { LocalCloud } from '../src/local/cloud';
import { polygon } from '../src/vendor-stream/polygon';
import { MemoryQuarantine } from '../src/vendor-stream/quarantine';
import { VendorStream, p99 } from '../src/vendor-stream/session';

const N = Number(process.env.VENDOR_BENCH_TICKS ?? 300_000);
const PACED_S = Number(process.env.VENDOR_BENCH_PACED_SECONDS ?? 5);
const SYMBOLS = ['AAA', 'BBB', 'CCC', 'DDD', 'EEE', 'FFF', 'GGG', 'HHH', 'III', 'JJJ'];
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

function child(): Promise<{ proc: ChildProcess; port: number }> {
  const proc = fork(path.join(import.meta.dirname, 'vendor-stream-sim.ts'), ['polygon'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve) =>
    proc.once('message', (m: { port: number }) => resolve({ proc, port: m.port })),
  );
}

const ask = (proc: ChildProcess, msg: object): Promise<{ sent: number }> =>
  new Promise((resolve) => {
    proc.once('message', (m: { sent: number }) => resolve(m));
    proc.send(msg);
  });

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 2));
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vendor-bench-'));
const cloud = await LocalCloud.start({ dataDir, services: ['kinesis'] });
const clients = createClients(cloud.runtime);
const { proc, port } = await child();
try {
  console.log(
    `load average at start: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  for (const [phase, stream] of [
    ['throughput', 'vendor-bench-a'],
    ['latency', 'vendor-bench-b'],
  ] as const) {
    await ensureStream(clients.kinesis, stream, 4);
    const s = new VendorStream({
      adapter: polygon,
      key: { id: 'test-key' },
      symbols: SYMBOLS,
      channels: ['trades'],
      url: `ws://127.0.0.1:${port}`,
      restUrl: `http://127.0.0.1:${port}`,
      kinesis: clients.kinesis,
      streamName: stream,
      quarantine: new MemoryQuarantine(),
      // A full-speed blast backs up into the socket, not into these queues: keep them default-sized.
    });
    await s.start();
    if (phase === 'throughput') {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const sent = ask(proc, { blast: N / 50 });
      await until(() => s.snapshot().published >= N);
      const secs = (performance.now() - t0) / 1000;
      const c = process.cpuUsage(c0);
      const cpu = (c.user + c.system) / 1e6;
      await sent;
      const lat = s.takeInterval();
      const st = await s.stop();
      console.log(
        `throughput: ${fmt(N)} ticks in ${secs.toFixed(2)} s = ${fmt(N / secs)} ticks/s wall; adapter process CPU ${cpu.toFixed(2)} s = ${fmt(N / cpu)} ticks per CPU-second; p99 receive->Kinesis under the blast ${lat.latencyReceiveP99?.toFixed(1)} ms; drops ${st.drops}`,
      );
      console.log(
        `GOAL ${N / cpu >= 50_000 ? 'MET' : 'MISSED'}: >= 50,000 ticks/s per core through one adapter into local Kinesis (measured: ${fmt(N / cpu)} ticks per CPU-second, ${fmt(N / secs)}/s wall)`,
      );
    } else {
      const rate = 10_000;
      const sent = await ask(proc, { pace: rate, seconds: PACED_S });
      await until(() => s.snapshot().published >= sent.sent);
      const lat = s.takeInterval();
      await s.stop();
      console.log(
        `latency at ${fmt(rate)} ticks/s for ${PACED_S} s: p99 receive->Kinesis ack ${lat.latencyReceiveP99?.toFixed(1)} ms (producer linger 50 ms included)`,
      );
    }
  }
  void p99;
  console.log(
    `load average at end: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
} finally {
  proc.send({ stop: true });
  clients.destroy();
  await cloud.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
