/**
 * What a command needs to talk to the platform: the runtime (local cloud or AWS), its clients, the
 * lake buckets and the query engine. Locally every command attaches to the data directory's shared
 * local cloud, which the first one starts in the background (src/local/cloud.ts).
 */
import path from 'node:path';
import type { Runtime } from '../aws/clients';
import { QUANT_MODE_AWS, QUANT_MODE_ENV } from '../contract/env';
import type { LocalCloud, LocalService } from '../local/cloud';
import { DEFAULT_DATA_DIR } from '../local/defaults';
import { checkDataDir } from '../local/data-dir';
import { parseTimeoutSeconds } from '../aws/timeout';
import type { QueryEngine } from '../lake/query';
import type { PlatformContext } from '../platform';

export interface GlobalOptions {
  /** Use AWS (credentials and region from the standard environment) instead of the local cloud. */
  readonly aws?: boolean;
  /** Local cloud state directory. */
  readonly dataDir?: string;
  /** Longest wait for any one network request, in seconds (text as typed). */
  readonly timeout?: string;
}

export type { PlatformContext } from '../platform';

/** `--timeout` in milliseconds; undefined for the default (src/aws/network.ts). */
export const timeoutMsOf = (opts: GlobalOptions): number | undefined => parseTimeoutSeconds(opts.timeout);

/** The data directory of a command, checked (InputError naming it and the problem). */
export function dataDirOf(opts: GlobalOptions): string {
  const dir = path.resolve(opts.dataDir ?? process.env.QUANT_DATA_DIR ?? DEFAULT_DATA_DIR);
  checkDataDir(
    dir,
    opts.dataDir !== undefined || !process.env.QUANT_DATA_DIR ? '--data-dir' : 'QUANT_DATA_DIR',
  );
  return dir;
}

/** What a command uses of the local cloud. */
export interface PlatformNeeds {
  /** Stand-ins to start when no local cloud runs for the data dir. @default all */
  readonly services?: readonly LocalService[];
}

/** Whether this command runs against AWS: `--aws`, or QUANT_MODE=aws (set on hosts and tasks). */
export function inAwsMode(opts: Pick<GlobalOptions, 'aws'>): boolean {
  return Boolean(opts.aws) || process.env[QUANT_MODE_ENV] === QUANT_MODE_AWS;
}

/** Opens the platform for one command; `close()` releases clients and stops an owned local cloud. */
export async function openPlatform(opts: GlobalOptions & PlatformNeeds): Promise<PlatformContext> {
  let cloud: LocalCloud | undefined;
  let runtime: Runtime;
  const timeoutMs = timeoutMsOf(opts);
  if (inAwsMode(opts)) {
    runtime = { mode: 'aws', region: process.env.AWS_REGION, timeoutMs };
  } else {
    const { LocalCloud } = await import('../local/cloud');
    cloud = await LocalCloud.open({ dataDir: dataDirOf(opts), services: opts.services });
    runtime = { ...cloud.runtime, timeoutMs };
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
      await cloud?.stop(); // releases this command's lease on the shared local cloud
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
