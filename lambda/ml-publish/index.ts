/**
 * Training state machine, last step: stores the registered model package's files in the models
 * bucket under the package's version (src/ml/aws/publish.ts).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { createClients } from '../../src/aws/clients';
import { describeZodIssues, InputError } from '../../src/errors';
import { lakeBuckets } from '../../src/lake/buckets';
import { publishTrainedModel, type PublishResult } from '../../src/ml/aws/publish';
import { S3ModelRegistry } from '../../src/ml/registry/s3-registry';

const runtime = { mode: 'aws' as const, region: process.env.AWS_REGION };
const clients = createClients(runtime);
const store = new S3ModelRegistry(clients.s3, lakeBuckets(runtime, process.env).models);
const logger = new Logger();

const eventSchema = z.object({
  modelName: z.string().min(1),
  jobName: z.string().min(1),
  modelArtifacts: z.string().startsWith('s3://'),
  modelPackageArn: z.string().regex(/:model-package\/[^/]+\/\d+$/),
});

export const handler = async (event: unknown): Promise<PublishResult> => {
  const e = eventSchema.safeParse(event);
  if (!e.success) throw new InputError(`event: ${describeZodIssues(e.error.issues)}`, 'event');
  const r = await publishTrainedModel({ s3: clients.s3, store }, e.data);
  logger.info('model published', { ...r, jobName: e.data.jobName });
  return r;
};
