/**
 * Loader of the WebAssembly build of the fused sma-cross kernel (kernel.wat, assembled into
 * kernel-wasm-bytes.ts by bin/build-kernel-wasm.ts). The module is compiled on first use. The
 * close series is copied into a kernel's memory on every smaCrossStatsWasm call (a memcpy, about
 * 0.8 ms per million bars: a quarter of the run), once per series by wasmSeries.
 */
import { KERNEL_WASM_BASE64 } from './kernel-wasm-bytes';

/** Accumulated statistics of one kernel run (kernel.ts turns them into a Summary). */
export interface KernelStats {
  sum: number;
  sumSq: number;
  down: number;
  equity: number;
  peak: number;
  trough: number;
  minRatio: number;
  trades: number;
  absDw: number;
  exposed: number;
  wins: number;
  losses: number;
  winSum: number;
  lossSum: number;
}

/** The order in which kernel.wat stores the statistics (f64 each). */
const OUT_FIELDS = [
  'sum',
  'sumSq',
  'down',
  'equity',
  'peak',
  'trough',
  'minRatio',
  'trades',
  'absDw',
  'exposed',
  'wins',
  'losses',
  'winSum',
  'lossSum',
] as const satisfies readonly (keyof KernelStats)[];

type SmaCrossFn = (
  base: number,
  n: number,
  fast: number,
  slow: number,
  cost: number,
  short: number,
  out: number,
  invFast: number,
  invSlow: number,
) => void;

/** The part of the WebAssembly API used here (the project's TypeScript libs do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

interface Kernel {
  readonly memory: WasmMemory;
  readonly smaCross: SmaCrossFn;
}

/** The compiled module; null when this engine cannot compile it (no WebAssembly SIMD). */
let compiled: object | null | undefined;
let shared: Kernel | undefined;

/**
 * A new instance of the kernel, with its own memory (the module is compiled once), or undefined
 * where the module does not compile: kernel.wat uses 128-bit SIMD, which V8 leaves out on x64
 * processors without SSE4.1. The callers then run the JS loop.
 */
function instantiate(): Kernel | undefined {
  const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
  if (compiled === undefined) {
    try {
      compiled = new wasm.Module(Buffer.from(KERNEL_WASM_BASE64, 'base64'));
    } catch {
      compiled = null;
    }
  }
  if (compiled === null) return undefined;
  const { exports } = new wasm.Instance(compiled, {});
  return { memory: exports.memory as WasmMemory, smaCross: exports.smaCross as SmaCrossFn };
}

const PAGE = 65_536;
/** Byte offsets in the module's memory: the statistics, then the closes. */
const OUT = 0;
const BASE = 128;
/** Longest series the kernel takes (its offsets are i32; 1 GiB of closes). */
const MAX_BARS = 2 ** 27;

/** Copies `close` into the kernel's memory, growing it when needed. */
function place(k: Kernel, close: Float64Array): void {
  const need = BASE + close.length * 8;
  const have = k.memory.buffer.byteLength;
  if (have < need) k.memory.grow(Math.ceil((need - have) / PAGE));
  new Float64Array(k.memory.buffer, BASE, close.length).set(close);
}

/** One run over the n closes already in `k`'s memory, or undefined when no bar is decided. */
function run(
  k: Kernel,
  n: number,
  fast: number,
  slow: number,
  cost: number,
  neg: number,
): KernelStats | undefined {
  if (slow - 1 >= n - 1) return undefined;
  k.smaCross(BASE, n, fast, slow, cost, neg < 0 ? 1 : 0, OUT, 1 / fast, 1 / slow);
  const out = new Float64Array(k.memory.buffer, OUT, OUT_FIELDS.length);
  const stats = {} as KernelStats;
  for (let i = 0; i < OUT_FIELDS.length; i++) stats[OUT_FIELDS[i]] = out[i];
  return stats;
}

/**
 * Statistics of one sma-cross run over `close` (fast < slow, checked by the caller), or undefined
 * when the kernel cannot run it: a series too short to hold a single decided bar or longer than
 * MAX_BARS, or an engine without WebAssembly SIMD (the caller's JS loop handles those). The closes
 * are copied into the kernel's memory on every call (about 0.8 ms per million bars).
 */
export function smaCrossStatsWasm(
  close: Float64Array,
  fast: number,
  slow: number,
  cost: number,
  neg: number,
): KernelStats | undefined {
  const n = close.length;
  if (slow - 1 >= n - 1 || n > MAX_BARS) return undefined;
  shared ??= instantiate();
  if (!shared) return undefined;
  place(shared, close);
  return run(shared, n, fast, slow, cost, neg);
}

/** A close series copied once into an instance of the kernel of its own, for many runs over it. */
export interface WasmSeries {
  /** As smaCrossStatsWasm over the series (undefined when it is too short for `slow`). */
  stats(fast: number, slow: number, cost: number, neg: number): KernelStats | undefined;
}

/** The series in a kernel instance of its own, or undefined when the kernel cannot take it. */
export function wasmSeries(close: Float64Array): WasmSeries | undefined {
  const n = close.length;
  if (n > MAX_BARS) return undefined;
  const k = instantiate();
  if (!k) return undefined;
  place(k, close);
  return { stats: (fast, slow, cost, neg) => run(k, n, fast, slow, cost, neg) };
}
