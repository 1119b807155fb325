import type { Runtime } from '../aws/clients';
import { LOCAL_BUCKETS } from '../local/buckets';
import type { Zone } from './tables';

export type LakeBuckets = Readonly<Record<Zone, string>>;

/** Environment variables through which deployed tasks and functions learn the bucket names. */
export const LAKE_BUCKET_ENV: Readonly<Record<Zone, string>> = {
  raw: 'LAKE_RAW_BUCKET',
  curated: 'LAKE_CURATED_BUCKET',
  vendor: 'LAKE_VENDOR_BUCKET',
  results: 'LAKE_RESULTS_BUCKET',
  models: 'LAKE_MODELS_BUCKET',
  athenaResults: 'LAKE_ATHENA_RESULTS_BUCKET',
  audit: 'LAKE_AUDIT_BUCKET',
};

/**
 * The bucket of each zone: fixed names locally; in AWS from the environment variables the stacks
 * set (a missing one is an error when first used, naming the variable).
 */
export function lakeBuckets(
  runtime: Runtime,
  env: Readonly<Record<string, string | undefined>> = {},
): LakeBuckets {
  if (runtime.mode === 'local') return LOCAL_BUCKETS;
  return new Proxy({} as Record<Zone, string>, {
    get(_t, zone: string) {
      const name = LAKE_BUCKET_ENV[zone as Zone];
      if (!name) return undefined;
      const v = env[name];
      if (!v) throw new Error(`environment variable ${name} (bucket of the ${zone} zone) is not set`);
      return v;
    },
  });
}
