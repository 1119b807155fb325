/**
 * A local training job's directories, as the SageMaker container contract maps them
 * (`/opt/ml/input/data/train`, `/opt/ml/model`, `/opt/ml/output`, `/opt/ml/checkpoints`), under
 * `<dataDir>/ml/jobs/<name>/`.
 */
import path from 'node:path';
import { LOCAL_JOBS_DIR } from '../../contract/models';
import { InputError } from '../../errors';

export interface JobPaths {
  readonly name: string;
  readonly root: string;
  /** Channel `train` (SM_CHANNEL_TRAIN). */
  readonly train: string;
  /** SM_MODEL_DIR */
  readonly model: string;
  /** SM_OUTPUT_DIR (the `failure` file) */
  readonly output: string;
  /** SM_OUTPUT_DATA_DIR */
  readonly outputData: string;
  /** QUANT_CHECKPOINT_DIR */
  readonly checkpoints: string;
}

const JOB_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,62}$/;

export function jobPaths(dataDir: string, name: string): JobPaths {
  if (!JOB_NAME.test(name))
    throw new InputError(
      `job: "${name}" is not a valid job name (letters, digits, hyphens; at most 63)`,
      'job',
    );
  const root = path.join(dataDir, LOCAL_JOBS_DIR, name);
  return {
    name,
    root,
    train: path.join(root, 'input', 'data', 'train'),
    model: path.join(root, 'model'),
    output: path.join(root, 'output'),
    outputData: path.join(root, 'output', 'data'),
    checkpoints: path.join(root, 'checkpoints'),
  };
}

/** `train-20261207-001522-ab12`: sortable, unique enough for one workstation. */
export function newJobName(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `train-${stamp}-${Math.random().toString(16).slice(2, 6)}`;
}
