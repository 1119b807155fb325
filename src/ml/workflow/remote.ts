/** `quant train --remote`: starts the deployed training state machine (StartExecution). */
import { StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { TRAINING_ENV } from '../../contract/models';
import { InputError } from '../../errors';

/**
 * The state machine's input: its `hyperparameters` override the job's configured ones (model,
 * epochs, features, data_from / data_to: the training window) except the protected ones
 * (src/contract/training.ts PROTECTED_HYPERPARAMETERS). SageMaker takes strings only.
 */
export interface RemoteTrainingInput {
  readonly requestedBy: string;
  readonly hyperparameters?: Readonly<Record<string, string | number>>;
}

export interface RemoteTrainingStarted {
  readonly executionArn: string;
  readonly startDate: string;
  readonly name: string;
}

const ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/;

export function stateMachineArnOf(
  explicit: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  const arn = explicit ?? env[TRAINING_ENV.stateMachineArn];
  if (!arn)
    throw new InputError(
      `--state-machine: no training state machine: give --state-machine ARN or set ${TRAINING_ENV.stateMachineArn} (the training stack's output)`,
      '--state-machine',
    );
  if (!ARN.test(arn))
    throw new InputError(`--state-machine: "${arn}" is not a state machine ARN`, '--state-machine');
  return arn;
}

/** Starts one execution (30 s timeout); the name is unique per call. */
export async function startRemoteTraining(
  sfn: Pick<SFNClient, 'send'>,
  stateMachineArn: string,
  input: RemoteTrainingInput,
  now = new Date(),
): Promise<RemoteTrainingStarted> {
  const name = `cli-${now.toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${Math.random().toString(16).slice(2, 8)}`;
  const r = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn,
      name,
      input: JSON.stringify({
        ...input,
        hyperparameters: Object.fromEntries(
          Object.entries(input.hyperparameters ?? {}).map(([k, v]) => [k, String(v)]),
        ),
      }),
    }),
    { abortSignal: AbortSignal.timeout(30_000) },
  );
  if (!r.executionArn) throw new Error('StartExecution returned no executionArn');
  return { executionArn: r.executionArn, startDate: (r.startDate ?? now).toISOString(), name };
}
