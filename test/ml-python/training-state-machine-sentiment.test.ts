/**
 * The synthesized training state machine on feature set version 2, end to end on the local cloud:
 * the dev definition with what a config whose `features` include the news sentiment synthesizes
 * (the version 2 UNLOAD from src/ml/features/sql.ts, `feature_set_version` 2; the infra test checks
 * the stack writes exactly that), bars and news in the local lake → features with the sentiment
 * column → training/train.py on CPU → the evaluate step scoring the candidate on the lake's news
 * (the S3 reader the Lambda uses) → a registered version 2 model. Needs Python with torch and onnx:
 * without them it fails (it never skips).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { dev } from '../../lib/config';
import { intrinsicLiteral } from '../../lib/constructs';
import { SENTIMENT_FEATURE_SET_VERSION } from '../../src/contract/ml';
import { SENTIMENT_FEATURE } from '../../src/contract/news';
import { TRAINING_STATES } from '../../src/contract/training';
import { importBars } from '../../src/lake/bars';
import { lakeBuckets } from '../../src/lake';
import { loadSynthesizedDefinition } from '../../src/local/definitions';
import { featureSql } from '../../src/ml/features/sql';
import { runTrainingStateMachineLocally } from '../../src/ml/local-training-machine';
import { S3ModelRegistry } from '../../src/ml/registry/s3-registry';
import { jobPaths } from '../../src/ml/workflow/job';
import { commitNewsRows, type NewsRow } from '../../src/news/lake';
import { mulberry32 } from '../../src/synthetic/random';
import { localCloudWorld } from '../helpers/local-cloud';
import { syntheticPanel } from '../helpers/ml-bars';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const w = localCloudWorld({ name: 'training-sfn-v2' });
const { dir } = w;
const FEATURES = ['ret_1', 'ret_5', 'ret_20', 'vol_20', SENTIMENT_FEATURE];
const BARS = 500;
let definition: { States: Record<string, Json> };

beforeAll(async () => {
  const buckets = lakeBuckets(w.cloud.runtime);
  const symbols = dev.training.symbols;
  const panel = syntheticPanel(symbols.length, BARS, 13);
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
    { clients: w.clients, buckets, tmpDir: dir },
    { symbol, ts, open: close, high: close, low: close, close, volume },
    { interval: '1d' },
  );
  const r = mulberry32(3);
  const t0 = Date.parse(`${panel.dates[0]}T00:00:00Z`) - 86_400_000;
  const t1 = Date.parse(`${panel.dates[BARS - 1]}T00:00:00Z`);
  const news: NewsRow[] = [];
  for (const s of symbols)
    for (let i = 0; i < 800; i++) {
      const at = t0 + Math.floor(r() * (t1 - t0));
      news.push({
        article_id: `${s}-${i}`,
        published_at: at,
        source: 'test',
        title: 't',
        score: 1,
        comparative: Math.round((r() * 2 - 1) * 1e4) / 1e4,
        ingested_at: at,
        dt: new Date(at).toISOString().slice(0, 10),
        symbol: s,
      });
    }
  await commitNewsRows({ clients: w.clients, buckets }, news);

  // What the stack synthesizes for a config training on the sentiment (test/infra/training-stack.test.ts).
  definition = (await loadSynthesizedDefinition({ env: 'dev', stack: 'Training' })) as typeof definition;
  const t = dev.training;
  const q = {
    symbols: t.symbols,
    horizon: t.horizon,
    from: t.fromDate,
    table: 'bars',
    dialect: 'athena',
  } as const;
  const f = definition.States[TRAINING_STATES.features].Parameters;
  const v1 = intrinsicLiteral(featureSql(q));
  expect(f['QueryString.$']).toContain(v1);
  f['QueryString.$'] = f['QueryString.$'].replace(
    v1,
    intrinsicLiteral(featureSql({ ...q, sentiment: true })),
  );
  const hps = definition.States[TRAINING_STATES.prepare].Parameters.hyperparameters;
  expect(hps.protected.feature_set_version).toBe('1');
  hps.static.features = FEATURES.join(',');
  hps.protected.feature_set_version = String(SENTIMENT_FEATURE_SET_VERSION);
}, 120_000);

describe('the training state machine on feature set version 2, locally', () => {
  it('features with the sentiment, training, evaluation on the lake news, a version 2 model registered', async () => {
    const r = await runTrainingStateMachineLocally({
      runtime: w.cloud.runtime,
      clients: w.clients,
      dataDir: w.cloud.runtime.dataDir,
      definition,
      hyperparameters: { epochs: '3' },
      gate: { minIc: -1 },
    });
    const job = jobPaths(w.cloud.runtime.dataDir, r.jobName);
    const header = readFileSync(path.join(job.train, 'features.csv'), 'utf8').split('\n')[0].split(',');
    expect(header.slice(-2)).toEqual([SENTIMENT_FEATURE, 'fwd_return']);
    expect(r.featureRows).toBe(BARS * dev.training.symbols.length);
    expect(r.evaluation.passed).toBe(true);
    expect(r.published).toMatchObject({ version: 1, created: true });
    const store = new S3ModelRegistry(w.clients.s3, lakeBuckets(w.cloud.runtime).models);
    const manifest = JSON.parse(
      new TextDecoder().decode(await store.artifact(dev.training.modelName, 1, 'manifest.json')),
    ) as { features: string[]; featureSetVersion: number };
    expect(manifest.features).toEqual(FEATURES);
    expect(manifest.featureSetVersion).toBe(SENTIMENT_FEATURE_SET_VERSION);
  });
});
