/** Bucket names of the lake zones in the local cloud (created when the local cloud starts). */
export const LOCAL_BUCKETS = {
  raw: 'quant-raw',
  curated: 'quant-curated',
  vendor: 'quant-vendor',
  results: 'quant-results',
  models: 'quant-models',
  athenaResults: 'quant-athena-results',
  audit: 'quant-audit',
} as const;

export const LOCAL_BUCKET_NAMES: readonly string[] = Object.values(LOCAL_BUCKETS);
