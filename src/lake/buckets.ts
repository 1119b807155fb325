import type { Runtime } from '../aws/clients';
import { LAKE_BUCKET_ENV, type Zone } from '../contract/lake';
import { LOCAL_BUCKETS } from '../local/buckets';

export type LakeBuckets = Readonly<Record<Zone, string>>;

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
