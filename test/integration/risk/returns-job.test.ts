/**
 * The scheduled returns-window job (lambda/risk-returns, pure JS) against the local cloud: it
 * publishes the same window as `quant risk returns` (DuckDB) from the same lake bars, and refuses
 * bad input naming the field, writing nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients, type AwsClients } from '../../../src/aws/clients';
import { LOCAL_BUCKETS } from '../../../src/local/buckets';
import { LocalCloud } from '../../../src/local/cloud';
import { publishReturnsFromLake } from '../../../src/risk/returns-job';
import { S3ReturnsSource } from '../../../src/risk/returns-source';
import { localLambdaEnv } from '../../../src/trading/lambda-support';
import { runQuant } from '../../helpers/quant-cli';

const dir = mkdtempSync(path.join(os.tmpdir(), 'risk-returns-job-'));
let clients: AwsClients;
type Handler = (event: unknown, context: Context) => Promise<Record<string, unknown>>;
let handler: Handler;
const context = { functionName: 'risk-returns', awsRequestId: 'r' } as unknown as Context;
const quant = (...args: string[]) => runQuant(['--data-dir', dir, ...args]);

async function object(key: string): Promise<string> {
  const r = await clients.s3.send(new GetObjectCommand({ Bucket: LOCAL_BUCKETS.curated, Key: key }));
  return r.Body!.transformToString();
}

beforeAll(async () => {
  // Detached, so the CLI commands attach to the same servers as the handler.
  const cloud = await LocalCloud.up({ dataDir: dir });
  const rt = cloud.runtime;
  if (rt.mode !== 'local') throw new Error('expected a local runtime');
  Object.assign(process.env, localLambdaEnv(rt), {
    POWERTOOLS_DEV: 'true',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  clients = createClients(rt);
  handler = (await import('../../../lambda/risk-returns/index')).handler as unknown as Handler;
  // 30 business days of three symbols; CCC misses two days (the window uses common dates only).
  const days: string[] = [];
  for (let t = Date.UTC(2024, 0, 2); days.length < 30; t += 86_400_000) {
    const wd = new Date(t).getUTCDay();
    if (wd !== 0 && wd !== 6) days.push(new Date(t).toISOString().slice(0, 10));
  }
  const series: Record<string, (i: number) => number> = {
    AAA: (i) => 100 * Math.exp(0.01 * Math.sin(i)),
    BBB: (i) => 50 + (i % 7) - 0.3 * i,
    CCC: (i) => 20 * (1 + 0.002 * i * (i % 3 === 0 ? -1 : 1)),
  };
  for (const [sym, f] of Object.entries(series)) {
    const rows = days
      .map((d, i) => [d, f(i)] as const)
      .filter(([d]) => sym !== 'CCC' || (d !== days[20] && d !== days[25]));
    const file = path.join(dir, `${sym}.csv`);
    writeFileSync(
      file,
      ['date,open,high,low,close,volume', ...rows.map(([d, c]) => `${d},${c},${c},${c},${c},1000`)].join(
        '\n',
      ),
    );
    const r = await quant('lake', 'import', '--table', 'bars', '--file', file, '--symbol', sym);
    expect(r.code, r.err).toBe(0);
  }
}, 120_000);

afterAll(async () => {
  clients?.destroy();
  await LocalCloud.down({ dataDir: dir });
  rmSync(dir, { recursive: true, force: true });
});

describe('risk-returns job (scheduled Lambda, no DuckDB)', () => {
  it('publishes the same window as quant risk returns from the same lake bars', async () => {
    const cli = await quant(
      'risk',
      'returns',
      '--account',
      'cli',
      '--symbols',
      'AAA,BBB,CCC',
      '--days',
      '20',
      '--json',
    );
    expect(cli.code, cli.err).toBe(0);
    const r = await handler({ account: 'job', symbols: ['AAA', 'BBB', 'CCC'], days: 20 }, context);
    expect(r).toEqual({ ...JSON.parse(cli.out), key: 'risk/returns/job.json' });
    expect(r).toMatchObject({ returns: 20, symbols: ['AAA', 'BBB', 'CCC'] });
    expect(await object('risk/returns/job.json')).toBe(await object('risk/returns/cli.json'));
    // ... and the execution path reads it
    const got = await new S3ReturnsSource(clients.s3, LOCAL_BUCKETS.curated).get('job');
    expect(got.problem).toBeUndefined();
    expect(got.window!.get('CCC')).toHaveLength(20);
  });

  it('a window longer than the common history takes what there is (as the CLI does)', async () => {
    const r = await publishReturnsFromLake(clients.s3, LOCAL_BUCKETS.curated, {
      account: 'long',
      symbols: ['AAA', 'CCC'],
      days: 5000,
    });
    expect(r.returns).toBe(27); // 28 common dates → 27 returns
  });

  it('bad input and missing bars name the field; nothing is written', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [
        { account: 'bad', symbols: ['AAA', 'NOPE'], days: 5 },
        /symbols: no daily bars for NOPE in s3:\/\/quant-curated\/bars\/interval=1d\/symbol=NOPE\//,
      ],
      [
        { account: 'bad', symbols: ['AAA'], days: 1 },
        /returns job: days: must be a whole number from 2 to 5000/,
      ],
      [{ account: 'a/b', symbols: ['AAA'], days: 5 }, /returns job: account: must be 1-128/],
      [{ account: 'bad', symbols: [], days: 5 }, /symbols: needs at least one symbol/],
      [{ account: 'bad', symbols: ['AAA', 'AAA'], days: 5 }, /symbols: a symbol is given twice/],
      [{ account: 'bad', symbols: ['AAA'], days: 5, extra: 1 }, /returns job: .*extra/],
    ];
    for (const [event, message] of cases) await expect(handler(event, context)).rejects.toThrow(message);
    const got = await new S3ReturnsSource(clients.s3, LOCAL_BUCKETS.curated).get('bad');
    expect(got.problem).toMatch(/object not found/);
  });
});
