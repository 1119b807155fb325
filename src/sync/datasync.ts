/**
 * `quant sync start | status | history` against AWS DataSync: request building and response
 * summaries are pure (unit-tested); the functions taking a client only send them.
 */
import {
  DescribeTaskExecutionCommand,
  ListTaskExecutionsCommand,
  StartTaskExecutionCommand,
  type DataSyncClient,
  type DescribeTaskExecutionCommandOutput,
  type StartTaskExecutionCommandInput,
} from '@aws-sdk/client-datasync';
import { InputError } from '../errors';

const TASK_ARN = /^arn:aws[\w-]*:datasync:[a-z0-9-]+:\d{12}:task\/task-[0-9a-f]{17}$/;
const EXECUTION_ARN =
  /^arn:aws[\w-]*:datasync:[a-z0-9-]+:\d{12}:task\/task-[0-9a-f]{17}\/execution\/exec-[0-9a-f]{17}$/;

export function checkTaskArn(arn: string, field = 'task-arn'): string {
  if (!TASK_ARN.test(arn)) {
    throw new InputError(
      `${field}: expected arn:aws:datasync:REGION:ACCOUNT:task/task-<17 hex>, got "${arn}"`,
      field,
    );
  }
  return arn;
}

export function checkExecutionArn(arn: string, field = 'execution-arn'): string {
  if (!EXECUTION_ARN.test(arn)) {
    throw new InputError(
      `${field}: expected a DataSync task execution ARN (…:task/task-…/execution/exec-…), got "${arn}"`,
      field,
    );
  }
  return arn;
}

/** DataSync filter patterns: '|'-separated, each starting with '/' (relative to the location). */
function filterRule(patterns: readonly string[], field: string) {
  if (patterns.length === 0) return undefined;
  for (const p of patterns) {
    if (!p.startsWith('/') || p.includes('|')) {
      throw new InputError(`${field}: pattern "${p}" must start with '/' and must not contain '|'`, field);
    }
  }
  const value = patterns.join('|');
  if (value.length > 102_400)
    throw new InputError(`${field}: patterns exceed DataSync's 102,400 characters`, field);
  return [{ FilterType: 'SIMPLE_PATTERN' as const, Value: value }];
}

export interface StartOptions {
  readonly taskArn: string;
  /** Only these paths this time (e.g. one day's prefix for a catch-up). */
  readonly includes?: readonly string[];
  readonly excludes?: readonly string[];
  /** Verify every file at the end instead of only the transferred ones. @default false */
  readonly verifyAll?: boolean;
}

export function buildStartRequest(opts: StartOptions): StartTaskExecutionCommandInput {
  return {
    TaskArn: checkTaskArn(opts.taskArn),
    Includes: filterRule(opts.includes ?? [], 'include'),
    Excludes: filterRule(opts.excludes ?? [], 'exclude'),
    OverrideOptions: opts.verifyAll ? { VerifyMode: 'POINT_IN_TIME_CONSISTENT' } : undefined,
  };
}

export interface ExecutionSummary {
  readonly executionArn: string;
  readonly status: string;
  readonly startTime?: string;
  readonly filesTransferred: number;
  readonly bytesTransferred: number;
  readonly filesVerified: number;
  readonly filesFailed: number;
  readonly durationSeconds?: number;
  readonly mbPerSecond?: number;
  readonly error?: string;
}

export function summarizeExecution(out: DescribeTaskExecutionCommandOutput): ExecutionSummary {
  const ms = out.Result?.TotalDuration ?? out.Result?.TransferDuration;
  const bytes = Number(out.BytesTransferred ?? 0);
  const failed =
    Number(out.FilesFailed?.Transfer ?? 0) +
    Number(out.FilesFailed?.Verify ?? 0) +
    Number(out.FilesFailed?.Delete ?? 0);
  return {
    executionArn: out.TaskExecutionArn ?? '',
    status: out.Status ?? 'UNKNOWN',
    startTime: out.StartTime?.toISOString(),
    filesTransferred: Number(out.FilesTransferred ?? 0),
    bytesTransferred: bytes,
    filesVerified: Number(out.FilesVerified ?? 0),
    filesFailed: failed,
    durationSeconds: ms !== undefined ? ms / 1000 : undefined,
    mbPerSecond: ms ? Math.round((bytes / 1e6 / (ms / 1000)) * 100) / 100 : undefined,
    error: out.Result?.ErrorCode
      ? `${out.Result.ErrorCode}: ${out.Result.ErrorDetail ?? ''}`.trim()
      : undefined,
  };
}

export async function startSync(client: DataSyncClient, opts: StartOptions): Promise<string> {
  const out = await client.send(new StartTaskExecutionCommand(buildStartRequest(opts)));
  return out.TaskExecutionArn ?? '';
}

export async function syncStatus(client: DataSyncClient, executionArn: string): Promise<ExecutionSummary> {
  const out = await client.send(
    new DescribeTaskExecutionCommand({ TaskExecutionArn: checkExecutionArn(executionArn) }),
  );
  return summarizeExecution(out);
}

/** The most recent executions of a task, newest first. */
export async function syncHistory(
  client: DataSyncClient,
  taskArn: string,
  limit = 10,
): Promise<ExecutionSummary[]> {
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw new InputError(`limit: expected an integer 1-100, got ${limit}`, 'limit');
  }
  const arns: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListTaskExecutionsCommand({ TaskArn: checkTaskArn(taskArn), NextToken: token }),
    );
    for (const e of page.TaskExecutions ?? []) if (e.TaskExecutionArn) arns.push(e.TaskExecutionArn);
    token = page.NextToken;
  } while (token);
  // The list API documents no order: describe every execution (10 at a time), newest first by start time.
  const all: ExecutionSummary[] = [];
  for (let i = 0; i < arns.length; i += 10) {
    all.push(...(await Promise.all(arns.slice(i, i + 10).map((arn) => syncStatus(client, arn)))));
  }
  return sortNewestFirst(all).slice(0, limit);
}

export function sortNewestFirst(items: readonly ExecutionSummary[]): ExecutionSummary[] {
  return [...items].sort((a, b) => (b.startTime ?? '').localeCompare(a.startTime ?? ''));
}
