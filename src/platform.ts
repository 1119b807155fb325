/** What a command or a demo needs to talk to the platform (opened by src/cli/context.ts `openPlatform`). */
import type { AwsClients, Runtime } from './aws/clients';
import type { LakeBuckets } from './lake/buckets';
import type { QueryEngine } from './lake/query';

/** The runtime (local cloud or AWS), its clients, the lake buckets and the query engine. */
export interface PlatformContext {
  readonly runtime: Runtime;
  readonly clients: AwsClients;
  readonly buckets: LakeBuckets;
  /** Scratch space for staging files before they are committed. */
  readonly tmpDir?: string;
  query(): Promise<QueryEngine>;
  close(): Promise<void>;
}
