/**
 * `quant train`, `quant model list|show|approve|rollback` and `quant strategy promote|show` through
 * the real CLI entry point: bad input exits 2 naming the field, a missing Python says exactly what
 * is missing and how to get it, `--remote` calls StartExecution (against a stub endpoint), and the
 * registry commands work on the local cloud with their audit events.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClients, type AwsClients } from '../../../src/aws/clients';
import { LOCAL_BUCKETS } from '../../../src/local/buckets';
import { LocalCloud } from '../../../src/local/cloud';
import { S3ModelRegistry } from '../../../src/ml/registry/s3-registry';
import { checkPython } from '../../../src/ml/workflow/python';
import { startRemoteTraining } from '../../../src/ml/workflow/remote';
import type { AuditEvent } from '../../../src/trading/audit';
import { runQuant } from '../../helpers/quant-cli';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ml-cli-'));
const dataDir = path.join(dir, 'data');
let clients: AwsClients;
const saved = { ...process.env };

beforeAll(async () => {
  // Detached, so the CLI commands attach to the same servers.
  const cloud = await LocalCloud.up({ dataDir });
  clients = createClients(cloud.runtime);
}, 60_000);
afterAll(async () => {
  clients?.destroy();
  await LocalCloud.down({ dataDir });
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  for (const k of ['QUANT_PYTHON', 'TRAINING_STATE_MACHINE_ARN']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

const quant = (...args: string[]) => runQuant(['--data-dir', dataDir, ...args]);

describe('quant train: bad input exits 2 naming the option', () => {
  it.each([
    [['train', '--json'], /give exactly one of --local and --remote/],
    [['train', '--local', '--remote'], /give exactly one of --local and --remote/],
    [['train', '--local', '--model', 'cnn'], /--model: "cnn" is not one of mlp, seq/],
    [['train', '--local', '--accelerator', 'gpu'], /--accelerator: "gpu": only cpu runs locally/],
    [['train', '--local', '--bars', 'lake:'], /--bars: "lake:" names no symbols/],
    [['train', '--local', '--bars', 'lake:S P'], /--bars: "S P" is not a valid symbol/],
    [['train', '--local', '--epochs', '0'], /--epochs: must be a whole number >= 1/],
    [['train', '--remote', '--state-machine', 'nope'], /--state-machine: "nope" is not a state machine ARN/],
    [['train', '--remote', '--bars', 'lake:SPX'], /--bars: --remote trains on the stage's universe/],
    [['train', '--local', '--from', '2020-02-30'], /--from: "2020-02-30" is not a date yyyy-mm-dd/],
    [['train', '--local', '--from', '2021-01-01', '--to', '2020-01-01'], /--from: 2021-01-01 is after --to/],
    [['train', '--local', '--features', 'ret_1,ret_2'], /--features: "ret_2" is not a feature/],
  ])('%j', async (args, message) => {
    const r = await quant(...args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('--remote without a state machine names the variable to set', async () => {
    delete process.env.TRAINING_STATE_MACHINE_ARN;
    const r = await quant('train', '--remote', '--json');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/set TRAINING_STATE_MACHINE_ARN \(the training stack's output\)/);
  });
});

describe('quant train --local without Python or PyTorch', () => {
  it('a Python that does not exist: exit 2, what is missing and the apt-get line', async () => {
    process.env.QUANT_PYTHON = path.join(dir, 'no-such-python3');
    const r = await quant('train', '--local', '--json');
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toBe(
      `error: local training needs Python 3 with torch, onnx, pandas and numpy: ${process.env.QUANT_PYTHON} not found. Install them with: apt-get install python3 python3-torch python3-onnx python3-pandas (or set QUANT_PYTHON to a Python that has them)\n`,
    );
    expect(existsSync(path.join(dataDir, 'ml'))).toBe(false); // nothing half-written
  });

  it('a Python without the packages: names them and their Debian packages', async () => {
    // The system Python without its site packages (-S): it runs, but has none of the modules.
    const bare = path.join(dir, 'bare-python3');
    writeFileSync(bare, '#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n', { mode: 0o755 });
    process.env.QUANT_PYTHON = bare;
    const check = await checkPython();
    expect(check).toMatchObject({ ok: false, missing: ['torch', 'onnx', 'pandas', 'numpy'] });
    const r = await quant('train', '--local');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /^error: local training needs the Python modules torch, onnx, pandas, numpy, which .*bare-python3 \(Python 3\.[\d.]+\) does not have\. Install them with: apt-get install python3-torch python3-onnx python3-pandas python3-numpy \(all of them: apt-get install python3-torch python3-onnx python3-pandas\)\n$/,
    );
  });
});

describe('quant train --remote (StartExecution against a stub endpoint)', () => {
  it('starts the state machine with the model, symbols and hyperparameters', async () => {
    const seen: Array<{ headers: IncomingHttpHeaders; body: Record<string, unknown> }> = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        seen.push({ headers: req.headers, body: JSON.parse(body) });
        res.setHeader('content-type', 'application/x-amz-json-1.0');
        res.end(
          JSON.stringify({
            executionArn: 'arn:aws:states:us-east-1:123456789012:execution:train:x',
            startDate: 1.7e9,
          }),
        );
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const sfn = new SFNClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });
    try {
      const arn = 'arn:aws:states:us-east-1:123456789012:stateMachine:train';
      const r = await startRemoteTraining(
        sfn,
        arn,
        { requestedBy: 'cli:t', hyperparameters: { model: 'seq', epochs: 3, data_from: '2015-01-02' } },
        new Date('2026-12-07T00:00:00Z'),
      );
      expect(r.executionArn).toBe('arn:aws:states:us-east-1:123456789012:execution:train:x');
      expect(seen[0].headers['x-amz-target']).toBe('AWSStepFunctions.StartExecution');
      expect(seen[0].body.stateMachineArn).toBe(arn);
      expect(seen[0].body.name).toMatch(/^cli-20261207T000000-[0-9a-f]+$/);
      // SageMaker takes hyperparameters as strings only.
      expect(JSON.parse(seen[0].body.input as string)).toEqual({
        requestedBy: 'cli:t',
        hyperparameters: { model: 'seq', epochs: '3', data_from: '2015-01-02' },
      });
    } finally {
      sfn.destroy();
      server.close();
    }
  });
});

async function audit(type: string): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  const list = await clients.s3.send(
    new ListObjectsV2Command({ Bucket: LOCAL_BUCKETS.audit, Prefix: 'audit_events/' }),
  );
  for (const o of list.Contents ?? []) {
    const r = await clients.s3.send(new GetObjectCommand({ Bucket: LOCAL_BUCKETS.audit, Key: o.Key! }));
    for (const l of (await r.Body!.transformToString()).split('\n').filter(Boolean)) out.push(JSON.parse(l));
  }
  return out.filter((e) => e.type === type).sort((a, b) => a.time.localeCompare(b.time));
}

describe('quant model and quant strategy on the local cloud', () => {
  it('list, show, approve, rollback, with audit events; bad references exit 2', async () => {
    const registry = new S3ModelRegistry(clients.s3, LOCAL_BUCKETS.models);
    const enc = (s: string) => new TextEncoder().encode(s);
    for (const tag of ['1', '2'])
      await registry.register({
        modelName: 'ml-signal',
        files: {
          'model.onnx': enc(`m${tag}`),
          'manifest.json': enc(
            JSON.stringify({
              features: ['ret_1'],
              architecture: 'mlp',
              target: 'return',
              horizon: 5,
              window: 1,
            }),
          ),
          'evaluation.json': enc('{"ic":0.1}'),
        },
        metrics: { test_ic: 0.02 },
        actor: 'test',
      });
    const list = await quant('model', 'list', '--json');
    expect(list.code, list.err).toBe(0);
    expect(
      JSON.parse(list.out).versions.map((v: { version: number; status: string }) => [v.version, v.status]),
    ).toEqual([
      [2, 'PendingManualApproval'],
      [1, 'PendingManualApproval'],
    ]);
    const show = await quant('model', 'show', 'ml-signal@2', '--json');
    expect(show.code, show.err).toBe(0);
    expect(JSON.parse(show.out)).toMatchObject({
      version: 2,
      manifest: { features: ['ret_1'] },
      evaluation: { ic: 0.1 },
    });

    expect((await quant('model', 'approve', 'ml-signal@1', '--env', 'paper')).out).toBe(
      'ml-signal@1 approved for paper\n',
    );
    expect((await quant('model', 'approve', 'ml-signal@2', '--env', 'paper')).out).toBe(
      'ml-signal@2 approved for paper (was 1)\n',
    );
    const promoted = await quant(
      'strategy',
      'promote',
      '--strategy',
      'sma-cross',
      '--param',
      'fast=5',
      '--param',
      'slow=20',
      '--env',
      'staging',
      '--json',
    );
    expect(promoted.code, promoted.err).toBe(0);
    expect(JSON.parse(promoted.out).promotion).toMatchObject({
      env: 'staging',
      strategy: 'sma-cross',
      params: { fast: 5, slow: 20 },
    });
    const shown = await quant('strategy', 'show', '--env', 'staging', '--json');
    expect(JSON.parse(shown.out)[0].promotion.strategy).toBe('sma-cross');

    const rb = await quant('model', 'rollback', '--env', 'paper', '--json');
    expect(rb.code, rb.err).toBe(0);
    expect(JSON.parse(rb.out)).toEqual({ modelName: 'ml-signal', env: 'paper', from: 2, to: 1 });
    const again = await quant('model', 'rollback', '--env', 'paper');
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/no earlier approved version for paper to roll back to \(current 1\)/);

    const events = await audit('model');
    expect(events.map((e) => [e.detail.action, e.detail.version ?? e.detail.to, e.account])).toEqual([
      ['approve', 1, 'paper'],
      ['approve', 2, 'paper'],
      ['rollback', 1, 'paper'],
    ]);
    expect((await audit('promotion'))[0]).toMatchObject({ account: 'staging', strategy: 'sma-cross' });

    for (const [args, msg] of [
      [
        ['model', 'approve', 'ml-signal@9', '--env', 'paper'],
        /ml-signal@9 is not registered \(versions: 1, 2\)/,
      ],
      [
        ['model', 'approve', 'ml-signal@1', '--env', 'live'],
        /--env: "live" is not one of paper, staging, prod/,
      ],
      [['model', 'approve', 'ml-signal@1'], /--env: required/],
      [['model', 'show', 'ml-signal@x'], /model: "ml-signal@x" needs a version/],
      [
        ['strategy', 'promote', '--strategy', 'ml-signal', '--env', 'paper'],
        /--model: strategy ml-signal trades a model/,
      ],
      [
        ['strategy', 'promote', '--strategy', 'sma-cross', '--param', 'fast', '--env', 'paper'],
        /param: expected name=value/,
      ],
    ] as const) {
      const r = await quant(...args);
      expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(2);
      expect(r.err).toMatch(msg);
    }
  });
});
