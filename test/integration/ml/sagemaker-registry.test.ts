/**
 * The SageMaker registry against a mocked SageMaker client (the SageMaker API cannot run here) and
 * the real local S3 server for the artifacts and environment pointers: which calls it makes, with
 * which fields, and how it reads their answers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  ListModelPackagesCommand,
  UpdateModelPackageCommand,
  type ModelPackageSummary,
} from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients, type AwsClients } from '../../../src/aws/clients';
import { LOCAL_BUCKETS } from '../../../src/local/buckets';
import { LocalCloud } from '../../../src/local/cloud';
import { SageMakerModelRegistry, versionOfArn } from '../../../src/ml/registry/sagemaker-registry';
import { S3ModelRegistry } from '../../../src/ml/registry/s3-registry';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sm-registry-'));
let cloud: LocalCloud;
let clients: AwsClients;

beforeAll(async () => {
  cloud = await LocalCloud.start({ dataDir: dir });
  clients = createClients(cloud.runtime);
});
afterAll(async () => {
  clients?.destroy();
  await cloud?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A stand-in for SageMaker's model package API: groups, versions numbered 1, 2, ..., statuses. */
function fakeSageMaker(existingGroups: readonly string[]) {
  const calls: Array<{ name: string; input: Record<string, unknown> }> = [];
  const groups = new Set<string>(existingGroups);
  const packages: ModelPackageSummary[] = [];
  const send = async (cmd: { input: Record<string, unknown>; constructor: { name: string } }) => {
    calls.push({ name: cmd.constructor.name, input: cmd.input });
    if (cmd instanceof CreateModelPackageGroupCommand) {
      groups.add(cmd.input.ModelPackageGroupName!);
      return {};
    }
    if (cmd instanceof CreateModelPackageCommand) {
      const g = cmd.input.ModelPackageGroupName!;
      if (!groups.has(g))
        throw Object.assign(new Error(`Model Package Group ${g} does not exist.`), {
          name: 'ValidationException',
        });
      const v = packages.filter((p) => p.ModelPackageGroupName === g).length + 1;
      const arn = `arn:aws:sagemaker:us-east-1:123456789012:model-package/${g}/${v}`;
      packages.push({
        ModelPackageGroupName: g,
        ModelPackageVersion: v,
        ModelPackageArn: arn,
        ModelApprovalStatus: cmd.input.ModelApprovalStatus,
        CreationTime: new Date(Date.UTC(2026, 11, v)),
      } as ModelPackageSummary);
      return { ModelPackageArn: arn };
    }
    if (cmd instanceof ListModelPackagesCommand) {
      const list = packages
        .filter((p) => p.ModelPackageGroupName === cmd.input.ModelPackageGroupName)
        .reverse();
      // Two pages, as SageMaker paginates.
      if (!cmd.input.NextToken)
        return { ModelPackageSummaryList: list.slice(0, 1), NextToken: list.length > 1 ? 'p2' : undefined };
      return { ModelPackageSummaryList: list.slice(1) };
    }
    if (cmd instanceof UpdateModelPackageCommand) {
      const p = packages.find((x) => x.ModelPackageArn === cmd.input.ModelPackageArn)!;
      (p as { ModelApprovalStatus?: string }).ModelApprovalStatus = cmd.input.ModelApprovalStatus;
      return { ModelPackageArn: p.ModelPackageArn };
    }
    throw new Error(`unexpected ${cmd.constructor.name}`);
  };
  return { client: { send } as never, calls };
}

const files = (tag: string) => ({
  'model.onnx': new TextEncoder().encode(`model ${tag}`),
  'manifest.json': new TextEncoder().encode('{"modelName":"ml-signal"}'),
  'evaluation.json': new TextEncoder().encode('{}'),
});

describe('SageMakerModelRegistry', () => {
  it('creates the group when missing, numbers versions as SageMaker does, and copies the artifacts', async () => {
    const sm = fakeSageMaker([]);
    const reg = new SageMakerModelRegistry(sm.client, new S3ModelRegistry(clients.s3, LOCAL_BUCKETS.models));
    const r1 = await reg.register({
      modelName: 'ml-signal',
      files: files('1'),
      actor: 'ci',
      dataHash: 'sha256:ab',
    });
    const r2 = await reg.register({
      modelName: 'ml-signal',
      files: files('2'),
      actor: 'ci',
      approveFor: ['paper'],
    });
    expect(sm.calls.map((c) => c.name)).toEqual([
      'CreateModelPackageCommand',
      'CreateModelPackageGroupCommand',
      'CreateModelPackageCommand',
      'CreateModelPackageCommand',
    ]);
    expect(sm.calls[2].input).toMatchObject({
      ModelPackageGroupName: 'ml-signal',
      ModelApprovalStatus: 'PendingManualApproval',
      CustomerMetadataProperties: { dataHash: 'sha256:ab', registeredBy: 'ci' },
    });
    expect(sm.calls[3].input.ModelApprovalStatus).toBe('Approved');
    expect([r1.version.version, r2.version.version]).toEqual([1, 2]);
    expect(r1.version.packageArn).toBe('arn:aws:sagemaker:us-east-1:123456789012:model-package/ml-signal/1');
    expect(new TextDecoder().decode(await reg.artifact('ml-signal', 2, 'model.onnx'))).toBe('model 2');
    // The same file again: no new package.
    expect((await reg.register({ modelName: 'ml-signal', files: files('1'), actor: 'ci' })).created).toBe(
      false,
    );
    expect(sm.calls.length).toBe(4);
  });

  it('reads statuses from SageMaker (all pages), approves with UpdateModelPackage and rolls back per environment', async () => {
    const fresh = fakeSageMaker(['ml-beta']);
    const r = new SageMakerModelRegistry(fresh.client, new S3ModelRegistry(clients.s3, LOCAL_BUCKETS.models));
    for (const tag of ['x', 'y', 'z'])
      await r.register({ modelName: 'ml-beta', files: files(tag), actor: 'ci' });
    expect((await r.list('ml-beta')).map((v) => [v.version, v.status])).toEqual([
      [3, 'PendingManualApproval'],
      [2, 'PendingManualApproval'],
      [1, 'PendingManualApproval'],
    ]);
    await r.approve('ml-beta', 1, 'prod', 'alice');
    await r.approve('ml-beta', 3, 'prod', 'alice');
    const updates = fresh.calls.filter((c) => c.name === 'UpdateModelPackageCommand').map((c) => c.input);
    expect(updates).toEqual([
      expect.objectContaining({
        ModelPackageArn: expect.stringMatching(/ml-beta\/1$/),
        ModelApprovalStatus: 'Approved',
      }),
      expect.objectContaining({
        ModelPackageArn: expect.stringMatching(/ml-beta\/3$/),
        ModelApprovalStatus: 'Approved',
      }),
    ]);
    expect((await r.get('ml-beta', 3)).currentFor).toEqual(['prod']);
    expect(await r.rollback('ml-beta', 'prod', 'alice')).toMatchObject({ from: 3, to: 1 });
    expect(await r.current('ml-beta', 'prod')).toBe(1);
    await expect(r.reject('ml-beta', 1, 'alice')).rejects.toThrow(/current for prod/);
    await r.reject('ml-beta', 2, 'alice');
    expect((await r.get('ml-beta', 2)).status).toBe('Rejected');
    await expect(r.get('ml-beta', 7)).rejects.toThrow(/ml-beta@7 is not a package/);
  });

  it('reads the version from a model package ARN', () => {
    expect(versionOfArn('arn:aws:sagemaker:eu-west-1:123456789012:model-package/ml-signal/12')).toBe(12);
    expect(() => versionOfArn('arn:aws:sagemaker:eu-west-1:1:model/x')).toThrow(
      /unexpected model package ARN/,
    );
  });
});
