/**
 * The local cloud (embedded default): S3 (s3rver), Kinesis (kinesalite) and DynamoDB (dynalite)
 * on 127.0.0.1, with their state under one data directory (`.quant/` by default) so that a restart
 * finds the data again. The servers run in one child process (see server-host.ts).
 *
 * - `LocalCloud.start()` starts servers owned by this process (tests, benchmarks).
 * - `LocalCloud.open()` (every command) attaches to the data directory's shared cloud, starting it
 *   in the background first if none runs; it stops by itself once no command has used it for a
 *   while (QUANT_LOCAL_IDLE_MS, default 15 s). Any number of commands can run at once: starting
 *   and stopping happen under a lock, and each command holds a lease (see lease.ts).
 * - `LocalCloud.up()` (`quant local up`) does the same and keeps the cloud running until `down()`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import {
  hungAfterMs,
  isAlive,
  isHung,
  keepFile,
  releaseLease,
  stateFile,
  takeLease,
  withLock,
} from './lease';
import path from 'node:path';
import type { LocalEndpoints, Runtime } from '../aws/clients';
import { entryPoint } from '../entry-points';
import { DEFAULT_DATA_DIR, LOCAL_REGION, localEndpoints } from './defaults';

export interface LocalCloudOptions {
  /** Where the servers keep their state. @default `.quant` in the working directory */
  readonly dataDir?: string;
  /** Fixed ports; 0 picks free ones. @default all 0 */
  readonly ports?: Partial<Record<keyof LocalEndpoints, number>>;
  /** How long to wait for the servers to listen. @default 30 s */
  readonly startTimeoutMs?: number;
  /** A shared cloud stops after this long without commands. @default QUANT_LOCAL_IDLE_MS or 15 s */
  readonly idleMs?: number;
  /**
   * The stand-ins to start, for a cloud owned by this process (`start`). The shared cloud that
   * commands attach to serves every later command, so it runs all of them. @default all
   */
  readonly services?: readonly LocalService[];
}

export type LocalService = keyof LocalEndpoints;

const DEFAULT_IDLE_MS = 15_000;

interface StateFile {
  readonly pid: number;
  readonly endpoints: LocalEndpoints;
  readonly region: string;
  readonly startedAt: string;
}

function idleMsOf(opts: LocalCloudOptions): number {
  const env = Number(process.env.QUANT_LOCAL_IDLE_MS);
  return opts.idleMs ?? (Number.isFinite(env) && env >= 0 ? env : DEFAULT_IDLE_MS);
}

type ReadyMessage = { type: 'ready'; pid: number; ports: Record<keyof LocalEndpoints, number> };

function spawnHost(
  dataDir: string,
  opts: LocalCloudOptions,
  detached: boolean,
): Promise<{ child: ChildProcess; ready: ReadyMessage }> {
  mkdirSync(dataDir, { recursive: true });
  const args = ['--data-dir', dataDir];
  for (const [k, v] of Object.entries(opts.ports ?? {})) args.push(`--${k}-port`, String(v));
  if (detached) args.push('--detached', '--idle-ms', String(idleMsOf(opts)));
  else if (opts.services) args.push('--services', opts.services.join(','));
  const logFd = detached ? openSync(path.join(dataDir, 'local.log'), 'a') : undefined;
  const child = fork(entryPoint('local-cloud-host'), args, {
    execArgv: ['--openssl-legacy-provider'],
    detached,
    stdio: detached ? ['ignore', logFd, logFd, 'ipc'] : ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  if (logFd !== undefined) closeSync(logFd);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`local cloud did not start within ${opts.startTimeoutMs ?? 30_000} ms`));
    }, opts.startTimeoutMs ?? 30_000);
    child.once('message', (m: ReadyMessage | { type: 'error'; message: string }) => {
      clearTimeout(timer);
      if (m.type === 'ready') resolve({ child, ready: m });
      else reject(new Error(`local cloud failed to start: ${m.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        new Error(`local cloud exited during start (code ${code}); see ${path.join(dataDir, 'local.log')}`),
      );
    });
  });
}

/**
 * Kills a host that is alive but no longer beats (stopped, or its loop wedged): it answers no
 * request, so every command would wait for its network timeouts. Its servers write each object
 * and record as it is received, so nothing acknowledged is lost.
 */
function isZombie(pid: number): boolean {
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

async function killHung(dataDir: string, pid: number): Promise<void> {
  process.stderr.write(
    `local cloud of ${dataDir} (pid ${pid}) stopped answering for over ${Math.round(hungAfterMs() / 1000)} s; restarting it\n`,
  );
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone meanwhile
  }
  // A killed host whose parent does not reap it stays a zombie: dead for this purpose.
  const gone = (): boolean => !isAlive(pid) || isZombie(pid);
  for (let i = 0; i < 100 && !gone(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!gone()) throw new Error(`the hung local cloud (pid ${pid}) of ${dataDir} did not exit after SIGKILL`);
}

export class LocalCloud {
  private constructor(
    readonly dataDir: string,
    readonly endpoints: LocalEndpoints,
    readonly pid: number,
    /** The child process when this process owns the servers; undefined when attached. */
    private readonly child: ChildProcess | undefined,
  ) {}

  get runtime(): Extract<Runtime, { mode: 'local' }> {
    return { mode: 'local', region: LOCAL_REGION, endpoints: this.endpoints, dataDir: this.dataDir };
  }

  /** True when this handle started the servers (and `stop()` stops them). */
  get owned(): boolean {
    return this.child !== undefined;
  }

  /** The shared cloud running for this data dir, if any. */
  static running(opts: LocalCloudOptions = {}): LocalCloud | undefined {
    const dataDir = path.resolve(opts.dataDir ?? DEFAULT_DATA_DIR);
    let state: StateFile;
    try {
      state = JSON.parse(readFileSync(stateFile(dataDir), 'utf8')) as StateFile;
    } catch {
      return undefined; // none, or being replaced
    }
    // A dead pid: the file is stale; it is removed under the lock by the next start or down.
    if (!isAlive(state.pid)) return undefined;
    return new LocalCloud(dataDir, state.endpoints, state.pid, undefined);
  }

  /** Starts servers owned by this process; they stop with `stop()` or when this process exits. */
  static async start(opts: LocalCloudOptions = {}): Promise<LocalCloud> {
    const dataDir = path.resolve(opts.dataDir ?? DEFAULT_DATA_DIR);
    if (LocalCloud.running({ dataDir })) {
      throw new Error(`a local cloud is already running for ${dataDir} (quant local down stops it)`);
    }
    const { child, ready } = await spawnHost(dataDir, opts, false);
    child.removeAllListeners('exit');
    return new LocalCloud(dataDir, localEndpoints(ready.ports), ready.pid, child);
  }

  /** The shared cloud of the data dir, started in the background when none runs. */
  private static async shared(opts: LocalCloudOptions, keep: boolean): Promise<LocalCloud> {
    const dataDir = path.resolve(opts.dataDir ?? DEFAULT_DATA_DIR);
    if (!keep) {
      const found = LocalCloud.running({ dataDir });
      if (found && !isHung(dataDir)) return found;
    }
    mkdirSync(dataDir, { recursive: true });
    return withLock(dataDir, async () => {
      // Under the lock the host cannot be deciding to stop: after this it stays.
      if (keep) writeFileSync(keepFile(dataDir), '');
      const again = LocalCloud.running({ dataDir });
      if (again && !isHung(dataDir)) return again;
      if (again) await killHung(dataDir, again.pid);
      rmSync(stateFile(dataDir), { force: true }); // a dead (or killed) cloud's
      const { child } = await spawnHost(dataDir, opts, true);
      child.removeAllListeners('exit');
      child.unref();
      child.disconnect?.();
      const started = LocalCloud.running({ dataDir });
      if (!started) throw new Error(`the local cloud started but wrote no ${stateFile(dataDir)}`);
      return started;
    });
  }

  /**
   * Attaches this command to the data dir's shared cloud (starting it if none runs). `stop()`
   * releases the command's hold; the cloud itself stops once idle.
   */
  static async open(opts: LocalCloudOptions = {}): Promise<LocalCloud> {
    const dataDir = path.resolve(opts.dataDir ?? DEFAULT_DATA_DIR);
    mkdirSync(dataDir, { recursive: true });
    // The lease comes first: a cloud about to stop for idleness sees it and stays (lease.ts).
    const lease = takeLease(dataDir);
    try {
      const cloud = await LocalCloud.shared({ ...opts, dataDir }, false);
      cloud.lease = lease;
      return cloud;
    } catch (err) {
      releaseLease(lease);
      throw err;
    }
  }

  /** `quant local up`: the shared cloud, kept running until `down()`. */
  static async up(opts: LocalCloudOptions = {}): Promise<LocalCloud> {
    return LocalCloud.shared(opts, true);
  }

  /** `quant local down`: stops the data dir's shared cloud. Returns false if none ran. */
  static async down(opts: LocalCloudOptions = {}): Promise<boolean> {
    const dataDir = path.resolve(opts.dataDir ?? DEFAULT_DATA_DIR);
    if (!existsSync(dataDir)) return false;
    return withLock(dataDir, async () => {
      rmSync(keepFile(dataDir), { force: true });
      const running = LocalCloud.running({ dataDir });
      if (!running) {
        rmSync(stateFile(dataDir), { force: true });
        return false;
      }
      process.kill(running.pid, 'SIGTERM');
      for (let i = 0; i < 200 && isAlive(running.pid); i++) await new Promise((r) => setTimeout(r, 50));
      if (isAlive(running.pid)) process.kill(running.pid, 'SIGKILL');
      rmSync(stateFile(dataDir), { force: true });
      return true;
    });
  }

  /** This command's lease on a shared cloud (see open()). */
  private lease: string | undefined;

  /** Stops owned servers (waits for them to flush); for an attached handle, releases its lease. */
  async stop(): Promise<void> {
    if (this.lease) releaseLease(this.lease);
    this.lease = undefined;
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
