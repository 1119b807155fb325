/**
 * The opt-in news sentiment feature through the whole local training workflow, with the real
 * training script: bars and news in the local lake, `quant train --local --features
 * <...>,news_sentiment_1d` writes a features file that carries the column, trains a model whose
 * manifest says feature set version 2, and evaluates it with a backtest whose panel reads the same
 * sentiment from the lake (src/news/panel.ts). Without the lake's bars it is refused, naming the
 * option. Fails (never skips) without Python and PyTorch.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SENTIMENT_FEATURE_SET_VERSION } from '../../src/contract/ml';
import { SENTIMENT_FEATURE } from '../../src/contract/news';
import { importBars } from '../../src/lake/bars';
import { lakeBuckets } from '../../src/lake/buckets';
import { commitNewsRows, type NewsRow } from '../../src/news/lake';
import { mulberry32 } from '../../src/synthetic/random';
import { localCloudWorld } from '../helpers/local-cloud';
import { runQuant } from '../helpers/quant-cli';

// The data directory's shared cloud: the quant commands below attach to it.
const w = localCloudWorld({ name: 'ml-sentiment', shared: true });
const { dir } = w;
const dataDir = dir;
const out = path.join(dir, 'out');
const DAY = 86_400_000;
const FEATURES = ['ret_1', 'ret_5', 'ret_20', 'vol_20', 'zscore_20', SENTIMENT_FEATURE];

beforeAll(async () => {
  const { clients } = w;
  const buckets = lakeBuckets(w.cloud.runtime);
  const r = mulberry32(5);
  const news: NewsRow[] = [];
  for (const symbol of ['AAA', 'BBB']) {
    const ts: number[] = [];
    for (let t = Date.UTC(2022, 0, 3); ts.length < 600; t += DAY) {
      const wd = new Date(t).getUTCDay();
      if (wd !== 0 && wd !== 6) ts.push(t);
    }
    let p = 100;
    const close = ts.map(() => (p *= 1 + (r() - 0.5) * 0.02));
    await importBars(
      { clients, buckets, tmpDir: dir },
      {
        symbol: ts.map(() => symbol),
        ts,
        open: close,
        high: close.map((c) => c * 1.01),
        low: close.map((c) => c * 0.99),
        close,
        volume: ts.map(() => 1e6),
      },
      { interval: '1d' },
    );
    ts.forEach((t, i) => {
      if (r() < 0.5) return;
      const at = t + 10 * 3_600_000; // 10:00 UTC: counts for that day's bar
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
    });
  }
  await commitNewsRows({ clients, buckets }, news);
}, 120_000);

const quant = (...args: string[]) => runQuant(['--data-dir', dataDir, ...args]);

describe('training on the daily news sentiment', () => {
  it('quant train --local --features ...,news_sentiment_1d: the file carries it, the model is version 2, the evaluation backtest reads it', async () => {
    const r = await quant(
      'train',
      '--local',
      '--bars',
      'lake:AAA,BBB',
      '--features',
      FEATURES.join(','),
      '--epochs',
      '3',
      '--out',
      out,
      '--json',
    );
    expect(r.code, r.err).toBe(0);
    const res = JSON.parse(r.out);
    const csv = readFileSync(
      path.join(dataDir, 'ml', 'jobs', res.job, 'input', 'data', 'train', 'features.csv'),
      'utf8',
    ).split('\n');
    const header = csv[0].split(',');
    expect(header.slice(-2)).toEqual([SENTIMENT_FEATURE, 'fwd_return']);
    const col = header.indexOf(SENTIMENT_FEATURE);
    expect(csv.slice(1).filter((l) => l && Number(l.split(',')[col]) !== 0).length).toBeGreaterThan(300);
    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    expect(manifest.features).toEqual(FEATURES);
    expect(manifest.featureSetVersion).toBe(SENTIMENT_FEATURE_SET_VERSION);
    const evaluation = JSON.parse(readFileSync(path.join(out, 'evaluation.json'), 'utf8'));
    expect(evaluation.backtest.window.bars).toBeGreaterThan(50);
    expect(Number.isFinite(evaluation.backtest.candidate.sharpe)).toBe(true);
  });

  it('is refused, naming --features, when the bars do not come from the lake', async () => {
    const file = path.join(dir, 'bars.csv');
    const lines = ['date,close'];
    for (let i = 0; i < 120; i++)
      lines.push(`${new Date(Date.UTC(2020, 0, 1) + i * DAY).toISOString().slice(0, 10)},${100 + i}`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    const r = await quant('train', '--local', '--bars', file, '--features', FEATURES.join(','), '--json');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /--features: news_sentiment_1d is read from the lake's news_sentiment; train on --bars lake:SYMBOLS/,
    );
  });
});
