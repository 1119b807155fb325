/**
 * Lake benchmark: write 10 million synthetic ticks as Hive-partitioned Parquet into the
 * local S3 server through the lake writer (rows/s), then a per-symbol per-day VWAP query over them
 * through the query interface (DuckDB). Goals: >= 1M rows/s written, VWAP query < 1 s. The same
 * rows are also written through DuckDB's Parquet COPY, in the same run, for comparison.
 *
 * The machine is shared, so beside wall-clock rates this prints the CPU seconds spent: this process
 * (DuckDB's threads included) plus the local S3 server's process (it receives every PUT), read from
 * /proc. Rows per CPU second does not depend on what else runs on the machine.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClients } from '../src/aws/clients';
import { lakeBuckets } from '../src/lake/buckets';
import { DuckDbQueryEngine } from '../src/lake/query';
import { BARS, TICKS } from '../src/contract/lake';
import { writeTable } from '../src/lake/writer';
import { LocalCloud } from '../src/local/cloud';
import { mulberry32, normals } from '../src/synthetic/random';

const TOTAL = Number(process.env.LAKE_BENCH_ROWS ?? 10_000_000);
const BATCH = 1_000_000;
const SYMBOLS = ['ES', 'NQ', 'YM', 'RTY', 'CL', 'GC', 'ZN', 'ZB', '6E', '6J'];
const DAYS = ['2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20'];

/** One batch of ticks: half a trading day of all symbols, interleaved as a feed would deliver them. */
function makeBatch(batchNo: number, n: number) {
  const u = mulberry32(1000 + batchNo);
  const z = normals(u);
  const day = DAYS[Math.floor(batchNo / 2) % DAYS.length];
  const dayStartNs =
    BigInt(Date.parse(`${day}T14:30:00Z`)) * 1_000_000n + BigInt(batchNo % 2) * 11_700_000_000_000n;
  const symbol = new Array<string>(n);
  const dt = new Array<string>(n).fill(day);
  const venue = new Array<string>(n).fill('XCME');
  const type = new Array<string>(n);
  const exchangeTs = new BigInt64Array(n);
  const receiveTs = new BigInt64Array(n);
  const seq = new BigInt64Array(n);
  const price = new Float64Array(n);
  const size = new Float64Array(n);
  const bid = new Float64Array(n);
  const bidSize = new Float64Array(n);
  const ask = new Float64Array(n);
  const askSize = new Float64Array(n);
  const last = SYMBOLS.map((_, i) => 100 + 10 * i);
  for (let i = 0; i < n; i++) {
    const s = i % SYMBOLS.length;
    symbol[i] = SYMBOLS[s];
    last[s] *= 1 + 0.0001 * z();
    const ts = dayStartNs + BigInt(i) * 11_700n;
    exchangeTs[i] = ts;
    receiveTs[i] = ts + 25_000n;
    seq[i] = BigInt(batchNo * BATCH + i);
    const trade = (i & 3) === 0;
    type[i] = trade ? 'trade' : 'quote';
    price[i] = trade ? last[s] : NaN;
    size[i] = trade ? 1 + Math.floor(u() * 20) : NaN;
    bid[i] = last[s] - 0.25;
    ask[i] = last[s] + 0.25;
    bidSize[i] = 1 + Math.floor(u() * 50);
    askSize[i] = 1 + Math.floor(u() * 50);
  }
  return {
    length: n,
    columns: {
      venue,
      type,
      exchange_ts: exchangeTs,
      receive_ts: receiveTs,
      seq,
      price, // NaN (quotes) is stored as NULL
      size,
      bid,
      bid_size: bidSize,
      ask,
      ask_size: askSize,
      dt,
      symbol,
    },
  };
}

/** CPU seconds (user + system) of another process, from /proc (0 where /proc is missing). */
function procCpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return 0;
  }
}
const selfCpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const load = (): string =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lake-bench-'));
const cloud = await LocalCloud.start({ dataDir });
const clients = createClients(cloud.runtime);
const writer = { clients, buckets: lakeBuckets(cloud.runtime), tmpDir: dataDir };
console.log(`load average at start: ${load()}`);
/**
 * Writes TOTAL ticks batch by batch (generation not timed); wall time and CPU seconds of this
 * process (thread pool and DuckDB threads included) plus the S3 server's.
 */
async function timedWrite(table: typeof TICKS, appendEncoder: 'js' | 'duckdb') {
  let genMs = 0;
  let writeMs = 0;
  let writeCpu = 0;
  let serverCpu = 0;
  let bytes = 0;
  let files = 0;
  for (let b = 0; b * BATCH < TOTAL; b++) {
    const n = Math.min(BATCH, TOTAL - b * BATCH);
    let t = performance.now();
    const batch = makeBatch(b, n);
    genMs += performance.now() - t;
    t = performance.now();
    const cpu0 = selfCpuSeconds();
    const server0 = procCpuSeconds(cloud.pid);
    const r = await writeTable(writer, table, batch, {
      mode: 'append',
      appendEncoder,
      fileName: `bench-${String(b).padStart(4, '0')}`,
    });
    writeMs += performance.now() - t;
    writeCpu += selfCpuSeconds() - cpu0;
    serverCpu += procCpuSeconds(cloud.pid) - server0;
    bytes += r.bytes;
    files += r.keys.length;
  }
  return { genMs, writeMs, writeCpu, serverCpu, bytes, files };
}

function report(label: string, r: Awaited<ReturnType<typeof timedWrite>>): number {
  const rate = (TOTAL / r.writeMs) * 1000;
  const cpu = r.writeCpu + r.serverCpu;
  console.log(
    `${label}: ${TOTAL.toLocaleString('en-US')} ticks in ${r.files} objects, ${(r.bytes / 2 ** 20).toFixed(0)} MiB, ${(r.writeMs / 1000).toFixed(2)} s = ${(rate / 1e6).toFixed(2)}M rows/s wall`,
  );
  console.log(
    `${' '.repeat(label.length)}  CPU ${cpu.toFixed(2)} s (${r.writeCpu.toFixed(2)} writer + ${r.serverCpu.toFixed(2)} S3 server) = ${(TOTAL / cpu / 1e6).toFixed(2)}M rows per CPU second; generation ${(r.genMs / 1000).toFixed(2)} s not counted; load after ${load()}`,
  );
  return rate;
}

try {
  const js = report('JS encoder (the lake writer)', await timedWrite(TICKS, 'js'));
  // The same rows through DuckDB's COPY (the writer's previous append path, and its merge path),
  // under another prefix so the VWAP query below reads the 10M ticks once.
  const duck = report(
    'DuckDB COPY (reference)    ',
    await timedWrite({ ...TICKS, prefix: 'ticks-duckdb-reference' }, 'duckdb'),
  );
  console.log(
    `lake write: ${(js / 1e6).toFixed(2)}M rows/s (goal >= 1M rows/s), ${(js / duck).toFixed(2)}x DuckDB COPY`,
  );

  // Merge mode (bar imports), single writer: the path that concurrency control guards. 8 symbols x
  // 4,000 days = 88 partitions; each import into an empty table, then the same rows again (every
  // partition read back and merged). Medians of 3.
  const mergeRuns = { fresh: [] as number[], again: [] as number[] };
  const mergeCpu = { fresh: [] as number[], again: [] as number[] };
  for (let rep = 0; rep < 3; rep++) {
    const bars = { ...BARS, prefix: `bars-bench-${rep}` };
    const n = 8 * 4_000;
    const u = mulberry32(77 + rep);
    const ts = Array.from({ length: n }, (_, i) => Date.UTC(2000, 0, 3) + (i % 4_000) * 86_400_000);
    const close = Array.from({ length: n }, () => 100 + u());
    const rows = {
      length: n,
      columns: {
        ts,
        open: close,
        high: close.map((c) => c + 1),
        low: close.map((c) => c - 1),
        close,
        volume: close.map(() => 1_000),
        vwap: new Array(n).fill(null),
        trades: new Array(n).fill(null),
        interval: new Array(n).fill('1d'),
        symbol: Array.from({ length: n }, (_, i) => `S${Math.floor(i / 4_000)}`),
        year: ts.map((t) => new Date(t).getUTCFullYear()),
      },
    };
    for (const k of ['fresh', 'again'] as const) {
      const t = performance.now();
      const c = selfCpuSeconds() + procCpuSeconds(cloud.pid);
      await writeTable(writer, bars, rows, { mode: 'merge' });
      mergeRuns[k].push(performance.now() - t);
      mergeCpu[k].push((selfCpuSeconds() + procCpuSeconds(cloud.pid) - c) * 1000);
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[1];
  console.log(
    `merge import CPU (writer + S3 server): into an empty table ${median(mergeCpu.fresh).toFixed(0)} ms, again over them ${median(mergeCpu.again).toFixed(0)} ms (median of 3)`,
  );
  console.log(
    `merge import, 32,000 bars in 88 partitions: into an empty table ${median(mergeRuns.fresh).toFixed(0)} ms, again over them ${median(mergeRuns.again).toFixed(0)} ms (median of 3; all ${[...mergeRuns.fresh, ...mergeRuns.again].map((x) => x.toFixed(0)).join(', ')} ms); load ${load()}`,
  );

  const engine = await DuckDbQueryEngine.create(cloud.runtime);
  const sql = `SELECT symbol, dt, sum(price * size) / sum(size) AS vwap, sum(size) AS volume, count(*) AS trades
               FROM ticks WHERE type = 'trade' GROUP BY symbol, dt ORDER BY symbol, dt`;
  const times: number[] = [];
  const cpus: number[] = [];
  let rows = 0;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const c = selfCpuSeconds();
    rows = (await engine.query(sql)).length;
    times.push(performance.now() - t);
    cpus.push(selfCpuSeconds() - c);
  }
  const pruned = performance.now();
  await engine.query(
    `SELECT sum(price * size) / sum(size) AS vwap FROM ticks WHERE symbol = 'ES' AND dt = DATE '2026-11-18' AND type = 'trade'`,
  );
  const prunedMs = performance.now() - pruned;
  console.log(
    `VWAP per symbol per day: ${rows} groups over ${TOTAL.toLocaleString('en-US')} ticks: first ${times[0].toFixed(0)} ms, median of next 4 ${[...times.slice(1)].sort((a, b) => a - b)[2].toFixed(0)} ms (goal < 1000 ms)`,
  );
  console.log(
    `VWAP query CPU (DuckDB threads included): median of next 4 ${([...cpus.slice(1)].sort((a, b) => a - b)[2] * 1000).toFixed(0)} ms`,
  );
  console.log(`one symbol-day VWAP (partition pruned): ${prunedMs.toFixed(0)} ms`);
  console.log(`load average at end: ${load()}`);
  await engine.close();
} finally {
  clients.destroy();
  await cloud.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
