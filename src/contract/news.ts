/**
 * Names shared by the news pull (src/news), its Lambda (lambda/news-ingest), the CLI and the stacks
 * (the Glue table of the data-lake stack, the news-ingest construct). Imports nothing.
 */

/** DuckDB type names of the table's columns (the Glue table uses the Hive equivalents). */
export type NewsColumnType = 'VARCHAR' | 'DOUBLE' | 'TIMESTAMP' | 'DATE';

/**
 * `news_sentiment`: one row per (article, symbol it names), partitioned by the UTC date of its
 * publication and the symbol. `published_at` is when the score becomes usable (point in time);
 * `article_id` is the vendor's id, the key a re-run de-duplicates on.
 */
export const NEWS_SENTIMENT_TABLE = {
  name: 'news_sentiment',
  zone: 'curated',
  prefix: 'news_sentiment',
  partitionKeys: [
    { name: 'dt', type: 'DATE' },
    { name: 'symbol', type: 'VARCHAR' },
  ],
  columns: [
    { name: 'article_id', type: 'VARCHAR' },
    { name: 'published_at', type: 'TIMESTAMP' },
    { name: 'source', type: 'VARCHAR' },
    { name: 'title', type: 'VARCHAR' },
    { name: 'score', type: 'DOUBLE' },
    { name: 'comparative', type: 'DOUBLE' },
    { name: 'ingested_at', type: 'TIMESTAMP' },
  ],
  key: ['article_id'],
} as const satisfies {
  readonly name: string;
  readonly zone: 'curated';
  readonly prefix: string;
  readonly partitionKeys: readonly { readonly name: string; readonly type: NewsColumnType }[];
  readonly columns: readonly { readonly name: string; readonly type: NewsColumnType }[];
  readonly key: readonly string[];
};

/** Environment of the news-ingest Lambda. */
export const NEWS_INGEST_ENV = {
  /** Base URL of the news API (e.g. https://api.polygon.io). */
  apiUrl: 'NEWS_API_URL',
  /** ARN of the Secrets Manager secret holding the API key (the secret string is the key). */
  secretArn: 'NEWS_API_SECRET_ARN',
} as const;

/** Metrics of the news pull (Powertools EMF, dimension `service`). */
export const NEWS_METRICS = {
  namespace: 'QuantPlatform',
  service: 'news-ingest',
  articlesAdded: 'NewsArticlesAdded',
  duplicates: 'NewsDuplicates',
  retries: 'NewsVendorRetries',
  authFailures: 'NewsVendorAuthFailures',
  /** Vendor clock minus ours, from the HTTP Date header (ms). */
  clockSkew: 'NewsVendorClockSkewMs',
} as const;

/**
 * The optional ML feature: mean `comparative` sentiment of a symbol's articles published in
 * [cut-off of the previous bar's day, cut-off of the bar's day), 0 when there is none.
 */
export const SENTIMENT_FEATURE = 'news_sentiment_1d';

/**
 * Daily cut-off, hour of day in UTC: 20:00 UTC is the New York close (16:00) in summer time and an
 * hour before it in winter, so a day's aggregate never holds an article published after its close.
 */
export const SENTIMENT_CUTOFF_HOUR_UTC = 20;
