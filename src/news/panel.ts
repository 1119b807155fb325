/**
 * The daily sentiment feature for the backtest and live path: a panel's `aux.fields` gains
 * `news_sentiment_1d` (one value per symbol and bar, src/news/daily.ts), read from the lake's
 * `news_sentiment` once no news pull into those symbols is incomplete (src/news/pending.ts).
 * Models on feature set version 2 read it there (src/ml/features/compute.ts).
 */
import type { Panel } from '../backtest/types';
import { NEWS_SENTIMENT } from '../contract/lake';
import { SENTIMENT_FEATURE } from '../contract/news';
import type { QueryEngine } from '../lake/query';
import { dailySentimentSeries, sentimentWindows, type ScoredArticle } from './daily';
import { waitForNewsOnEngine } from './pending';

const SYMBOL = /^[A-Za-z0-9._-]{1,64}$/;

function epochMs(v: unknown): number {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'bigint') return Number(v);
  return Number(v);
}

/** The panel with `aux.fields.news_sentiment_1d` from the lake (0 where a bar had no article). */
export async function attachNewsSentiment(
  engine: QueryEngine,
  panel: Panel,
  opts: { readonly newsWaitMs?: number } = {},
): Promise<Panel> {
  if (panel.dates.length === 0) return panel;
  const symbols = panel.symbols.filter((s) => SYMBOL.test(s));
  const { lo, hi } = sentimentWindows(panel.dates);
  const from = lo[0];
  const to = hi[hi.length - 1];
  await waitForNewsOnEngine(engine, {
    symbols,
    fromDay: new Date(from).toISOString().slice(0, 10),
    toDay: new Date(to).toISOString().slice(0, 10),
    maxWaitMs: opts.newsWaitMs,
  });
  const bySymbol = new Map<string, ScoredArticle[]>(symbols.map((s) => [s, []]));
  if (symbols.length > 0) {
    // One row per article and symbol: the de-duplicated table never holds an id twice per partition.
    const rows = await engine.query(
      `SELECT symbol, epoch_ms(published_at) AS p, comparative FROM ${NEWS_SENTIMENT.name}
       WHERE symbol IN (${symbols.map((s) => `'${s}'`).join(', ')})
         AND published_at >= epoch_ms(${from}) AND published_at < epoch_ms(${to})`,
    );
    for (const r of rows)
      bySymbol.get(String(r.symbol))?.push({ publishedAt: epochMs(r.p), comparative: Number(r.comparative) });
  }
  const series = panel.symbols.map((s) => dailySentimentSeries(panel.dates, bySymbol.get(s) ?? []));
  return {
    ...panel,
    aux: { ...panel.aux, fields: { ...panel.aux?.fields, [SENTIMENT_FEATURE]: series } },
  };
}
