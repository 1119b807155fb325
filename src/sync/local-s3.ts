/**
 * A stand-alone local S3 server (s3rver in a child process, atomic writes) for a second "account":
 * the vendor's bucket in the demo, and the other side of a sync in tests and benchmarks.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { entryPoint } from '../entry-points';

export interface LocalS3ServerOptions {
  /** Directory holding the server's buckets (kept across restarts). */
  readonly dir: string;
  /** Buckets created at start. @default none */
  readonly buckets?: readonly string[];
  /** @default 0 (a free port) */
  readonly port?: number;
}

export interface LocalS3Server {
  /** `http://127.0.0.1:PORT` */
  readonly endpoint: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export function startLocalS3Server(opts: LocalS3ServerOptions): Promise<LocalS3Server> {
  const args = ['--dir', opts.dir, '--port', String(opts.port ?? 0)];
  for (const b of opts.buckets ?? []) args.push('--bucket', b);
  const child: ChildProcess = fork(entryPoint('s3-server-host'), args, {
    execArgv: ['--openssl-legacy-provider'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('local S3 server did not start within 30 s'));
    }, 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`local S3 server exited during start (code ${code})`));
    });
    child.once('message', (m: { type: string; port?: number; message?: string }) => {
      clearTimeout(timer);
      child.removeAllListeners('exit');
      if (m.type !== 'ready') {
        reject(new Error(`local S3 server failed to start: ${m.message}`));
        return;
      }
      resolve({
        endpoint: `http://127.0.0.1:${m.port}`,
        pid: child.pid!,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) {
              done();
              return;
            }
            const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
            child.once('exit', () => {
              clearTimeout(kill);
              done();
            });
            child.kill('SIGTERM');
          }),
      });
    });
  });
}
