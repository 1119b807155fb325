import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runBacktest, walkForward } from '../../../src/backtest';
import { prepareStrategy, parseStrategyParams } from '../../../src/backtest/strategies';
import type { Panel } from '../../../src/backtest/types';
import { FEATURE_NAMES, FEATURE_SET_VERSION, type FeatureName } from '../../../src/contract/ml';
import { InputError } from '../../../src/errors';
import { mlpModel, mlpReference, randomMlp, buildOnnxModel } from '../../../src/ml/inference/onnx-builder';
import { setModelResolver } from '../../../src/ml/inference/resolver';
import {
  loadSignalModel,
  panelRows,
  positionsFromScores,
  scorePanelAsync,
  scorePanelSync,
} from '../../../src/ml/signal';
import { evaluateBatch } from '../../../src/sweep/evaluate';
import { sp500Panel, syntheticPanel } from '../../helpers/ml-bars';
import { CLOSE_FEATURES, writeModelDir } from '../../helpers/ml-models';
import { runQuant } from '../../helpers/quant-cli';

const root = mkdtempSync(path.join(os.tmpdir(), 'ml-signal-'));
let n = 0;
const fresh = (): string => path.join(root, `m${n++}`);

const syn = syntheticPanel(4, 260, 9);
const mlp = writeModelDir(fresh());

describe('ml-signal scores and positions', () => {
  it('scores equal the float64 MLP over the TS features within 1e-5, sync and async alike', async () => {
    const { scores } = scorePanelSync(syn, mlp.dir);
    const rows = panelRows(syn, FEATURE_NAMES, 1);
    expect(rows.rows).toBe(4 * (260 - 49));
    let checked = 0;
    for (let i = 0; i < rows.rows; i += 37) {
      const ref = mlpReference(mlp.weights!, rows.data.subarray(i * rows.width, (i + 1) * rows.width))[0];
      expect(Math.abs(scores[rows.symbolOf[i]][rows.barOf[i]] - ref)).toBeLessThan(1e-5);
      checked++;
    }
    expect(checked).toBeGreaterThan(20);
    // Warm-up bars (before SMA(50) exists) have no score.
    expect(Number.isNaN(scores[0][48])).toBe(true);
    expect(Number.isNaN(scores[0][49])).toBe(false);
    const m = await loadSignalModel(mlp.dir);
    const asyncScores = await scorePanelAsync(syn, m);
    asyncScores.forEach((s, a) => s.forEach((v, t) => expect(v).toBe(scores[a][t])));
  });

  it('positions: threshold rule, short side, sizing, equal weight across symbols', () => {
    const scores = [
      Float64Array.from([NaN, 0.002, -0.002, 0.0005]),
      Float64Array.from([NaN, -0.01, 0.01, 0]),
    ];
    const long = positionsFromScores(scores, 0, { model: '', threshold: 0.001, short: false, scale: 0 });
    expect(Array.from(long[0])).toEqual([0, 0.5, 0, 0]);
    const both = positionsFromScores(scores, 0, { model: '', threshold: 0.001, short: true, scale: 0 });
    expect(Array.from(both[1])).toEqual([0, -0.5, 0.5, 0]);
    const sized = positionsFromScores(scores, 0, { model: '', threshold: 0, short: true, scale: 0.004 });
    expect(Array.from(sized[0])).toEqual([0, 0.25, -0.25, 0.0625]);
    expect(Array.from(sized[1])).toEqual([0, -0.5, 0.5, 0]);
    // Probabilities are centred on 0.5.
    const p = positionsFromScores([Float64Array.from([0.7, 0.4])], 0.5, {
      model: '',
      threshold: 0.1,
      short: true,
      scale: 0,
    });
    expect(Array.from(p[0])).toEqual([1, 0]);
  });

  it('a sequence model (window 10 over the close-only features) backtests on the S&P 500', () => {
    const seq = writeModelDir(fresh(), { features: CLOSE_FEATURES, window: 10 });
    const spx = sp500Panel();
    const r = runBacktest(
      { ...spx, volume: undefined },
      { strategy: 'ml-signal', params: { model: seq.dir, short: true } },
    );
    expect(r.summary.bars).toBe(5105);
    expect(r.summary.exposure).toBeGreaterThan(0);
    // No position before the first full window: 50 bars of SMA warm-up + 9 more lags.
    expect(r.positions[0].subarray(0, 58).every((w) => w === 0)).toBe(true);
  });

  it('a threshold sweep (one batch, the scores cached) trades less as the threshold grows', async () => {
    const rows = await evaluateBatch(
      { symbol: 'SPX', dates: syn.dates, close: syn.close[0], volume: syn.volume![0] },
      { strategy: 'ml-signal', costBps: 1 } as Parameters<typeof evaluateBatch>[1],
      [0, 0.05, 0.5, 1e3].map((threshold, i) => ({
        id: `p${i}`,
        params: { model: mlp.dir, threshold } as unknown as Record<string, number>,
      })),
    );
    const exposure = rows.map((r) => r.exposure as number);
    expect(exposure[0]).toBeGreaterThan(0);
    expect(exposure[3]).toBe(0);
    for (let i = 1; i < exposure.length; i++) expect(exposure[i]).toBeLessThanOrEqual(exposure[i - 1]);
  });

  it('walk-forward over a threshold grid', () => {
    const spx = sp500Panel();
    const closeOnly = writeModelDir(fresh(), { features: CLOSE_FEATURES });
    const wf = walkForward(spx, {
      strategy: 'ml-signal',
      candidates: [
        { model: closeOnly.dir, threshold: 0 },
        { model: closeOnly.dir, threshold: 0.5 },
      ] as unknown as Record<string, number>[],
      trainPeriods: 1000,
      testPeriods: 500,
    });
    expect(wf.windows.length).toBeGreaterThan(3);
  });
});

describe('ml-signal bad input: a clear InputError before any position', () => {
  const prep = (model: string) => () =>
    prepareStrategy('ml-signal', parseStrategyParams('ml-signal', { model }));
  const run =
    (model: string, panel: Panel = syn) =>
    () =>
      runBacktest(panel, { strategy: 'ml-signal', params: { model } });

  it('a missing model directory, a directory without manifest, a missing model.onnx', async () => {
    await expect(prep(path.join(root, 'nope'))).rejects.toThrow(/param\.model: model directory not found/);
    const empty = fresh();
    mkdirSync(empty);
    await expect(prep(empty)).rejects.toThrow(/no manifest\.json in/);
    const noOnnx = writeModelDir(fresh());
    writeFileSync(path.join(noOnnx.dir, 'model.onnx'), '');
    await expect(prep(noOnnx.dir)).rejects.toThrow(/model\.onnx is empty/);
    expect(run(path.join(root, 'nope'))).toThrow(InputError);
  });

  it('a corrupt ONNX file', async () => {
    const d = writeModelDir(fresh(), { onnx: Uint8Array.from({ length: 64 }, (_, i) => i * 7) });
    await expect(prep(d.dir)).rejects.toThrow(/param\.model: not a valid ONNX model/);
    expect(run(d.dir)).toThrow(/not a valid ONNX model/);
  });

  it('manifest features that are not the feature set, or do not match the graph', async () => {
    const unknown = writeModelDir(fresh(), { manifest: { features: ['ret_1', 'ret_2'] } });
    await expect(prep(unknown.dir)).rejects.toThrow(/manifest\.features: unknown feature "ret_2"/);
    // The graph takes 11 columns; a manifest listing 10 features (with a consistent shape) does not match it.
    const ten = FEATURE_NAMES.slice(0, 10);
    const fewer = writeModelDir(fresh(), {
      onnx: mlpModel(randomMlp([11, 4, 1])),
      manifest: { features: ten, input: { name: 'features', shape: [null, 10] } },
    });
    await expect(prep(fewer.dir)).rejects.toThrow(
      /input "features" has 11 columns; the manifest's 10 features x window 1 = 10/,
    );
    const shape = writeModelDir(fresh(), { manifest: { input: { name: 'features', shape: [null, 12] } } });
    await expect(prep(shape.dir)).rejects.toThrow(
      /manifest\.input\.shape: \[, 12\] does not match window 1 x 11 features = 11/,
    );
    const schema = writeModelDir(fresh(), { manifest: { schemaVersion: 2 } });
    await expect(prep(schema.dir)).rejects.toThrow(/manifest\.schemaVersion/);
  });

  it('a model trained on another feature-set version, or on an unstated one', async () => {
    const other = writeModelDir(fresh(), { manifest: { featureSetVersion: FEATURE_SET_VERSION + 1 } });
    const msg = `manifest.featureSetVersion: the model was trained on feature set version ${FEATURE_SET_VERSION + 1}, this code computes version ${FEATURE_SET_VERSION}; retrain it on the current features`;
    await expect(prep(other.dir)).rejects.toThrow(msg);
    expect(run(other.dir)).toThrow(msg);
    // JSON.stringify drops the undefined field: a manifest written before the field existed.
    const unstated = writeModelDir(fresh(), { manifest: { featureSetVersion: undefined } });
    await expect(prep(unstated.dir)).rejects.toThrow(
      /manifest\.featureSetVersion: missing; the model does not say which feature definitions/,
    );
  });

  it('a model whose input is not [N, window x F] float', async () => {
    const threeD = writeModelDir(fresh(), {
      onnx: buildOnnxModel({
        inputs: [{ name: 'features', shape: ['N', 11, 1] }],
        outputs: [{ name: 'score', shape: ['N', 11, 1] }],
        nodes: [{ op: 'Relu', inputs: ['features'], outputs: ['score'] }],
      }),
    });
    await expect(prep(threeD.dir)).rejects.toThrow(
      /input "features" is float32 \[\?, 11, 1\]; expected float32 \[N, 11\]/,
    );
    const renamed = writeModelDir(fresh(), { onnx: mlpModel(randomMlp([11, 4, 1]), { input: 'x' }) });
    await expect(prep(renamed.dir)).rejects.toThrow(/the model's input is "x", the manifest says "features"/);
  });

  it('NaN features after the warm-up, and volume features without volume', () => {
    const flat: Panel = {
      ...syn,
      volume: syn.volume!.map((v) => Float64Array.from(v, (x, t) => (t >= 100 && t < 130 ? 1000 : x))),
    };
    expect(run(mlp.dir, flat)).toThrow(/feature volume_z_20 of SYN0 on 2021-05-03 is not a number \(NaN\)/);
    expect(run(mlp.dir, { ...syn, volume: undefined })).toThrow(
      /the model's feature volume_ratio_20 needs volume; the bars have no volume column/,
    );
  });
});

describe('ml-signal registry versions (the resolver hook)', () => {
  afterEach(() => setModelResolver(undefined));

  it('name@version resolves through the installed resolver in prepare, then backtests', async () => {
    await expect(
      prepareStrategy('ml-signal', parseStrategyParams('ml-signal', { model: 'ml-signal@3' })),
    ).rejects.toThrow(/"ml-signal@3" is a registry version but no model registry is configured/);
    expect(() => runBacktest(syn, { strategy: 'ml-signal', params: { model: 'ml-signal@3' } })).toThrow(
      /registry version "ml-signal@3" was not resolved/,
    );
    const asked: string[] = [];
    setModelResolver(async (ref) => {
      asked.push(`${ref.name}:${ref.version}`);
      return mlp.dir;
    });
    await prepareStrategy('ml-signal', parseStrategyParams('ml-signal', { model: 'ml-signal@3' }));
    const r = runBacktest(syn, { strategy: 'ml-signal', params: { model: 'ml-signal@3' } });
    expect(asked).toEqual(['ml-signal:3']);
    expect(r.summary.exposure).toBeGreaterThan(0);
  });
});

describe('quant backtest --strategy ml-signal', () => {
  const csv = path.join(root, 'syn0.csv');
  writeFileSync(
    csv,
    `date,close,volume\n${syn.dates.map((d, t) => `${d},${syn.close[0][t]},${syn.volume![0][t]}`).join('\n')}\n`,
  );

  it('runs, and a walk-forward sweeps the threshold', async () => {
    const r = await runQuant([
      'backtest',
      '--bars',
      csv,
      '--strategy',
      'ml-signal',
      '--param',
      `model=${mlp.dir}`,
      '--json',
    ]);
    expect(r.code, r.err).toBe(0);
    const out = JSON.parse(r.out) as { strategy: string; params: Record<string, unknown> };
    expect(out.strategy).toBe('ml-signal');
    expect(out.params.model).toBe(mlp.dir);
    const wf = await runQuant([
      'backtest',
      '--bars',
      csv,
      '--strategy',
      'ml-signal',
      '--param',
      `model=${mlp.dir}`,
      '--walk-forward',
      '100:50',
      '--grid',
      'threshold=0,0.1',
      '--json',
    ]);
    expect(wf.code, wf.err).toBe(0);
  });

  it('a bad model is exit 2 with the reason, no stack trace', async () => {
    const r = await runQuant([
      'backtest',
      '--bars',
      csv,
      '--strategy',
      'ml-signal',
      '--param',
      `model=${path.join(root, 'none')}`,
      '--json',
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/param\.model: model directory not found/);
    expect(r.out).toBe('');
  });
});

// Keeps the imported name used when the feature list changes.
export type _F = FeatureName;
