/**
 * The lake's pending markers as the trading path's reader sees them (LakeBarReader, used by the
 * Lambdas): an import abandoned on another machine fails a read of its series at once, a running
 * one is waited for, and a committing writer keeps its marker's heartbeat fresh so that readers
 * elsewhere can tell the two apart. Against the local S3 server over its real protocol.
 */
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients, type AwsClients } from '../../../src/aws/clients';
import { InputError } from '../../../src/errors';
import { importBars } from '../../../src/lake/bars';
import { LakeBarReader } from '../../../src/lake/bars-reader';
import {
  deletePending,
  isRunning,
  newPending,
  pendingKey,
  putPending,
  REMOTE_STALE_MS,
  startHeartbeat,
  type PendingWrite,
} from '../../../src/lake/commit';
import { BARS } from '../../../src/contract/lake';
import { LOCAL_BUCKETS } from '../../../src/local/buckets';
import { LocalCloud } from '../../../src/local/cloud';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pending-markers-'));
const bucket = LOCAL_BUCKETS.curated;
let cloud: LocalCloud;
let clients: AwsClients;
const DAY = 86_400_000;
const T0 = Date.UTC(2024, 0, 2);

beforeAll(async () => {
  cloud = await LocalCloud.start({ dataDir: dir });
  clients = createClients(cloud.runtime);
  for (const symbol of ['AAA', 'BBB']) {
    const ts = Array.from({ length: 5 }, (_, i) => T0 + i * DAY);
    await importBars(
      { clients, buckets: LOCAL_BUCKETS, tmpDir: dir },
      {
        symbol: ts.map(() => symbol),
        ts,
        open: ts.map(() => 100),
        high: ts.map(() => 101),
        low: ts.map(() => 99),
        close: ts.map((_, i) => 100 + i),
        volume: ts.map(() => 1000),
      },
      { interval: '1d' },
    );
  }
});

afterAll(async () => {
  clients?.destroy();
  await cloud?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A marker of an import into AAA's 2024 partition (and another symbol's), written on another host. */
function remoteMarker(id: string, heartbeatAgoMs: number): PendingWrite {
  const now = Date.now();
  return {
    ...newPending(
      BARS.name,
      id,
      ['interval=1d/symbol=AAA/year=2024', 'interval=1d/symbol=ZZZ/year=2024'],
      10,
    ),
    host: 'another-host',
    pid: 1,
    startedAt: new Date(now - heartbeatAgoMs - 60_000).toISOString(),
    heartbeatAt: new Date(now - heartbeatAgoMs).toISOString(),
  };
}

describe('LakeBarReader and pending imports', () => {
  it('reads a series with no pending import', async () => {
    const bars = await new LakeBarReader(clients.s3, bucket).read('AAA', '1d', T0, T0 + 10 * DAY);
    expect(bars.map((b) => b.close)).toEqual([100, 101, 102, 103, 104]);
  });

  it('fails at once on an abandoned import (stale heartbeat), and only for the series it touches', async () => {
    const m = remoteMarker('abandoned', REMOTE_STALE_MS + 1_000);
    await putPending(clients.s3, bucket, m);
    try {
      const reader = new LakeBarReader(clients.s3, bucket, BARS.prefix, { waitForWritesMs: 60_000 });
      const err = await reader.read('AAA', '1d', T0, T0 + 10 * DAY).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toMatch(
        /^bars of AAA \(1d\) are incomplete: an import of 10 rows into 2 partitions, .* \(pid 1 on another-host\), did not finish; run the same import again/,
      );
      await expect(reader.latest('AAA', '1d', T0 + 10 * DAY)).rejects.toThrow(/did not finish/);
      expect((await reader.latest('BBB', '1d', T0 + 10 * DAY))?.close).toBe(104);
    } finally {
      await deletePending(clients.s3, bucket, BARS.name, m.id);
    }
  });

  it('waits for a running import (fresh heartbeat) and reads once it is done', async () => {
    const m = remoteMarker('running', 0);
    await putPending(clients.s3, bucket, m);
    const reader = new LakeBarReader(clients.s3, bucket, BARS.prefix, { waitForWritesMs: 60_000 });
    let settled = false;
    const read = reader.read('AAA', '1d', T0, T0 + 10 * DAY).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 600));
    expect(settled).toBe(false);
    await deletePending(clients.s3, bucket, BARS.name, m.id);
    expect((await read).length).toBe(5);
  });

  it('gives up on a running import after waitForWritesMs, saying it is still running', async () => {
    const m = remoteMarker('slow', 0);
    await putPending(clients.s3, bucket, m);
    try {
      const reader = new LakeBarReader(clients.s3, bucket, BARS.prefix, { waitForWritesMs: 300 });
      await expect(reader.read('AAA', '1d', T0, T0 + 10 * DAY)).rejects.toThrow(/is still running/);
    } finally {
      await deletePending(clients.s3, bucket, BARS.name, m.id);
    }
  });
});

describe('pending marker heartbeat', () => {
  it('a remote marker is running while its heartbeat is fresh, abandoned once it is stale', () => {
    const now = Date.now();
    expect(isRunning(remoteMarker('a', 1_000), now)).toBe(true);
    expect(isRunning(remoteMarker('b', REMOTE_STALE_MS + 1_000), now)).toBe(false);
    // Markers of older writers have no heartbeat: their start time counts.
    const { heartbeatAt: _, ...old } = remoteMarker('c', 0);
    expect(isRunning({ ...old, startedAt: new Date(now - REMOTE_STALE_MS - 1).toISOString() }, now)).toBe(
      false,
    );
  });

  it('refreshes the marker while the write runs and never writes it again once stopped', async () => {
    const m = { ...newPending(BARS.name, 'heartbeat', ['interval=1d/symbol=HB/year=2024'], 1) };
    await putPending(clients.s3, bucket, m);
    const read = async (): Promise<PendingWrite> => {
      const o = await clients.s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: pendingKey(m.table, m.id) }),
      );
      return JSON.parse(await o.Body!.transformToString()) as PendingWrite;
    };
    const stop = startHeartbeat(clients.s3, bucket, m, 50);
    await new Promise((r) => setTimeout(r, 400));
    const beat = await read();
    expect(beat.heartbeatAt).toBeDefined();
    expect(Date.parse(beat.heartbeatAt!)).toBeGreaterThan(Date.parse(m.startedAt));
    await stop();
    await deletePending(clients.s3, bucket, m.table, m.id);
    await new Promise((r) => setTimeout(r, 300));
    const left = await clients.s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: pendingKey(m.table, m.id) }),
    );
    expect(left.KeyCount ?? 0).toBe(0);
  });
});
