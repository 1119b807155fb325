/**
 * The deployed news Lambda (lambda/news-ingest), invoked in process with EventBridge-shaped events
 * against the local cloud (its QUANT_LOCAL_* environment, as the trading Lambdas' tests do), the
 * seeded news API simulator, and a loopback server speaking the Secrets Manager JSON protocol
 * (there is no local Secrets Manager stand-in; the SDK reaches it through its standard
 * AWS_ENDPOINT_URL_SECRETS_MANAGER setting). Checks: rows land in the lake, a second run adds
 * nothing (de-duplication by article id), 429/5xx back off and lose nothing, and an expired key is
 * a clear error after which the key is read again (a rotated key is picked up).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NEWS_INGEST_ENV } from '../../../src/contract/news';
import { DuckDbQueryEngine } from '../../../src/lake/query';
import { LocalCloud } from '../../../src/local/cloud';
import { VendorAuthError } from '../../../src/news/client';
import type { NewsIngestReport } from '../../../src/news/ingest';
import { NEWS_SIM_KEY, NewsSimulator } from '../../../src/news/simulator';
import { localLambdaEnv } from '../../../src/trading/lambda-support';

const dir = mkdtempSync(path.join(os.tmpdir(), 'news-lambda-'));
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:news-api-key-AbCdEf';
const ROTATED_KEY = 'rotated-news-key';
let cloud: LocalCloud;
let engine: DuckDbQueryEngine;
let sim: NewsSimulator;
let secrets: Server;
/** What the secret holds now, and the GetSecretValue requests seen (target header, SecretId). */
let secretValue = NEWS_SIM_KEY;
const secretRequests: Array<{ target: string; secretId: string }> = [];
type Handler = (event: unknown, context: Context) => Promise<unknown>;
let handler: Handler;
const context = {
  functionName: 'news-ingest',
  awsRequestId: 'r',
  getRemainingTimeInMillis: () => 300_000,
} as unknown as Context;
const day = (d: string): number => Date.parse(`${d}T00:00:00Z`);
const scheduled = (detail: Record<string, unknown>) => detail; // the rule's constant input is the event

beforeAll(async () => {
  secrets = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const { SecretId } = JSON.parse(body) as { SecretId: string };
      secretRequests.push({ target: String(req.headers['x-amz-target']), secretId: SecretId });
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ ARN: SecretId, Name: 'news-api-key', SecretString: secretValue }));
    });
  });
  await new Promise<void>((r) => secrets.listen(0, '127.0.0.1', r));
  sim = await NewsSimulator.start({ seed: 5, keys: [NEWS_SIM_KEY, ROTATED_KEY] });
  cloud = await LocalCloud.start({ dataDir: dir });
  const rt = cloud.runtime;
  if (rt.mode !== 'local') throw new Error('expected a local runtime');
  Object.assign(process.env, localLambdaEnv(rt), {
    [NEWS_INGEST_ENV.apiUrl]: sim.url,
    [NEWS_INGEST_ENV.secretArn]: SECRET_ARN,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(secrets.address() as AddressInfo).port}`,
    // Placeholders for the SDK's signer; the loopback server checks nothing.
    AWS_ACCESS_KEY_ID: 'LOCAL',
    AWS_SECRET_ACCESS_KEY: 'LOCAL',
    POWERTOOLS_DEV: 'true',
    POWERTOOLS_TRACE_ENABLED: 'false',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  engine = await DuckDbQueryEngine.create(rt);
  handler = (await import('../../../lambda/news-ingest/index')).handler as Handler;
}, 120_000);

afterAll(async () => {
  await engine?.close();
  await cloud?.stop();
  await sim?.close();
  await new Promise<void>((r) => (secrets ? secrets.close(() => r()) : r()));
  rmSync(dir, { recursive: true, force: true });
});

/** One row per (article, ticker) the simulator serves for [from, to). */
const expectedRows = (from: number, to: number): string[] =>
  sim
    .corpus(from, to)
    .flatMap((a) => a.tickers.map((t) => `${a.id}|${t}`))
    .sort();
async function lakeRows(from: number, to: number): Promise<string[]> {
  const rows = await engine.query(
    `SELECT article_id, symbol FROM news_sentiment
     WHERE published_at >= epoch_ms(${from}) AND published_at < epoch_ms(${to})`,
  );
  return rows.map((r) => `${String(r.article_id)}|${String(r.symbol)}`).sort();
}

describe('news-ingest Lambda in process', () => {
  it('writes the window to the lake with the key from Secrets Manager; a second run adds nothing', async () => {
    const from = day('2024-03-04');
    const to = day('2024-03-07');
    const want = expectedRows(from, to);
    expect(want.length).toBeGreaterThan(20);
    const event = scheduled({ from: new Date(from).toISOString(), to: new Date(to).toISOString() });
    const first = (await handler(event, context)) as NewsIngestReport;
    expect(first).toMatchObject({ added: want.length, duplicates: 0, rejected: 0, retries: 0 });
    expect(first.partitions).toBeGreaterThan(1);
    expect(await lakeRows(from, to)).toEqual(want);
    // The key was read once, over the Secrets Manager protocol, for the configured secret.
    expect(secretRequests).toEqual([{ target: 'secretsmanager.GetSecretValue', secretId: SECRET_ARN }]);

    const second = (await handler(event, context)) as NewsIngestReport;
    expect(second).toMatchObject({ added: 0, duplicates: want.length, partitions: 0 });
    expect(await lakeRows(from, to)).toEqual(want);
    expect(secretRequests).toHaveLength(1); // cached for the container's life
  });

  it('backs off on 429 and 5xx and loses nothing', async () => {
    const from = day('2024-04-01');
    const to = day('2024-04-03');
    const before = sim.responses.length;
    sim.failNext({ status: 429, retryAfter: 0 }, { status: 503 });
    const r = (await handler(
      scheduled({ from: new Date(from).toISOString(), to: new Date(to).toISOString() }),
      context,
    )) as NewsIngestReport;
    expect(sim.responses.slice(before, before + 3)).toEqual([429, 503, 200]);
    expect(r.retries).toBe(2);
    expect(await lakeRows(from, to)).toEqual(expectedRows(from, to));
  });

  it('an expired key fails the run with a clear error, writes nothing, and the next run reads the rotated key', async () => {
    const from = day('2024-06-03');
    const to = day('2024-06-04');
    const event = scheduled({ from: new Date(from).toISOString(), to: new Date(to).toISOString() });
    sim.expireKey(NEWS_SIM_KEY);
    const err = await handler(event, context).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VendorAuthError);
    expect((err as VendorAuthError).status).toBe(401);
    expect((err as Error).message).toMatch(/rejected the key \(HTTP 401: API key expired\)/);
    expect((err as Error).message).not.toContain(NEWS_SIM_KEY); // the key itself is never echoed
    expect(await lakeRows(from, to)).toEqual([]);

    // The operator rotates the secret: the next invocation asks Secrets Manager again and succeeds.
    const reads = secretRequests.length;
    secretValue = JSON.stringify({ apiKey: ROTATED_KEY });
    const r = (await handler(event, context)) as NewsIngestReport;
    expect(secretRequests.length).toBe(reads + 1);
    expect(r.added).toBe(expectedRows(from, to).length);
    expect(await lakeRows(from, to)).toEqual(expectedRows(from, to));
  });

  it('a bad event is refused naming the field', async () => {
    await expect(handler({ lookbackHours: 0 }, context)).rejects.toThrow(/lookbackHours/);
  });
});
