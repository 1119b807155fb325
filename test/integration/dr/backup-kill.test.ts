/**
 * A `quant dr backup` killed half-way (SIGKILL, through the real CLI): the target directory never
 * appears, so nothing can restore from half a backup; the next backup to the same target removes
 * the dead run's staging directory and completes.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients } from '../../../src/aws/clients';
import { MANIFEST_FILE } from '../../../src/dr/format';
import { mapLimit } from '../../../src/map-limit';
import { LOCAL_BUCKETS } from '../../../src/local/buckets';
import { LocalCloud } from '../../../src/local/cloud';
import { quantProcess, startQuant } from '../../helpers/quant-process';

const OBJECTS = 2_000;
const root = mkdtempSync(path.join(os.tmpdir(), 'dr-kill-'));
const dataDir = path.join(root, 'data');
const target = path.join(root, 'backup');
const env = { TMPDIR: root, QUANT_LOCAL_IDLE_MS: '20000' };
const staging = (): string[] => readdirSync(root).filter((n) => n.startsWith('backup.partial-'));

beforeAll(async () => {
  const cloud = await LocalCloud.open({ dataDir });
  const clients = createClients(cloud.runtime);
  try {
    const body = Buffer.alloc(4096, 7);
    await mapLimit(
      Array.from({ length: OBJECTS }, (_, i) => i),
      16,
      (i) =>
        clients.s3.send(
          new PutObjectCommand({
            Bucket: LOCAL_BUCKETS.raw,
            Key: `ticks/dt=2024-01-02/part-${i}.parquet`,
            Body: body,
          }),
        ),
    );
  } finally {
    clients.destroy();
    await cloud.stop();
  }
});

afterAll(async () => {
  await LocalCloud.down({ dataDir });
  rmSync(root, { recursive: true, force: true });
});

describe('a killed quant dr backup', () => {
  it('leaves no backup behind; the next backup to the same target completes and clears the dead staging', async () => {
    const run = startQuant(['--data-dir', dataDir, 'dr', 'backup', '--to', target, '--json'], env);
    // Killed once it is copying objects: its staging directory holds some of them, not the manifest.
    const deadline = Date.now() + 90_000;
    let copying = false;
    while (!copying && Date.now() < deadline) {
      const [dir] = staging();
      const s3 = dir ? path.join(root, dir, 's3') : undefined;
      copying = s3 !== undefined && existsSync(s3) && readdirSync(s3).length > 0;
      if (!copying) await new Promise((r) => setTimeout(r, 5));
    }
    expect(copying, 'the backup never started copying objects').toBe(true);
    run.child.kill('SIGKILL');
    const killed = await run.done;
    expect(killed.signal, `it finished before the kill: ${killed.stdout}`).toBe('SIGKILL');

    expect(existsSync(target)).toBe(false);
    expect(staging()).toHaveLength(1);
    const restore = await quantProcess(
      ['--data-dir', path.join(root, 'other'), 'dr', 'restore', '--from', target, '--json'],
      env,
    );
    expect(restore.code).toBe(2);
    expect(restore.stderr).toContain(`--from: ${target}`);
    expect(restore.stderr).not.toMatch(/\n\s+at /);

    const again = await quantProcess(['--data-dir', dataDir, 'dr', 'backup', '--to', target, '--json'], env);
    expect(again.code, again.stderr.slice(-1500)).toBe(0);
    expect(staging()).toEqual([]);
    const manifest = JSON.parse(readFileSync(path.join(target, MANIFEST_FILE), 'utf8')) as {
      tables: unknown[];
      buckets: { name: string; objects: unknown[] }[];
    };
    // This data directory never traded: no trading tables, which is no error.
    expect(manifest.tables).toEqual([]);
    expect(manifest.buckets.find((b) => b.name === LOCAL_BUCKETS.raw)?.objects).toHaveLength(OBJECTS);
  });
});
