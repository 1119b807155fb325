/**
 * Workflow step (b): runs training/train.py as a child process with the SageMaker container's
 * environment mapped to the job's directories (what the local state machine's training task and
 * `quant train --local` both do). Progress lines are forwarded; `metric name=value` lines are
 * collected; a non-zero exit becomes an error carrying the script's failure file.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../../errors';
import { packageRoot } from '../../package-root';
import type { JobPaths } from './job';
import { pythonOf } from './python';
import { EVALUATION_FILE, MANIFEST_FILE, MODEL_FILE } from '../../contract/ml';

/** training/train.py of the package (from its root: the same code runs from src/ and from dist/). */
export const trainingScript = (): string => path.join(packageRoot(), 'training', 'train.py');

export interface TrainStepInput {
  readonly job: JobPaths;
  /** SM_HPS (values may be strings or numbers); `features` is required by the script. */
  readonly hyperparameters: Readonly<Record<string, string | number>>;
  /** @default $QUANT_PYTHON or /usr/bin/python3 */
  readonly python?: string;
  /** Kill the script after this long. @default 30 minutes */
  readonly timeoutMs?: number;
  /** Each line the script prints (stdout and stderr). */
  readonly onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** @default training/train.py of this repository */
  readonly script?: string;
}

export interface TrainStepOutput {
  readonly modelDir: string;
  readonly metrics: Readonly<Record<string, number>>;
  readonly seconds: number;
}

export class TrainingFailedError extends Error {
  constructor(
    message: string,
    readonly failure?: string,
  ) {
    super(message);
    this.name = 'TrainingFailedError';
  }
}

const METRIC = /^metric ([A-Za-z0-9_.:-]+)=([-+0-9.eE]+|nan|inf|-inf)\s*$/;

/** The container contract's environment for a local job (one host, CPU). */
export function trainingEnv(
  job: JobPaths,
  hps: Readonly<Record<string, string | number>>,
): Record<string, string> {
  return {
    SM_CHANNEL_TRAIN: job.train,
    SM_CHANNELS: JSON.stringify(['train']),
    SM_HPS: JSON.stringify(hps),
    SM_MODEL_DIR: job.model,
    SM_OUTPUT_DIR: job.output,
    SM_OUTPUT_DATA_DIR: job.outputData,
    SM_NUM_GPUS: '0',
    SM_HOSTS: JSON.stringify(['algo-1']),
    SM_CURRENT_HOST: 'algo-1',
    QUANT_CHECKPOINT_DIR: job.checkpoints,
  };
}

export async function runTrainingStep(input: TrainStepInput): Promise<TrainStepOutput> {
  const { job } = input;
  const python = input.python ?? pythonOf();
  const script = input.script ?? trainingScript();
  for (const d of [job.model, job.outputData, job.checkpoints]) mkdirSync(d, { recursive: true });
  const failureFile = path.join(job.output, 'failure');
  rmSync(failureFile, { force: true });
  const timeoutMs = input.timeoutMs ?? 30 * 60_000;
  const metrics: Record<string, number> = {};
  const t0 = performance.now();
  const result = await new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    timedOut: boolean;
    err?: Error;
  }>((resolve) => {
    const child = spawn(python, [script], {
      cwd: path.dirname(script),
      env: { ...process.env, ...trainingEnv(job, input.hyperparameters), PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
    }, timeoutMs);
    const lines = (stream: 'stdout' | 'stderr') => {
      let buf = '';
      return (d: Buffer) => {
        buf += d.toString('utf8');
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i).replace(/\r$/, '');
          buf = buf.slice(i + 1);
          const m = METRIC.exec(line);
          if (m) metrics[m[1]] = Number(m[2]);
          input.onLine?.(line, stream);
        }
      };
    };
    child.stdout.on('data', lines('stdout'));
    child.stderr.on('data', lines('stderr'));
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, timedOut, err });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut });
    });
  });
  const seconds = (performance.now() - t0) / 1000;
  if (result.err) throw new TrainingFailedError(`training: could not run ${python}: ${result.err.message}`);
  if (result.timedOut)
    throw new TrainingFailedError(
      `training: ${script} did not finish within ${Math.round(timeoutMs / 1000)} s (killed)`,
    );
  if (result.code !== 0) {
    const failure = existsSync(failureFile) ? readFileSync(failureFile, 'utf8').trim() : undefined;
    // The script exits 2 when its input is unusable (training/README.md): a user error.
    if (result.code === 2 && failure) throw new InputError(`training failed (exit 2): ${failure}`, 'bars');
    throw new TrainingFailedError(
      `training failed (exit ${result.code ?? result.signal}): ${failure ?? `no failure file in ${job.output}`}`,
      failure,
    );
  }
  for (const f of [MODEL_FILE, MANIFEST_FILE, EVALUATION_FILE])
    if (!existsSync(path.join(job.model, f)))
      throw new TrainingFailedError(`training: ${script} exited 0 but wrote no ${f} in ${job.model}`);
  return { modelDir: job.model, metrics, seconds };
}
