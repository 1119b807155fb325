/**
 * The one AWS client factory used by all runtime code (docs/architecture.md: one code path, two clouds).
 * In AWS: default endpoints and the task's role. Locally: the same SDK clients pointed at the
 * stand-ins on 127.0.0.1, with the settings docs/architecture.md lists (path-style S3, no streaming checksums
 * because s3rver stores aws-chunked framing verbatim, HTTP/1.1 for kinesalite).
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DataSyncClient } from '@aws-sdk/client-datasync';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ATTEMPTS, DEFAULT_TIMEOUT_MS, handlerOptions, httpHandler, withNetworkErrors } from './network';
import { LOCAL_CREDENTIALS, makeS3Client } from './s3-client';

// The S3 client lives apart so that S3-only commands (quant sync) load no other SDK client.
export { makeS3Client } from './s3-client';

export interface LocalEndpoints {
  readonly s3: string;
  readonly kinesis: string;
  readonly dynamodb: string;
}

export type Runtime =
  | {
      readonly mode: 'aws';
      readonly region?: string;
      /** Longest wait for one request, all attempts included. @default 60 s */
      readonly timeoutMs?: number;
    }
  | {
      readonly mode: 'local';
      readonly region: string;
      readonly timeoutMs?: number;
      readonly endpoints: LocalEndpoints;
      /** Root of the local cloud's state (`.quant/` by default). */
      readonly dataDir: string;
    };

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

function localOf(runtime: Runtime) {
  return runtime.mode === 'local' ? runtime : undefined;
}

/** Base settings: local stand-ins get their endpoint and the local credentials. */
function baseConfig(runtime: Runtime, service: keyof LocalEndpoints | undefined) {
  const local = localOf(runtime);
  // Every client waits a bounded time: per-attempt socket timeouts, a fixed number of attempts.
  const net = { maxAttempts: ATTEMPTS, requestHandler: httpHandler(runtime.timeoutMs) };
  if (!local) return { region: runtime.region, ...net };
  return {
    region: local.region,
    credentials: LOCAL_CREDENTIALS,
    ...net,
    ...(service ? { endpoint: local.endpoints[service] } : {}),
  };
}

/** Adds the NetworkError translation (timeouts, unreachable hosts) to a new client. */
const guarded = <C>(runtime: Runtime, client: C): C =>
  withNetworkErrors(client, runtime.timeoutMs ?? DEFAULT_TIMEOUT_MS);

/*
 * One factory per service; `createClients` gathers them for the CLI and local tools. Services
 * without a local stand-in get AWS's endpoint in local mode too; code that needs them locally uses
 * the local implementations (DuckDB for Athena, the local state machine runner).
 */
export const s3Client = (runtime: Runtime): S3Client =>
  makeS3Client({
    endpoint: localOf(runtime)?.endpoints.s3,
    region: runtime.region,
    timeoutMs: runtime.timeoutMs,
  });
const awsOnly =
  <C>(Client: new (config: ReturnType<typeof baseConfig>) => C) =>
  (runtime: Runtime): C =>
    guarded(
      runtime,
      new Client(
        baseConfig({ mode: 'aws', region: runtime.region, timeoutMs: runtime.timeoutMs }, undefined),
      ),
    );
export const athenaClient = awsOnly(AthenaClient);

type ClientName = Exclude<keyof AwsClients, 'runtime' | 'destroy'>;
const FACTORIES: { readonly [K in ClientName]: (runtime: Runtime, clients: AwsClients) => AwsClients[K] } = {
  s3: s3Client,
  kinesis: (runtime) =>
    guarded(
      runtime,
      new KinesisClient(
        localOf(runtime)
          ? baseConfig(runtime, 'kinesis')
          : // In AWS the Kinesis client speaks HTTP/2 (its own handler): give it the timeouts as options.
            { ...baseConfig(runtime, undefined), requestHandler: handlerOptions(runtime.timeoutMs) },
      ),
    ),
  dynamodb: (runtime) =>
    guarded(runtime, new DynamoDBClient(baseConfig(runtime, localOf(runtime) ? 'dynamodb' : undefined))),
  doc: (_, clients) =>
    DynamoDBDocumentClient.from(clients.dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
  athena: athenaClient,
  sfn: awsOnly(SFNClient),
  sqs: awsOnly(SQSClient),
  eventBridge: awsOnly(EventBridgeClient),
  secretsManager: awsOnly(SecretsManagerClient),
  dataSync: awsOnly(DataSyncClient),
  cloudWatch: awsOnly(CloudWatchClient),
};

/** Creates (lazily, each on first use) every client the runtime uses, for AWS or for the local cloud. */
export function createClients(runtime: Runtime): AwsClients {
  const created = new Map<ClientName, { destroy(): void }>();
  const clients = {
    runtime,
    destroy() {
      for (const c of created.values()) c.destroy();
      created.clear();
    },
  } as AwsClients;
  for (const name of Object.keys(FACTORIES) as ClientName[]) {
    Object.defineProperty(clients, name, {
      enumerable: true,
      configurable: true,
      get: () => {
        if (!created.has(name)) created.set(name, FACTORIES[name](runtime, clients));
        return created.get(name);
      },
    });
  }
  return clients;
}
