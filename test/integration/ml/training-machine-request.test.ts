/**
 * The synthesized training state machine reads its input (`quant train --remote`'s request): on the
 * local Step Functions runner, the hyperparameters of the request (model, epochs, the features to
 * train on, the training window data_from / data_to) reach CreateTrainingJob over the configured
 * ones, and the protected ones (feature_set_version, horizon, device, model_name, sagemaker_*) stay
 * what the stage configured. The training task is bound to a recorder that ends the run.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { dev } from '../../../lib/config';
import { FEATURE_NAMES, FEATURE_SET_VERSION } from '../../../src/contract/ml';
import { TRAINING_STATES } from '../../../src/contract/training';
import { loadSynthesizedDefinition } from '../../../src/local/definitions';
import { runLocalStateMachine, StatesError, type Json } from '../../../src/local/stepfunctions';

let definition: object;
beforeAll(async () => {
  definition = await loadSynthesizedDefinition({ env: 'dev', stack: 'Training' });
}, 120_000);

/** Runs the machine with `input` up to CreateTrainingJob; returns the job's hyperparameters. */
async function hyperparametersFor(input: Json): Promise<Record<string, string>> {
  const seen: Record<string, string>[] = [];
  await expect(
    runLocalStateMachine({
      definition: definition as never,
      input,
      resolveTask: (info) =>
        info.stateName === TRAINING_STATES.features
          ? () => ({ QueryExecution: { QueryExecutionId: 'q' } })
          : info.stateName === TRAINING_STATES.train
            ? (p: Json) => {
                seen.push((p as { HyperParameters: Record<string, string> }).HyperParameters);
                throw new StatesError('Test.Stop', 'recorded');
              }
            : // Every Task state needs a binding; the run ends before the others.
              () => {
                throw new StatesError('Test.Unexpected', `reached ${info.stateName}`);
              },
    }),
  ).rejects.toThrow(/recorded/);
  expect(seen).toHaveLength(1);
  return seen[0];
}

describe('training state machine: the request reaches the training job', () => {
  const configured = {
    ...dev.training.hyperparameters,
    features: FEATURE_NAMES.join(','),
    feature_set_version: String(FEATURE_SET_VERSION),
    horizon: String(dev.training.horizon),
    model_name: dev.training.modelName,
    device: 'cuda',
  };

  it('without a request (the retrain schedule): the configured hyperparameters', async () => {
    const hps = await hyperparametersFor({ trigger: 'schedule' });
    expect(hps).toMatchObject(configured);
    expect(hps.sagemaker_program).toBe('train.py');
    expect(hps.data_from).toBeUndefined();
  });

  it('the request’s model, epochs, features and window override; protected keys do not', async () => {
    const hps = await hyperparametersFor({
      requestedBy: 'cli:test',
      hyperparameters: {
        model: 'seq',
        epochs: '3',
        features: 'ret_1,ret_5,vol_20',
        data_from: '2015-01-02',
        data_to: '2020-12-31',
        device: 'cpu',
        horizon: '1',
        feature_set_version: '99',
        model_name: 'other',
        sagemaker_program: 'evil.py',
      },
    });
    expect(hps).toEqual({
      ...configured,
      model: 'seq',
      epochs: '3',
      features: 'ret_1,ret_5,vol_20',
      data_from: '2015-01-02',
      data_to: '2020-12-31',
      sagemaker_program: 'train.py',
      sagemaker_submit_directory: hps.sagemaker_submit_directory,
      sagemaker_region: hps.sagemaker_region,
      sagemaker_container_log_level: '20',
    });
    expect(hps.sagemaker_submit_directory).toMatch(/^\/opt\/ml\/input\/data\/code\/[0-9a-f]{64}\.gz$/);
  });
});
