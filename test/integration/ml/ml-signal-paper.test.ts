/** `ml-signal` in paper trading: orders through the execution path; a bad model stops before any order. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients, type AwsClients } from '../../../src/aws/clients';
import { LocalCloud } from '../../../src/local/cloud';
import { tradingServices, type TradingServices } from '../../../src/trading/context';
import { runPaper } from '../../../src/trading/paper';
import { sp500Panel } from '../../helpers/ml-bars';
import { CLOSE_FEATURES, writeModelDir } from '../../helpers/ml-models';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ml-paper-'));
let cloud: LocalCloud;
let clients: AwsClients;
let svc: TradingServices;

beforeAll(async () => {
  cloud = await LocalCloud.start({ dataDir: path.join(dir, 'cloud') });
  clients = createClients(cloud.runtime);
  svc = await tradingServices(clients, {}, { limitsTtlMs: 0 });
});
afterAll(async () => {
  clients?.destroy();
  await cloud?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('quant paper with ml-signal', () => {
  const spx = sp500Panel();
  const panel = {
    ...spx,
    dates: spx.dates.slice(-300),
    close: [spx.close[0].slice(-300)],
    volume: [spx.volume![0].slice(-300)],
  };

  it('trades the model through risk and the paper broker', async () => {
    const model = writeModelDir(path.join(dir, 'good'), { features: CLOSE_FEATURES, seed: 3 });
    const r = await runPaper(clients, svc, {
      strategy: 'ml-signal',
      params: { model: model.dir, short: false },
      panel,
      nav: 1_000_000,
      costBps: 1,
      lastBars: 120,
      runId: 'ml-good',
    });
    expect(r.signals).toBeGreaterThan(0);
    expect(r.blotter.length).toBeGreaterThan(0);
    expect(r.blotter.every((o) => o.status === 'FILLED')).toBe(true);
  });

  it('a corrupt model is an InputError and no order is sent', async () => {
    const bad = writeModelDir(path.join(dir, 'bad'), { onnx: new Uint8Array([8, 1, 18, 3, 1, 2]) });
    await expect(
      runPaper(clients, svc, {
        strategy: 'ml-signal',
        params: { model: bad.dir },
        panel,
        nav: 1_000_000,
        lastBars: 120,
        runId: 'ml-bad',
      }),
    ).rejects.toThrow(/param\.model: not a valid ONNX model/);
    const all = await clients.doc.send(new ScanCommand({ TableName: svc.tables.orders }));
    // The good run's orders are there (the scan sees orders); none for the failed run.
    expect((all.Items ?? []).some((o) => o.account === 'paper-ml-good')).toBe(true);
    expect((all.Items ?? []).filter((o) => o.account === 'paper-ml-bad')).toHaveLength(0);
  });
});
