/**
 * What a command needs to talk to the platform: the runtime (local cloud or AWS), its clients, the
 * lake buckets and the query engine. Locally every command attaches to the data directory's shared
 * local cloud, which the first one starts in the background (src/local/cloud.ts).
 */
import path from 'node:path';
import { createClients, type AwsClients, type Runtime } from '../aws/clients';
import { parseTimeoutSeconds } from '../aws/network';
import { LocalCloud, DEFAULT_DATA_DIR } from '../local/cloud';
import { checkDataDir } from '../local/data-dir';
import { lakeBuckets, type LakeBuckets } from '../lake/buckets';
import { createQueryEngine, type QueryEngine } from '../lake/query';

export interface GlobalOptions {
  /** Use AWS (credentials and region from the standard environment) instead of the local cloud. */
  readonly aws?: boolean;
  /** Local cloud state directory. */
  readonly dataDir?: string;
  /** Longest wait for any one network request, in seconds (text as typed). */
  readonly timeout?: string;
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

/** Opens the platform for one command; `close()` releases clients and stops an owned local cloud. */
export async function openPlatform(opts: GlobalOptions): Promise<PlatformContext> {
  let cloud: LocalCloud | undefined;
  let runtime: Runtime;
  const timeoutMs = timeoutMsOf(opts);
  if (opts.aws || process.env.QUANT_MODE === 'aws') {
    runtime = { mode: 'aws', region: process.env.AWS_REGION, timeoutMs };
  } else {
    cloud = await LocalCloud.open({ dataDir: dataDirOf(opts) });
    runtime = { ...cloud.runtime, timeoutMs };
  }
  const clients = createClients(runtime);
  const engines: QueryEngine[] = [];
  return {
    runtime,
    clients,
    buckets: lakeBuckets(runtime, process.env),
    query: async () => {
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
  opts: GlobalOptions,
  fn: (ctx: PlatformContext) => Promise<T>,
): Promise<T> {
  const ctx = await openPlatform(opts);
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}
