/**
 * The training workflow end to end with the real training script (Python + PyTorch), on a small
 * dataset (the last 1,500 S&P 500 days): `quant train --local` writes the model files and
 * registers version 1; the version is approved for paper and promoted as ml-signal; the strategy
 * runner then trades it bar by bar through risk and the paper broker, each signal recording the
 * model version. Fails (never skips) without Python and PyTorch.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { FEATURE_NAMES } from '../../src/contract/ml';
import { LOCAL_BUCKETS } from '../../src/local/buckets';
import { checkPython } from '../../src/ml/workflow/python';
import type { AuditEvent } from '../../src/trading/audit';
import type { Signal } from '../../src/trading/signals';
import { localCloudWorld } from '../helpers/local-cloud';
import { runQuant } from '../helpers/quant-cli';

// The data directory's shared cloud: the quant commands below attach to it.
const w = localCloudWorld({ name: 'ml-workflow', shared: true });
const { dir } = w;
const dataDir = dir;
const bars = path.join(dir, 'spx-small.csv');
const out = path.join(dir, 'out');

beforeAll(async () => {
  const vega = readFileSync(
    new URL('../../node_modules/vega-datasets/data/sp500-2000.csv', import.meta.url),
    'utf8',
  )
    .trim()
    .split('\n');
  writeFileSync(bars, [vega[0], ...vega.slice(-1500)].join('\n'));
});

const quant = (...args: string[]) => runQuant(['--data-dir', dataDir, ...args]);
const json = (r: { code: number; out: string; err: string }) => {
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out);
};

describe('training workflow with Python and PyTorch', () => {
  it('has Python with torch, onnx, pandas and numpy', async () => {
    expect(await checkPython()).toMatchObject({ ok: true });
  });

  it('quant train --local: features, training, evaluation, registration; the same data twice is one version', async () => {
    const r = json(await quant('train', '--local', '--bars', bars, '--epochs', '3', '--out', out, '--json'));
    for (const f of ['model.onnx', 'manifest.json', 'evaluation.json'])
      expect(existsSync(path.join(out, f))).toBe(true);
    expect(
      existsSync(path.join(dataDir, 'ml', 'jobs', r.job, 'input', 'data', 'train', 'features.csv')),
    ).toBe(true);
    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    expect(manifest.features).toEqual(FEATURE_NAMES);
    expect(manifest.architecture).toBe('mlp');
    const evaluation = JSON.parse(readFileSync(path.join(out, 'evaluation.json'), 'utf8'));
    expect(evaluation.backtest.window.bars).toBeGreaterThan(100);
    expect(typeof evaluation.backtest.candidate.sharpe).toBe('number');
    expect(evaluation.backtest.baseline.label).toMatch(/^sma-cross/);
    expect(r.training.metrics.test_ic).toBeCloseTo(manifest.metrics.test_ic, 9);
    expect(r.registered).toMatchObject({
      modelName: 'ml-signal',
      version: 1,
      status: 'PendingManualApproval',
      created: true,
    });
    const again = json(await quant('train', '--local', '--bars', bars, '--epochs', '3', '--json'));
    expect(again.registered).toMatchObject({ version: 1, created: false, sha256: r.registered.sha256 });
  });

  it('unusable training data: exit 2 with the script’s failure file', async () => {
    const tiny = path.join(dir, 'tiny.csv');
    writeFileSync(tiny, readFileSync(bars, 'utf8').split('\n').slice(0, 40).join('\n'));
    const r = await quant('train', '--local', '--bars', tiny, '--json');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error: training failed \(exit 2\): no usable rows: 39 rows read/m);
  });

  it('approved, promoted, and traded by the strategy runner through risk and the paper broker', async () => {
    json(await quant('model', 'approve', 'ml-signal@1', '--env', 'paper', '--json'));
    json(
      await quant(
        'strategy',
        'promote',
        '--strategy',
        'ml-signal',
        '--model',
        'ml-signal@1',
        '--env',
        'paper',
        '--json',
      ),
    );
    const p = json(
      await quant('strategy', 'paper', '--env', 'paper', '--bars', bars, '--last', '60', '--json'),
    );
    expect(p).toMatchObject({ strategy: 'ml-signal', modelVersion: 1, bars: 60, deadLetters: 0 });
    expect(p.signals).toBeGreaterThan(0);
    expect(p.blotter.length).toBeGreaterThan(0);
    expect(p.blotter.every((o: { status: string }) => ['FILLED', 'REJECTED'].includes(o.status))).toBe(true);
    expect(p.blotter.some((o: { status: string }) => o.status === 'FILLED')).toBe(true);

    const signals: Signal[] = [];
    const list = await w.clients.s3.send(
      new ListObjectsV2Command({ Bucket: LOCAL_BUCKETS.audit, Prefix: 'audit_events/' }),
    );
    for (const o of list.Contents ?? []) {
      const obj = await w.clients.s3.send(new GetObjectCommand({ Bucket: LOCAL_BUCKETS.audit, Key: o.Key! }));
      for (const l of (await obj.Body!.transformToString()).split('\n').filter(Boolean)) {
        const e = JSON.parse(l) as AuditEvent;
        if (e.type === 'signal' && e.account === p.account) signals.push(e.detail.signal as Signal);
      }
    }
    expect(signals.length).toBe(p.signals);
    for (const s of signals) {
      expect(s.provenance).toMatchObject({ env: 'paper', model: 'ml-signal', modelVersion: 1 });
      expect(s.provenance?.inputsHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    }
  });
});
