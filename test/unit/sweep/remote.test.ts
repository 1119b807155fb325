/**
 * `quant backtest sweep --remote` against a stand-in for the Step Functions API (the service cannot
 * run here): a loopback HTTP server that speaks its JSON protocol, so the real @aws-sdk/client-sfn
 * client, its serializers and the polling logic are exercised end to end.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main';
import { InputError } from '../../../src/errors';
import { startRemoteSweep } from '../../../src/sweep/state-machine';

interface Call {
  readonly op: string;
  readonly body: Record<string, unknown>;
}

const ARN = 'arn:aws:states:us-east-1:111122223333:stateMachine:SweepStateMachineA1B2';
const EXEC = 'arn:aws:states:us-east-1:111122223333:execution:SweepStateMachineA1B2:run-1';
let calls: Call[] = [];
/** Statuses DescribeExecution returns, one per call (the last repeats). */
let statuses: { status: string; output?: string; error?: string; cause?: string }[] = [];
/** State machines listed, two per page. */
let machines: string[] = [];

const server = http.createServer((req, res) => {
  let raw = '';
  req.on('data', (c) => (raw += c));
  req.on('end', () => {
    const op = String(req.headers['x-amz-target']).replace('AWSStepFunctions.', '');
    const body = JSON.parse(raw || '{}') as Record<string, unknown>;
    calls.push({ op, body });
    let out: unknown;
    if (op === 'ListStateMachines') {
      const start = Number(body.nextToken ?? 0);
      const page = machines.slice(start, start + 2);
      out = {
        stateMachines: page.map((name) => ({
          name,
          stateMachineArn: name === 'SweepStateMachineA1B2' ? ARN : `${ARN}-${name}`,
          type: 'STANDARD',
          creationDate: 1_764_460_800,
        })),
        ...(start + 2 < machines.length ? { nextToken: String(start + 2) } : {}),
      };
    } else if (op === 'StartExecution') {
      out = { executionArn: EXEC, startDate: 1_764_460_800 };
    } else if (op === 'DescribeExecution') {
      const s = statuses.length > 1 ? statuses.shift()! : statuses[0];
      out = { executionArn: EXEC, stateMachineArn: ARN, startDate: 1_764_460_800, ...s };
    } else {
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ __type: 'UnknownOperationException', message: op }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
    res.end(JSON.stringify(out));
  });
});

let endpoint = '';
let sfn: SFNClient;
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  sfn = new SFNClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' },
  });
});
afterAll(async () => {
  sfn?.destroy();
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  calls = [];
  machines = ['OtherMachine', 'TrainingStateMachine', 'SweepStateMachineA1B2'];
  statuses = [{ status: 'RUNNING' }, { status: 'RUNNING' }, { status: 'SUCCEEDED', output: '{}' }];
});

const request = {
  strategy: 'sma-cross',
  bars: 'lake:SPX',
  grid: ['fast=2:10', 'slow=20:50:10'],
  where: 'fast<slow',
  costBps: 1,
  topN: 5,
};

describe('startRemoteSweep', () => {
  it('finds the state machine by name across pages, starts it with the request and polls to the end', async () => {
    const ranking = { ranking: { top: [{ param_set_id: 'abc', sharpe: 1.2 }] } };
    statuses[2] = { status: 'SUCCEEDED', output: JSON.stringify(ranking) };
    const seen: string[] = [];
    const r = await startRemoteSweep({ sfn, request, pollMs: 1, onStatus: (s) => seen.push(s) });
    expect(r).toEqual({ executionArn: EXEC, output: ranking });
    expect(seen).toEqual(['RUNNING', 'RUNNING', 'SUCCEEDED']);
    expect(calls.map((c) => c.op)).toEqual([
      'ListStateMachines',
      'ListStateMachines',
      'StartExecution',
      'DescribeExecution',
      'DescribeExecution',
      'DescribeExecution',
    ]);
    const start = calls[2].body;
    expect(start.stateMachineArn).toBe(ARN);
    expect(JSON.parse(String(start.input))).toEqual(request);
  });

  it('uses a given ARN without listing', async () => {
    statuses = [{ status: 'SUCCEEDED', output: '{"ok":true}' }];
    const r = await startRemoteSweep({ sfn, request, stateMachineArn: ARN, pollMs: 1 });
    expect(r.output).toEqual({ ok: true });
    expect(calls.map((c) => c.op)).toEqual(['StartExecution', 'DescribeExecution']);
  });

  it('fails with the execution status, error and cause when the execution does not succeed', async () => {
    statuses = [
      { status: 'RUNNING' },
      { status: 'FAILED', error: 'States.ExceedToleratedFailureThreshold', cause: '3 of 10 batches failed' },
    ];
    await expect(startRemoteSweep({ sfn, request, stateMachineArn: ARN, pollMs: 1 })).rejects.toThrow(
      `sweep execution ${EXEC} ended FAILED: States.ExceedToleratedFailureThreshold 3 of 10 batches failed`,
    );
  });

  it('asks for --state-machine-arn when no or several state machines match', async () => {
    for (const list of [['OtherMachine'], ['SweepStateMachineA', 'SweepStateMachineB']]) {
      machines = list;
      const e = await startRemoteSweep({ sfn, request, pollMs: 1 }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).field).toBe('stateMachineArn');
      expect((e as Error).message).toMatch(
        new RegExp(`found ${list.filter((n) => n.startsWith('SweepStateMachine')).length} named`),
      );
    }
    expect(calls.some((c) => c.op === 'StartExecution')).toBe(false);
  });

  it('rejects a request the deployed sweep cannot run before calling AWS, naming the field', async () => {
    const cases: [Omit<typeof request, 'where'> & { where?: string }, string][] = [
      [{ ...request, bars: '/tmp/local.csv' }, 'bars'],
      [{ ...request, strategy: 'nope' }, 'strategy'],
      [{ ...request, grid: ['fast=2:30', 'slow=20:50:10'], where: undefined }, 'fast'],
    ];
    for (const [bad, field] of cases) {
      const e = await startRemoteSweep({ sfn, request: bad, stateMachineArn: ARN, pollMs: 1 }).catch(
        (x: unknown) => x,
      );
      expect(e, JSON.stringify(bad)).toBeInstanceOf(InputError);
      expect((e as InputError).field ?? '', JSON.stringify(bad)).toContain(field);
    }
    expect(calls).toEqual([]);
  });
});

describe('quant backtest sweep --remote', () => {
  let out = '';
  beforeEach(() => {
    out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    vi.stubEnv('AWS_ENDPOINT_URL_SFN', endpoint);
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'not-a-secret');
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it('starts the deployed state machine and prints its output as JSON', async () => {
    const output = {
      ranking: { top: [{ param_set_id: 'abc', params: '{"fast":5,"slow":40}', sharpe: 0.9 }] },
    };
    statuses = [{ status: 'SUCCEEDED', output: JSON.stringify(output) }];
    const code = await main([
      'node',
      'quant',
      'backtest',
      'sweep',
      '--strategy',
      'sma-cross',
      '--bars',
      'lake:SPX',
      '--grid',
      'fast=2:10',
      '--grid',
      'slow=20:50:10',
      '--where',
      'fast<slow',
      '--remote',
      '--state-machine-arn',
      ARN,
      '--json',
    ]);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({ executionArn: EXEC, output });
    const start = calls.find((c) => c.op === 'StartExecution')!;
    expect(JSON.parse(String(start.body.input))).toMatchObject({
      strategy: 'sma-cross',
      bars: 'lake:SPX',
      grid: ['fast=2:10', 'slow=20:50:10'],
      where: 'fast<slow',
    });
  });
});
