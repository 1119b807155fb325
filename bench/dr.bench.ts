/**
 * Disaster-recovery benchmark: the local restore drill (`quant dr drill`, src/dr/drill.ts) on a data
 * directory with a realistic trading day: 10,000 orders, a book of 500 positions, limits, states,
 * 2,000 audit batches (one object each, as the local audit sink writes them) and 64 MiB of lake
 * objects. Reports backup, destroy and restore times. Peer: copying the data directory's files
 * (`cp -a`, what one would do without the APIs) and restoring that copy, on the same data.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createClients } from '../src/aws/clients';
import { runDrill } from '../src/dr/drill';
import { LocalCloud } from '../src/local/cloud';
import { LOCAL_BUCKETS } from '../src/local/buckets';
import { auditEvent } from '../src/trading/audit';
import { withPosition } from '../src/trading/book';
import { changeState, tradingServices } from '../src/trading/context';

const ORDERS = 10_000;
const POSITIONS = 500;
const AUDIT_BATCHES = 2_000;
const LAKE_OBJECTS = 64;
const LAKE_OBJECT_BYTES = 2 ** 20;

async function seed(dataDir: string): Promise<void> {
  const cloud = await LocalCloud.open({ dataDir });
  const clients = createClients(cloud.runtime);
  try {
    const svc = await tradingServices(clients);
    await svc.risk.putLimits('main', {
      securities: { SPY: { adv: 5e7 } },
      limits: { maxPositionWeight: 0.2 },
    });
    await changeState(svc, { account: 'main' }, 'halt', 'bench', 'drill');
    let book = await svc.books.create('main', 1_000_000_000);
    let next = book;
    for (let i = 0; i < POSITIONS; i++)
      next = { ...withPosition(next, `SYM${i}`, 100 + i, 10_000 + i), version: book.version };
    book = await svc.books.replace(book, next);
    for (let i = 0; i < ORDERS; i += 25) {
      const items = Array.from({ length: Math.min(25, ORDERS - i) }, (_, j) => ({
        PutRequest: {
          Item: {
            orderId: { S: `sig-${i + j}#main` },
            symbol: { S: `SYM${(i + j) % POSITIONS}` },
            qty: { N: String(100 + j) },
            status: { S: 'FILLED' },
            price: { N: '101.25' },
          },
        },
      }));
      await clients.dynamodb.send(
        new BatchWriteItemCommand({ RequestItems: { [svc.tables.orders]: items } }),
      );
    }
    for (let i = 0; i < AUDIT_BATCHES; i += 50)
      await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          svc.audit.put([
            auditEvent(
              'fill',
              { account: 'main', orderId: `sig-${i + j}#main` },
              { qty: 100, price: 101.25 },
            ),
          ]),
        ),
      );
    const body = Buffer.alloc(LAKE_OBJECT_BYTES, 7);
    for (let i = 0; i < LAKE_OBJECTS; i++)
      await clients.s3.send(
        new PutObjectCommand({
          Bucket: LOCAL_BUCKETS.raw,
          Key: `ticks/dt=2026-12-0${1 + (i % 7)}/symbol=S${i}/part-0.parquet`,
          Body: body,
        }),
      );
  } finally {
    clients.destroy();
    await cloud.stop();
  }
}

const root = mkdtempSync(path.join(os.tmpdir(), 'bench-dr-'));
const dataDir = path.join(root, 'data');
try {
  const t0 = performance.now();
  await seed(dataDir);
  console.log(
    `seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${ORDERS} orders, ${POSITIONS} positions, ${AUDIT_BATCHES} audit objects, ${LAKE_OBJECTS} x 1 MiB lake objects`,
  );
  await LocalCloud.down({ dataDir });
  // Peer: the data directory's files, copied with the cloud stopped, and copied back.
  const copy = path.join(root, 'copy');
  let t = performance.now();
  execFileSync('cp', ['-a', dataDir, copy]);
  const cpBackup = performance.now() - t;
  t = performance.now();
  execFileSync('cp', ['-a', copy, path.join(root, 'copy-back')]);
  const cpRestore = performance.now() - t;

  const r = await runDrill({ dataDir, backupDir: path.join(root, 'backup') });
  await LocalCloud.down({ dataDir });
  console.log(
    `drill ${r.passed ? 'passed' : 'FAILED'}: ${r.backup.items} items, ${r.backup.objects} objects, ${(r.backup.bytes / 2 ** 20).toFixed(1)} MiB`,
  );
  console.log('| step | quant dr (APIs) | cp -a of the data dir (peer) |');
  console.log('| --- | --- | --- |');
  console.log(`| backup | ${(r.timingsMs.backup / 1000).toFixed(2)} s | ${(cpBackup / 1000).toFixed(2)} s |`);
  console.log(`| destroy (stop cloud, rm -rf) | ${(r.timingsMs.destroy / 1000).toFixed(2)} s | |`);
  console.log(
    `| restore (fresh cloud start included) | ${(r.timingsMs.restore / 1000).toFixed(2)} s | ${(cpRestore / 1000).toFixed(2)} s |`,
  );
  console.log(`| verify (fingerprints) | ${(r.timingsMs.verify / 1000).toFixed(2)} s | |`);
  console.log(
    `load average: ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  if (!r.passed) process.exitCode = 1;
} finally {
  rmSync(root, { recursive: true, force: true });
}
