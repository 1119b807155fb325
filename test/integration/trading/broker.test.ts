/**
 * The REST broker adapter as the execution Lambda builds it: keys read from Secrets Manager (a
 * loopback server speaking the Secrets Manager JSON protocol, since there is no local stand-in),
 * orders sent to a loopback server in the shape of a retail broker API that records every request.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RestBroker } from '../../../src/trading/broker';
import { brokerFromEnv } from '../../../src/trading/brokers-env';

interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A loopback HTTP server that records requests and answers with `reply`. */
async function recordingServer(
  reply: (r: Recorded) => { status: number; body: unknown },
): Promise<{ url: string; requests: Recorded[]; close(): Promise<void> }> {
  const requests: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const rec = { method: req.method!, url: req.url!, headers: req.headers, body };
      requests.push(rec);
      const { status, body: out } = reply(rec);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(out));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:broker-keys-AbCdEf';
const GOOD_ARN = ARN;
const BAD_ARN = `${ARN}-bad`;

let secrets: Awaited<ReturnType<typeof recordingServer>>;
let broker: Awaited<ReturnType<typeof recordingServer>>;
let secretsManager: SecretsManagerClient;
const brokerOrders = new Map<string, Record<string, unknown>>();

beforeAll(async () => {
  secrets = await recordingServer((r) => {
    const { SecretId } = JSON.parse(r.body) as { SecretId: string };
    const SecretString =
      SecretId === GOOD_ARN ? JSON.stringify({ keyId: 'PKTEST123', secretKey: 's3cr3t' }) : '{"keyId": "x"}';
    return { status: 200, body: { ARN: SecretId, Name: 'broker-keys', SecretString, VersionId: 'v1' } };
  });
  broker = await recordingServer((r) => {
    if (r.method === 'POST' && r.url === '/v2/orders') {
      const o = JSON.parse(r.body) as Record<string, string>;
      if (o.symbol === 'HALTD')
        return { status: 422, body: { code: 42210000, message: 'asset not tradable' } };
      if (o.symbol === 'BOOM') return { status: 500, body: { message: 'internal' } };
      const rec = {
        id: `b-${brokerOrders.size + 1}`,
        client_order_id: o.client_order_id,
        status: o.symbol === 'SLOW' ? 'accepted' : 'filled',
        filled_qty: o.symbol === 'SLOW' ? '0' : o.qty,
        filled_avg_price: o.symbol === 'SLOW' ? null : o.limit_price,
      };
      brokerOrders.set(o.client_order_id, rec);
      return { status: 200, body: rec };
    }
    const m = r.url.match(/^\/v2\/orders:by_client_order_id\?client_order_id=(.+)$/);
    if (r.method === 'GET' && m) {
      const rec = brokerOrders.get(decodeURIComponent(m[1]));
      return rec ? { status: 200, body: rec } : { status: 404, body: { message: 'order not found' } };
    }
    return { status: 404, body: {} };
  });
  secretsManager = new SecretsManagerClient({
    endpoint: secrets.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'LOCAL', secretAccessKey: 'LOCAL' },
  });
});

afterAll(async () => {
  secretsManager?.destroy();
  await secrets?.close();
  await broker?.close();
});

describe('REST broker adapter with keys from Secrets Manager', () => {
  it('reads the keys from the secret and sends them as key headers on every call', async () => {
    const env = { BROKER: 'rest', BROKER_URL: broker.url, BROKER_SECRET_ARN: GOOD_ARN };
    const adapter = await brokerFromEnv(env, { secretsManager });
    expect(adapter).toBeInstanceOf(RestBroker);
    // exactly one GetSecretValue for the configured secret, over the Secrets Manager JSON protocol
    expect(secrets.requests).toHaveLength(1);
    expect(secrets.requests[0].headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
    expect(JSON.parse(secrets.requests[0].body)).toEqual({ SecretId: GOOD_ARN });

    const filled = await adapter.submit({
      clientOrderId: 'sig-1:AAPL',
      symbol: 'AAPL',
      side: 'sell',
      qty: 25,
      limitPrice: 189.999,
    });
    expect(filled).toEqual({
      clientOrderId: 'sig-1:AAPL',
      brokerOrderId: 'b-1',
      status: 'filled',
      filledQty: 25,
      fillPrice: 190,
    });
    const found = await adapter.lookup('sig-1:AAPL');
    expect(found).toEqual(filled);
    expect(await adapter.lookup('never-sent')).toBeUndefined();
    expect(broker.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST /v2/orders',
      'GET /v2/orders:by_client_order_id?client_order_id=sig-1%3AAAPL',
      'GET /v2/orders:by_client_order_id?client_order_id=never-sent',
    ]);
    for (const r of broker.requests) {
      expect(r.headers['apca-api-key-id']).toBe('PKTEST123');
      expect(r.headers['apca-api-secret-key']).toBe('s3cr3t');
    }
    expect(JSON.parse(broker.requests[0].body)).toEqual({
      symbol: 'AAPL',
      qty: '25',
      side: 'sell',
      type: 'limit',
      time_in_force: 'day',
      limit_price: '190.00',
      client_order_id: 'sig-1:AAPL',
    });
  });

  it('maps broker answers: 422 is a rejection with its reason, 5xx throws, a working order is accepted', async () => {
    const adapter = new RestBroker({ baseUrl: broker.url, keyId: 'k', secretKey: 's' });
    const base = { side: 'buy' as const, qty: 1, limitPrice: 10 };
    expect(await adapter.submit({ ...base, clientOrderId: 'r-1', symbol: 'HALTD' })).toMatchObject({
      status: 'rejected',
      filledQty: 0,
      reason: expect.stringMatching(/^broker 422: .*asset not tradable/),
    });
    await expect(adapter.submit({ ...base, clientOrderId: 'r-2', symbol: 'BOOM' })).rejects.toThrow(
      /broker 500 on submit of r-2/,
    );
    expect(await adapter.submit({ ...base, clientOrderId: 'r-3', symbol: 'SLOW' })).toMatchObject({
      status: 'accepted',
      filledQty: 0,
      fillPrice: 0,
    });
  });

  it('a secret without both keys, or missing settings, fail with what is wrong (and no secret text)', async () => {
    await expect(
      brokerFromEnv(
        { BROKER: 'rest', BROKER_URL: broker.url, BROKER_SECRET_ARN: BAD_ARN },
        { secretsManager },
      ),
    ).rejects.toThrow(/secret .*-bad must hold JSON \{"keyId": "\.\.\.", "secretKey": "\.\.\."\}$/);
    await expect(
      brokerFromEnv({ BROKER: 'rest', BROKER_URL: broker.url }, { secretsManager }),
    ).rejects.toThrow(/BROKER=rest needs BROKER_URL and BROKER_SECRET_ARN/);
    await expect(brokerFromEnv({ BROKER: 'fix' }, { secretsManager })).rejects.toThrow(
      /BROKER must be paper or rest, got fix/,
    );
  });
});
