/**
 * A minimal ONNX (protobuf) writer: enough to build small float graphs (Gemm, MatMul, Add, Relu,
 * Conv, ...) in TypeScript, so tests and benchmarks need no Python. Field numbers follow onnx.proto
 * (ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto, TypeProto, AttributeProto).
 */
import { mulberry32 } from '../../synthetic/random';

/** ONNX TensorProto.DataType values used here. */
export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;

class Writer {
  private readonly parts: Uint8Array[] = [];
  private size = 0;
  private push(b: Uint8Array): void {
    this.parts.push(b);
    this.size += b.length;
  }
  varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    const out: number[] = [];
    do {
      let byte = Number(x & 0x7fn);
      x >>= 7n;
      if (x !== 0n) byte |= 0x80;
      out.push(byte);
    } while (x !== 0n);
    this.push(Uint8Array.from(out));
  }
  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }
  int(field: number, v: number | bigint): void {
    this.tag(field, 0);
    this.varint(v);
  }
  bytes(field: number, b: Uint8Array): void {
    this.tag(field, 2);
    this.varint(b.length);
    this.push(b);
  }
  string(field: number, s: string): void {
    this.bytes(field, new TextEncoder().encode(s));
  }
  float(field: number, v: number): void {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
  }
  message(field: number, build: (w: Writer) => void): void {
    const w = new Writer();
    build(w);
    this.bytes(field, w.finish());
  }
  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/** A dimension: a fixed size, or a symbolic name (dynamic, e.g. the batch). */
export type Dim = number | string;

export interface TensorSpec {
  readonly name: string;
  /** Element type (ONNX_FLOAT by default). */
  readonly elemType?: number;
  readonly shape: readonly Dim[];
}

export interface Initializer {
  readonly name: string;
  readonly dims: readonly number[];
  /** float32 values (converted), or int64 values for ONNX_INT64. */
  readonly values: ArrayLike<number> | readonly bigint[];
  readonly dataType?: number;
}

export type AttrValue = number | string | readonly number[] | { readonly float: number };

export interface NodeSpec {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name?: string;
  /** Integers (and integer lists) are written as INT(S); `{ float }` as FLOAT; strings as STRING. */
  readonly attrs?: Readonly<Record<string, AttrValue>>;
}

export interface GraphSpec {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  readonly initializers?: readonly Initializer[];
  readonly nodes: readonly NodeSpec[];
  /** Default opset 17 (what torch 1.13 exports at most). */
  readonly opset?: number;
  readonly name?: string;
}

function writeValueInfo(w: Writer, field: number, t: TensorSpec): void {
  w.message(field, (vi) => {
    vi.string(1, t.name);
    vi.message(2, (tp) =>
      tp.message(1, (tt) => {
        tt.int(1, t.elemType ?? ONNX_FLOAT);
        tt.message(2, (sh) => {
          for (const d of t.shape) {
            sh.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
          }
        });
      }),
    );
  });
}

function writeTensor(w: Writer, field: number, t: Initializer): void {
  w.message(field, (tw) => {
    for (const d of t.dims) tw.int(1, d);
    const type = t.dataType ?? ONNX_FLOAT;
    tw.int(2, type);
    tw.string(8, t.name);
    const raw =
      type === ONNX_INT64
        ? BigInt64Array.from(t.values as ArrayLike<number | bigint>, (v) => BigInt(v))
        : Float32Array.from(t.values as ArrayLike<number>);
    tw.bytes(9, new Uint8Array(raw.buffer));
  });
}

function writeAttr(w: Writer, name: string, v: AttrValue): void {
  w.message(5, (a) => {
    a.string(1, name);
    if (typeof v === 'number') {
      a.int(3, v);
      a.int(20, 2);
    } else if (typeof v === 'string') {
      a.string(4, v);
      a.int(20, 3);
    } else if (Array.isArray(v)) {
      for (const x of v as readonly number[]) a.int(8, x);
      a.int(20, 7);
    } else {
      a.float(2, (v as { float: number }).float);
      a.int(20, 1);
    }
  });
}

/** Serialises a graph as an ONNX model (IR version 8). */
export function buildOnnxModel(g: GraphSpec): Uint8Array {
  const w = new Writer();
  w.int(1, 8); // ir_version
  w.string(2, 'quant-onnx-builder');
  w.message(7, (gw) => {
    g.nodes.forEach((n, i) =>
      gw.message(1, (nw) => {
        for (const x of n.inputs) nw.string(1, x);
        for (const x of n.outputs) nw.string(2, x);
        nw.string(3, n.name ?? `${n.op.toLowerCase()}_${i}`);
        nw.string(4, n.op);
        for (const [k, v] of Object.entries(n.attrs ?? {})) writeAttr(nw, k, v);
      }),
    );
    gw.string(2, g.name ?? 'graph');
    for (const t of g.initializers ?? []) writeTensor(gw, 5, t);
    for (const t of g.inputs) writeValueInfo(gw, 11, t);
    for (const t of g.outputs) writeValueInfo(gw, 12, t);
  });
  w.message(8, (o) => {
    o.string(1, '');
    o.int(2, g.opset ?? 17);
  });
  return w.finish();
}

/** `n` float32 values uniform in [-scale, scale) from `rnd`. */
const uniform = (rnd: () => number, n: number, scale: number): Float32Array =>
  Float32Array.from({ length: n }, () => (rnd() * 2 - 1) * scale);

/** Weights of a dense MLP (row-major W[in][out]) for fixtures and the reference evaluator. */
export interface MlpWeights {
  readonly inputs: number;
  readonly mean: Float32Array;
  readonly std: Float32Array;
  readonly layers: readonly { readonly w: Float32Array; readonly b: Float32Array; readonly out: number }[];
}

/** Random MLP weights: `sizes` = [inputs, hidden..., outputs]. Values are float32-exact. */
export function randomMlp(sizes: readonly number[], seed = 7): MlpWeights {
  const rnd = mulberry32(seed);
  const layers = [];
  for (let l = 1; l < sizes.length; l++) {
    const fanIn = sizes[l - 1];
    const scale = 1 / Math.sqrt(fanIn);
    const w = uniform(rnd, fanIn * sizes[l], scale);
    const b = uniform(rnd, sizes[l], 0.1);
    layers.push({ w, b, out: sizes[l] });
  }
  const mean = uniform(rnd, sizes[0], 0.01);
  const std = Float32Array.from({ length: sizes[0] }, () => 0.01 + rnd() * 0.05);
  return { inputs: sizes[0], mean, std, layers };
}

/**
 * An MLP graph in the model-file layout (`features` [N, F] → `score` [N, out]): (x - mean) / std,
 * then Gemm + Relu per hidden layer and a final Gemm.
 */
export function mlpModel(
  m: MlpWeights,
  names: { input?: string; output?: string; normalise?: boolean } = {},
): Uint8Array {
  const input = names.input ?? 'features';
  const output = names.output ?? 'score';
  const nodes: NodeSpec[] = [];
  const inits: Initializer[] = [];
  let cur = input;
  if (names.normalise !== false) {
    inits.push({ name: 'mean', dims: [m.inputs], values: m.mean });
    inits.push({ name: 'std', dims: [m.inputs], values: m.std });
    nodes.push({ op: 'Sub', inputs: [input, 'mean'], outputs: ['centred'] });
    nodes.push({ op: 'Div', inputs: ['centred', 'std'], outputs: ['scaled'] });
    cur = 'scaled';
  }
  let fanIn = m.inputs;
  m.layers.forEach((layer, l) => {
    inits.push({ name: `w${l}`, dims: [fanIn, layer.out], values: layer.w });
    inits.push({ name: `b${l}`, dims: [layer.out], values: layer.b });
    const last = l === m.layers.length - 1;
    const lin = last ? output : `h${l}`;
    nodes.push({ op: 'Gemm', inputs: [cur, `w${l}`, `b${l}`], outputs: [lin] });
    if (!last) {
      nodes.push({ op: 'Relu', inputs: [lin], outputs: [`a${l}`] });
      cur = `a${l}`;
    }
    fanIn = layer.out;
  });
  return buildOnnxModel({
    inputs: [{ name: input, shape: ['N', m.inputs] }],
    outputs: [{ name: output, shape: ['N', m.layers[m.layers.length - 1].out] }],
    initializers: inits,
    nodes,
  });
}

/** The same MLP evaluated in float64 (the reference fixture outputs are checked against). */
export function mlpReference(m: MlpWeights, row: ArrayLike<number>, normalise = true): number[] {
  let x = Array.from(row, (v, i) => (normalise ? (Math.fround(v) - m.mean[i]) / m.std[i] : Math.fround(v)));
  m.layers.forEach((layer, l) => {
    const y = new Array<number>(layer.out).fill(0);
    for (let j = 0; j < layer.out; j++) {
      let s = layer.b[j];
      for (let i = 0; i < x.length; i++) s += x[i] * layer.w[i * layer.out + j];
      y[j] = l === m.layers.length - 1 ? s : Math.max(0, s);
    }
    x = y;
  });
  return x;
}

/**
 * A small temporal convolution over a window of bars (the `seq` layout: [N, window * F], oldest lag
 * first): Reshape [N, W, F] → Transpose [N, F, W] → Conv(k=3) → Relu → Conv(k=3) → Relu →
 * GlobalAveragePool → Flatten → Gemm → `score` [N, 1].
 */
export function tcnModel(window: number, features: number, channels = 16, seed = 11): Uint8Array {
  const rnd = mulberry32(seed);
  const rand = (n: number, scale: number): Float32Array => uniform(rnd, n, scale);
  const k = 3;
  return buildOnnxModel({
    inputs: [{ name: 'features', shape: ['N', window * features] }],
    outputs: [{ name: 'score', shape: ['N', 1] }],
    initializers: [
      { name: 'shape', dims: [3], values: [0n, BigInt(window), BigInt(features)], dataType: ONNX_INT64 },
      { name: 'c1w', dims: [channels, features, k], values: rand(channels * features * k, 0.3) },
      { name: 'c1b', dims: [channels], values: rand(channels, 0.1) },
      { name: 'c2w', dims: [channels, channels, k], values: rand(channels * channels * k, 0.2) },
      { name: 'c2b', dims: [channels], values: rand(channels, 0.1) },
      { name: 'fw', dims: [channels, 1], values: rand(channels, 0.3) },
      { name: 'fb', dims: [1], values: rand(1, 0.1) },
    ],
    nodes: [
      { op: 'Reshape', inputs: ['features', 'shape'], outputs: ['x3'] },
      { op: 'Transpose', inputs: ['x3'], outputs: ['xt'], attrs: { perm: [0, 2, 1] } },
      {
        op: 'Conv',
        inputs: ['xt', 'c1w', 'c1b'],
        outputs: ['c1'],
        attrs: { kernel_shape: [k], pads: [1, 1] },
      },
      { op: 'Relu', inputs: ['c1'], outputs: ['r1'] },
      {
        op: 'Conv',
        inputs: ['r1', 'c2w', 'c2b'],
        outputs: ['c2'],
        attrs: { kernel_shape: [k], pads: [1, 1] },
      },
      { op: 'Relu', inputs: ['c2'], outputs: ['r2'] },
      { op: 'GlobalAveragePool', inputs: ['r2'], outputs: ['gp'] },
      { op: 'Flatten', inputs: ['gp'], outputs: ['flat'] },
      { op: 'Gemm', inputs: ['flat', 'fw', 'fb'], outputs: ['score'] },
    ],
  });
}
