/**
 * Daily sentiment, point in time, as SQL for DuckDB (locally) and Athena: for each bar of a symbol
 * (daily bars, one per session date), the mean `comparative` score of the symbol's articles
 * published in [cut-off of the previous bar's date, cut-off of the bar's date), where a date's
 * cut-off is SENTIMENT_CUTOFF_HOUR_UTC (src/contract/news.ts). An article published at or after the
 * cut-off of date D counts for the next bar, never for D: a decision at D's close cannot see it.
 * The first bar of a symbol looks back one day. No article: 0 (neutral), with `news_articles` = 0.
 */
import { SENTIMENT_CUTOFF_HOUR_UTC, SENTIMENT_FEATURE } from '../contract/news';
import { NEWS_SENTIMENT } from '../contract/lake';

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;
const SYMBOL = /^[A-Za-z0-9._-]{1,64}$/;

export interface DailySentimentSql {
  /** Relation with one row per (symbol, ts) bar (a CTE name or a table). */
  readonly bars: string;
  /** Symbols to read news of (Athena's injected `symbol` projection needs them listed). */
  readonly symbols: readonly string[];
  /** @default 'news_sentiment' */
  readonly news?: string;
}

/** `SELECT symbol, ts, news_sentiment_1d, news_articles` over `bars` (see the module comment). */
export function dailySentimentSql(q: DailySentimentSql): string {
  const news = q.news ?? NEWS_SENTIMENT.name;
  for (const [field, v] of [
    ['bars', q.bars],
    ['news', news],
  ] as const)
    if (!IDENT.test(v)) throw new Error(`${field}: invalid relation name "${v}"`);
  for (const s of q.symbols) if (!SYMBOL.test(s)) throw new Error(`symbols: invalid symbol "${s}"`);
  const day = (expr: string): string =>
    `CAST(CAST(${expr} AS DATE) AS TIMESTAMP) + INTERVAL '${SENTIMENT_CUTOFF_HOUR_UTC}' HOUR`;
  const symbols = q.symbols.map((s) => `'${s}'`).join(', ');
  return [
    'SELECT w.symbol, w.ts,',
    `  COALESCE(AVG(n.comparative), 0) AS ${SENTIMENT_FEATURE},`,
    '  COUNT(n.article_id) AS news_articles',
    'FROM (',
    `  SELECT symbol, ts, ${day('ts')} AS cut_hi,`,
    `    COALESCE(${day('LAG(ts) OVER (PARTITION BY symbol ORDER BY ts)')}, ${day('ts')} - INTERVAL '1' DAY) AS cut_lo`,
    `  FROM ${q.bars}`,
    ') w',
    `LEFT JOIN (SELECT symbol, article_id, published_at, comparative FROM ${news}${
      symbols ? ` WHERE symbol IN (${symbols})` : ' WHERE false'
    }) n`,
    '  ON n.symbol = w.symbol AND n.published_at >= w.cut_lo AND n.published_at < w.cut_hi',
    'GROUP BY w.symbol, w.ts',
  ].join('\n');
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** One article as the daily aggregate needs it (epoch ms). */
export interface ScoredArticle {
  readonly publishedAt: number;
  readonly comparative: number;
}

/** Cut-off (epoch ms) of the UTC day of a bar label (`YYYY-MM-DD` or an ISO datetime). */
function cutOf(label: string): number {
  const day = Date.parse(`${label.slice(0, 10)}T00:00:00Z`);
  if (Number.isNaN(day)) throw new Error(`bar date "${label}" is not an ISO date`);
  return day + SENTIMENT_CUTOFF_HOUR_UTC * HOUR_MS;
}

/** [cut_lo, cut_hi) of each bar, as in dailySentimentSql (the first bar looks back one day). */
export function sentimentWindows(dates: readonly string[]): { lo: Float64Array; hi: Float64Array } {
  const lo = new Float64Array(dates.length);
  const hi = new Float64Array(dates.length);
  for (let t = 0; t < dates.length; t++) {
    hi[t] = cutOf(dates[t]);
    lo[t] = t === 0 ? hi[t] - DAY_MS : hi[t - 1];
  }
  return { lo, hi };
}

/**
 * The same daily sentiment as dailySentimentSql, in TypeScript for one symbol's bars (the
 * backtest and live path): for bar t, the mean `comparative` of the articles published in
 * [cut-off of bar t-1's day, cut-off of bar t's day), 0 when there is none. A test holds it equal
 * to the SQL within 1e-9.
 */
export function dailySentimentSeries(
  dates: readonly string[],
  articles: readonly ScoredArticle[],
): Float64Array {
  const { lo, hi } = sentimentWindows(dates);
  const sorted = [...articles].sort((a, b) => a.publishedAt - b.publishedAt);
  const out = new Float64Array(dates.length);
  let i = 0;
  for (let t = 0; t < dates.length; t++) {
    // Windows of consecutive bars are adjacent and increasing: one pass over the articles.
    while (i < sorted.length && sorted[i].publishedAt < lo[t]) i++;
    let sum = 0;
    let n = 0;
    for (let j = i; j < sorted.length && sorted[j].publishedAt < hi[t]; j++) {
      sum += sorted[j].comparative;
      n++;
    }
    out[t] = n === 0 ? 0 : sum / n;
  }
  return out;
}
