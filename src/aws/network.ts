/**
 * Timeouts and bounded retries for every SDK client, and clear errors when an endpoint is silent or
 * unreachable: a request never waits forever, and the user learns which endpoint did not answer.
 */
import { NodeHttpHandler, type NodeHttpHandlerOptions } from '@smithy/node-http-handler';
import { InputError } from '../errors';
import { DEFAULT_TIMEOUT_MS } from './timeout';

export { DEFAULT_TIMEOUT_MS, parseTimeoutSeconds } from './timeout';

/** Attempts per request (the SDK's standard retry strategy). */
export const ATTEMPTS = 3;

/** An endpoint that did not answer in time or cannot be reached: exit 2, naming it. */
export class NetworkError extends InputError {
  constructor(message: string) {
    super(message, 'endpoint');
    this.name = 'NetworkError';
  }
}

/** Per-attempt socket settings: inactivity after `timeoutMs / ATTEMPTS`, connect within 10 s. */
export function handlerOptions(
  timeoutMs = DEFAULT_TIMEOUT_MS,
  agent: Pick<NodeHttpHandlerOptions, 'httpAgent' | 'httpsAgent'> = {},
): NodeHttpHandlerOptions {
  const perAttempt = Math.max(1, Math.ceil(timeoutMs / ATTEMPTS));
  return { ...agent, connectionTimeout: Math.min(10_000, perAttempt), socketTimeout: perAttempt };
}

export const httpHandler = (
  timeoutMs?: number,
  agent?: Pick<NodeHttpHandlerOptions, 'httpAgent' | 'httpsAgent'>,
): NodeHttpHandler => new NodeHttpHandler(handlerOptions(timeoutMs, agent));

const UNREACHABLE = new Set(['ENETUNREACH', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

interface RequestLike {
  protocol?: string;
  hostname?: string;
  port?: number;
}

function endpointOf(req: RequestLike | undefined): string {
  if (!req?.hostname) return 'the endpoint';
  return `${req.protocol ?? 'https:'}//${req.hostname}${req.port ? `:${req.port}` : ''}`;
}

/** The NetworkError for a failed request, or undefined when the failure is something else. */
export function networkError(
  err: unknown,
  req: RequestLike | undefined,
  timeoutMs: number,
): Error | undefined {
  if (!(err instanceof Error) || err instanceof InputError) return undefined;
  const code = (err as { code?: string }).code ?? '';
  if (err.name === 'TimeoutError' || code === 'ETIMEDOUT') {
    return new NetworkError(
      `no response from ${endpointOf(req)} after ${Math.round(timeoutMs / 1000)} s ` +
        `(${ATTEMPTS} attempts; --timeout SECONDS to change)`,
    );
  }
  if (UNREACHABLE.has(code)) return new NetworkError(`cannot reach ${endpointOf(req)} (${code})`);
  return undefined;
}

interface ClientLike {
  middlewareStack: {
    add(
      mw: (
        next: (args: { request?: unknown }) => Promise<unknown>,
      ) => (args: { request?: unknown }) => Promise<unknown>,
      opts: { step: 'build'; name: string; override?: boolean },
    ): void;
  };
}

/**
 * Turns timeouts and unreachable hosts into NetworkError on a client. It sits in the build step,
 * outside the retry middleware, so it sees the final failure after every attempt.
 */
export function withNetworkErrors<C>(client: C, timeoutMs = DEFAULT_TIMEOUT_MS): C {
  (client as unknown as ClientLike).middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        throw networkError(err, args.request as RequestLike | undefined, timeoutMs) ?? err;
      }
    },
    { step: 'build', name: 'quantNetworkErrors', override: true },
  );
  return client;
}
