/**
 * The sweep state machine, locally: the definition `cdk synth` produces for BacktestStack, run by
 * the generic local runner with each Task state bound to the same code AWS runs:
 *   Validate request / Write manifest / Publish ranking -> the Lambda handlers' functions
 *   Run backtest batch (ecs:runTask.sync) -> ecs-tasks/backtest/main.ts (built) as a child process
 *   Aggregate results (athena .sync)      -> the same SQL through DuckDB (the local QueryEngine)
 *   Notify (sns:publish)                  -> recorded and returned
 * and the Distributed Map's manifest read from the local S3 server.
 *
 * `--remote` (AWS) starts the deployed state machine instead: startRemoteSweep below.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  ListStateMachinesCommand,
  StartExecutionCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { createClients, type AwsClients, type Runtime } from '../aws/clients';
import { entryPoint } from '../entry-points';
import { packageRoot } from '../package-root';
import { InputError } from '../errors';
import { createQueryEngine, lakeBuckets } from '../lake';
import type { Row } from '../lake/query';
import { loadSynthesizedDefinition } from '../local/definitions';
import {
  runLocalStateMachine,
  StatesError,
  type Json,
  type LocalTaskHandler,
  type TaskInfo,
} from '../local/stepfunctions';
import { DEFAULT_MAX_GRID_SIZE } from './grid';
import { validateSweepRequest, type SweepRequest } from './request';
import { publishRanking, writeSweepManifest, type ManifestResult, type RankingResult } from './service';
import { localTaskEnv } from './task';
import { BACKTEST_CONTAINER_NAME, SWEEP_STATES } from '../contract/sweep';

interface EcsRunTaskInput {
  Overrides?: { ContainerOverrides?: { Name?: string; Environment?: { Name: string; Value: string }[] }[] };
}

/** Runs the ECS task's entry point as a child process with the container override's environment. */
export function runEcsTaskLocally(
  runtime: Extract<Runtime, { mode: 'local' }>,
  input: EcsRunTaskInput,
  opts: { readonly onLog?: (line: string) => void } = {},
): Promise<Json> {
  const env: Record<string, string> = {};
  for (const o of input.Overrides?.ContainerOverrides ?? [])
    for (const e of o.Environment ?? []) env[e.Name] = e.Value;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entryPoint('backtest-task')], {
      cwd: packageRoot(),
      env: { PATH: process.env.PATH ?? '', TMPDIR: os.tmpdir(), ...localTaskEnv(runtime), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => opts.onLog?.(d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      opts.onLog?.(d.toString());
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) {
        resolve({
          Tasks: [
            {
              LastStatus: 'STOPPED',
              StopCode: 'EssentialContainerExited',
              Containers: [{ Name: BACKTEST_CONTAINER_NAME, ExitCode: 0 }],
            },
          ],
        });
      } else {
        // Like Step Functions for a .sync task whose essential container exits non-zero.
        reject(
          new StatesError('States.TaskFailed', `backtest task exited with code ${code}: ${whyOf(stderr)}`),
        );
      }
    });
  });
}

/**
 * Why a task failed: the message of its last logged error (the task logs JSON lines), else its last
 * lines of stderr. Runtime warnings printed beside it (the SDK's Node version notice) are not the cause.
 */
function whyOf(stderr: string): string {
  const lines = stderr.trim().split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const l = JSON.parse(lines[i]) as { level?: unknown; message?: unknown };
      if (l.level === 'ERROR' && typeof l.message === 'string') return l.message;
    } catch {
      // not a log line
    }
  }
  return lines.slice(-3).join(' | ');
}

export interface LocalStateMachineSweepOptions {
  readonly runtime: Extract<Runtime, { mode: 'local' }>;
  readonly request: SweepRequest;
  /** @default created from the runtime */
  readonly clients?: AwsClients;
  /** The definition; @default synthesized from lib/ (BacktestStack of `env`) */
  readonly definition?: object;
  /** @default 'dev' */
  readonly env?: string;
  /** Grid cap of the validate step. @default DEFAULT_MAX_GRID_SIZE */
  readonly maxGridSize?: number;
  /** @default 10 */
  readonly topN?: number;
  /** Concurrent batch tasks (child processes). @default os.availableParallelism() */
  readonly maxConcurrency?: number;
  /** Parameter sets per batch, below the definition's. @default the definition's */
  readonly maxItemsPerBatch?: number;
  readonly onEvent?: (event: { type: string; state?: { name: string } }) => void;
}

export interface LocalStateMachineSweepResult {
  readonly output: Json;
  readonly sweepId: string;
  readonly manifest: ManifestResult;
  readonly ranking: RankingResult;
  /** The ranked rows (top-N) the aggregate step produced. */
  readonly top: Row[];
  readonly notifications: Array<{ subject?: string; message: unknown }>;
  readonly batches: {
    readonly total: number;
    readonly failed: number;
    readonly errors: ReadonlyArray<{ Error: string; Cause: string }>;
  };
}

/** Runs a sweep through the synthesized sweep state machine on the local cloud. */
export async function runSweepStateMachineLocally(
  opts: LocalStateMachineSweepOptions,
): Promise<LocalStateMachineSweepResult> {
  const runtime = opts.runtime;
  const clients = opts.clients ?? createClients(runtime);
  const buckets = lakeBuckets(runtime);
  const target = { clients, buckets };
  const definition =
    opts.definition ?? (await loadSynthesizedDefinition({ env: opts.env ?? 'dev', stack: 'Backtest' }));
  const queries = new Map<string, Row[]>();
  const notifications: Array<{ subject?: string; message: unknown }> = [];
  let manifest: ManifestResult | undefined;
  let ranking: RankingResult | undefined;
  const limits = { maxGridSize: opts.maxGridSize ?? DEFAULT_MAX_GRID_SIZE, allowFileBars: true };

  const bindings: Record<string, LocalTaskHandler> = {
    [SWEEP_STATES.validate]: (input) => {
      try {
        return validateSweepRequest(input, { ...limits, defaultTopN: opts.topN ?? 10 })
          .sweep as unknown as Json;
      } catch (err) {
        // A Lambda's error name becomes the States error: the definition catches `InputError`.
        if (err instanceof InputError) throw new StatesError('InputError', err.message);
        throw err;
      }
    },
    [SWEEP_STATES.manifest]: async (input) => {
      manifest = await writeSweepManifest(target, input, limits);
      return manifest as unknown as Json;
    },
    [SWEEP_STATES.runTask]: (input) => runEcsTaskLocally(runtime, input as EcsRunTaskInput),
    [SWEEP_STATES.aggregate]: async (input) => {
      const sql = (input as { QueryString?: string }).QueryString;
      if (!sql) throw new StatesError('States.Runtime', 'aggregate: no QueryString');
      const engine = await createQueryEngine(runtime);
      try {
        const id = randomUUID();
        queries.set(id, await engine.query(sql));
        return { QueryExecution: { QueryExecutionId: id, Status: { State: 'SUCCEEDED' } } };
      } finally {
        await engine.close();
      }
    },
    [SWEEP_STATES.publish]: async (input) => {
      const p = input as { strategy: string; sweepId: string; queryExecutionId: string };
      const rows = queries.get(p.queryExecutionId);
      if (!rows)
        throw new StatesError(
          'Athena.InvalidRequestException',
          `unknown query execution ${p.queryExecutionId}`,
        );
      ranking = await publishRanking(target, p, rows);
      return ranking as unknown as Json;
    },
    [SWEEP_STATES.notify]: (input) => {
      const p = input as { Message?: unknown; Subject?: string };
      notifications.push({
        subject: p.Subject,
        message: typeof p.Message === 'string' ? JSON.parse(p.Message) : p.Message,
      });
      return { MessageId: randomUUID() };
    },
  };

  try {
    const result = await runLocalStateMachine({
      definition: definition as never,
      input: opts.request as unknown as Json,
      resolveTask: (info: TaskInfo) => bindings[info.stateName],
      // Bucket names in the definition are other stacks' outputs: the manifest is in the local results bucket.
      readItems: async ({ parameters }) => {
        const key = (parameters as { Key?: string }).Key;
        if (!key) throw new StatesError('States.ItemReaderFailed', 'ItemReader: no Key');
        const obj = await clients.s3.send(new GetObjectCommand({ Bucket: buckets.results, Key: key }));
        const items = JSON.parse(await obj.Body!.transformToString()) as unknown;
        if (!Array.isArray(items))
          throw new StatesError('States.ItemReaderFailed', `${key} does not hold a JSON array`);
        return items as Json[];
      },
      mapOverrides: {
        maxConcurrency: opts.maxConcurrency ?? os.availableParallelism(),
        maxItemsPerBatch: opts.maxItemsPerBatch,
      },
      onEvent: opts.onEvent,
    }).catch((err: unknown) => {
      if (err instanceof StatesError && err.name === 'InputError')
        throw new InputError(err.message, 'request');
      throw err;
    });
    const map = Object.values(result.maps)[0] ?? { batches: 0, failed: 0, errors: [] };
    return {
      output: result.output,
      sweepId: (result.output as { sweepId: string }).sweepId,
      manifest: manifest!,
      ranking: ranking!,
      top: ranking ? (queries.get([...queries.keys()].at(-1)!) ?? []) : [],
      notifications,
      batches: { total: map.batches, failed: map.failed, errors: map.errors },
    };
  } finally {
    if (!opts.clients) clients.destroy();
  }
}

export interface RemoteSweepOptions {
  readonly sfn: SFNClient;
  readonly request: SweepRequest;
  /** The state machine's ARN; @default found by name (the one whose name starts with `nameHint`) */
  readonly stateMachineArn?: string;
  /** @default 'SweepStateMachine' */
  readonly nameHint?: string;
  /** Poll interval. @default 5 s */
  readonly pollMs?: number;
  readonly onStatus?: (status: string, elapsedMs: number) => void;
}

/**
 * `--remote`: checks the request locally (same validation as the first state), starts the deployed
 * state machine and waits for it; returns its output (the ranking with the best five).
 */
export async function startRemoteSweep(
  opts: RemoteSweepOptions,
): Promise<{ executionArn: string; output: unknown }> {
  validateSweepRequest(opts.request, { allowFileBars: false, maxGridSize: Number.MAX_SAFE_INTEGER });
  let arn = opts.stateMachineArn;
  if (!arn) {
    const hint = opts.nameHint ?? 'SweepStateMachine';
    let token: string | undefined;
    const found: string[] = [];
    do {
      const page = await opts.sfn.send(new ListStateMachinesCommand({ nextToken: token }));
      for (const m of page.stateMachines ?? []) if (m.name?.startsWith(hint)) found.push(m.stateMachineArn!);
      token = page.nextToken;
    } while (token);
    if (found.length !== 1) {
      throw new InputError(
        `state machine: found ${found.length} named ${hint}*; pass --state-machine-arn`,
        'stateMachineArn',
      );
    }
    arn = found[0];
  }
  const started = Date.now();
  const { executionArn } = await opts.sfn.send(
    new StartExecutionCommand({ stateMachineArn: arn, input: JSON.stringify(opts.request) }),
  );
  for (;;) {
    const d = await opts.sfn.send(new DescribeExecutionCommand({ executionArn }));
    opts.onStatus?.(d.status ?? 'UNKNOWN', Date.now() - started);
    if (d.status === 'SUCCEEDED')
      return { executionArn: executionArn!, output: d.output ? JSON.parse(d.output) : null };
    if (d.status && d.status !== 'RUNNING' && d.status !== 'PENDING_REDRIVE') {
      throw new Error(
        `sweep execution ${executionArn} ended ${d.status}: ${d.error ?? ''} ${d.cause ?? ''}`.trim(),
      );
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 5000));
  }
}
