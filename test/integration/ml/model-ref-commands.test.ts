/**
 * `--param model=name@version|@env` in every command that runs a strategy (quant backtest, its
 * walk-forward, quant paper, quant backtest sweep on this thread, on worker threads and through the
 * local state machine's batch tasks): each resolves the version from the local registry through
 * the same function (src/ml/registry/resolver.ts useModelRegistry) and gives exactly what the
 * version's directory gives. A sweep over models (`--grid model=...`) picks the best by backtest.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClients, type AwsClients } from '../../../src/aws/clients';
import { LOCAL_BUCKETS } from '../../../src/local/buckets';
import { LocalCloud } from '../../../src/local/cloud';
import { setModelResolver } from '../../../src/ml/inference/resolver';
import { S3ModelRegistry } from '../../../src/ml/registry/s3-registry';
import { syntheticPanel } from '../../helpers/ml-bars';
import { CLOSE_FEATURES, writeModelDir } from '../../helpers/ml-models';
import { runQuant } from '../../helpers/quant-cli';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ml-refs-'));
const dataDir = path.join(dir, 'data');
const barsFile = path.join(dir, 'bars.csv');
let clients: AwsClients;
const models: Record<string, string> = {};

const quant = (...args: string[]) => runQuant(['--data-dir', dataDir, ...args]);
const json = (r: { code: number; out: string; err: string }): Record<string, unknown> => {
  expect(r.err.match(/^error: .*/m)?.[0] ?? '', r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as Record<string, unknown>;
};

beforeAll(async () => {
  const panel = syntheticPanel(1, 420, 9);
  writeFileSync(
    barsFile,
    `date,close\n${panel.dates.map((d, t) => `${d},${panel.close[0][t]}`).join('\n')}\n`,
  );
  const cloud = await LocalCloud.up({ dataDir });
  clients = createClients(cloud.runtime);
  const registry = new S3ModelRegistry(clients.s3, LOCAL_BUCKETS.models);
  for (const [name, seed] of [
    ['one', 7],
    ['two', 1],
  ] as const) {
    const d = writeModelDir(path.join(dir, name), { features: CLOSE_FEATURES, seed });
    models[name] = d.dir;
    const file = (f: string) => new Uint8Array(readFileSync(path.join(d.dir, f)));
    await registry.register({
      modelName: 'ml-signal',
      actor: 'test',
      files: {
        'model.onnx': file('model.onnx'),
        'manifest.json': file('manifest.json'),
        'evaluation.json': new TextEncoder().encode('{}'),
      },
    });
  }
  await registry.approve('ml-signal', 2, 'prod', 'test');
}, 60_000);
afterAll(async () => {
  clients?.destroy();
  await LocalCloud.down({ dataDir });
  rmSync(dir, { recursive: true, force: true });
});
// runQuant runs the CLI in this process: no command's resolver may leak into the next test.
afterEach(() => setModelResolver(undefined));

const backtest = (model: string) =>
  quant('backtest', '--bars', barsFile, '--strategy', 'ml-signal', '--param', `model=${model}`, '--json');

describe('model=name@version|@env in each command', () => {
  it('quant backtest: a version and an environment give what the directories give', async () => {
    const byDir1 = json(await backtest(models.one));
    const byDir2 = json(await backtest(models.two));
    expect(byDir1.sharpe).not.toBe(byDir2.sharpe); // two different models
    const v1 = json(await backtest('ml-signal@1'));
    expect({ ...v1, params: undefined }).toEqual({ ...byDir1, params: undefined });
    expect((v1.params as Record<string, unknown>).model).toBe('ml-signal@1');
    expect(json(await backtest('ml-signal@prod')).sharpe).toBe(byDir2.sharpe);
  }, 60_000);

  it('quant backtest: an unknown version or an environment without one exits 2 naming param.model', async () => {
    const none = await backtest('ml-signal@staging');
    expect(none.code).toBe(2);
    expect(none.err).toMatch(
      /param\.model: "ml-signal@staging": no version of ml-signal is approved for staging/,
    );
    const missing = await backtest('ml-signal@9');
    expect(missing.code).toBe(2);
    expect(missing.out).toBe('');
  }, 60_000);

  it('quant backtest --walk-forward over a grid of models', async () => {
    const r = json(
      await quant(
        'backtest',
        '--bars',
        barsFile,
        '--strategy',
        'ml-signal',
        '--walk-forward',
        '150:50',
        '--grid',
        'model=ml-signal@1,ml-signal@prod',
        '--json',
      ),
    );
    const picked = (r.windows as { params: { model: string } }[]).map((w) => w.params.model);
    expect(picked.length).toBeGreaterThan(0);
    expect(picked.every((m) => m === 'ml-signal@1' || m === 'ml-signal@prod')).toBe(true);
  }, 60_000);

  it('quant paper: the version trades what its directory trades', async () => {
    const paper = (model: string) =>
      quant(
        'paper',
        '--bars',
        barsFile,
        '--strategy',
        'ml-signal',
        '--param',
        `model=${model}`,
        '--last',
        '60',
        '--json',
      );
    const byDir = json(await paper(models.one));
    const byRef = json(await paper('ml-signal@1'));
    expect(byRef.signals).toBe(byDir.signals);
    expect(byRef.finalNav).toBe(byDir.finalNav);
    expect(byRef.signals as number).toBeGreaterThan(0);
  }, 120_000);
});

describe('quant backtest sweep over models', () => {
  const direct = async () => ({
    '1': json(await backtest(models.one)).sharpe as number,
    '2': json(await backtest(models.two)).sharpe as number,
  });
  const sweep = (...extra: string[]) =>
    quant(
      'backtest',
      'sweep',
      '--bars',
      barsFile,
      '--strategy',
      'ml-signal',
      '--grid',
      'model=ml-signal@1,ml-signal@prod',
      '--json',
      ...extra,
    );

  it.each([
    ['on this thread', []],
    ['on worker threads', ['--workers', '2', '--batch-size', '1']],
    ['through the local state machine', ['--state-machine', '--batch-size', '1']],
  ])(
    '%s: @prod is pinned to its version, each row is that model backtested',
    async (_label, extra) => {
      const want = await direct();
      const r = json(
        await sweep(...extra, '--sweep-id', `models-${extra.join('').replace(/[^a-z0-9]/g, '')}`),
      );
      const top = r.top as { params: string; sharpe: number }[];
      expect(top.map((row) => JSON.parse(row.params).model).sort()).toEqual(['ml-signal@1', 'ml-signal@2']);
      for (const row of top) {
        const v = (JSON.parse(row.params).model as string).split('@')[1] as '1' | '2';
        expect(row.sharpe).toBeCloseTo(want[v], 12);
      }
      // Ranked by Sharpe: the first row is the better model.
      expect(top[0].sharpe).toBe(Math.max(want['1'], want['2']));
    },
    180_000,
  );

  it('--remote pins registry versions from the models bucket first: without it, exit 2 naming the variable', async () => {
    const saved = process.env.LAKE_MODELS_BUCKET;
    delete process.env.LAKE_MODELS_BUCKET;
    try {
      const r = await sweep('--remote');
      expect(r.code).toBe(2);
      expect(r.err).toMatch(
        /--remote: ml-signal@1, ml-signal@prod name registry versions, which are pinned before the sweep starts: set LAKE_MODELS_BUCKET to the models bucket/,
      );
      expect(r.err).not.toMatch(/\n\s+at /); // no stack trace, and nothing started (no credentials here)
    } finally {
      if (saved !== undefined) process.env.LAKE_MODELS_BUCKET = saved;
    }
  });

  it('text values compare only with == and != in --where', async () => {
    const r = await sweep('--where', 'model < 3');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/where: "ml-signal@1" is text; text parameters only compare with == and !=/);
  });
});
