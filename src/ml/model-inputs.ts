/**
 * What a model needs beyond bars, read before it scores: a model on feature set version 2 uses the
 * daily news sentiment (src/contract/ml.ts), read from the lake's `news_sentiment` the way training
 * reads it (src/news/panel.ts). Every path that runs a model (backtest, sweeps, walk-forward,
 * paper, the strategy runner) calls `attachModelInputs`, so a model never scores on inputs it was
 * not trained on: no reader, or no article for a symbol over the window, is an InputError naming
 * the model and what is missing.
 */
import type { Panel } from '../backtest/types';
import { SENTIMENT_FEATURE_SET_VERSION } from '../contract/ml';
import { NEWS_SENTIMENT } from '../contract/lake';
import { SENTIMENT_FEATURE } from '../contract/news';
import { InputError } from '../errors';
import type { NewsReader } from '../news/reader';
import { modelInputNeeds } from './signal';

/** A model to run: how it is named to the user and the features its manifest lists. */
export interface ModelInputNeed {
  readonly model: string;
  readonly features: readonly string[];
}

/** Whether the panel already carries the sentiment for every symbol and bar. */
function hasSentiment(panel: Panel): boolean {
  const s = panel.aux?.fields?.[SENTIMENT_FEATURE];
  return (
    s !== undefined && s.length === panel.symbols.length && s.every((x) => x.length === panel.dates.length)
  );
}

/**
 * The panel with what the models need (unchanged when they need nothing beyond bars, or when it
 * already carries it). `news` is asked for only when a model uses the sentiment.
 */
export async function attachModelInputs(
  panel: Panel,
  models: readonly ModelInputNeed[],
  news: () => NewsReader | undefined | Promise<NewsReader | undefined>,
): Promise<Panel> {
  const users = models.filter((m) => m.features.includes(SENTIMENT_FEATURE));
  if (users.length === 0 || panel.dates.length === 0 || hasSentiment(panel)) return panel;
  const names = [...new Set(users.map((m) => m.model))].join(', ');
  const what = `uses ${SENTIMENT_FEATURE} (feature set version ${SENTIMENT_FEATURE_SET_VERSION})`;
  const reader = await news();
  if (!reader)
    throw new InputError(
      `model ${names}: ${what}, but this run has no reader of the lake's ${NEWS_SENTIMENT.name}; run it where the lake is (bars from lake:SYMBOL, or the local data directory)`,
      NEWS_SENTIMENT.name,
    );
  // Loaded on use: the news readers bring the S3 client, which a backtest of a CSV never needs.
  const { readSentimentInto } = await import('../news/panel');
  const r = await readSentimentInto(reader, panel);
  const none = panel.symbols.filter((s) => (r.articles.get(s) ?? 0) === 0);
  if (none.length > 0) {
    const iso = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
    throw new InputError(
      `model ${names}: ${what}, but ${reader.location} has no article for ${none.join(', ')} from ${iso(r.from)} to ${iso(r.to)} UTC (the bars' window); pull the news for that window first (quant ingest news), or use a model without ${SENTIMENT_FEATURE}`,
      NEWS_SENTIMENT.name,
    );
  }
  return r.panel;
}

/**
 * `attachModelInputs` for a strategy's runs (parameters as parsed, after `prepareStrategy`): the
 * models named by their `model` parameter. Rule-based strategies pass through unchanged.
 */
export async function withModelInputs(
  panel: Panel,
  runs: readonly Readonly<Record<string, unknown>>[],
  news: () => NewsReader | undefined | Promise<NewsReader | undefined>,
): Promise<Panel> {
  if (!runs.some((p) => typeof p.model === 'string')) return panel;
  return attachModelInputs(panel, modelInputNeeds(runs), news);
}
