/**
 * The daily sentiment feature for the backtest and live path: a panel's `aux.fields` gains
 * `news_sentiment_1d` (one value per symbol and bar, src/news/daily.ts), read from the lake's
 * `news_sentiment` once no news pull into those symbols is incomplete (src/news/pending.ts), by a
 * query engine (what training reads) or the S3 reader of a Lambda (src/news/reader.ts).
 * Models on feature set version 2 read it there (src/ml/features/compute.ts).
 */
import type { Panel } from '../backtest/types';
import { SENTIMENT_FEATURE } from '../contract/news';
import type { QueryEngine } from '../lake/query';
import { dailySentimentSeries, sentimentWindows } from './daily';
import { EngineNewsReader, type NewsReader } from './reader';

const SYMBOL = /^[A-Za-z0-9._-]{1,64}$/;

/** A panel with the sentiment, and how many articles each symbol had in the panel's windows. */
export interface SentimentPanel {
  readonly panel: Panel;
  readonly articles: ReadonlyMap<string, number>;
  /** [first bar's window start, last bar's cut-off) in epoch ms. */
  readonly from: number;
  readonly to: number;
}

/** The panel with `aux.fields.news_sentiment_1d` from `reader` (0 where a bar had no article). */
export async function readSentimentInto(reader: NewsReader, panel: Panel): Promise<SentimentPanel> {
  if (panel.dates.length === 0) return { panel, articles: new Map(), from: NaN, to: NaN };
  const symbols = panel.symbols.filter((s) => SYMBOL.test(s));
  const { lo, hi } = sentimentWindows(panel.dates);
  const from = lo[0];
  const to = hi[hi.length - 1];
  const bySymbol = await reader.articles(symbols, from, to);
  const series = panel.symbols.map((s) => dailySentimentSeries(panel.dates, bySymbol.get(s) ?? []));
  return {
    panel: { ...panel, aux: { ...panel.aux, fields: { ...panel.aux?.fields, [SENTIMENT_FEATURE]: series } } },
    articles: new Map(panel.symbols.map((s) => [s, bySymbol.get(s)?.length ?? 0])),
    from,
    to,
  };
}

/** The panel with `aux.fields.news_sentiment_1d` from the lake through a query engine. */
export async function attachNewsSentiment(
  engine: QueryEngine,
  panel: Panel,
  opts: { readonly newsWaitMs?: number } = {},
): Promise<Panel> {
  return (await readSentimentInto(new EngineNewsReader(engine, opts), panel)).panel;
}
