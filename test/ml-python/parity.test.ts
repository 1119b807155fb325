/**
 * Node inference equals PyTorch: training/train.py trains on a features file from the feature SQL
 * (DuckDB over the S&P 500 bars and a synthetic universe), and onnxruntime-node must reproduce the
 * outputs of its parity.json within 1e-5, through `quant model predict` and the ml-signal path.
 * Needs /usr/bin/python3 with torch; without them this suite fails, naming what is missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURE_SET_VERSION, MANIFEST_FILE, MODEL_FILE, PARITY_FILE } from '../../src/contract/ml';
import { featuresCsv, queryFeatures } from '../../src/ml/features';
import { checkGraph, readModelDir } from '../../src/ml/inference/model-dir';
import { openModel, runBatches } from '../../src/ml/inference/session';
import { loadSignalModel, scorePanelAsync } from '../../src/ml/signal';
import type { QueryEngine } from '../../src/lake/query';
import { duckDbWithBars, sp500Panel, syntheticPanel } from '../helpers/ml-bars';
import { runQuant } from '../helpers/quant-cli';

const PYTHON = '/usr/bin/python3';
const root = mkdtempSync(path.join(os.tmpdir(), 'ml-parity-'));
const FEATURES = 'ret_1,ret_5,ret_20,vol_20,zscore_20,sma_ratio_5_20,volume_ratio_20,xs_rank_ret_5';

interface Parity {
  input: string;
  rows: number[][];
  outputs: number[][];
}

function train(name: string, hps: Record<string, string>): string {
  const job = path.join(root, name);
  const model = path.join(job, 'model');
  for (const d of ['output/data', 'checkpoints']) mkdirSync(path.join(job, d), { recursive: true });
  const r = spawnSync(PYTHON, ['training/train.py'], {
    env: {
      ...process.env,
      SM_CHANNEL_TRAIN: path.join(root, 'train'),
      SM_MODEL_DIR: model,
      SM_OUTPUT_DIR: path.join(job, 'output'),
      SM_OUTPUT_DATA_DIR: path.join(job, 'output/data'),
      QUANT_CHECKPOINT_DIR: path.join(job, 'checkpoints'),
      SM_HPS: JSON.stringify({
        features: FEATURES,
        feature_set_version: String(FEATURE_SET_VERSION),
        epochs: '3',
        seed: '7',
        device: 'cpu',
        ...hps,
      }),
    },
    encoding: 'utf8',
    timeout: 540_000,
  });
  if (r.status !== 0) throw new Error(`train.py ${name} exited ${r.status}: ${r.stderr || r.error?.message}`);
  for (const f of [MODEL_FILE, MANIFEST_FILE, PARITY_FILE])
    expect(existsSync(path.join(model, f)), `${name}: ${f}`).toBe(true);
  return model;
}

let engine: QueryEngine;
const models: Record<string, string> = {};

beforeAll(async () => {
  const probe = spawnSync(PYTHON, ['-c', 'import torch, numpy, pandas; print(torch.__version__)'], {
    encoding: 'utf8',
  });
  if (probe.status !== 0)
    throw new Error(
      `${PYTHON} with torch, numpy and pandas is required for this suite (apt-get install python3-torch python3-numpy python3-pandas python3-onnx): ${probe.stderr || probe.error?.message}`,
    );
  // A small features file: the S&P 500 since 2012 and a 4-symbol synthetic universe.
  const spx = sp500Panel();
  const syn = syntheticPanel(4, 600, 21);
  engine = await duckDbWithBars([spx, syn]);
  const rows = [
    ...(await queryFeatures(engine, { symbols: ['SPX'], from: '2012-01-01' })),
    ...(await queryFeatures(engine, { symbols: syn.symbols })),
  ];
  mkdirSync(path.join(root, 'train'), { recursive: true });
  writeFileSync(path.join(root, 'train', 'features.csv'), featuresCsv(rows));
  models.mlp = train('mlp', { model: 'mlp' });
  models.seq = train('seq', { model: 'seq', window: '10', target: 'sign' });
});
afterAll(async () => engine?.close());

describe.each(['mlp', 'seq'])('parity with PyTorch: %s', (arch) => {
  it('onnxruntime-node reproduces parity.json within 1e-5', async () => {
    const dir = models[arch];
    const parity = JSON.parse(readFileSync(path.join(dir, PARITY_FILE), 'utf8')) as Parity;
    expect(parity.rows.length).toBeGreaterThan(10);
    const files = readModelDir(dir);
    const model = await openModel(files.onnx);
    const { input, width } = checkGraph(files, model.inputs, model.outputs);
    expect(input).toBe(parity.input);
    const data = Float32Array.from(parity.rows.flat());
    const out = await runBatches(model, input, data, parity.rows.length, width);
    let worst = 0;
    parity.outputs.forEach((o, i) => (worst = Math.max(worst, Math.abs(out.values[i] - o[0]))));
    expect(worst).toBeLessThanOrEqual(1e-5);
  });

  it('quant model predict gives the same outputs', async () => {
    const dir = models[arch];
    const parity = JSON.parse(readFileSync(path.join(dir, PARITY_FILE), 'utf8')) as Parity;
    const csv = path.join(root, `${arch}-rows.csv`);
    const width = parity.rows[0].length;
    writeFileSync(
      csv,
      `${Array.from({ length: width }, (_, j) => `x${j}`).join(',')}\n${parity.rows.map((r) => r.map((v) => String(v)).join(',')).join('\n')}\n`,
    );
    const r = await runQuant([
      'model',
      'predict',
      '--onnx',
      path.join(dir, MODEL_FILE),
      '--input',
      csv,
      '--json',
    ]);
    expect(r.code, r.err).toBe(0);
    const got = (JSON.parse(r.out) as { outputs: number[][] }).outputs;
    got.forEach((o, i) => expect(Math.abs(o[0] - parity.outputs[i][0])).toBeLessThanOrEqual(1e-5));
  });

  it('the ml-signal path accepts the trained model and its manifest', async () => {
    const m = await loadSignalModel(models[arch]);
    const scores = await scorePanelAsync(syntheticPanel(4, 600, 21), m);
    expect(scores[0].some((s) => Number.isFinite(s))).toBe(true);
  });
});
