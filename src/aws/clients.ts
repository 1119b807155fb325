/**
 * The one AWS client factory used by all runtime code (DESIGN.md: "One code path, two clouds").
 * In AWS: default endpoints and the task's role. Locally: the same SDK clients pointed at the
 * stand-ins on 127.0.0.1, with the settings NOTES.md lists (path-style S3, no streaming checksums
 * because s3rver stores aws-chunked framing verbatim, HTTP/1.1 for kinesalite).
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DataSyncClient } from '@aws-sdk/client-datasync';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AwsCredentialIdentity } from '@smithy/types';

export interface LocalEndpoints {
  readonly s3: string;
  readonly kinesis: string;
  readonly dynamodb: string;
}

export type Runtime =
  | { readonly mode: 'aws'; readonly region?: string }
  | {
      readonly mode: 'local';
      readonly region: string;
      readonly endpoints: LocalEndpoints;
      /** Root of the local cloud's state (`.quant/` by default). */
      readonly dataDir: string;
    };

/** Credentials the local stand-ins accept (s3rver's defaults; kinesalite and dynalite accept any). */
export const LOCAL_CREDENTIALS: AwsCredentialIdentity = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface AwsClients {
  readonly runtime: Runtime;
  readonly s3: S3Client;
  readonly kinesis: KinesisClient;
  readonly dynamodb: DynamoDBClient;
  /** DynamoDB document client (marshalls plain objects; bigints stay numbers-as-strings free). */
  readonly doc: DynamoDBDocumentClient;
  readonly athena: AthenaClient;
  readonly sfn: SFNClient;
  readonly sqs: SQSClient;
  readonly eventBridge: EventBridgeClient;
  readonly secretsManager: SecretsManagerClient;
  readonly dataSync: DataSyncClient;
  readonly cloudWatch: CloudWatchClient;
  /** Releases sockets of every client created so far. */
  destroy(): void;
}

export interface S3ClientOptions {
  /** S3-compatible endpoint; AWS's own when absent. */
  readonly endpoint?: string;
  /** @default the SDK's region resolution, or us-east-1 for a custom endpoint */
  readonly region?: string;
  /** @default the SDK's default credential chain (LOCAL_CREDENTIALS for a loopback endpoint) */
  readonly credentials?: AwsCredentialIdentity;
  /** @default 64 */
  readonly maxSockets?: number;
}

function isLoopback(endpoint: string): boolean {
  const host = new URL(endpoint).hostname;
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
}

/** An S3 client for any S3-compatible endpoint (the local server, another account's bucket, AWS). */
export function makeS3Client(opts: S3ClientOptions = {}): S3Client {
  if (!opts.endpoint) {
    return new S3Client({
      region: opts.region,
      credentials: opts.credentials,
      requestHandler: new NodeHttpHandler({ httpsAgent: { maxSockets: opts.maxSockets ?? 64 } }),
    });
  }
  return new S3Client({
    endpoint: opts.endpoint,
    region: opts.region ?? 'us-east-1',
    credentials: opts.credentials ?? (isLoopback(opts.endpoint) ? LOCAL_CREDENTIALS : undefined),
    forcePathStyle: true,
    // Only send/verify checksums when an API requires it: s3rver would store aws-chunked framing.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: new NodeHttpHandler({
      httpAgent: { keepAlive: true, maxSockets: opts.maxSockets ?? 64 },
      httpsAgent: { keepAlive: true, maxSockets: opts.maxSockets ?? 64 },
    }),
  });
}

/** Creates (lazily) every client the runtime uses, for AWS or for the local cloud. */
export function createClients(runtime: Runtime): AwsClients {
  const created: Array<{ destroy(): void }> = [];
  const local = runtime.mode === 'local' ? runtime : undefined;
  const region = runtime.region;
  const base = local ? { region: local.region, credentials: LOCAL_CREDENTIALS, maxAttempts: 3 } : { region };
  const cache = new Map<string, unknown>();
  const lazy = <T extends { destroy(): void }>(name: string, make: () => T): T => {
    let c = cache.get(name) as T | undefined;
    if (!c) {
      c = make();
      cache.set(name, c);
      created.push(c);
    }
    return c;
  };
  // Services without a local stand-in get the AWS endpoint even in local mode; code that needs
  // them locally uses the local implementations (DuckDB for Athena, the local state machine).
  const awsOnly = { region: local?.region ?? region };
  return {
    runtime,
    get s3() {
      return lazy('s3', () =>
        makeS3Client({ endpoint: local?.endpoints.s3, region: local?.region ?? region }),
      );
    },
    get kinesis() {
      return lazy('kinesis', () =>
        local
          ? new KinesisClient({
              ...base,
              endpoint: local.endpoints.kinesis,
              requestHandler: new NodeHttpHandler(),
            })
          : new KinesisClient(base),
      );
    },
    get dynamodb() {
      return lazy('dynamodb', () =>
        local
          ? new DynamoDBClient({ ...base, endpoint: local.endpoints.dynamodb })
          : new DynamoDBClient(base),
      );
    },
    get doc() {
      return lazy('doc', () =>
        DynamoDBDocumentClient.from(this.dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
      );
    },
    get athena() {
      return lazy('athena', () => new AthenaClient(awsOnly));
    },
    get sfn() {
      return lazy('sfn', () => new SFNClient(awsOnly));
    },
    get sqs() {
      return lazy('sqs', () => new SQSClient(awsOnly));
    },
    get eventBridge() {
      return lazy('eventBridge', () => new EventBridgeClient(awsOnly));
    },
    get secretsManager() {
      return lazy('secretsManager', () => new SecretsManagerClient(awsOnly));
    },
    get dataSync() {
      return lazy('dataSync', () => new DataSyncClient(awsOnly));
    },
    get cloudWatch() {
      return lazy('cloudWatch', () => new CloudWatchClient(awsOnly));
    },
    destroy() {
      for (const c of created) c.destroy();
      created.length = 0;
      cache.clear();
    },
  };
}
