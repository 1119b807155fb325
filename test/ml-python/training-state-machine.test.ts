/**
 * The synthesized training state machine (TrainingStack, dev) run end to end on the local cloud:
 * Athena UNLOAD → DuckDB features, the SageMaker job → training/train.py on CPU, evaluation,
 * registration. Needs /usr/bin/python3 with torch and onnx: without them this fails (it never skips).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { dev } from '../../lib/config';
import { TRAINING_METRICS, TRAINING_STATES } from '../../src/contract/training';
import { importBars } from '../../src/lake/bars';
import { lakeBuckets } from '../../src/lake';
import { loadSynthesizedDefinition } from '../../src/local/definitions';
import { readTarball } from '../../src/ml/aws/model-artifacts';
import { runTrainingStateMachineLocally } from '../../src/ml/local-training-machine';
import { S3ModelRegistry } from '../../src/ml/registry/s3-registry';
import { pythonOf } from '../../src/ml/workflow/python';
import { jobPaths } from '../../src/ml/workflow/job';
import { localCloudWorld } from '../helpers/local-cloud';
import { syntheticPanel } from '../helpers/ml-bars';

const w = localCloudWorld({ name: 'training-sfn' });
const { dir } = w;
let definition: object;

beforeAll(async () => {
  // The dev config's universe, as synthetic daily bars in the local lake's curated zone.
  const symbols = dev.training.symbols;
  const panel = syntheticPanel(symbols.length, 700, 11);
  const ts: number[] = [];
  const symbol: string[] = [];
  const close: number[] = [];
  const volume: number[] = [];
  panel.close.forEach((c, a) =>
    panel.dates.forEach((d, t) => {
      ts.push(Date.parse(`${d}T00:00:00Z`));
      symbol.push(symbols[a]);
      close.push(c[t]);
      volume.push(panel.volume![a][t]);
    }),
  );
  await importBars(
    { clients: w.clients, buckets: lakeBuckets(w.cloud.runtime), tmpDir: dir },
    { symbol, ts, open: close, high: close, low: close, close, volume },
    { interval: '1d' },
  );
  definition = await loadSynthesizedDefinition({ env: 'dev', stack: 'Training' });
});

describe('the synthesized training state machine, locally', () => {
  it('has Python with torch and onnx (this suite needs them)', () => {
    // No short timeout: importing torch takes many seconds on a loaded machine.
    const r = spawnSync(pythonOf(), ['-c', 'import torch, onnx, pandas, numpy'], {
      encoding: 'utf8',
      timeout: 300_000,
    });
    expect(r.error?.message ?? r.stderr.trim().split('\n').at(-1) ?? '').toBe('');
    expect(r.status).toBe(0);
  });

  it('computes features, trains on CPU, evaluates, registers version 1 pending approval', async () => {
    const entered: string[] = [];
    const r = await runTrainingStateMachineLocally({
      runtime: w.cloud.runtime,
      clients: w.clients,
      dataDir: w.cloud.runtime.dataDir,
      definition,
      hyperparameters: { epochs: '3' },
      // Any held-out IC passes: this checks the path, not the model's skill.
      gate: { minIc: -1 },
      onEvent: (e) => {
        if (e.type === 'StateEntered' && e.state) entered.push(e.state.name);
      },
    });
    expect(entered).toEqual([
      TRAINING_STATES.readRequest,
      TRAINING_STATES.noRequest,
      TRAINING_STATES.prepare,
      TRAINING_STATES.features,
      TRAINING_STATES.train,
      TRAINING_STATES.recordUsage,
      TRAINING_STATES.evaluate,
      TRAINING_STATES.gate,
      TRAINING_STATES.register,
      TRAINING_STATES.publish,
      TRAINING_STATES.done,
    ]);
    expect(r.jobName).toMatch(new RegExp(`^${dev.training.modelName}-[0-9a-f]{8}$`));
    // The SageMaker container contract, mapped under the data directory.
    const job = jobPaths(w.cloud.runtime.dataDir, r.jobName);
    expect(readFileSync(path.join(job.train, 'features.csv'), 'utf8').split('\n')[0]).toMatch(
      /^ts,symbol,ret_1,.*,fwd_return$/,
    );
    expect(r.featureRows).toBe(700 * dev.training.symbols.length);
    expect(Object.keys(r.training.metrics)).toEqual(expect.arrayContaining(['val_loss', 'test_ic']));
    expect(r.metrics.map((m) => m.name)).toEqual([
      TRAINING_METRICS.trainingSeconds,
      TRAINING_METRICS.billableSeconds,
    ]);
    expect(r.evaluation.passed).toBe(true);
    expect(r.published).toMatchObject({ version: 1, created: true });

    const store = new S3ModelRegistry(w.clients.s3, lakeBuckets(w.cloud.runtime).models);
    const v = await store.get(dev.training.modelName, 1);
    expect(v.status).toBe('PendingManualApproval');
    // The registered model.onnx is the one the training job wrote into its archive.
    const { Body } = await w.clients.s3.send(
      new (await import('@aws-sdk/client-s3')).GetObjectCommand({
        Bucket: lakeBuckets(w.cloud.runtime).models,
        Key: `training-output/${r.jobName}/output/model.tar.gz`,
      }),
    );
    const archive = readTarball(await Body!.transformToByteArray());
    expect(Buffer.from(await store.artifact(dev.training.modelName, 1, 'model.onnx'))).toEqual(
      Buffer.from(archive.get('model.onnx')!),
    );
  });
});
