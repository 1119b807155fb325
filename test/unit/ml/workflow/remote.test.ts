/**
 * `quant train --remote` checks a request's features against the feature set the deployed training
 * state machine computes (its tags, written by lib/constructs/training-workflow.ts) before it starts
 * a run. The decision is tested as a function; the CLI runs against a stand-in for the Step
 * Functions API (the service cannot run here): a loopback HTTP server that speaks its JSON protocol
 * for ListTagsForResource and StartExecution, so the real @aws-sdk/client-sfn client is exercised.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { FEATURE_NAMES } from '../../../../src/contract/ml';
import { SENTIMENT_FEATURE } from '../../../../src/contract/news';
import { TRAINING_MACHINE_TAGS } from '../../../../src/contract/training';
import { InputError } from '../../../../src/errors';
import {
  checkRemoteFeatures,
  featureSetOfTags,
  startRemoteTraining,
  type DeployedFeatureSet,
} from '../../../../src/ml/workflow/remote';
import { runQuant } from '../../../helpers/quant-cli';

const V1: DeployedFeatureSet = { version: 1, features: [...FEATURE_NAMES] };
const V2: DeployedFeatureSet = { version: 2, features: [...FEATURE_NAMES, SENTIMENT_FEATURE] };
const ALL_V1 = FEATURE_NAMES.join(', ');

function refusal(f: () => void): InputError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected a refusal');
}

describe('featureSetOfTags', () => {
  it('reads the version and the space-separated features', () => {
    expect(
      featureSetOfTags([
        { key: 'other', value: 'x' },
        { key: TRAINING_MACHINE_TAGS.featureSetVersion, value: '2' },
        { key: TRAINING_MACHINE_TAGS.features, value: 'ret_1 ret_5 news_sentiment_1d' },
      ]),
    ).toEqual({ version: 2, features: ['ret_1', 'ret_5', 'news_sentiment_1d'] });
  });

  it('is undefined for a machine without the tags (an older deploy)', () => {
    expect(featureSetOfTags([])).toBeUndefined();
    expect(featureSetOfTags([{ key: 'project', value: 'quant' }])).toBeUndefined();
  });

  it('refuses tags that do not name a feature set, naming --state-machine', () => {
    for (const tags of [
      [{ key: TRAINING_MACHINE_TAGS.featureSetVersion, value: 'two' }],
      [{ key: TRAINING_MACHINE_TAGS.features, value: 'ret_1' }],
      [
        { key: TRAINING_MACHINE_TAGS.featureSetVersion, value: '1' },
        { key: TRAINING_MACHINE_TAGS.features, value: ' ' },
      ],
    ]) {
      const e = refusal(() => featureSetOfTags(tags));
      expect(e.field).toBe('--state-machine');
      expect(e.message).toMatch(/do not name a feature set/);
    }
  });
});

describe('checkRemoteFeatures', () => {
  it('lets through features of the deployed version that it computes', () => {
    expect(() => checkRemoteFeatures(['ret_1', 'vol_20'], V1)).not.toThrow();
    expect(() => checkRemoteFeatures([...FEATURE_NAMES], V1)).not.toThrow();
    expect(() => checkRemoteFeatures(['ret_1', SENTIMENT_FEATURE], V2)).not.toThrow();
    expect(() => checkRemoteFeatures([SENTIMENT_FEATURE], V2)).not.toThrow();
  });

  it('refuses the sentiment on a version 1 machine, saying what is deployed', () => {
    const e = refusal(() => checkRemoteFeatures(['ret_1', SENTIMENT_FEATURE], V1));
    expect(e.field).toBe('--features');
    expect(e.message).toBe(
      `--features: ret_1, news_sentiment_1d is feature set version 2, but the deployed state machine computes feature set version 1 (${ALL_V1}): news_sentiment_1d trains in AWS once the stage's config training.hyperparameters.features lists it and the training stack is deployed; until then train it with --local`,
    );
  });

  it('refuses a version 1 list on a version 2 machine: its model would be served on the wrong version', () => {
    const e = refusal(() => checkRemoteFeatures(['ret_1', 'ret_5'], V2));
    expect(e.field).toBe('--features');
    expect(e.message).toBe(
      `--features: ret_1, ret_5 is feature set version 1, but the deployed state machine computes feature set version 2 (${ALL_V1}, news_sentiment_1d): list news_sentiment_1d too, or drop --features to train what is deployed`,
    );
  });

  it('refuses features of the right version that the machine does not compute', () => {
    const narrow: DeployedFeatureSet = { version: 1, features: ['ret_1', 'ret_5'] };
    const e = refusal(() => checkRemoteFeatures(['ret_1', 'vol_20', 'zscore_20'], narrow));
    expect(e.message).toBe(
      '--features: vol_20, zscore_20 not computed: the deployed state machine computes feature set version 1 (ret_1, ret_5)',
    );
  });

  it('refuses any --features on a machine without the tags (the older deploy is not guessed)', () => {
    const e = refusal(() => checkRemoteFeatures(['ret_1'], undefined));
    expect(e.field).toBe('--features');
    expect(e.message).toMatch(
      /^--features: the training state machine carries no quant:feature-set-version \/ quant:features tags .*redeploy the training stack, or drop --features/,
    );
  });
});

// ---- The Step Functions stand-in ------------------------------------------------------------------

const ARN = 'arn:aws:states:us-east-1:111122223333:stateMachine:TrainingWorkflowStateMachine1A2B';
interface Call {
  readonly op: string;
  readonly body: Record<string, unknown>;
}
let calls: Call[] = [];
/** Tags ListTagsForResource returns; undefined answers ResourceNotFound. */
let tags: { key: string; value: string }[] | undefined = [];
const tagsOf = (d: DeployedFeatureSet) => [
  { key: 'project', value: 'quant' },
  { key: TRAINING_MACHINE_TAGS.featureSetVersion, value: String(d.version) },
  { key: TRAINING_MACHINE_TAGS.features, value: d.features.join(' ') },
];

const server = http.createServer((req, res) => {
  let raw = '';
  req.on('data', (c) => (raw += c));
  req.on('end', () => {
    const op = String(req.headers['x-amz-target']).replace('AWSStepFunctions.', '');
    const body = JSON.parse(raw || '{}') as Record<string, unknown>;
    calls.push({ op, body });
    res.setHeader('content-type', 'application/x-amz-json-1.0');
    if (op === 'ListTagsForResource' && tags) return res.end(JSON.stringify({ tags }));
    if (op === 'StartExecution')
      return res.end(JSON.stringify({ executionArn: `${ARN}:run`, startDate: 1_764_460_800 }));
    res.statusCode = 400;
    res.end(JSON.stringify({ __type: 'ResourceNotFound', message: `${op}: not found` }));
  });
});
let endpoint = '';
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  calls = [];
  tags = [];
});

describe('startRemoteTraining', () => {
  it('asks for the tags only when the request names features, and before StartExecution', async () => {
    const sfn = new SFNClient({
      region: 'us-east-1',
      endpoint,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });
    try {
      tags = tagsOf(V2);
      await startRemoteTraining(sfn, ARN, { requestedBy: 't', hyperparameters: { model: 'mlp' } });
      expect(calls.map((c) => c.op)).toEqual(['StartExecution']);
      calls = [];
      await startRemoteTraining(sfn, ARN, {
        requestedBy: 't',
        hyperparameters: { features: `ret_1,${SENTIMENT_FEATURE}` },
      });
      expect(calls.map((c) => c.op)).toEqual(['ListTagsForResource', 'StartExecution']);
      expect(calls[0].body).toEqual({ resourceArn: ARN });
      calls = [];
      await expect(
        startRemoteTraining(sfn, ARN, { requestedBy: 't', hyperparameters: { features: 'ret_1' } }),
      ).rejects.toThrow(/ret_1 is feature set version 1, but the deployed state machine computes/);
      expect(calls.map((c) => c.op)).toEqual(['ListTagsForResource']);
      calls = [];
      tags = undefined;
      await expect(
        startRemoteTraining(sfn, ARN, { requestedBy: 't', hyperparameters: { features: 'ret_1' } }),
      ).rejects.toThrow(`--state-machine: no state machine ${ARN}`);
    } finally {
      sfn.destroy();
    }
  });
});

describe('quant train --remote --features against the deployed feature set', () => {
  beforeEach(() => {
    vi.stubEnv('AWS_ENDPOINT_URL_SFN', endpoint);
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'not-a-secret');
  });
  afterEach(() => vi.unstubAllEnvs());
  const train = (...args: string[]) => runQuant(['train', '--remote', '--state-machine', ARN, ...args]);

  it('exit 2 naming --features and what is deployed; nothing started', async () => {
    tags = tagsOf(V1);
    const r = await train('--features', `ret_1,${SENTIMENT_FEATURE}`, '--json');
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toBe(
      `error: --features: ret_1, news_sentiment_1d is feature set version 2, but the deployed state machine computes feature set version 1 (${ALL_V1}): news_sentiment_1d trains in AWS once the stage's config training.hyperparameters.features lists it and the training stack is deployed; until then train it with --local\n`,
    );
    expect(calls.map((c) => c.op)).toEqual(['ListTagsForResource']);
  });

  it('an older deploy without the tags: exit 2 with --features, and no --features still trains', async () => {
    tags = [{ key: 'project', value: 'quant' }];
    const r = await train('--features', 'ret_1,ret_5');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /^error: --features: the training state machine carries no quant:feature-set-version/,
    );
    expect(r.err).not.toMatch(/\n\s+at /);
    const ok = await train('--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out).executionArn).toBe(`${ARN}:run`);
    expect(calls.map((c) => c.op)).toEqual(['ListTagsForResource', 'StartExecution']);
  });

  it('starts a version 2 machine with news_sentiment_1d in the request', async () => {
    tags = tagsOf(V2);
    const r = await train('--features', `ret_1,ret_5,${SENTIMENT_FEATURE}`, '--json');
    expect(r.code).toBe(0);
    expect(calls.map((c) => c.op)).toEqual(['ListTagsForResource', 'StartExecution']);
    expect(JSON.parse(calls[1].body.input as string).hyperparameters).toEqual({
      features: `ret_1,ret_5,${SENTIMENT_FEATURE}`,
      model: 'mlp',
    });
  });
});
