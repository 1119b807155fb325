/**
 * What a user waits for, each figure beside its peer in the same run:
 *   C1 `quant --version`, `quant --help`, with `node -e 0` and `python3 -c pass` as the floor
 *   C2 `quant backtest` sma-cross 20/50 over sp500-2000.csv (5,105 bars, --json) against the same
 *      backtest in pandas (bench/peers/backtest_pandas.py): CPU of the process tree; metrics checked
 *   C3 `quant backtest sweep` of the 4,851 pairs fast<slow in 2..100 over the same bars, results
 *      into the lake (a fresh local cloud per run), against numba (bench/peers/sweep_numba.py):
 *      wall time; the top result checked; our compute time against the total
 *   K1 the fused sma-cross kernel over 1e6 GBM bars: the JS loop, the WebAssembly kernel (copying
 *      the closes in on every call, and over closes already in its memory, as numba's array is) and
 *      the same loop compiled by numba (bench/peers/k1_numba.py), one core and all cores
 * Python peers run under /usr/bin/python3; a peer whose packages are missing is skipped with the
 * reason printed. CPU and wall times of whole commands come from GNU time (/usr/bin/time): user +
 * system of the process and the children it waited for.
 * Run: npm run bench -- cli (CLI_BENCH_ONLY=K1 runs the kernel figures alone; CLI_BENCH_REPS=n)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { smaCrossGrid, smaCrossSummary, smaCrossSummaryJs } from '../src/backtest/kernel';
import { smaCrossStatsWasm, wasmSeries } from '../src/backtest/kernel-wasm';
import { KERNEL_WASM_BASE64 } from '../src/backtest/kernel-wasm-bytes';

const root = path.join(import.meta.dirname, '..');
const PY = '/usr/bin/python3';
const TIME = '/usr/bin/time';
const BARS = path.join(root, 'node_modules/vega-datasets/data/sp500-2000.csv');
const QUANT = path.join(root, 'bin/quant.js');
const peers = path.join(root, 'bench/peers');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-bench-'));
const REPS = Number(process.env.CLI_BENCH_REPS ?? 5);
/** CLI_BENCH_ONLY=K1: the kernel figures alone; C (or C1..C3) runs the command figures. Unset: all. */
const ONLY = process.env.CLI_BENCH_ONLY?.split(',').map((s) => s.trim().toUpperCase());
const commandFigures = !ONLY || ONLY.some((id) => id.startsWith('C'));

const load = (): string =>
  os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');

interface Run {
  readonly wall: number;
  readonly cpu: number;
  readonly stdout: string;
}

/** One command under GNU time: wall and user + system seconds (children included). */
function timed(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Run {
  const out = path.join(tmp, 'time.txt');
  const r = spawnSync(TIME, ['-f', '%e %U %S', '-o', out, cmd, ...args], {
    cwd: root,
    env,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const [wall, user, sys] = fs.readFileSync(out, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
  return { wall, cpu: user + sys, stdout: r.stdout };
}

interface Series {
  best: Run;
  runs: Run[];
}
/** `reps` runs of each command, interleaved so that a change of machine load hits all of them. */
function interleaved(cmds: Record<string, () => Run>, reps: number): Record<string, Series> {
  const out: Record<string, Series> = {};
  for (let i = 0; i < reps; i++) {
    for (const [name, fn] of Object.entries(cmds)) {
      const r = fn();
      const s = (out[name] ??= { best: r, runs: [] });
      s.runs.push(r);
      if (r.cpu < s.best.cpu) s.best = r;
    }
  }
  return out;
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const f3 = (x: number): string => x.toFixed(3);
const rows: string[] = [];
const row = (cells: (string | number)[]): void => {
  rows.push(`| ${cells.join(' | ')} |`);
};
const fmt = (s: Series): [string, string] => [
  `${f3(Math.min(...s.runs.map((r) => r.wall)))} / ${f3(median(s.runs.map((r) => r.wall)))}`,
  `${f3(s.best.cpu)} / ${f3(median(s.runs.map((r) => r.cpu)))}`,
];

function pythonHas(modules: string): string | undefined {
  if (!fs.existsSync(PY)) return `${PY} not found`;
  const r = spawnSync(PY, ['-c', `import ${modules}`], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `${PY} cannot import ${modules}: ${r.stderr.trim().split('\n').at(-1)}`;
}

console.log(`load average at start: ${load()}`);
if (!commandFigures) {
  console.log(`C1-C3 not run: CLI_BENCH_ONLY=${ONLY?.join(',')}`);
} else if (!fs.existsSync(TIME)) {
  console.log(`SKIPPED every command figure: ${TIME} (GNU time) is not installed`);
} else {
  // ---- C1: start-up
  const c1 = interleaved(
    {
      'node -e 0': () => timed(process.execPath, ['-e', '0']),
      'python3 -c pass': () => timed(PY, ['-c', 'pass']),
      'quant --version': () => timed(process.execPath, [QUANT, '--version']),
      'quant --help': () => timed(process.execPath, [QUANT, '--help']),
    },
    REPS,
  );
  for (const [name, s] of Object.entries(c1)) row([`C1 ${name}`, ...fmt(s), '']);

  // ---- C2: one backtest against pandas
  const btArgs = ['backtest', '--bars', BARS, '--strategy', 'sma-cross', '--param', 'fast=20'];
  btArgs.push('--param', 'slow=50', '--json');
  const pandasMissing = pythonHas('pandas');
  const c2 = interleaved(
    {
      ours: () => timed(process.execPath, [QUANT, ...btArgs]),
      ...(pandasMissing
        ? {}
        : { pandas: () => timed(PY, [path.join(peers, 'backtest_pandas.py'), BARS, '20', '50']) }),
    },
    REPS,
  );
  const ours = JSON.parse(c2.ours.best.stdout) as Record<string, number>;
  row(['C2 quant backtest sma-cross 20/50, 5,105 bars, --json', ...fmt(c2.ours), '']);
  if (pandasMissing) console.log(`SKIPPED the pandas peer of C2: ${pandasMissing}`);
  else {
    const theirs = JSON.parse(c2.pandas.best.stdout) as Record<string, number>;
    const diffs = Object.keys(theirs).filter(
      (k) => !(Math.abs(theirs[k] - ours[k]) <= 1e-9 * Math.max(1, Math.abs(ours[k]))),
    );
    const agree = diffs.length === 0 ? 'all 15 metrics agree (1e-9)' : `DISAGREE on ${diffs.join(', ')}`;
    console.log(`C2 metrics: ${agree}; Sharpe ours ${ours.sharpe}, pandas ${theirs.sharpe}`);
    row(['C2 the same backtest in pandas', ...fmt(c2.pandas), agree]);
    row([
      'C2 ours / pandas, CPU (best, median)',
      '',
      `${(c2.ours.best.cpu / c2.pandas.best.cpu).toFixed(2)}x, ${(median(c2.ours.runs.map((r) => r.cpu)) / median(c2.pandas.runs.map((r) => r.cpu))).toFixed(2)}x`,
      'goal: at most 0.5x',
    ]);
  }

  // ---- C3: the 4,851-set sweep against numba
  const sweepReps = Math.max(1, Math.ceil(REPS / 2));
  let runNo = 0;
  const sweepArgs = ['backtest', 'sweep', '--strategy', 'sma-cross', '--grid', 'fast=2:100'];
  sweepArgs.push('--grid', 'slow=2:100', '--where', 'fast<slow', '--bars', BARS, '--json');
  const numbaMissing = pythonHas('numba, pandas');
  const c3 = interleaved(
    {
      // A fresh data dir each run: the sweep is resumable, and a re-run would skip every set.
      ours: () => timed(process.execPath, [QUANT, '--data-dir', path.join(tmp, `q${runNo++}`), ...sweepArgs]),
      ...(numbaMissing
        ? {}
        : {
            numba: () =>
              timed(PY, [
                path.join(peers, 'sweep_numba.py'),
                BARS,
                '2',
                '100',
                path.join(tmp, 'numba-sweep'),
              ]),
          }),
    },
    sweepReps,
  );
  const sweep = JSON.parse(c3.ours.best.stdout) as {
    written: number;
    top: { params: string; sharpe: number }[];
  };
  // Compute alone: the same grid in this process (bars parsed once, warm JIT), best of 3.
  const close = Float64Array.from(
    fs
      .readFileSync(BARS, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => Number(l.split(',')[4])),
  );
  const pairs: [number, number][] = [];
  for (let s = 2; s <= 100; s++) for (let f = 2; f < s; f++) pairs.push([f, s]);
  let compute = Infinity;
  for (let i = 0; i < 4; i++) {
    const t0 = performance.now();
    smaCrossGrid(close, pairs, 0);
    if (i > 0) compute = Math.min(compute, (performance.now() - t0) / 1000);
  }
  const wallBest = Math.min(...c3.ours.runs.map((r) => r.wall));
  row([
    'C3 quant backtest sweep, 4,851 sets, results into the lake',
    ...fmt(c3.ours),
    `top ${sweep.top[0].params} Sharpe ${sweep.top[0].sharpe.toFixed(6)}; ${sweep.written} rows written`,
  ]);
  row([
    'C3 of which the backtests (smaCrossGrid in this process, warm)',
    f3(compute),
    '',
    `${((compute / wallBest) * 100).toFixed(0)}% of our best wall time`,
  ]);
  if (numbaMissing) console.log(`SKIPPED the numba peer of C3: ${numbaMissing}`);
  else {
    const nb = JSON.parse(c3.numba.best.stdout) as Record<string, number | string>;
    const same =
      sweep.top[0].params === `{"fast":${nb.topFast},"slow":${nb.topSlow}}` &&
      Math.abs((nb.topSharpe as number) - sweep.top[0].sharpe) < 1e-9;
    row([
      `C3 numba (CSV read, grid, ranking; writes ${nb.written})`,
      ...fmt(c3.numba),
      `${same ? 'same' : 'DIFFERENT'} top: fast ${nb.topFast} slow ${nb.topSlow} Sharpe ${(nb.topSharpe as number).toFixed(6)}; import ${f3(nb.importSeconds as number)} s, compute+JIT ${f3(nb.computeSeconds as number)} s`,
    ]);
    row([
      'C3 ours / numba, wall (best, median)',
      `${(wallBest / Math.min(...c3.numba.runs.map((r) => r.wall))).toFixed(2)}x, ${(median(c3.ours.runs.map((r) => r.wall)) / median(c3.numba.runs.map((r) => r.wall))).toFixed(2)}x`,
      '',
      'goal: below 1x',
    ]);
  }
}

// ---- K1: the kernel, in this process, against numba in a child process
if (!ONLY || ONLY.includes('K1')) {
  const n = 1_000_000;
  const close = gbm(n, 1);
  const file = path.join(tmp, 'close.f64');
  fs.writeFileSync(file, close);
  const best = (fn: () => unknown, reps: number): number => {
    let b = Infinity;
    fn();
    for (let i = 0; i < reps; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      fn();
      const c = process.cpuUsage(c0);
      // CPU time of this thread's work, never more than its wall time (V8's helper threads).
      b = Math.min(b, (c.user + c.system) / 1e6, (performance.now() - t0) / 1000);
    }
    return b;
  };
  const numbaMissing = pythonHas('numba');
  const numba = (): {
    stats: Record<string, number>;
    bestCpuSeconds: number;
    allCoresWallSeconds: number;
    cores: number;
    runsStats: Record<string, number>;
    runsBestCpuSeconds: number;
    runsAllCoresWallSeconds: number;
  } =>
    JSON.parse(
      spawnSync(PY, [path.join(peers, 'k1_numba.py'), file, '20', '50', '40'], { encoding: 'utf8' }).stdout,
    );
  const cores = os.availableParallelism();
  const pool = kernelWorkers(close, cores);
  // numba's array is in place when its loop runs; the loaded series is ours on the same footing.
  const loaded = wasmSeries(close)!;
  let js = Infinity;
  let wasm = Infinity;
  let inPlace = Infinity;
  let allCopy = Infinity;
  let allInPlace = Infinity;
  let nb: ReturnType<typeof numba> | undefined;
  let nbAll = Infinity;
  let nbRuns = Infinity;
  let nbRunsAll = Infinity;
  // Three rounds of ours and numba's, alternating: the machine is shared, its load changes.
  for (let round = 0; round < 3; round++) {
    js = Math.min(
      js,
      best(() => smaCrossSummaryJs(close, 20, 50), 30),
    );
    wasm = Math.min(
      wasm,
      best(() => smaCrossSummary(close, 20, 50), 30),
    );
    inPlace = Math.min(
      inPlace,
      best(() => loaded.stats(20, 50, 0, 0), 30),
    );
    allCopy = Math.min(allCopy, await pool.bestWall(true, 10));
    allInPlace = Math.min(allInPlace, await pool.bestWall(false, 10));
    if (!numbaMissing) {
      const r = numba();
      nbAll = Math.min(nbAll, r.allCoresWallSeconds);
      nbRuns = Math.min(nbRuns, r.runsBestCpuSeconds);
      nbRunsAll = Math.min(nbRunsAll, r.runsAllCoresWallSeconds);
      if (!nb || r.bestCpuSeconds < nb.bestCpuSeconds) nb = r;
    }
  }
  await pool.close();
  const rate = (s: number, bars = n): string => `${(bars / s / 1e6).toFixed(0)}M bars/s`;
  row(['K1 JS loop (smaCrossSummaryJs), one core', '', f3(js), rate(js)]);
  row([
    'K1 WebAssembly kernel (smaCrossSummary: copies the closes in on every call), one core',
    '',
    f3(wasm),
    rate(wasm),
  ]);
  row([
    'K1 WebAssembly kernel over closes already in its memory (wasmSeries), one core',
    '',
    f3(inPlace),
    rate(inPlace),
  ]);
  row([
    `K1 WebAssembly kernel, ${cores} worker threads, one series each, copied in every run`,
    f3(allCopy),
    '',
    `${rate(allCopy, n * cores)} in all`,
  ]);
  row([
    `K1 WebAssembly kernel, ${cores} worker threads, one series each, already in memory`,
    f3(allInPlace),
    '',
    `${rate(allInPlace, n * cores)} in all`,
  ]);
  if (numbaMissing || !nb) console.log(`SKIPPED the numba peer of K1: ${numbaMissing}`);
  else {
    // The same statistics, bit for bit (trough aside: kernel.wat reports it as the peak).
    const mine = smaCrossStatsWasm(close, 20, 50, 0, 0)!;
    const differ = (theirs: Record<string, number>): string => {
      const keys = (Object.keys(mine) as (keyof typeof mine)[]).filter(
        (k) => k !== 'trough' && theirs[k] !== mine[k],
      );
      if (keys.length > 0) console.log(`K1: numba's statistics differ from ours in ${keys.join(', ')}`);
      return keys.length === 0 ? ', same statistics bit for bit' : ' (RESULTS DIFFER)';
    };
    row([
      'K1 numba 0.56, the same loop as the JS one, one core (array in place)',
      '',
      f3(nb.bestCpuSeconds),
      `${rate(nb.bestCpuSeconds)}${differ(nb.stats)}`,
    ]);
    row([
      'K1 numba, the loop shape of kernel.wat (flat and held loops), one core',
      '',
      f3(nbRuns),
      `${rate(nbRuns)}${differ(nb.runsStats)}`,
    ]);
    row([
      `K1 numba, ${nb.cores} threads (nogil), one series each (copies made before): the same loop / kernel.wat's shape`,
      `${f3(nbAll)} / ${f3(nbRunsAll)}`,
      '',
      `${rate(nbAll, n * nb.cores)} / ${rate(nbRunsAll, n * nb.cores)} in all`,
    ]);
    const x = (ours: number, theirs: number): string => `${(theirs / ours).toFixed(2)}x`;
    row([
      'K1 WebAssembly / numba (same loop), one core: copying in / in place',
      '',
      '',
      `${x(wasm, nb.bestCpuSeconds)} / ${x(inPlace, nb.bestCpuSeconds)} numba's rate (goal: at least 1x)`,
    ]);
    row([
      "K1 WebAssembly / numba (kernel.wat's shape), one core: copying in / in place",
      '',
      '',
      `${x(wasm, nbRuns)} / ${x(inPlace, nbRuns)} numba's rate`,
    ]);
    row([
      `K1 WebAssembly / numba, ${cores} cores, in place: against the same loop / kernel.wat's shape`,
      '',
      '',
      `${x(allInPlace, nbAll)} / ${x(allInPlace, nbRunsAll)} numba's rate (copying in: ${x(allCopy, nbAll)} / ${x(allCopy, nbRunsAll)})`,
    ]);
  }
}

/**
 * `cores` worker threads, each with its own instance of the WebAssembly kernel and its own copy of
 * the series; bestWall times rounds in which every worker runs the kernel once, optionally copying
 * the closes into its memory first (as smaCrossSummary does on every call).
 */
function kernelWorkers(
  close: Float64Array,
  cores: number,
): { bestWall(copy: boolean, reps: number): Promise<number>; close(): Promise<unknown> } {
  // The workers instantiate the module themselves (plain JS: no TypeScript loader in a worker).
  const src = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { exports } = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(workerData.b64, 'base64')), {});
    const n = workerData.close.length;
    const BASE = 128;
    exports.memory.grow(Math.ceil((BASE + n * 8) / 65536));
    new Float64Array(exports.memory.buffer, BASE, n).set(workerData.close);
    parentPort.on('message', (copy) => {
      if (copy) new Float64Array(exports.memory.buffer, BASE, n).set(workerData.close);
      exports.smaCross(BASE, n, 20, 50, 0, 0, 0, 1 / 20, 1 / 50);
      parentPort.postMessage(new Float64Array(exports.memory.buffer, 0, 14)[7]);
    });`;
  const workers = Array.from(
    { length: cores },
    () => new Worker(src, { eval: true, workerData: { b64: KERNEL_WASM_BASE64, close } }),
  );
  const round = (copy: boolean): Promise<number[]> =>
    Promise.all(
      workers.map((w) => new Promise<number>((res) => (w.once('message', res), w.postMessage(copy)))),
    );
  return {
    async bestWall(copy, reps) {
      let bestWall = Infinity;
      await round(copy);
      for (let i = 0; i < reps; i++) {
        const t0 = performance.now();
        await round(copy);
        bestWall = Math.min(bestWall, (performance.now() - t0) / 1000);
      }
      return bestWall;
    },
    close: () => Promise.all(workers.map((w) => w.terminate())),
  };
}

/** Seeded GBM (mulberry32 + Box-Muller), the series of bench/backtest.bench.ts K1. */
function gbm(n: number, seed: number, vol = 0.01, drift = 0.0002): Float64Array {
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float64Array(n);
  let p = 100;
  for (let i = 0; i < n; i++) {
    out[i] = p;
    const z = Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
    p *= Math.exp(drift - (vol * vol) / 2 + vol * z);
  }
  return out;
}

fs.rmSync(tmp, { recursive: true, force: true });
console.log(`load average at end: ${load()} on ${os.cpus().length} cores`);
console.log(
  '\n| figure | wall s (best / median) | CPU s (best / median) | note |\n| --- | --- | --- | --- |',
);
for (const r of rows) console.log(r);
