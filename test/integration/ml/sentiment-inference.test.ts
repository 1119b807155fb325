/**
 * A model trained on feature set version 2 (with the daily news sentiment) runs on the same inputs
 * everywhere: the features the backtest path (query engine) and the strategy runner's Lambda path
 * (the S3 Parquet reader) compute equal the training file's (the feature SQL on DuckDB) within
 * 1e-9, on the same bars and news in the local lake; `quant backtest` and `quant paper` read the
 * sentiment and give what an in-process run on the attached panel gives; the runner reads it per
 * bar; no news for a symbol over the window, or no reader, is a refusal naming the model and what
 * is missing (exit 2 from the CLI); an abandoned news pull is refused, not read half-written.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClients, type AwsClients } from '../../../src/aws/clients';
import { runBacktest } from '../../../src/backtest/run';
import { loadPanel } from '../../../src/backtest/load';
import { parseStrategyParams, prepareStrategy } from '../../../src/backtest/strategies';
import type { Panel } from '../../../src/backtest/types';
import { NEWS_SENTIMENT } from '../../../src/contract/lake';
import { FEATURE_NAMES, SENTIMENT_FEATURE_SET_VERSION, type ModelFeature } from '../../../src/contract/ml';
import { SENTIMENT_FEATURE } from '../../../src/contract/news';
import { InputError } from '../../../src/errors';
import { importBars } from '../../../src/lake/bars';
import { lakeBuckets, type LakeBuckets } from '../../../src/lake/buckets';
import { deletePending, newPending, putPending } from '../../../src/lake/commit';
import { DuckDbQueryEngine } from '../../../src/lake/query';
import { LocalCloud } from '../../../src/local/cloud';
import { computeFeatures, warmupBars } from '../../../src/ml/features';
import { featuresCsv, writeFeatureFile } from '../../../src/ml/features/file';
import { featureUnloadSql } from '../../../src/ml/features/sql';
import { athenaSelectToDuckDb, parseUnload } from '../../../src/ml/local-training-machine';
import { setModelResolver } from '../../../src/ml/inference/resolver';
import { attachModelInputs, withModelInputs } from '../../../src/ml/model-inputs';
import { runDriftJob } from '../../../src/ml/aws/drift-job';
import { modelStrategyFor } from '../../../src/ml/model-strategy';
import { S3ModelRegistry } from '../../../src/ml/registry/s3-registry';
import { mlSignalPositions, type MlSignalParams } from '../../../src/ml/signal';
import { commitNewsRows, type NewsRow } from '../../../src/news/lake';
import { sentimentWindows } from '../../../src/news/daily';
import { EngineNewsReader, PrefetchedNewsReader, S3NewsReader } from '../../../src/news/reader';
import { paperThroughRunner } from '../../../src/strategy-runner/paper';
import { promoteStrategy, S3PromotionStore } from '../../../src/strategy-runner/promotions';
import { inputsHash, panelUpTo, runStrategyBar } from '../../../src/strategy-runner/runner';
import { tradingServices } from '../../../src/trading/context';
import type { Signal } from '../../../src/trading/signals';
import { mulberry32 } from '../../../src/synthetic/random';
import { writeModelDir } from '../../helpers/ml-models';
import { runQuant } from '../../helpers/quant-cli';

const DAY = 86_400_000;
const dir = mkdtempSync(path.join(os.tmpdir(), 'sentiment-inference-'));
const dataDir = path.join(dir, 'data');
const FEATURES: readonly ModelFeature[] = ['ret_1', 'ret_5', 'sma_ratio_5_20', SENTIMENT_FEATURE];
let clients: AwsClients;
let buckets: LakeBuckets;
let engine: DuckDbQueryEngine;
let runtime: LocalCloud['runtime'];
let modelDir: string;

/** Weekday bar dates from `start`, `n` of them. */
function weekdays(start: string, n: number): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${start}T00:00:00Z`); out.length < n; t += DAY) {
    const wd = new Date(t).getUTCDay();
    if (wd !== 0 && wd !== 6) out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}
const dates = weekdays('2024-01-02', 80);

const quant = (...args: string[]) => runQuant(['--data-dir', dataDir, ...args]);

beforeAll(async () => {
  const cloud = await LocalCloud.up({ dataDir });
  runtime = cloud.runtime;
  clients = createClients(runtime);
  buckets = lakeBuckets(runtime);
  engine = await DuckDbQueryEngine.create(runtime);
  const r = mulberry32(11);
  const news: NewsRow[] = [];
  // CCC has bars and no news at all.
  for (const symbol of ['AAA', 'BBB', 'CCC']) {
    const ts = dates.map((d) => Date.parse(`${d}T00:00:00Z`));
    let p = 100;
    await importBars(
      { clients, buckets, tmpDir: dir },
      {
        symbol: ts.map(() => symbol),
        ts,
        open: ts.map(() => 100),
        high: ts.map(() => 101),
        low: ts.map(() => 99),
        close: ts.map(() => (p *= 1 + (r() - 0.5) * 0.04)),
        volume: ts.map(() => 1000 + Math.floor(r() * 100)),
      },
      { interval: '1d' },
    );
    if (symbol === 'CCC') continue;
    for (let i = 0; i < 150; i++) {
      const at = ts[0] - 2 * DAY + Math.floor(r() * (ts[ts.length - 1] - ts[0] + 3 * DAY));
      news.push({
        article_id: `${symbol}-${i}`,
        published_at: at,
        source: 'test',
        title: 't',
        score: 1,
        comparative: Math.round((r() * 2 - 1) * 1e4) / 1e4,
        ingested_at: at,
        dt: new Date(at).toISOString().slice(0, 10),
        symbol,
      });
    }
  }
  await commitNewsRows({ clients, buckets }, news);
  // A model whose score moves with the sentiment (a random MLP over the four features).
  modelDir = writeModelDir(path.join(dir, 'v2'), {
    features: FEATURES,
    seed: 5,
    manifest: {
      featureSetVersion: SENTIMENT_FEATURE_SET_VERSION,
      // Training statistics for the drift check: three bins around 0 per feature.
      featureStats: Object.fromEntries(
        FEATURES.map((f) => [f, { edges: [-0.01, 0.01], proportions: [0.3, 0.4, 0.3] }]),
      ),
    },
  }).dir;
}, 120_000);

afterAll(async () => {
  await engine?.close();
  clients?.destroy();
  await LocalCloud.down({ dataDir });
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => setModelResolver(undefined));

/** The training file's values by `symbol date` → feature → value (NaN for an empty cell). */
async function trainingFeatures(symbols: string[]): Promise<Map<string, Record<string, number>>> {
  const file = path.join(dir, 'train', `${symbols.join('-')}.csv`);
  await writeFeatureFile(engine, { symbols, sentiment: true }, file);
  const [header, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  const cols = header.split(',');
  expect(cols).toEqual(['ts', 'symbol', ...FEATURE_NAMES, SENTIMENT_FEATURE, 'fwd_return']);
  const out = new Map<string, Record<string, number>>();
  for (const l of lines) {
    const c = l.split(',');
    out.set(`${c[1]} ${c[0]}`, Object.fromEntries(cols.map((k, i) => [k, c[i] === '' ? NaN : Number(c[i])])));
  }
  return out;
}

/** Compares a panel's features with the training file's at bars `from`.. of the panel; returns how many values were compared. */
function expectSameAsTraining(
  panel: Panel,
  train: Map<string, Record<string, number>>,
  from: number,
): number {
  const m = computeFeatures(panel, FEATURES);
  let n = 0;
  panel.symbols.forEach((s, a) => {
    for (let t = from; t < panel.dates.length; t++) {
      const want = train.get(`${s} ${panel.dates[t]}`);
      expect(want, `${s} ${panel.dates[t]}`).toBeDefined();
      FEATURES.forEach((f, j) => {
        const got = m.values[a][t * FEATURES.length + j];
        if (Number.isNaN(want![f])) expect(got, `${s} ${panel.dates[t]} ${f}`).toBeNaN();
        else {
          expect(Math.abs(got - want![f]), `${s} ${panel.dates[t]} ${f}`).toBeLessThan(1e-9);
          n++;
        }
      });
    }
  });
  return n;
}

describe('parity with the training features (within 1e-9)', () => {
  it('the backtest path (query engine) and the Lambda path (S3 Parquet) compute what training wrote', async () => {
    const train = await trainingFeatures(['AAA', 'BBB']);
    const bars = await loadPanel(['lake:AAA', 'lake:BBB'], { runtime, query: engine, align: 'intersect' });
    const need = [{ model: 'v2', features: FEATURES }];

    const viaEngine = await attachModelInputs(bars, need, () => new EngineNewsReader(engine));
    expect(expectSameAsTraining(viaEngine, train, 0)).toBeGreaterThan(2 * 70 * 3);
    const sentiment = viaEngine.aux!.fields![SENTIMENT_FEATURE];
    expect(sentiment.flatMap((x) => Array.from(x)).filter((v) => v !== 0).length).toBeGreaterThan(80);

    const s3 = new S3NewsReader(clients.s3, buckets[NEWS_SENTIMENT.zone]);
    const viaS3 = await attachModelInputs(bars, need, () => s3);
    expect(expectSameAsTraining(viaS3, train, 0)).toBeGreaterThan(2 * 70 * 3);

    // The runner's window (the last 30 bars up to bar 70), read per bar: every value a model row
    // uses is training's (the first bar's sentiment window has no previous bar: no row uses it).
    const slice = await attachModelInputs(panelUpTo(bars, 70, 30), need, () => s3);
    expect(slice.dates).toEqual(dates.slice(41, 71));
    // Compared where the model has rows: from the longest window's warm-up on.
    expect(expectSameAsTraining(slice, train, warmupBars(FEATURES) - 1)).toBe(2 * 11 * FEATURES.length);
    expect(warmupBars([SENTIMENT_FEATURE])).toBe(2);
    // A warm reader reads the same again (unchanged partitions are not downloaded twice).
    const again = await attachModelInputs(panelUpTo(bars, 70, 30), need, () => s3);
    expect(again.aux!.fields![SENTIMENT_FEATURE]).toEqual(slice.aux!.fields![SENTIMENT_FEATURE]);
  });
});

describe('the AWS features step (Athena UNLOAD) for feature set version 2', () => {
  it("its SELECT runs on DuckDB over the local lake and gives the local path's training file (within 1e-9)", async () => {
    const symbols = ['AAA', 'BBB'];
    const unload = featureUnloadSql(
      { symbols, sentiment: true, table: 'bars' },
      's3://models-bucket/models/features/job-1/',
    );
    const { select, destination } = parseUnload(unload);
    expect(destination).toBe('s3://models-bucket/models/features/job-1/');
    expect(select).toMatch(/to_iso8601\(ts\) AS ts/);
    expect(select).toContain(`FROM news_sentiment WHERE symbol IN ('AAA', 'BBB')`);
    // What the local state machine's features task runs (src/ml/local-training-machine.ts).
    const rows = await engine.query(athenaSelectToDuckDb(select));
    const fromUnload = featuresCsv(rows, { sentiment: true });
    const file = path.join(dir, 'train', 'local-path.csv');
    await writeFeatureFile(engine, { symbols, sentiment: true }, file);
    // The same rows and columns; numbers within 1e-9 (DuckDB's parallel aggregates may differ in
    // the last bit between two runs of the same query).
    const a = fromUnload.trim().split('\n');
    const b = readFileSync(file, 'utf8').trim().split('\n');
    expect(a[0]).toBe(b[0]);
    expect(a.length).toBe(b.length);
    let compared = 0;
    a.slice(1).forEach((line, k) => {
      const i = k + 1;
      const x = line.split(',');
      const y = b[i].split(',');
      expect(x.slice(0, 2)).toEqual(y.slice(0, 2));
      x.slice(2).forEach((v, j) => {
        if (v === '' || y[j + 2] === '') expect(v, `${x[0]} ${x[1]} ${j}`).toBe(y[j + 2]);
        else {
          expect(Math.abs(Number(v) - Number(y[j + 2])), `${x[0]} ${x[1]} ${j}`).toBeLessThan(1e-9);
          compared++;
        }
      });
    });
    expect(compared).toBeGreaterThan(2 * 60 * 10);
    expect(fromUnload.split('\n')[0].split(',')).toContain(SENTIMENT_FEATURE);
    expect(rows).toHaveLength(2 * dates.length);
  });
});

describe('quant backtest and quant paper with a version 2 model', () => {
  it('quant backtest reads the sentiment and gives the in-process result on the attached panel', async () => {
    const r = await quant(
      'backtest',
      '--bars',
      'lake:AAA',
      '--bars',
      'lake:BBB',
      '--strategy',
      'ml-signal',
      '--param',
      `model=${modelDir}`,
      '--json',
    );
    expect(r.err).not.toMatch(/^error/m);
    expect(r.code).toBe(0);
    const cli = JSON.parse(r.out) as { sharpe: number; trades: number };

    const bars = await loadPanel(['lake:AAA', 'lake:BBB'], { runtime, query: engine, align: 'intersect' });
    const params = parseStrategyParams('ml-signal', { model: modelDir });
    await prepareStrategy('ml-signal', params);
    const panel = await withModelInputs(bars, [params], () => new EngineNewsReader(engine));
    const local = runBacktest(panel, { strategy: 'ml-signal', params: params as never });
    expect(cli.sharpe).toBe(local.summary.sharpe);
    expect(cli.trades).toBe(local.summary.trades);
    // Without the sentiment the same model would trade differently: the input matters.
    const flat: Panel = {
      ...bars,
      aux: { fields: { [SENTIMENT_FEATURE]: bars.symbols.map(() => new Float64Array(bars.dates.length)) } },
    };
    expect(runBacktest(flat, { strategy: 'ml-signal', params: params as never }).summary.sharpe).not.toBe(
      cli.sharpe,
    );
  });

  it('a symbol without news over the window exits 2 naming the model, the table and the symbol', async () => {
    for (const cmd of [
      ['backtest', '--bars', 'lake:AAA', '--bars', 'lake:CCC', '--strategy', 'ml-signal'],
      ['paper', '--bars', 'lake:AAA', '--bars', 'lake:CCC', '--strategy', 'ml-signal'],
    ]) {
      const r = await quant(...cmd, '--param', `model=${modelDir}`, '--json');
      expect(r.code, r.err).toBe(2);
      expect(r.err).toContain(`model ${modelDir}: uses ${SENTIMENT_FEATURE} (feature set version 2)`);
      expect(r.err).toMatch(/s3:\/\/|news_sentiment/);
      expect(r.err).toMatch(/no article for CCC from 2024-01-0\d 20:00 to 2024-04-2\d 20:00 UTC/);
      expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
    }
  });
});

describe('walk-forward and sweeps over version 2 models', () => {
  let other: string;
  const direct = async (model: string, bars: string[]) => {
    const r = await quant(
      'backtest',
      ...bars.flatMap((b) => ['--bars', b]),
      '--strategy',
      'ml-signal',
      '--param',
      `model=${model}`,
      '--json',
    );
    expect(r.code, r.err).toBe(0);
    return (JSON.parse(r.out) as { sharpe: number }).sharpe;
  };
  beforeAll(() => {
    other = writeModelDir(path.join(dir, 'v2b'), {
      features: FEATURES,
      seed: 6,
      manifest: { featureSetVersion: SENTIMENT_FEATURE_SET_VERSION },
    }).dir;
  });

  it('quant backtest --walk-forward picks among them on the sentiment-carrying panel', async () => {
    const r = await quant(
      'backtest',
      '--bars',
      'lake:AAA',
      '--bars',
      'lake:BBB',
      '--strategy',
      'ml-signal',
      '--walk-forward',
      '40:20',
      '--grid',
      `model=${modelDir},${other}`,
      '--json',
    );
    expect(r.code, r.err).toBe(0);
    const picked = (JSON.parse(r.out) as { windows: { params: { model: string } }[] }).windows.map(
      (w) => w.params.model,
    );
    expect(picked.length).toBeGreaterThan(0);
    expect(picked.every((m) => m === modelDir || m === other)).toBe(true);
    // With no news for a symbol it is refused before any window, naming the models.
    const bad = await quant(
      'backtest',
      '--bars',
      'lake:CCC',
      '--bars',
      'lake:AAA',
      '--strategy',
      'ml-signal',
      '--walk-forward',
      '40:20',
      '--grid',
      `model=${modelDir},${other}`,
      '--json',
    );
    expect(bad.code).toBe(2);
    expect(bad.err).toContain(`model ${modelDir}, ${other}: uses ${SENTIMENT_FEATURE}`);
  }, 60_000);

  it.each([
    ['on this thread', []],
    ['on worker threads', ['--workers', '2', '--batch-size', '1']],
    ['through the local state machine', ['--state-machine', '--batch-size', '1']],
  ])(
    'quant backtest sweep %s: each row is that model backtested on the sentiment',
    async (label, extra) => {
      const want: Record<string, number> = {
        [modelDir]: await direct(modelDir, ['lake:AAA']),
        [other]: await direct(other, ['lake:AAA']),
      };
      expect(want[modelDir]).not.toBe(want[other]);
      const r = await quant(
        'backtest',
        'sweep',
        '--bars',
        'lake:AAA',
        '--strategy',
        'ml-signal',
        '--grid',
        `model=${modelDir},${other}`,
        '--sweep-id',
        `sentiment-${label.replace(/[^a-z]/g, '')}`,
        '--json',
        ...extra,
      );
      expect(r.code, r.err).toBe(0);
      const top = (JSON.parse(r.out) as { top: { params: string; sharpe: number }[] }).top;
      expect(top).toHaveLength(2);
      for (const row of top) expect(row.sharpe).toBeCloseTo(want[JSON.parse(row.params).model as string], 12);
    },
    180_000,
  );
});

describe('the strategy runner with a version 2 model', () => {
  it('reads the sentiment per bar (S3 reader), refuses without a reader, hashes the inputs it saw; the drift check reads it too', async () => {
    const registry = new S3ModelRegistry(clients.s3, lakeBuckets(runtime).models);
    const file = (f: string) => new Uint8Array(readFileSync(path.join(modelDir, f)));
    const reg = await registry.register({
      modelName: 'ml-signal',
      actor: 'test',
      files: {
        'model.onnx': file('model.onnx'),
        'manifest.json': file('manifest.json'),
        'evaluation.json': new TextEncoder().encode('{}'),
      },
    });
    const version = reg.version.version;
    await registry.approve('ml-signal', version, 'staging', 'test');
    const svc = await tradingServices(clients);
    const promotions = new S3PromotionStore(clients.s3, lakeBuckets(runtime).models);
    await promoteStrategy(
      { store: promotions, registry, audit: svc.audit },
      { env: 'staging', strategy: 'ml-signal', model: { modelName: 'ml-signal', version }, actor: 'test' },
    );
    const bars = await loadPanel(['lake:AAA', 'lake:BBB'], { runtime, query: engine, align: 'intersect' });
    const emitted: Signal[] = [];
    const deps = {
      promotions,
      registry,
      account: 'acct-sentiment',
      modelStrategy: modelStrategyFor(runtime),
      emit: async (s: Signal) => void emitted.push(s),
    };
    const s3 = new S3NewsReader(clients.s3, buckets[NEWS_SENTIMENT.zone]);
    const r = await runStrategyBar(
      { ...deps, news: s3 },
      { env: 'staging', panel: panelUpTo(bars, 70, 40), always: true },
    );
    expect(r.modelVersion).toBe(version);
    expect(r.signal?.provenance).toMatchObject({ model: 'ml-signal', modelVersion: version });
    // The signal's targets are what the backtest path decides at that bar with the same inputs.
    const params = parseStrategyParams('ml-signal', { model: modelDir });
    await prepareStrategy('ml-signal', params);
    const slice = await attachModelInputs(
      panelUpTo(bars, 70, 40),
      [{ model: 'v2', features: FEATURES }],
      () => s3,
    );
    const w = mlSignalPositions(slice, params as unknown as MlSignalParams);
    expect((r.signal?.targets ?? []).map((x) => x.targetWeight)).toEqual(w.map((x) => x.at(-1) || 0));
    expect(emitted).toHaveLength(1);
    // The inputs hash covers the sentiment the model saw, not only the bars.
    const model = { name: 'ml-signal', version };
    expect(r.inputsHash).toBe(inputsHash('ml-signal', r.promotion.params, model, slice));
    expect(r.inputsHash).not.toBe(
      inputsHash('ml-signal', r.promotion.params, model, panelUpTo(bars, 70, 40)),
    );

    await expect(
      runStrategyBar(deps, { env: 'staging', panel: panelUpTo(bars, 71, 40), always: true }),
    ).rejects.toThrow(
      new RegExp(
        `^model ml-signal@${version}: uses ${SENTIMENT_FEATURE} \\(feature set version 2\\), but this run has no reader of the lake's news_sentiment`,
      ),
    );
    await expect(
      runStrategyBar(deps, { env: 'staging', panel: panelUpTo(bars, 71, 40), always: true }),
    ).rejects.toBeInstanceOf(InputError);

    // The drift check of the approved version compares the live sentiment too.
    const metrics: string[] = [];
    const drift = await runDriftJob(
      {
        registry,
        news: s3,
        panel: async (n) => panelUpTo(bars, bars.dates.length - 1, n),
        putMetrics: async (_ns, data) => void metrics.push(...data.map((d) => d.dimensions.Feature ?? 'max')),
      },
      { modelName: 'ml-signal', env: 'staging', lookbackBars: 20 },
    );
    expect(drift?.version).toBe(version);
    expect(drift?.features[SENTIMENT_FEATURE].n).toBe(2 * 20);
    expect(metrics).toContain(SENTIMENT_FEATURE);
    await expect(
      runDriftJob(
        {
          registry,
          panel: async (n) => panelUpTo(bars, bars.dates.length - 1, n),
          putMetrics: async () => {},
        },
        { modelName: 'ml-signal', env: 'staging', lookbackBars: 20 },
      ),
    ).rejects.toThrow(new RegExp(`^model ml-signal@${version}: uses ${SENTIMENT_FEATURE}`));
  });

  it('quant strategy paper (paper through the runner) trades it, reading the replay range once', async () => {
    // Staging trades the version 2 model promoted by the test above.
    const bars = await loadPanel(['lake:AAA', 'lake:BBB'], { runtime, query: engine, align: 'intersect' });
    const reader = new EngineNewsReader(engine);
    // The replay's reader answers each bar's window from one read: the same articles, none later.
    const { lo, hi } = sentimentWindows(bars.dates);
    const pre = new PrefetchedNewsReader(reader, bars.symbols, lo[0], hi[hi.length - 1]);
    for (const t of [1, 30, 79]) {
      const want = await reader.articles(bars.symbols, lo[t], hi[t]);
      const got = await pre.articles(bars.symbols, lo[t], hi[t]);
      expect(got).toEqual(want);
      for (const list of got.values()) expect(list.every((a) => a.publishedAt < hi[t])).toBe(true);
    }
    const svc = await tradingServices(clients);
    const registry = new S3ModelRegistry(clients.s3, lakeBuckets(runtime).models);
    const r = await paperThroughRunner(
      {
        clients,
        svc,
        promotions: new S3PromotionStore(clients.s3, lakeBuckets(runtime).models),
        registry,
        modelStrategy: modelStrategyFor(runtime),
        news: reader,
      },
      { env: 'staging', panel: bars, lastBars: 15, lookback: 40, runId: 'sentiment-replay' },
    );
    expect(r.strategy).toBe('ml-signal');
    expect(r.modelVersion).toBeGreaterThan(0);
    expect(r.bars).toBe(15);
    expect(r.signals).toBeGreaterThan(0);
    expect(r.deadLetters).toBe(0);
  }, 120_000);

  it('an abandoned news pull into the symbols is refused by the S3 reader, not read half-written', async () => {
    const marker = {
      ...newPending(NEWS_SENTIMENT.name, 'abandoned-inference', [`dt=${dates[60]}/symbol=BBB`], 1),
      host: 'another-host',
      pid: 1,
      startedAt: new Date(Date.now() - 3_600_000).toISOString(),
      heartbeatAt: new Date(Date.now() - 3_600_000).toISOString(),
    };
    const bucket = buckets[NEWS_SENTIMENT.zone];
    await putPending(clients.s3, bucket, marker);
    try {
      const bars = await loadPanel(['lake:AAA', 'lake:BBB'], { runtime, query: engine, align: 'intersect' });
      const s3 = new S3NewsReader(clients.s3, bucket);
      await expect(
        attachModelInputs(panelUpTo(bars, 70, 30), [{ model: 'v2', features: FEATURES }], () => s3),
      ).rejects.toThrow(
        /news_sentiment of AAA, BBB are incomplete: .* did not finish; run the same news pull again/,
      );
      // Before the marker's day, nothing of it is in scope.
      await expect(
        attachModelInputs(panelUpTo(bars, 40, 30), [{ model: 'v2', features: FEATURES }], () => s3),
      ).resolves.toBeDefined();
    } finally {
      await deletePending(clients.s3, bucket, NEWS_SENTIMENT.name, marker.id);
    }
  });
});
