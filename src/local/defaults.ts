import type { LocalEndpoints } from '../aws/clients';

/**
 * The local cloud's defaults, apart from src/local/cloud.ts so that code needing only these names
 * (the CLI's option handling, the batch task) does not load the code that starts the stand-ins.
 */
export const DEFAULT_DATA_DIR = '.quant';
export const LOCAL_REGION = 'us-east-1';

/** The stand-ins of the local cloud, by the endpoint each serves. */
export const LOCAL_SERVICES: readonly (keyof LocalEndpoints)[] = ['s3', 'kinesis', 'dynamodb'];

/**
 * The endpoints of the stand-ins on these ports of 127.0.0.1. Port 0 (a service not started): a
 * connection fails at once, it never reaches another server.
 */
export const localEndpoints = (ports: Record<keyof LocalEndpoints, number>): LocalEndpoints =>
  Object.fromEntries(
    LOCAL_SERVICES.map((s) => [s, `http://127.0.0.1:${ports[s]}`]),
  ) as unknown as LocalEndpoints;
