import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { ListStreamsCommand } from '@aws-sdk/client-kinesis';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createClients } from '../../../src/aws/clients';
import { LocalCloud } from '../../../src/local/cloud';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cloud-services-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('a local cloud with only the stand-ins asked for', () => {
  it('starts s3rver alone: S3 answers, nothing listens for Kinesis or DynamoDB', async () => {
    const cloud = await LocalCloud.start({ dataDir: dir, services: ['s3'] });
    const clients = createClients(cloud.runtime);
    try {
      expect(cloud.endpoints.kinesis).toMatch(/:0$/);
      expect(cloud.endpoints.dynamodb).toMatch(/:0$/);
      const buckets = await clients.s3.send(new ListBucketsCommand({}));
      expect(buckets.Buckets?.length).toBeGreaterThan(0);
      await expect(clients.kinesis.send(new ListStreamsCommand({}))).rejects.toThrow();
    } finally {
      clients.destroy();
      await cloud.stop();
    }
  });
});
