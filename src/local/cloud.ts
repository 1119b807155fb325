/**
 * The local cloud (embedded default): S3 (s3rver), Kinesis (kinesalite) and DynamoDB (dynalite)
 * on 127.0.0.1, with their state under one data directory (`.quant/` by default) so that a restart
 * finds the data again. The servers run in one child process (see server-host.ts).
 *
 * - `LocalCloud.start()` starts servers owned by this process (tests, one-shot commands).
 * - `LocalCloud.up()` starts them detached and records them in `<dataDir>/local.json` (`quant local up`).
 * - `LocalCloud.open()` attaches to a running detached cloud for the data dir, or starts an owned one.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import path from 'node:path';
import type { LocalEndpoints, Runtime } from '../aws/clients';
import { entryPoint } from '../entry-points';
import { DEFAULT_DATA_DIR, LOCAL_REGION } from './defaults';

export { DEFAULT_DATA_DIR, LOCAL_REGION } from './defaults';

export interface LocalCloudOptions {
  /** Where the servers keep their state. @default `.quant` in the working directory */
  readonly dataDir?: string;
  /** Fixed ports; 0 picks free ones. @default all 0 */
  readonly ports?: Partial<Record<keyof LocalEndpoints, number>>;
  /** How long to wait for the servers to listen. @default 30 s */
  readonly startTimeoutMs?: number;
  /**
   * The stand-ins to start when this call starts servers (attaching to a running cloud gets all of
   * them). A service not started has an endpoint nothing listens on. @default all
   */
  readonly services?: readonly LocalService[];
}

export type LocalService = keyof LocalEndpoints;
export const LOCAL_SERVICES: readonly LocalService[] = ['s3', 'kinesis', 'dynamodb'];

interface StateFile {
  readonly pid: number;
  readonly endpoints: LocalEndpoints;
  readonly region: string;
  readonly startedAt: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function endpointsFor(ports: Record<keyof LocalEndpoints, number>): LocalEndpoints {
  // Port 0 (a service not started): a connection fails at once, it never reaches another server.
  return {
    s3: `http://127.0.0.1:${ports.s3}`,
    kinesis: `http://127.0.0.1:${ports.kinesis}`,
    dynamodb: `http://127.0.0.1:${ports.dynamodb}`,
  };
}

type ReadyMessage = { type: 'ready'; pid: number; ports: Record<keyof LocalEndpoints, number> };

function spawnHost(
  dataDir: string,
  opts: LocalCloudOptions,
  detached: boolean,
): Promise<{ child: ChildProcess; ready: ReadyMessage }> {
  mkdirSync(dataDir, { recursive: true });
  const args = ['--data-dir', dataDir];
  for (const [k, v] of Object.entries(opts.ports ?? {}))
    args.push(`--${k === 'dynamodb' ? 'dynamodb' : k}-port`, String(v));
  if (detached) args.push('--detached');
  if (opts.services) args.push('--services', opts.services.join(','));
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

  private static stateFile(dataDir: string): string {
    return path.join(dataDir, 'local.json');
  }

  /** The detached cloud running for this data dir, if any (a stale state file is removed). */
  static running(opts: LocalCloudOptions = {}): LocalCloud | undefined {
    const dataDir = path.resolve(opts.dataDir ?? DEFAULT_DATA_DIR);
    const file = LocalCloud.stateFile(dataDir);
    if (!existsSync(file)) return undefined;
    const state = JSON.parse(readFileSync(file, 'utf8')) as StateFile;
    if (!isAlive(state.pid)) {
      rmSync(file, { force: true });
      return undefined;
    }
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
    return new LocalCloud(dataDir, endpointsFor(ready.ports), ready.pid, child);
  }

  /** Attaches to the running cloud for the data dir, or starts one owned by this process. */
  static async open(opts: LocalCloudOptions = {}): Promise<LocalCloud> {
    return LocalCloud.running(opts) ?? LocalCloud.start(opts);
  }

  /** `quant local up`: starts detached servers that outlive this process. */
  static async up(opts: LocalCloudOptions = {}): Promise<LocalCloud> {
    const existing = LocalCloud.running(opts);
    if (existing) return existing;
    const dataDir = path.resolve(opts.dataDir ?? DEFAULT_DATA_DIR);
    // A detached cloud serves every later command: all the stand-ins.
    const { child, ready } = await spawnHost(dataDir, { ...opts, services: undefined }, true);
    child.removeAllListeners('exit');
    child.unref();
    child.disconnect?.();
    const endpoints = endpointsFor(ready.ports);
    const state: StateFile = {
      pid: ready.pid,
      endpoints,
      region: LOCAL_REGION,
      startedAt: new Date().toISOString(),
    };
    writeFileSync(LocalCloud.stateFile(dataDir), `${JSON.stringify(state, null, 2)}\n`);
    return new LocalCloud(dataDir, endpoints, ready.pid, undefined);
  }

  /** `quant local down`: stops the detached cloud of the data dir. Returns false if none ran. */
  static async down(opts: LocalCloudOptions = {}): Promise<boolean> {
    const running = LocalCloud.running(opts);
    if (!running) return false;
    process.kill(running.pid, 'SIGTERM');
    for (let i = 0; i < 100 && isAlive(running.pid); i++) await new Promise((r) => setTimeout(r, 50));
    if (isAlive(running.pid)) process.kill(running.pid, 'SIGKILL');
    rmSync(LocalCloud.stateFile(running.dataDir), { force: true });
    return true;
  }

  /** Stops owned servers (waits for them to flush); a no-op for an attached handle. */
  async stop(): Promise<void> {
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
