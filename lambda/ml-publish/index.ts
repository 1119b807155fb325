/**
 * Training state machine, last step: stores the registered model package's files in the models
 * bucket under the package's version (src/ml/aws/publish.ts).
 */
import * as z from 'zod';
import { createClients } from '../../src/aws/clients';
import { instrumented, parseEvent, powertools } from '../../src/aws/powertools';
import { readEnv } from '../../src/contract/env';
import { ML_PUBLISH_ENV } from '../../src/contract/functions';
import { publishTrainedModel } from '../../src/ml/aws/publish';
import { S3ModelRegistry } from '../../src/ml/registry/s3-registry';

const env = readEnv(ML_PUBLISH_ENV);
const clients = createClients({ mode: 'aws', region: process.env.AWS_REGION });
const store = new S3ModelRegistry(clients.s3, env.modelsBucket);
const tools = powertools();

const eventSchema = z.object({
  modelName: z.string().min(1),
  jobName: z.string().min(1),
  modelArtifacts: z.string().startsWith('s3://'),
  modelPackageArn: z.string().regex(/:model-package\/[^/]+\/\d+$/),
});

export const handler = instrumented(tools, async (event: unknown) => {
  const e = parseEvent(eventSchema, event);
  const r = await publishTrainedModel({ s3: clients.s3, store }, e);
  tools.logger.info('model published', { ...r, jobName: e.jobName });
  return r;
});
