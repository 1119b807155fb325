import { ConfigError } from './errors';
import type { TrainingConfig } from './types';

/** Instance families whose local NVMe storage SageMaker uses instead of an EBS volume (hardware-encrypted). */
const LOCAL_STORAGE_FAMILIES = /^ml\.(g4dn|g5|g6|g6e|p3dn|p4d|p4de|p5|p5e|trn1|trn1n|trn2|m5d|c5d|r5d)\./;

/** True when SageMaker rejects a VolumeKmsKeyId for this instance type (local storage, encrypted by the hardware). */
export function hasLocalInstanceStorage(instanceType: string): boolean {
  return LOCAL_STORAGE_FAMILIES.test(instanceType);
}

/** `<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>` split into its parts, or undefined. */
export function parseEcrImageUri(
  uri: string,
): { account: string; region: string; repository: string; tag: string } | undefined {
  const m =
    /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([a-z0-9][a-z0-9._/-]*):([\w.-]+)$/.exec(
      uri,
    );
  return m ? { account: m[1], region: m[2], repository: m[3], tag: m[4] } : undefined;
}

const SCHEDULE = /^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\([^()]+\))$/;

/** Checks the training config, naming the field (`training.compute.instanceType: ...`) that is wrong. */
export function validateTrainingConfig(c: TrainingConfig, region: string): void {
  const fail = (field: string, problem: string): never => {
    throw new ConfigError(`training.${field}: ${problem}`);
  };
  const int = (field: string, v: number, min: number, max: number) => {
    if (!Number.isInteger(v) || v < min || v > max)
      fail(field, `must be an integer in ${min}..${max}, got ${v}`);
  };
  const num = (field: string, v: number, min: number, max: number) => {
    if (!Number.isFinite(v) || v < min || v > max)
      fail(field, `must be a number in ${min}..${max}, got ${v}`);
  };
  const schedule = (field: string, v: string | undefined) => {
    if (v !== undefined && !SCHEDULE.test(v))
      fail(field, `expected an EventBridge schedule expression such as cron(0 6 ? * SUN *), got "${v}"`);
  };
  // Training job names are `<modelName>-<8 hex>`, tuning job names at most 32 characters.
  if (!/^[a-z0-9](-?[a-z0-9])*$/.test(c.modelName) || c.modelName.length > 20)
    fail(
      'modelName',
      `lowercase letters, digits and single dashes, at most 20 characters, got "${c.modelName}"`,
    );
  // The registry keeps versions under `models/<modelName>/`, next to the features of each run.
  if (c.modelName === 'features') fail('modelName', '"features" is the prefix of the feature files');
  if (c.symbols.length === 0) fail('symbols', 'at least one symbol is needed');
  c.symbols.forEach((s, i) => {
    if (!/^[A-Z0-9][A-Z0-9._-]{0,19}$/.test(s)) fail(`symbols[${i}]`, `not a symbol: "${s}"`);
  });
  if (!/^\d{4}-\d{2}-\d{2}$/.test(c.fromDate) || Number.isNaN(Date.parse(c.fromDate)))
    fail('fromDate', `expected yyyy-MM-dd, got "${c.fromDate}"`);
  int('horizon', c.horizon, 1, 250);

  const k = c.compute;
  if (!/^ml\.[a-z0-9]+\.[a-z0-9]+$/.test(k.instanceType))
    fail(
      'compute.instanceType',
      `expected a SageMaker instance type such as ml.g5.xlarge, got "${k.instanceType}"`,
    );
  const family = k.instanceType.split('.')[1];
  const expected = {
    gpu: /^(g4dn|g5|g6|g6e|p3|p3dn|p4d|p4de|p5|p5e)$/,
    trainium: /^(trn1|trn1n|trn2)$/,
    cpu: /^(m5|m6i|c5|c6i|r5)$/,
  };
  if (!expected[k.accelerator]?.test(family))
    fail('compute.instanceType', `${k.instanceType} is not a ${k.accelerator} instance type`);
  int('compute.instanceCount', k.instanceCount, 1, 16);
  int('compute.devicesPerInstance', k.devicesPerInstance, 1, 64);
  int('compute.volumeSizeGiB', k.volumeSizeGiB, 1, 16384);
  const image = parseEcrImageUri(k.imageUri);
  if (!image)
    fail(
      'compute.imageUri',
      `expected <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>, got "${k.imageUri}"`,
    );
  if (image && image.region !== region)
    fail(
      'compute.imageUri',
      `SageMaker pulls images from its own region (${region}), got one in ${image.region}`,
    );
  if (image && k.accelerator === 'trainium' && !image.repository.includes('neuronx'))
    fail('compute.imageUri', `a trainium job needs a Neuron (neuronx) container, got ${image.repository}`);

  for (const [key, value] of Object.entries(c.hyperparameters)) {
    if (typeof value !== 'string')
      fail(`hyperparameters.${key}`, 'must be a string (SageMaker passes strings)');
    if (key.startsWith('sagemaker_'))
      fail(`hyperparameters.${key}`, 'sagemaker_* names are set by the stack');
  }
  int('maxRuntimeHours', c.maxRuntimeHours, 1, 24 * 28);
  int('maxWaitHours', c.maxWaitHours, 1, 24 * 28);
  if (c.useSpot && c.maxWaitHours < c.maxRuntimeHours)
    fail(
      'maxWaitHours',
      `must be at least maxRuntimeHours (${c.maxRuntimeHours}) with spot training, got ${c.maxWaitHours}`,
    );
  int('retryAttempts', c.retryAttempts, 1, 30);
  if (c.tuning) {
    const t = c.tuning;
    if (t.objective !== 'val_ic' && t.objective !== 'val_loss')
      fail('tuning.objective', `must be val_ic or val_loss, got "${String(t.objective)}"`);
    int('tuning.maxJobs', t.maxJobs, 1, 500);
    int('tuning.maxParallelJobs', t.maxParallelJobs, 1, t.maxJobs);
    const [lo, hi] = t.learningRate;
    if (!(lo > 0 && hi > lo && hi < 1))
      fail('tuning.learningRate', `expected 0 < min < max < 1, got [${lo}, ${hi}]`);
    const [hlo, hhi] = t.hidden;
    if (!(Number.isInteger(hlo) && Number.isInteger(hhi) && hlo >= 1 && hhi > hlo))
      fail('tuning.hidden', `expected integers 1 <= min < max, got [${hlo}, ${hhi}]`);
  }
  schedule('retrainSchedule', c.retrainSchedule);
  schedule('driftSchedule', c.driftSchedule);
  schedule('runnerSchedule', c.runnerSchedule);
  num('minSharpeGain', c.minSharpeGain, -10, 10);
  num('minTestIc', c.minTestIc, -1, 1);
  if (!['paper', 'staging', 'prod'].includes(c.tradingEnvironment))
    fail('tradingEnvironment', `must be paper, staging or prod, got "${c.tradingEnvironment}"`);
  int('driftLookbackBars', c.driftLookbackBars, 20, 5000);
  num('driftPsiAlarm', c.driftPsiAlarm, 0.01, 10);
  int('durationAlarmMinutes', c.durationAlarmMinutes, 1, 24 * 60 * 28);
  int('runnerMemoryMiB', c.runnerMemoryMiB, 128, 10240);
}
