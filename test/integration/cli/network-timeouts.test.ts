import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { networkError, NetworkError } from '../../../src/aws/network';
import { BrokerTimeout, RestBroker } from '../../../src/trading/broker';
import { runQuant } from '../../helpers/quant-cli';

/** A server that accepts connections and reads requests but never answers. */
let silent: net.Server;
let url: string;
const sockets = new Set<net.Socket>();
beforeAll(async () => {
  silent = net.createServer((s) => {
    sockets.add(s);
    s.on('data', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => silent.close(r));
});

/** Runs the CLI with extra environment variables set for the call only. */
async function withEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('a silent endpoint ends in exit 2 naming it, within the timeout', () => {
  it('quant sync run', async () => {
    const started = Date.now();
    const r = await runQuant([
      '--timeout',
      '1.5',
      'sync',
      'run',
      '--source',
      's3://src-bucket/',
      '--dest',
      's3://dst-bucket/',
      '--source-endpoint',
      url,
      '--dest-endpoint',
      url,
    ]);
    expect(r.code).toBe(2);
    // 1.5 s over 3 attempts: 0.5 s of silence each, and the attempts really made.
    expect(r.err).toContain(`no response from ${url} (3 attempts in `);
    expect(r.err).toContain('; up to 0.5 s of silence per attempt; --timeout SECONDS to change)');
    expect(r.err).not.toMatch(/\n\s+at /);
    // 3 attempts of 0.5 s plus the SDK's backoff, far from the 60 s default.
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('an --aws client pointed at it (Athena through quant query)', async () => {
    const r = await withEnv(
      {
        AWS_ENDPOINT_URL: url,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        ATHENA_WORKGROUP: 'wg',
        GLUE_DATABASE: 'db',
      },
      () => runQuant(['--aws', '--timeout', '1', 'query', 'SELECT 1']),
    );
    expect(r.code).toBe(2);
    expect(r.err).toContain(`no response from ${url} (3 attempts in `);
  });

  it('rejects a --timeout that is not a positive number of seconds', async () => {
    const r = await runQuant(['--timeout', 'soon', 'query', 'SELECT 1']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--timeout: must be a number of seconds/);
  });

  it('the broker adapter gives up after its timeout', async () => {
    const broker = new RestBroker({ baseUrl: url, keyId: 'k', secretKey: 's', timeoutMs: 300 });
    const started = Date.now();
    const err = await broker
      .submit({ clientOrderId: 'c-1', symbol: 'AAA', side: 'buy', qty: 1, limitPrice: 10 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrokerTimeout);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('networkError', () => {
  it('names an unreachable host and leaves other failures alone', () => {
    const unreachable = Object.assign(new Error('connect ENETUNREACH'), { code: 'ENETUNREACH' });
    const e = networkError(unreachable, { protocol: 'http:', hostname: '10.255.255.1', port: 9000 }, 60_000);
    expect(e).toBeInstanceOf(NetworkError);
    expect(e?.message).toBe('cannot reach http://10.255.255.1:9000 (ENETUNREACH)');
    expect(networkError(new Error('NoSuchKey'), undefined, 60_000)).toBeUndefined();
  });
});
