/**
 * Timeouts and bounded retries for every SDK client, and clear errors when an endpoint is silent or
 * unreachable: a request never waits forever, and the user learns which endpoint did not answer.
 */
import { Agent as HttpAgent } from 'node:http';
import { NodeHttpHandler, type NodeHttpHandlerOptions } from '@smithy/node-http-handler';
import { InputError } from '../errors';
import { DEFAULT_TIMEOUT_MS } from './timeout';

export { DEFAULT_TIMEOUT_MS, parseTimeoutSeconds } from './timeout';

/** Attempts per request (the SDK's standard retry strategy). */
export const ATTEMPTS = 3;

/** An endpoint that did not answer in time or cannot be reached: exit 2, naming it. */
export class NetworkError extends InputError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'endpoint');
    this.name = 'NetworkError';
    if (options && 'cause' in options) this.cause = options.cause;
  }
}

/**
 * Per-attempt socket settings: inactivity after `timeoutMs / ATTEMPTS`, connect within 10 s.
 *
 * The agents also get that as their `timeout`, which is what makes Node retire an idle kept-alive
 * socket 1 s before the server's announced keep-alive ends (`Keep-Alive: timeout=5` from the local
 * stand-ins): without an agent timeout Node ignores the hint and keeps idle sockets until it reads the
 * server's FIN. A burst of requests built while the event loop is busy then went out on sockets the
 * server had just closed, all at once: resets by the dozen, more than the SDK's retry quota covers.
 * On a socket in use the agent timeout only emits an event; `socketTimeout` does the timing out.
 */
export function handlerOptions(
  timeoutMs = DEFAULT_TIMEOUT_MS,
  agent: Pick<NodeHttpHandlerOptions, 'httpAgent' | 'httpsAgent'> = {},
): NodeHttpHandlerOptions {
  const perAttempt = Math.max(1, Math.ceil(timeoutMs / ATTEMPTS));
  return {
    httpAgent: withIdleTimeout(agent.httpAgent, perAttempt),
    httpsAgent: withIdleTimeout(agent.httpsAgent, perAttempt),
    connectionTimeout: Math.min(10_000, perAttempt),
    socketTimeout: perAttempt,
  };
}

type AgentOption = NodeHttpHandlerOptions['httpAgent'] | NodeHttpHandlerOptions['httpsAgent'];

/** Agent options with an idle timeout (a ready-made agent is left as it is). */
function withIdleTimeout<A extends AgentOption>(agent: A, timeoutMs: number): A {
  if (agent instanceof HttpAgent) return agent;
  return { timeout: timeoutMs, ...(agent ?? {}) } as A;
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

/** Connection closed by the peer (smithy's handler names these `TimeoutError` too, for its retries). */
const RESET = new Set(['ECONNRESET', 'EPIPE']);

/** What is known of the attempts behind a failure. */
export interface AttemptInfo {
  /** Attempts made (the SDK's `$metadata.attempts`). @default unknown */
  readonly attempts?: number;
  /** Time from the first attempt to the failure. @default unknown */
  readonly elapsedMs?: number;
}

function attemptsOf(err: Error): number | undefined {
  const n = (err as { $metadata?: { attempts?: unknown } }).$metadata?.attempts;
  return typeof n === 'number' && n > 0 ? n : undefined;
}

/** `3 attempts in 1.6 s`, from what is known. */
function attemptText(info: AttemptInfo): string {
  const parts: string[] = [];
  if (info.attempts !== undefined) parts.push(`${info.attempts} attempt${info.attempts === 1 ? '' : 's'}`);
  if (info.elapsedMs !== undefined) parts.push(`${(info.elapsedMs / 1000).toFixed(1)} s`);
  return parts.join(' in ');
}

/**
 * The NetworkError for a failed request, or undefined when the failure is something else. It says
 * what happened: a silent endpoint (no answer within the per-attempt timeout), a connection the peer
 * closed (reset), or an unreachable host, with the attempts actually made (fewer than ATTEMPTS when the
 * SDK's retry quota ran out) and the time they took. The original error is the `cause`.
 */
export function networkError(
  err: unknown,
  req: RequestLike | undefined,
  timeoutMs: number,
  info: AttemptInfo = {},
): Error | undefined {
  if (!(err instanceof Error) || err instanceof InputError) return undefined;
  const code = (err as { code?: string }).code ?? '';
  const known: AttemptInfo = { attempts: info.attempts ?? attemptsOf(err), elapsedMs: info.elapsedMs };
  const tried = attemptText(known);
  if (RESET.has(code)) {
    return new NetworkError(
      `${endpointOf(req)} closed the connection before answering (${code}${tried ? `; ${tried}` : ''})`,
      { cause: err },
    );
  }
  if (err.name === 'TimeoutError' || code === 'ETIMEDOUT') {
    const perAttempt = Math.max(1, Math.ceil(timeoutMs / ATTEMPTS));
    return new NetworkError(
      `no response from ${endpointOf(req)} (${tried ? `${tried}; ` : ''}` +
        `up to ${(perAttempt / 1000).toFixed(1)} s of silence per attempt; --timeout SECONDS to change)`,
      { cause: err },
    );
  }
  if (UNREACHABLE.has(code)) {
    return new NetworkError(`cannot reach ${endpointOf(req)} (${code})`, { cause: err });
  }
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
      const started = performance.now();
      try {
        return await next(args);
      } catch (err) {
        const elapsedMs = performance.now() - started;
        throw networkError(err, args.request as RequestLike | undefined, timeoutMs, { elapsedMs }) ?? err;
      }
    },
    { step: 'build', name: 'quantNetworkErrors', override: true },
  );
  return client;
}
