/** Runs the `quant` CLI as a separate process (bin/quant.js), as a user's shell does. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { LocalCloud } from '../../src/local/cloud';

export const REPO = path.resolve(import.meta.dirname, '../..');

export interface ProcessResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function startQuant(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): { child: ChildProcess; done: Promise<ProcessResult> } {
  const child = spawn(process.execPath, [path.join(REPO, 'bin/quant.js'), ...args], {
    cwd: REPO,
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<ProcessResult>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

export const quantProcess = (
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<ProcessResult> => startQuant(args, env).done;

/**
 * Pids of local cloud hosts serving `dataDir`, from /proc: the build's `local-cloud-host` entry
 * (src/entry-points.ts), or src/local/server-host.ts run from source.
 */
export function hostPids(dataDir: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      const host = argv.some((a) => a.endsWith('server-host.ts') || /local-cloud-host\.m?js$/.test(a));
      if (host && argv.includes(dataDir)) out.push(Number(d));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/**
 * Stops the local cloud of each data directory and every host still serving one (waiting until
 * they have exited), then removes `root`. A host writes into its data directory until it exits
 * (heartbeat, DynamoDB's files on close), so removing the directory first races with it.
 */
export async function removeDataDirs(root: string, dataDirs: readonly string[] = [root]): Promise<void> {
  for (const dataDir of dataDirs) {
    await LocalCloud.down({ dataDir });
    for (const pid of hostPids(dataDir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
    for (let i = 0; i < 100 && hostPids(dataDir).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
  }
  rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
}
