import { GetObjectCommand } from '@aws-sdk/client-s3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients, type AwsClients } from '../../../src/aws/clients';
import { InputError } from '../../../src/errors';
import { createQueryEngine, lakeBuckets, type QueryEngine } from '../../../src/lake';
import { LocalCloud } from '../../../src/local/cloud';
import { loadSynthesizedDefinition } from '../../../src/local/definitions';
import { StatesError } from '../../../src/local/stepfunctions';
import { runEcsTaskLocally, runSweepStateMachineLocally } from '../../../src/sweep/state-machine';

let cloud: LocalCloud;
let clients: AwsClients;
let engine: QueryEngine;
let dir: string;
let barsFile: string;
let definition: object;

function writeBarsCsv(file: string, n: number): void {
  let s = 42;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  const lines = ['date,open,high,low,close,volume'];
  let p = 50;
  for (let i = 0; i < n; i++) {
    p *= Math.exp(0.0002 + 0.015 * Math.sqrt(-2 * Math.log(rand())) * Math.cos(2 * Math.PI * rand()));
    lines.push(
      `${new Date(Date.UTC(2019, 0, 1) + i * 86_400_000).toISOString().slice(0, 10)},${p},${p},${p},${p},500`,
    );
  }
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-sfn-'));
  cloud = await LocalCloud.start({ dataDir: path.join(dir, 'cloud') });
  clients = createClients(cloud.runtime);
  engine = await createQueryEngine(cloud.runtime);
  barsFile = path.join(dir, 'SYN.csv');
  writeBarsCsv(barsFile, 300);
  // The definition `cdk synth` produces for BacktestStack (dev), through the same loader the demo uses.
  definition = await loadSynthesizedDefinition({ env: 'dev', stack: 'Backtest' });
});

afterAll(async () => {
  await engine?.close();
  clients?.destroy();
  await cloud?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

// fast 2..6 x slow 20,30,40,50: 20 parameter sets.
const request = () => ({
  strategy: 'sma-cross',
  bars: barsFile,
  grid: ['fast=2:6', 'slow=20:50:10'],
  costBps: 1,
  topN: 10,
});

describe('the synthesized sweep state machine, locally', () => {
  it('is the CDK definition with a Distributed Map over an S3 manifest', () => {
    const states = (
      definition as {
        States: Record<string, { Type: string; ItemProcessor?: { ProcessorConfig?: { Mode: string } } }>;
      }
    ).States;
    expect(states['Run batches'].ItemProcessor?.ProcessorConfig?.Mode).toBe('DISTRIBUTED');
  });

  it('runs a 20-item grid through the Distributed Map (ECS tasks as child processes) into backtest_results', async () => {
    const r = await runSweepStateMachineLocally({
      runtime: cloud.runtime,
      clients,
      definition,
      request: request(),
      maxItemsPerBatch: 6,
      maxConcurrency: 2,
    });
    expect(r.manifest).toMatchObject({ items: 20, skipped: 0 });
    expect(r.batches).toEqual({ total: 4, failed: 0, errors: [] });

    const rows = await engine.query(
      `SELECT param_set_id, sharpe FROM backtest_results WHERE sweep_id = '${r.sweepId}'`,
    );
    expect(rows).toHaveLength(20);
    expect(new Set(rows.map((x) => x.param_set_id)).size).toBe(20);

    // Aggregate (same SQL as Athena, through DuckDB) -> ranked top-N object in the results zone.
    expect(r.top).toHaveLength(10);
    const sharpes = r.top.map((x) => x.sharpe as number);
    expect([...sharpes].sort((a, b) => b - a)).toEqual(sharpes);
    expect(sharpes[0]).toBe(Math.max(...rows.map((x) => x.sharpe as number)));
    const obj = await clients.s3.send(
      new GetObjectCommand({ Bucket: lakeBuckets(cloud.runtime).results, Key: r.ranking.key }),
    );
    const stored = JSON.parse(await obj.Body!.transformToString()) as {
      sweepId: string;
      ranked: { param_set_id: string }[];
    };
    expect(stored.sweepId).toBe(r.sweepId);
    expect(stored.ranked.map((x) => x.param_set_id)).toEqual(r.top.map((x) => x.param_set_id));

    // SNS notification with the best parameter sets.
    expect(r.notifications).toHaveLength(1);
    expect(r.notifications[0].message).toMatchObject({
      sweepId: r.sweepId,
      strategy: 'sma-cross',
      parameterSets: 20,
    });
    expect((r.notifications[0].message as { best: unknown[] }).best).toHaveLength(5);
  });

  it('resumes: a second execution finds every parameter set done and runs no batch', async () => {
    const r = await runSweepStateMachineLocally({
      runtime: cloud.runtime,
      clients,
      definition,
      request: request(),
      maxItemsPerBatch: 6,
      maxConcurrency: 2,
    });
    expect(r.manifest).toMatchObject({ items: 0, skipped: 20 });
    expect(r.batches.total).toBe(0);
    const n = await engine.query(
      `SELECT count(*) AS n FROM backtest_results WHERE sweep_id = '${r.sweepId}'`,
    );
    expect(Number(n[0].n)).toBe(20);
    expect(r.top).toHaveLength(10);
  });

  it('fails the execution in the validate step with a clear error for a grid above the cap', async () => {
    const err = await runSweepStateMachineLocally({
      runtime: cloud.runtime,
      clients,
      definition,
      request: { ...request(), grid: ['fast=2:100', 'slow=2:100'], where: 'fast<slow' },
      maxGridSize: 1000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/more than 1000 parameter sets pass the --where filter/);
  });

  it('reports a batch task that exits non-zero as States.TaskFailed with its error', async () => {
    const input = {
      Overrides: {
        ContainerOverrides: [
          {
            Name: 'backtest',
            Environment: [
              { Name: 'SWEEP_ID', Value: 'sw-bad' },
              { Name: 'STRATEGY', Value: 'sma-cross' },
              { Name: 'BARS', Value: barsFile },
              { Name: 'BATCH_ITEMS', Value: '[{"id":"nothex","params":{"fast":2,"slow":3}}' },
            ],
          },
        ],
      },
    };
    const err = await runEcsTaskLocally(cloud.runtime, input).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StatesError);
    expect((err as Error).name).toBe('States.TaskFailed');
    // The task's own error, not the warnings Node or the SDK print beside it.
    expect((err as Error).message).toMatch(/^backtest task exited with code 2: BATCH_ITEMS: not valid JSON/);
    expect((err as Error).message).not.toContain('|');
  });
});
