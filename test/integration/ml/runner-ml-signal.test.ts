/**
 * A model strategy through the registry and the strategy runner, without Python: an ONNX model
 * built in TypeScript (test/helpers/ml-models.ts) is registered, approved, promoted as ml-signal,
 * and the runner trades it through risk and the paper broker; each signal records the model
 * version; a rollback changes the version the next bar uses. The evaluation step backtests it on
 * the held-out window against the champion and sma-cross.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Panel } from '../../../src/backtest/types';
import { LOCAL_BUCKETS } from '../../../src/local/buckets';
import { modelStrategyFor } from '../../../src/ml/model-strategy';
import { installRegistryResolver } from '../../../src/ml/registry/resolver';
import { setModelResolver } from '../../../src/ml/inference/resolver';
import { parseStrategyParams, prepareStrategy } from '../../../src/backtest/strategies';
import { runBacktest } from '../../../src/backtest/run';
import { S3ModelRegistry } from '../../../src/ml/registry/s3-registry';
import { evaluateStep } from '../../../src/ml/workflow/evaluate-step';
import { registerStep } from '../../../src/ml/workflow/register-step';
import { paperThroughRunner } from '../../../src/strategy-runner/paper';
import { promoteStrategy, S3PromotionStore } from '../../../src/strategy-runner/promotions';
import { panelUpTo, runStrategyBar } from '../../../src/strategy-runner/runner';
import { tradingServices, type TradingServices } from '../../../src/trading/context';
import type { Signal } from '../../../src/trading/signals';
import { localCloudWorld } from '../../helpers/local-cloud';
import { syntheticPanel } from '../../helpers/ml-bars';
import { CLOSE_FEATURES, writeModelDir } from '../../helpers/ml-models';

const w = localCloudWorld({ name: 'runner-ml' });
const { dir } = w;
let svc: TradingServices;
let registry: S3ModelRegistry;
let store: S3PromotionStore;
const panel: Panel = syntheticPanel(1, 400, 5);

/** A model directory as training leaves it: model.onnx, manifest.json (test window) and evaluation.json. */
function modelDir(name: string, seed: number, testIc: number): string {
  const d = path.join(dir, name);
  writeModelDir(d, {
    features: CLOSE_FEATURES,
    seed,
    manifest: {
      testWindow: { from: panel.dates[300], to: panel.dates[399] },
      metrics: { test_ic: testIc, test_sharpe: 0.5 },
      dataHash: `sha256:${seed}`,
    },
  });
  writeFileSync(path.join(d, 'evaluation.json'), JSON.stringify({ ic: testIc, rows: 100 }));
  return d;
}

beforeAll(async () => {
  svc = await tradingServices(w.clients, {}, { limitsTtlMs: 0 });
  registry = new S3ModelRegistry(w.clients.s3, LOCAL_BUCKETS.models);
  store = new S3PromotionStore(w.clients.s3, LOCAL_BUCKETS.models);
});

describe('evaluation, registration, promotion and the runner with a model', () => {
  it('evaluates on the held-out window, registers, and the gate decides auto-approval', async () => {
    const modelStrategy = modelStrategyFor(w.cloud.runtime);
    const a = modelDir('a', 7, 0.03);
    const ev = await evaluateStep({ registry, modelStrategy }, { modelDir: a, panel });
    expect(ev.window).toEqual({ from: panel.dates[300], to: panel.dates[399], bars: 100 });
    expect(ev.champion).toBeUndefined();
    expect(ev.baseline.label).toBe('sma-cross fast=20 slow=50 short=false');
    expect(ev.gate.passed).toBe(true); // IC 0.03 > 0, no champion
    const r1 = await registerStep(registry, {
      modelDir: a,
      gatePassed: ev.gate.passed,
      autoApprove: true,
      actor: 't',
    });
    expect(r1.version).toMatchObject({
      version: 1,
      status: 'Approved',
      currentFor: ['paper'],
      dataHash: 'sha256:7',
    });

    const b = modelDir('b', 8, -0.01);
    const evB = await evaluateStep({ registry, modelStrategy }, { modelDir: b, panel });
    expect(evB.champion?.version).toBe(1);
    expect(evB.gate.passed).toBe(false);
    expect(evB.gate.reasons[0]).toMatch(/held-out IC -0.0100 is not above 0/);
    const r2 = await registerStep(registry, {
      modelDir: b,
      gatePassed: evB.gate.passed,
      autoApprove: true,
      actor: 't',
    });
    expect(r2.version).toMatchObject({ version: 2, status: 'PendingManualApproval', currentFor: [] });
    // The registered files are the model directory's.
    expect(Buffer.from(await registry.artifact('ml-signal', 2, 'model.onnx'))).toEqual(
      readFileSync(path.join(b, 'model.onnx')),
    );
  });

  it('promotion of ml-signal needs the version approved for the environment', async () => {
    const deps = { store, registry, audit: svc.audit };
    await expect(
      promoteStrategy(deps, {
        env: 'paper',
        strategy: 'ml-signal',
        model: { modelName: 'ml-signal', version: 2 },
        actor: 't',
      }),
    ).rejects.toThrow(
      /ml-signal@2 is PendingManualApproval, and paper has version 1 approved: run quant model approve/,
    );
    await expect(promoteStrategy(deps, { env: 'paper', strategy: 'ml-signal', actor: 't' })).rejects.toThrow(
      /--model: strategy ml-signal trades a model/,
    );
    const p = await promoteStrategy(deps, {
      env: 'paper',
      strategy: 'ml-signal',
      params: { threshold: '0' },
      model: { modelName: 'ml-signal', version: 1 },
      actor: 't',
    });
    expect(p.promotion).toMatchObject({
      strategy: 'ml-signal',
      params: { threshold: 0, short: false, scale: 0 },
      model: { name: 'ml-signal', version: 1 },
    });
    expect(p.promotion.params).not.toHaveProperty('model');
  });

  it('the runner trades the approved version through risk and the paper broker; a rollback switches the version', async () => {
    const modelStrategy = modelStrategyFor(w.cloud.runtime);
    const r = await paperThroughRunner(
      { clients: w.clients, svc, promotions: store, registry, modelStrategy },
      { env: 'paper', panel, lastBars: 60, lookback: 120, runId: 'ml-runner' },
    );
    expect(r.strategy).toBe('ml-signal');
    expect(r.modelVersion).toBe(1);
    expect(r.signals).toBeGreaterThan(0);
    expect(r.deadLetters).toBe(0);
    expect(
      r.blotter.every((o) => o.strategy === 'ml-signal' && ['FILLED', 'REJECTED'].includes(o.status)),
    ).toBe(true);

    // Version 2 approved for paper, then rolled back: the runner follows the environment's current version.
    const emitted: Signal[] = [];
    const runner = {
      promotions: store,
      registry,
      account: 'acct-ml',
      modelStrategy,
      emit: async (s: Signal) => void emitted.push(s),
    };
    await registry.approve('ml-signal', 2, 'paper', 't');
    const at2 = await runStrategyBar(runner, {
      env: 'paper',
      panel: panelUpTo(panel, 350, 120),
      always: true,
    });
    expect(at2.modelVersion).toBe(2);
    expect(at2.signal?.provenance).toMatchObject({ env: 'paper', model: 'ml-signal', modelVersion: 2 });
    await registry.rollback('ml-signal', 'paper', 't');
    const at1 = await runStrategyBar(runner, {
      env: 'paper',
      panel: panelUpTo(panel, 351, 120),
      always: true,
    });
    expect(at1.signal?.provenance).toMatchObject({ model: 'ml-signal', modelVersion: 1 });
    expect(at1.inputsHash).not.toBe(at2.inputsHash);
  });

  it('a registry version resolves for ml-signal anywhere: --param model=ml-signal@1 in a backtest', async () => {
    installRegistryResolver(registry, path.join(dir, 'cache'));
    try {
      const params = parseStrategyParams('ml-signal', { model: 'ml-signal@1' });
      await prepareStrategy('ml-signal', params);
      const r = runBacktest(panel, { strategy: 'ml-signal', params: { model: 'ml-signal@1' } as never });
      expect(r.summary.bars).toBe(400);
      await expect(
        prepareStrategy('ml-signal', parseStrategyParams('ml-signal', { model: 'ml-signal@9' })),
      ).rejects.toThrow(/ml-signal@9 is not registered/);
    } finally {
      setModelResolver(undefined);
    }
  });
});
