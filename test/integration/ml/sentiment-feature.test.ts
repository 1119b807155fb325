/**
 * The opt-in daily news sentiment as an ML feature (feature set version 2): the SQL that writes
 * the training file (src/news/daily.ts, dailySentimentSql) and the TypeScript that the backtest and
 * live path use (dailySentimentSeries, attachNewsSentiment) give the same values within 1e-9, on
 * seeded random articles and through the local lake end to end; inference reads it from the panel
 * into the model's input; manifests are checked per version (version 1 models keep theirs).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients, type AwsClients } from '../../../src/aws/clients';
import { loadPanel } from '../../../src/backtest/load';
import type { Panel } from '../../../src/backtest/types';
import {
  FEATURE_NAMES,
  FEATURE_SET_VERSION,
  LABEL_COLUMN,
  SENTIMENT_FEATURE_SET_VERSION,
  featureSetVersionOf,
} from '../../../src/contract/ml';
import { SENTIMENT_FEATURE } from '../../../src/contract/news';
import { InputError } from '../../../src/errors';
import { importBars } from '../../../src/lake/bars';
import { lakeBuckets, type LakeBuckets } from '../../../src/lake/buckets';
import { openDuckDb } from '../../../src/lake/duckdb';
import { DuckDbQueryEngine } from '../../../src/lake/query';
import { LocalCloud } from '../../../src/local/cloud';
import { computeFeatures } from '../../../src/ml/features';
import { writeFeatureFile } from '../../../src/ml/features/file';
import { parseManifest } from '../../../src/ml/inference/model-dir';
import { panelRows } from '../../../src/ml/signal';
import { dailySentimentSeries, dailySentimentSql } from '../../../src/news/daily';
import { commitNewsRows, type NewsRow } from '../../../src/news/lake';
import { attachNewsSentiment } from '../../../src/news/panel';
import { mulberry32 } from '../../../src/synthetic/random';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Weekday bar dates from `start`, `n` of them. */
function weekdays(start: string, n: number): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${start}T00:00:00Z`); out.length < n; t += DAY) {
    const wd = new Date(t).getUTCDay();
    if (wd !== 0 && wd !== 6) out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

describe('dailySentimentSeries (TypeScript) equals dailySentimentSql (DuckDB)', () => {
  it('by hand: the cut-off at 20:00 UTC, the first bar looking back a day, weekends, no news = 0', () => {
    const dates = ['2024-03-04', '2024-03-05', '2024-03-06', '2024-03-07', '2024-03-08', '2024-03-11'];
    const at = (s: string, c: number) => ({ publishedAt: Date.parse(s), comparative: c });
    const s = dailySentimentSeries(dates, [
      at('2024-03-03T21:00:00Z', 0.9),
      at('2024-03-05T08:00:00Z', 0.5),
      at('2024-03-05T19:59:59Z', -0.1),
      at('2024-03-05T20:00:00Z', 0.7),
      at('2024-03-09T12:00:00Z', -0.4),
      at('2024-03-02T12:00:00Z', 5), // before the first bar's window: never counted
    ]);
    expect(Array.from(s)).toEqual([0.9, (0.5 - 0.1) / 2, 0.7, 0, 0, -0.4]);
  });

  it('on seeded random articles over irregular calendars, within 1e-9', async () => {
    const db = await openDuckDb();
    try {
      const r = mulberry32(42);
      const symbols = ['AAA', 'BBB', 'CCC'];
      const dates = weekdays('2024-01-01', 60).filter(() => r() > 0.1); // holidays: gaps
      const t0 = Date.parse(`${dates[0]}T00:00:00Z`) - 3 * DAY;
      const t1 = Date.parse(`${dates[dates.length - 1]}T00:00:00Z`) + 2 * DAY;
      const articles = new Map<string, { publishedAt: number; comparative: number }[]>();
      await db.con.run(`CREATE TABLE bars (symbol VARCHAR, ts TIMESTAMP)`);
      await db.con.run(
        `CREATE TABLE news_sentiment (article_id VARCHAR, published_at TIMESTAMP, comparative DOUBLE, symbol VARCHAR)`,
      );
      for (const s of symbols) {
        for (const d of dates) await db.con.run(`INSERT INTO bars VALUES ('${s}', TIMESTAMP '${d}')`);
        const list = Array.from({ length: 150 }, () => ({
          // whole milliseconds: both sides see the same instant
          publishedAt: t0 + Math.floor(r() * (t1 - t0)),
          comparative: Math.round((r() * 2 - 1) * 1e6) / 1e6,
        }));
        // Some exactly on a cut-off: they belong to the next bar on both sides.
        list.push({ publishedAt: Date.parse(`${dates[5]}T20:00:00Z`), comparative: 0.25 });
        articles.set(s, list);
        for (const [i, a] of list.entries())
          await db.con.run(
            `INSERT INTO news_sentiment VALUES ('${s}-${i}', epoch_ms(${a.publishedAt}), ${a.comparative}, '${s}')`,
          );
      }
      const rows = (
        await db.con.runAndReadAll(
          `SELECT symbol, strftime(ts, '%Y-%m-%d') AS d, ${SENTIMENT_FEATURE} AS v
           FROM (${dailySentimentSql({ bars: 'bars', symbols })}) ORDER BY symbol, d`,
        )
      ).getRowObjectsJS();
      let compared = 0;
      for (const s of symbols) {
        const ts = dailySentimentSeries(dates, articles.get(s)!);
        const sql = rows.filter((x) => x.symbol === s);
        expect(sql.map((x) => x.d)).toEqual(dates);
        sql.forEach((x, t) => {
          expect(Math.abs(Number(x.v) - ts[t]), `${s} ${dates[t]}`).toBeLessThan(1e-9);
          compared++;
        });
        expect(ts.some((v) => v !== 0)).toBe(true);
      }
      expect(compared).toBe(symbols.length * dates.length);
    } finally {
      db.close();
    }
  });
});

describe('the feature in inference', () => {
  const panel: Panel = {
    symbols: ['AAA'],
    dates: weekdays('2024-01-01', 30),
    close: [Float64Array.from({ length: 30 }, (_, t) => 100 + t)],
  };
  const sentiment = Float64Array.from({ length: 30 }, (_, t) => (t % 3) / 10);

  it("is read from the panel's side data into the model input, last column", () => {
    const withNews: Panel = { ...panel, aux: { fields: { [SENTIMENT_FEATURE]: [sentiment] } } };
    const features = ['ret_1', SENTIMENT_FEATURE] as const;
    const m = computeFeatures(withNews, features);
    for (let t = 0; t < 30; t++) expect(m.values[0][t * 2 + 1]).toBe(sentiment[t]);
    const rows = panelRows(withNews, features, 1);
    // ret_1 needs 2 bars: rows from bar 1 on, sentiment as their second value.
    expect(rows.rows).toBe(29);
    for (let i = 0; i < rows.rows; i++) expect(rows.data[i * 2 + 1]).toBeCloseTo(sentiment[i + 1], 6);
  });

  it('without side data it is an InputError naming the field, never a silent 0', () => {
    expect(() => computeFeatures(panel, ['ret_1', SENTIMENT_FEATURE])).toThrow(InputError);
    expect(() => computeFeatures(panel, ['ret_1', SENTIMENT_FEATURE])).toThrow(
      /bars\.aux\.fields\.news_sentiment_1d: the model uses the daily news sentiment but the bars carry none/,
    );
  });
});

describe('manifests per feature set version', () => {
  const manifest = (features: readonly string[], featureSetVersion: number) => ({
    schemaVersion: 1,
    modelName: 'ml-signal',
    architecture: 'mlp',
    target: 'return',
    horizon: 5,
    window: 1,
    features,
    featureSetVersion,
    input: { name: 'features', shape: [null, features.length] },
    output: { name: 'score', kind: 'return' },
  });
  const v2 = [...FEATURE_NAMES, SENTIMENT_FEATURE];

  it('version 1 models keep version 1; a model with the sentiment is version 2', () => {
    expect(FEATURE_SET_VERSION).toBe(1);
    expect(featureSetVersionOf(FEATURE_NAMES)).toBe(1);
    expect(featureSetVersionOf(v2)).toBe(SENTIMENT_FEATURE_SET_VERSION);
    expect(parseManifest(manifest(FEATURE_NAMES, 1)).features).toEqual(FEATURE_NAMES);
    expect(parseManifest(manifest(v2, 2)).features).toEqual(v2);
  });

  it('a version that does not match the features is refused, naming the field', () => {
    expect(() => parseManifest(manifest(v2, 1))).toThrow(
      /^manifest\.featureSetVersion: the model was trained on feature set version 1, this code computes version 2 for features .*news_sentiment_1d; retrain it/,
    );
    expect(() => parseManifest(manifest(FEATURE_NAMES, 2))).toThrow(
      /^manifest\.featureSetVersion: the model was trained on feature set version 2, this code computes version 1; retrain it/,
    );
  });
});

describe('through the local lake: the training file and the backtest panel carry the same values', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sentiment-feature-'));
  let cloud: LocalCloud;
  let clients: AwsClients;
  let buckets: LakeBuckets;
  let engine: DuckDbQueryEngine;
  const dates = weekdays('2024-02-01', 40);

  beforeAll(async () => {
    cloud = await LocalCloud.start({ dataDir, services: ['s3'] });
    clients = createClients(cloud.runtime);
    buckets = lakeBuckets(cloud.runtime);
    engine = await DuckDbQueryEngine.create(cloud.runtime);
    const r = mulberry32(7);
    const news: NewsRow[] = [];
    for (const symbol of ['AAA', 'BBB']) {
      const ts = dates.map((d) => Date.parse(`${d}T00:00:00Z`));
      await importBars(
        { clients, buckets, tmpDir: dataDir },
        {
          symbol: ts.map(() => symbol),
          ts,
          open: ts.map(() => 100),
          high: ts.map(() => 101),
          low: ts.map(() => 99),
          close: ts.map((_, i) => 100 + i + r()),
          volume: ts.map(() => 1000 + Math.floor(r() * 100)),
        },
        { interval: '1d' },
      );
      for (let i = 0; i < 60; i++) {
        const at = ts[0] - DAY + Math.floor(r() * (ts[ts.length - 1] - ts[0] + 2 * DAY));
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
  }, 60_000);

  afterAll(async () => {
    await engine?.close();
    clients?.destroy();
    await cloud?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the features file has news_sentiment_1d after the feature set, equal to attachNewsSentiment within 1e-9', async () => {
    const file = path.join(dataDir, 'train', 'features.csv');
    const r = await writeFeatureFile(engine, { symbols: ['AAA', 'BBB'], sentiment: true }, file);
    expect(r.rows).toBe(2 * dates.length);
    const [header, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
    expect(header.split(',')).toEqual(['ts', 'symbol', ...FEATURE_NAMES, SENTIMENT_FEATURE, LABEL_COLUMN]);
    const col = header.split(',').indexOf(SENTIMENT_FEATURE);
    const fromFile = new Map(lines.map((l) => l.split(',')).map((c) => [`${c[1]} ${c[0]}`, Number(c[col])]));

    const panel = await attachNewsSentiment(
      engine,
      await loadPanel(['lake:AAA', 'lake:BBB'], {
        runtime: cloud.runtime,
        query: engine,
        align: 'intersect',
      }),
    );
    const m = computeFeatures(panel, [SENTIMENT_FEATURE]);
    let nonZero = 0;
    panel.symbols.forEach((s, a) =>
      panel.dates.forEach((d, t) => {
        const want = fromFile.get(`${s} ${d}`);
        expect(want, `${s} ${d}`).toBeDefined();
        expect(Math.abs(m.values[a][t] - want!), `${s} ${d}`).toBeLessThan(1e-9);
        if (want !== 0) nonZero++;
      }),
    );
    expect(nonZero).toBeGreaterThan(20);

    // Without the option the file is version 1's, unchanged.
    const plain = path.join(dataDir, 'train', 'plain.csv');
    await writeFeatureFile(engine, { symbols: ['AAA', 'BBB'] }, plain);
    expect(readFileSync(plain, 'utf8').split('\n')[0].split(',')).toEqual([
      'ts',
      'symbol',
      ...FEATURE_NAMES,
      LABEL_COLUMN,
    ]);
  });
});
