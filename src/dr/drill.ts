/**
 * The local restore drill: back up the data directory's trading tables and lake through their APIs,
 * stop its local cloud, delete the whole directory, start a fresh cloud in it, restore, and compare
 * the fingerprints (snapshot.ts) before and after. Halted accounts must come back halted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClients, type AwsClients } from '../aws/clients';
import { LocalCloud } from '../local/cloud';
import { ensureLocalTradingTables } from '../trading/tables';
import { backupLocal, type BackupSummary } from './backup';
import { loadBackup, restoreLocal } from './restore';
import { differences, takeSnapshot, type SnapshotPart, type StateSnapshot } from './snapshot';

export interface DrillOptions {
  readonly dataDir: string;
  /** Where the backup goes (kept afterwards). @default a new directory under the system's temp dir */
  readonly backupDir?: string;
  readonly timeoutMs?: number;
  readonly progress?: (line: string) => void;
}

export interface DrillReport {
  readonly dataDir: string;
  readonly backup: BackupSummary;
  readonly restore: BackupSummary;
  readonly timingsMs: {
    readonly backup: number;
    readonly destroy: number;
    readonly restore: number;
    readonly verify: number;
  };
  readonly before: StateSnapshot;
  readonly after: StateSnapshot;
  /** Parts that differ after the restore (empty: identical). */
  readonly differences: readonly SnapshotPart[];
  /** Halted before and still halted after (all of them, when `haltedKept`). */
  readonly haltedKept: boolean;
  readonly passed: boolean;
}

async function withCloud<T>(
  dataDir: string,
  timeoutMs: number | undefined,
  fn: (c: AwsClients) => Promise<T>,
): Promise<T> {
  const cloud = await LocalCloud.open({ dataDir });
  const clients = createClients({ ...cloud.runtime, timeoutMs });
  try {
    return await fn(clients);
  } finally {
    clients.destroy();
    await cloud.stop();
  }
}

export async function runDrill(opts: DrillOptions): Promise<DrillReport> {
  const dataDir = path.resolve(opts.dataDir);
  const progress = opts.progress ?? (() => {});
  const backupDir = opts.backupDir ?? path.join(mkdtempSync(path.join(os.tmpdir(), 'quant-dr-')), 'backup');
  const { before, backup, backupMs } = await withCloud(dataDir, opts.timeoutMs, async (clients) => {
    await ensureLocalTradingTables(clients.dynamodb);
    const snap = await takeSnapshot(clients);
    progress(`backing up to ${backupDir}`);
    const start = performance.now();
    const summary = await backupLocal(clients, backupDir, undefined, progress);
    return { before: snap, backup: summary, backupMs: performance.now() - start };
  });
  const t1 = performance.now();
  progress(`destroying ${dataDir}`);
  await LocalCloud.down({ dataDir });
  rmSync(dataDir, { recursive: true, force: true });
  const t2 = performance.now();
  const { restore, after, t3 } = await withCloud(dataDir, opts.timeoutMs, async (clients) => {
    progress(`restoring from ${backupDir}`);
    const r = await restoreLocal(clients, loadBackup(backupDir), progress);
    const restoredAt = performance.now();
    return { restore: r, after: await takeSnapshot(clients), t3: restoredAt };
  });
  const t4 = performance.now();
  const diff = differences(before, after);
  const haltedKept =
    before.halted.every((k) => after.halted.includes(k)) && after.halted.length === before.halted.length;
  return {
    dataDir,
    backup,
    restore,
    timingsMs: {
      backup: Math.round(backupMs),
      destroy: Math.round(t2 - t1),
      restore: Math.round(t3 - t2),
      verify: Math.round(t4 - t3),
    },
    before,
    after,
    differences: diff,
    haltedKept,
    passed: diff.length === 0 && haltedKept,
  };
}
