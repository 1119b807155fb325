/**
 * Names shared by the news pull (src/news), its Lambda (lambda/news-ingest), the CLI and the stacks
 * (the data-lake stack's Glue table, the news-ingest construct). Imports only src/contract.
 */

/** The `news_sentiment` table (src/contract/lake.ts holds every table's one definition). */
export { NEWS_SENTIMENT as NEWS_SENTIMENT_TABLE } from './lake';

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
