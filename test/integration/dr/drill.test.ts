import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients } from '../../../src/aws/clients';
import { LocalCloud } from '../../../src/local/cloud';
import { LOCAL_BUCKETS } from '../../../src/local/buckets';
import { auditEvent } from '../../../src/trading/audit';
import { withPosition } from '../../../src/trading/book';
import { changeState, tradingServices } from '../../../src/trading/context';
import type { DrillReport } from '../../../src/dr/drill';
import { runQuant } from '../../helpers/quant-cli';

const root = mkdtempSync(path.join(os.tmpdir(), 'dr-drill-'));
const dataDir = path.join(root, 'data');
const backupDir = path.join(root, 'backup');
const otherDir = path.join(root, 'other');
// Arbitrary bytes (zeros, high bytes): the lake's objects are binary (Parquet).
const tickBytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37) % 256));

afterAll(async () => {
  await LocalCloud.down({ dataDir });
  await LocalCloud.down({ dataDir: otherDir });
  rmSync(root, { recursive: true, force: true });
});

beforeAll(async () => {
  // Trading state as the platform writes it: limits, a halted account, a reduce-only strategy,
  // a book with a position, an order, audit events, and a lake object.
  const cloud = await LocalCloud.open({ dataDir });
  const clients = createClients(cloud.runtime);
  try {
    const svc = await tradingServices(clients);
    await svc.risk.putLimits('main', {
      securities: { SPY: { adv: 5e7 } },
      limits: { maxPositionWeight: 0.2 },
    });
    await changeState(svc, { account: 'main' }, 'halt', 'alice', 'drill: broker outage');
    await changeState(svc, { account: 'main', strategy: 'sma' }, 'reduce', 'bob', 'drill: drawdown');
    const book = await svc.books.create('main', 10_000_000);
    await svc.books.replace(book, withPosition(book, 'SPY', 100, 45_012));
    await clients.doc.send(
      new PutCommand({
        TableName: svc.tables.orders,
        Item: {
          orderId: 'sig-1#main',
          symbol: 'SPY',
          side: 'buy',
          qty: 100,
          status: 'FILLED',
          fills: [{ qty: 100, px: 450.12 }],
        },
      }),
    );
    await svc.audit.put([
      auditEvent('fill', { account: 'main', orderId: 'sig-1#main' }, { qty: 100, price: 450.12 }),
    ]);
    await clients.s3.send(
      new PutObjectCommand({
        Bucket: LOCAL_BUCKETS.raw,
        Key: 'ticks/dt=2024-01-02/symbol=SPY/part-0.parquet',
        Body: tickBytes,
      }),
    );
  } finally {
    clients.destroy();
    await cloud.stop();
  }
  // Not part of the cloud's state: gone after the drill shows the directory was really deleted.
  writeFileSync(path.join(dataDir, 'marker'), 'x');
});

describe('quant dr drill (local cloud)', () => {
  let report: DrillReport;

  it('backs up, deletes the data directory, restores, and finds every part identical', async () => {
    const r = await runQuant(['--data-dir', dataDir, 'dr', 'drill', '--backup-dir', backupDir, '--json']);
    expect(r.err).not.toMatch(/error/);
    expect(r.code).toBe(0);
    report = JSON.parse(r.out) as DrillReport;
    expect(existsSync(path.join(dataDir, 'marker'))).toBe(false);
    expect(report.passed).toBe(true);
    expect(report.differences).toEqual([]);
    const counts = Object.fromEntries(Object.entries(report.before.parts).map(([k, v]) => [k, v.count]));
    // Hand-counted from the seed: 1 order, 1 book, 1 limits record, 2 states (account + sma);
    // audit: the 2 state changes and the fill, one object each (the local audit sink writes a batch per object).
    expect(counts).toMatchObject({
      orders: 1,
      positions: 1,
      limits: 1,
      tradingStates: 2,
      auditTrail: 3,
      lake: 1,
    });
    expect(report.before.auditEvents).toBe(3);
    expect(report.after.parts).toEqual(report.before.parts);
    expect(report.before.halted).toEqual(['STATE#main#*']);
    expect(report.after.halted).toEqual(['STATE#main#*']);
    expect(report.restore).toMatchObject({
      items: report.backup.items,
      objects: 4,
      bytes: report.backup.bytes,
    });
  });

  it('the restored account is still halted for the risk commands, and the lake object is byte-identical', async () => {
    const s = await runQuant([
      '--data-dir',
      dataDir,
      'risk',
      'status',
      '--account',
      'main',
      '--strategy',
      'sma',
      '--json',
    ]);
    expect(s.code).toBe(0);
    expect(JSON.parse(s.out)).toMatchObject({
      effective: 'HALTED',
      scopes: [
        { state: 'HALTED', actor: 'alice', reason: 'drill: broker outage' },
        { state: 'REDUCING', actor: 'bob' },
      ],
    });
    const cloud = await LocalCloud.open({ dataDir });
    const clients = createClients(cloud.runtime);
    try {
      const { GetObjectCommand } = await import('@aws-sdk/client-s3');
      const o = await clients.s3.send(
        new GetObjectCommand({
          Bucket: LOCAL_BUCKETS.raw,
          Key: 'ticks/dt=2024-01-02/symbol=SPY/part-0.parquet',
        }),
      );
      expect(Buffer.from(await o.Body!.transformToByteArray()).equals(tickBytes)).toBe(true);
    } finally {
      clients.destroy();
      await cloud.stop();
    }
  });

  it('restore refuses a data directory that already holds trading state (exit 2, nothing written)', async () => {
    const r = await runQuant(['--data-dir', dataDir, 'dr', 'restore', '--from', backupDir]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/table quant-risk already holds items: restore into an empty data directory/);
  });

  it('backup refuses a non-empty target', async () => {
    const r = await runQuant(['--data-dir', dataDir, 'dr', 'backup', '--to', backupDir]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`--to: ${backupDir} is not empty`);
  });

  it('a missing, corrupt or truncated backup is bad input naming the file (exit 2)', async () => {
    const missing = await runQuant([
      '--data-dir',
      otherDir,
      'dr',
      'restore',
      '--from',
      path.join(root, 'nope'),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain(`--from: ${path.join(root, 'nope')} is not a directory`);

    const noManifest = path.join(root, 'no-manifest');
    cpSync(backupDir, noManifest, { recursive: true });
    rmSync(path.join(noManifest, 'manifest.json'));
    const m = await runQuant(['--data-dir', otherDir, 'dr', 'restore', '--from', noManifest]);
    expect(m.code).toBe(2);
    expect(m.err).toContain(`${path.join(noManifest, 'manifest.json')}: missing`);

    const corrupt = path.join(root, 'corrupt');
    cpSync(backupDir, corrupt, { recursive: true });
    const table = path.join(corrupt, 'dynamodb', 'table-0.jsonl');
    const text = readFileSync(table, 'utf8');
    writeFileSync(table, text.replace('HALTED', 'ACTIVE'));
    const c = await runQuant(['--data-dir', otherDir, 'dr', 'restore', '--from', corrupt]);
    expect(c.code).toBe(2);
    expect(c.err).toContain(`${table}: corrupt: its SHA-256 does not match the manifest`);
    expect(c.err).not.toMatch(/\n\s+at /);
    // Nothing was written: the other data directory was never even started.
    expect(existsSync(otherDir)).toBe(false);
  });

  it('backup and restore as separate commands give an identical, still-halted copy', async () => {
    const r = await runQuant(['--data-dir', otherDir, 'dr', 'restore', '--from', backupDir, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ tables: 3, objects: 4 });
    const s = await runQuant(['--data-dir', otherDir, 'risk', 'status', '--account', 'main', '--json']);
    expect(JSON.parse(s.out)).toMatchObject({ effective: 'HALTED' });
    const again = path.join(root, 'again');
    const b = await runQuant(['--data-dir', otherDir, 'dr', 'backup', '--to', again, '--json']);
    expect(b.code).toBe(0);
    // The same content gives the same manifest entries (file names, sizes and hashes).
    const strip = (dir: string) => {
      const m = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { createdAt?: string };
      delete m.createdAt;
      return m;
    };
    expect(strip(again)).toEqual(strip(backupDir));
  });
});
