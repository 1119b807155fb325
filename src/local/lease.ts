/**
 * How commands share one local cloud per data directory (docs/lake.md, "The local cloud"): files
 * under the data directory, used by cloud.ts (commands) and server-host.ts (the servers).
 *
 * - `local.lock`: held (created exclusively, holding the pid) while a cloud is started, stopped, or
 *   made to stay up. A lock whose pid no longer runs is stale and taken over.
 * - `local.json`: the running cloud (pid, endpoints), written by the host once it listens.
 * - `local.heartbeat`: touched by the host four times a second while its event loop runs; a live
 *   pid whose heartbeat is older than HUNG_AFTER_MS is a hung host, killed and replaced by the next
 *   command (a stopped or wedged process answers nothing: every command would wait for timeouts).
 * - `local-clients/<pid>-<n>`: one lease per command using the cloud. The host stops when no
 *   lease's process runs for its idle time, unless `local.keep` exists (`quant local up`).
 *
 * Stopping is safe against a command attaching at that moment: the host takes the lock, moves
 * `local.json` aside, and only then looks at the leases (a command writes its lease before it reads
 * `local.json`); if one appeared it puts `local.json` back.
 */
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';

export const lockFile = (dataDir: string): string => path.join(dataDir, 'local.lock');
export const stateFile = (dataDir: string): string => path.join(dataDir, 'local.json');
export const keepFile = (dataDir: string): string => path.join(dataDir, 'local.keep');
export const clientsDir = (dataDir: string): string => path.join(dataDir, 'local-clients');
export const heartbeatFile = (dataDir: string): string => path.join(dataDir, 'local.heartbeat');

/**
 * A host whose heartbeat is older than this is hung. Generous: the host's loop only stalls this long
 * when it is stopped or wedged, not under load. `QUANT_LOCAL_HUNG_MS` changes it (tests).
 */
export function hungAfterMs(): number {
  const env = Number(process.env.QUANT_LOCAL_HUNG_MS);
  return Number.isFinite(env) && env > 0 ? env : 30_000;
}

/**
 * The host's heartbeat: created when it starts, touched once per tick of its idle loop. A tick
 * never re-creates it: a directory being deleted under a live host would otherwise regain a file
 * between the deletion of its files and of the directory itself.
 */
export function beat(dataDir: string, start = false): void {
  const now = new Date();
  if (start) writeFileSync(heartbeatFile(dataDir), '');
  else utimesSync(heartbeatFile(dataDir), now, now);
}

/**
 * Whether the host of a data dir has stopped beating: its heartbeat file is older than
 * hungAfterMs(). A host without the file (one that predates it) counts as beating.
 */
export function isHung(dataDir: string, now = Date.now()): boolean {
  try {
    return now - statSync(heartbeatFile(dataDir)).mtimeMs > hungAfterMs();
  } catch {
    return false;
  }
}

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock if it is free or stale; false when another live process holds it. */
export function tryLock(dataDir: string): boolean {
  const file = lockFile(dataDir);
  for (let round = 0; round < 2; round++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let held: string;
    try {
      held = readFileSync(file, 'utf8');
      // Created but not yet written by its owner: give it a moment before calling it stale.
      if (held.trim() === '' && Date.now() - statSync(file).mtimeMs < 2_000) return false;
    } catch {
      continue; // released meanwhile
    }
    if (isAlive(Number(held.trim()))) return false;
    // Stale. Move it aside (atomic: one taker wins) and check it was the stale one that moved.
    const aside = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.stale`;
    try {
      renameSync(file, aside);
    } catch {
      continue;
    }
    const took = readFileSync(aside, 'utf8');
    if (took !== held) {
      // A live holder's lock: put it back (link never replaces a newer one).
      try {
        linkSync(aside, file);
      } catch {
        // someone else holds a newer lock; theirs stands
      }
      rmSync(aside, { force: true });
      return false;
    }
    rmSync(aside, { force: true });
  }
  return false;
}

export function unlock(dataDir: string): void {
  try {
    if (Number(readFileSync(lockFile(dataDir), 'utf8').trim()) === process.pid) rmSync(lockFile(dataDir));
  } catch {
    // not held
  }
}

/** Runs `fn` holding the lock, waiting for it up to `timeoutMs`. */
export async function withLock<T>(dataDir: string, fn: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (!tryLock(dataDir)) {
    if (Date.now() > deadline) {
      let holder = '?';
      try {
        holder = readFileSync(lockFile(dataDir), 'utf8').trim();
      } catch {
        // released just now
      }
      throw new Error(
        `the local cloud of ${dataDir} is being started or stopped by pid ${holder} for over ${Math.round(timeoutMs / 1000)} s; if that process hangs, stop it`,
      );
    }
    await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
  }
  try {
    return await fn();
  } finally {
    unlock(dataDir);
  }
}

/** Writes a file so that a reader sees the old content or the new, never half. */
export function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

const leases = new Set<string>();
let exitHook = false;

/** Registers a command's use of the cloud; removed by `releaseLease` or when the process exits. */
export function takeLease(dataDir: string): string {
  mkdirSync(clientsDir(dataDir), { recursive: true });
  const file = path.join(clientsDir(dataDir), `${process.pid}-${randomBytes(4).toString('hex')}`);
  writeFileSync(file, '');
  leases.add(file);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => leases.forEach((f) => rmSync(f, { force: true })));
  }
  return file;
}

export function releaseLease(file: string): void {
  leases.delete(file);
  rmSync(file, { force: true });
}

/** Number of leases whose process runs; leases of dead processes are removed. */
export function liveLeases(dataDir: string): number {
  let names: string[];
  try {
    names = readdirSync(clientsDir(dataDir));
  } catch {
    return 0;
  }
  let live = 0;
  for (const n of names) {
    if (isAlive(Number(n.split('-')[0]))) live++;
    else rmSync(path.join(clientsDir(dataDir), n), { force: true });
  }
  return live;
}

/**
 * The host's idle check: `busy` (leases or `local.keep`), `idle` (not for long enough, or the lock
 * is held), or `stop`: then the caller holds the lock and `local.json` is gone; it closes the
 * servers, then `unlock`s.
 */
export function idleCheck(dataDir: string, idleSinceMs: number, idleMs: number): 'busy' | 'idle' | 'stop' {
  if (!existsSync(dataDir)) return 'stop';
  if (existsSync(keepFile(dataDir)) || liveLeases(dataDir) > 0) return 'busy';
  if (Date.now() - idleSinceMs < idleMs) return 'idle';
  if (!tryLock(dataDir)) return 'idle';
  const state = stateFile(dataDir);
  const aside = `${state}.closing`;
  try {
    renameSync(state, aside);
  } catch {
    // no state file (its writer died early): nothing to announce
  }
  if (existsSync(keepFile(dataDir)) || liveLeases(dataDir) > 0) {
    try {
      renameSync(aside, state);
    } catch {
      // there was none
    }
    unlock(dataDir);
    return 'busy';
  }
  rmSync(aside, { force: true });
  return 'stop';
}
