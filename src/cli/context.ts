/**
 * What a command needs to talk to the platform: the runtime (local cloud or AWS), its clients, the
 * lake buckets and the query engine. Locally a running `quant local up` cloud is reused; otherwise
 * one is started for the duration of the command.
 */
import path from 'node:path';
import type { AwsClients, Runtime } from '../aws/clients';
import type { LocalCloud, LocalService } from '../local/cloud';
import { DEFAULT_DATA_DIR } from '../local/defaults';
import type { LakeBuckets } from '../lake/buckets';
import type { QueryEngine } from '../lake/query';

export interface GlobalOptions {
  /** Use AWS (credentials and region from the standard environment) instead of the local cloud. */
  readonly aws?: boolean;
  /** Local cloud state directory. */
  readonly dataDir?: string;
}

export interface PlatformContext {
  readonly runtime: Runtime;
  readonly clients: AwsClients;
  readonly buckets: LakeBuckets;
  /** Scratch space for staging files before they are committed. */
  readonly tmpDir?: string;
  query(): Promise<QueryEngine>;
  close(): Promise<void>;
}

export function dataDirOf(opts: GlobalOptions): string {
  return path.resolve(opts.dataDir ?? process.env.QUANT_DATA_DIR ?? DEFAULT_DATA_DIR);
}

/** What a command uses of the local cloud. */
export interface PlatformNeeds {
  /** Stand-ins to start when no local cloud runs for the data dir. @default all */
  readonly services?: readonly LocalService[];
}

/** Opens the platform for one command; `close()` releases clients and stops an owned local cloud. */
export async function openPlatform(opts: GlobalOptions & PlatformNeeds): Promise<PlatformContext> {
  let cloud: LocalCloud | undefined;
  let runtime: Runtime;
  if (opts.aws || process.env.QUANT_MODE === 'aws') {
    runtime = { mode: 'aws', region: process.env.AWS_REGION };
  } else {
    const { LocalCloud } = await import('../local/cloud');
    cloud = await LocalCloud.open({ dataDir: dataDirOf(opts), services: opts.services });
    runtime = cloud.runtime;
  }
  // Loaded here, not at the top: a command that never opens the platform (a backtest on a file)
  // loads no AWS SDK client and no DuckDB.
  const [{ createClients }, { lakeBuckets }] = await Promise.all([
    import('../aws/clients'),
    import('../lake/buckets'),
  ]);
  const clients = createClients(runtime);
  const engines: QueryEngine[] = [];
  return {
    runtime,
    clients,
    buckets: lakeBuckets(runtime, process.env),
    query: async () => {
      const { createQueryEngine } = await import('../lake/query');
      const e = await createQueryEngine(runtime, process.env);
      engines.push(e);
      return e;
    },
    close: async () => {
      for (const e of engines) await e.close();
      clients.destroy();
      if (cloud?.owned) await cloud.stop();
    },
  };
}

/** Runs `fn` with an open platform and always closes it. */
export async function withPlatform<T>(
  opts: GlobalOptions & PlatformNeeds,
  fn: (ctx: PlatformContext) => Promise<T>,
): Promise<T> {
  const ctx = await openPlatform(opts);
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}
