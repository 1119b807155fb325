/**
 * The registry and audit sink for a runtime: locally the models bucket of the local S3 server; in
 * AWS SageMaker model package groups with the artifacts in the models bucket (or the bucket alone
 * with MODEL_REGISTRY=s3). Model approvals and rollbacks are audit events.
 */
import { FirehoseClient } from '@aws-sdk/client-firehose';
import type { SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Runtime } from '../../aws/clients';
import { STRATEGY_RUNNER_ENV, type Environment } from '../../contract/models';
import { auditEvent, FirehoseAuditSink, S3AuditSink, type AuditSink } from '../../trading/audit';
import { S3ModelRegistry } from './s3-registry';
import type { ApproveResult, ModelRegistry, RollbackResult } from './types';
import { readEnv, text } from '../../contract/env';
import { TRADING_ENV } from '../../contract/trading';

export * from './types';

type Env = Readonly<Record<string, string | undefined>>;

export function modelsBucketOf(runtime: Runtime, localBucket: string, env: Env): string {
  if (runtime.mode === 'local') return localBucket;
  const b = env[STRATEGY_RUNNER_ENV.modelsBucket];
  if (!b)
    throw new Error(
      `environment variable ${STRATEGY_RUNNER_ENV.modelsBucket} (the models bucket) is not set`,
    );
  return b;
}

/** The SageMaker SDK is loaded only in AWS mode (it adds start-up time to every local command). */
export async function registryFor(
  runtime: Runtime,
  s3: S3Client,
  bucket: string,
  env: Env = process.env,
  sagemaker?: Pick<SageMakerClient, 'send'>,
): Promise<ModelRegistry> {
  const store = new S3ModelRegistry(s3, bucket);
  if (runtime.mode === 'local' || env[STRATEGY_RUNNER_ENV.registry] === 's3') return store;
  const { SageMakerModelRegistry } = await import('./sagemaker-registry');
  const client =
    sagemaker ?? new (await import('@aws-sdk/client-sagemaker')).SageMakerClient({ region: runtime.region });
  return new SageMakerModelRegistry(client, store);
}

/** Local: the audit bucket; AWS: the audit Firehose stream (AUDIT_STREAM), as the trading path. */
export function auditSinkFor(
  runtime: Runtime,
  s3: S3Client,
  auditBucket: string,
  env: Env = process.env,
): AuditSink {
  if (runtime.mode === 'local') return new S3AuditSink(s3, auditBucket);
  const { stream } = readEnv({ stream: text(TRADING_ENV.auditStream) }, env);
  return new FirehoseAuditSink(new FirehoseClient({ region: runtime.region }), stream);
}

export async function approveAudited(
  registry: ModelRegistry,
  audit: AuditSink,
  modelName: string,
  version: number,
  env: Environment,
  actor: string,
): Promise<ApproveResult> {
  const r = await registry.approve(modelName, version, env, actor);
  if (r.changed)
    await audit.put([
      auditEvent(
        'model',
        { account: env },
        {
          action: 'approve',
          model: modelName,
          version,
          env,
          previous: r.previous ?? null,
          actor,
          registry: registry.kind,
        },
      ),
    ]);
  return r;
}

export async function rollbackAudited(
  registry: ModelRegistry,
  audit: AuditSink,
  modelName: string,
  env: Environment,
  actor: string,
): Promise<RollbackResult> {
  const r = await registry.rollback(modelName, env, actor);
  await audit.put([
    auditEvent(
      'model',
      { account: env },
      { action: 'rollback', model: modelName, env, from: r.from, to: r.to, actor, registry: registry.kind },
    ),
  ]);
  return r;
}
