/**
 * Hosts the local stand-ins (s3rver, kinesalite, dynalite) in one child process on 127.0.0.1.
 * A separate process because s3rver's ListObjectsV2 continuation tokens use DES, which Node 20
 * only allows with --openssl-legacy-provider, and so `quant local up` can detach it.
 *
 * Protocol: started with IPC; sends { type: 'ready', ports } once listening, or { type: 'error' }.
 * Without --detached it exits when the parent disconnects, so servers never outlive their owner.
 * With --idle-ms it is the data directory's shared cloud (lease.ts): it writes local.json and stops
 * once no command has used it for that long.
 */
import fs, { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import { LOCAL_BUCKET_NAMES } from './buckets';
import { LOCAL_REGION, LOCAL_SERVICES, localEndpoints } from './defaults';
import { beat, idleCheck, isAlive, stateFile, unlock, writeAtomic } from './lease';
import { runHost, startS3rver } from './s3rver-store';

const require = createRequire(import.meta.url);

interface HostArgs {
  dataDir: string;
  detached: boolean;
  /** Shared mode (lease.ts): write local.json, stop after this long without users. */
  idleMs: number | undefined;
  ports: { s3: number; kinesis: number; dynamodb: number };
  /** The stand-ins to start (`--services s3,kinesis`); @default all */
  services: ReadonlySet<string>;
}

function parseArgs(argv: readonly string[]): HostArgs {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const dataDir = get('data-dir');
  if (!dataDir) throw new Error('--data-dir is required');
  return {
    dataDir,
    detached: argv.includes('--detached'),
    idleMs: get('idle-ms') === undefined ? undefined : Number(get('idle-ms')),
    services: new Set(get('services')?.split(',') ?? LOCAL_SERVICES),
    ports: Object.fromEntries(
      LOCAL_SERVICES.map((p) => [p, Number(get(`${p}-port`) ?? 0)]),
    ) as HostArgs['ports'],
  };
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  for (const d of LOCAL_SERVICES) mkdirSync(path.join(args.dataDir, d), { recursive: true });

  // Each stand-in is loaded only when asked for: a command that uses S3 alone starts s3rver alone.
  const s3 = args.services.has('s3')
    ? await startS3rver({
        directory: path.join(args.dataDir, 's3'),
        port: args.ports.s3,
        buckets: LOCAL_BUCKET_NAMES,
      })
    : undefined;

  /** kinesalite or dynalite on its directory, the stand-in's delays set to 0. */
  const serve = async (
    service: 'kinesis' | 'dynamodb',
    module: string,
    options: Record<string, number>,
  ): Promise<{ server?: Server; port: number }> => {
    if (!args.services.has(service)) return { port: 0 };
    const server = require(module)({ path: path.join(args.dataDir, service), ...options }) as Server;
    return { server, port: await listen(server, args.ports[service]) };
  };
  const { server: kinesis, port: kinesisPort } = await serve('kinesis', 'kinesalite', {
    createStreamMs: 0,
    deleteStreamMs: 0,
    updateStreamMs: 0,
    shardLimit: 100,
  });
  const { server: dynamo, port: dynamoPort } = await serve('dynamodb', 'dynalite', {
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });

  const ports = { s3: s3?.port ?? 0, kinesis: kinesisPort, dynamodb: dynamoPort };

  let closing = false;
  const close = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    await Promise.allSettled([
      s3?.close(),
      kinesis && new Promise((r) => kinesis.close(r)),
      dynamo && new Promise((r) => dynamo.close(r)),
    ]);
    if (args.idleMs !== undefined) {
      try {
        const state = JSON.parse(fs.readFileSync(stateFile(args.dataDir), 'utf8')) as { pid: number };
        if (state.pid === process.pid || !isAlive(state.pid)) fs.rmSync(stateFile(args.dataDir));
      } catch {
        // already gone
      }
      unlock(args.dataDir); // held when stopping for idleness: released once the servers are closed
    }
    process.exit(0);
  };
  process.on('SIGTERM', () => void close());
  process.on('SIGINT', () => void close());
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'stop') void close();
  });
  if (!args.detached) process.on('disconnect', () => void close());

  if (args.idleMs !== undefined) {
    const idleMs = args.idleMs;
    beat(args.dataDir, true);
    writeAtomic(
      stateFile(args.dataDir),
      `${JSON.stringify(
        {
          pid: process.pid,
          endpoints: localEndpoints(ports),
          region: LOCAL_REGION,
          startedAt: new Date().toISOString(),
        },
        null,
        2,
      )}\n`,
    );
    let idleSince = Date.now();
    const timer = setInterval(() => {
      if (closing) {
        clearInterval(timer); // no beat while the host shuts down
        return;
      }
      try {
        beat(args.dataDir);
      } catch {
        // the heartbeat or the data directory went away: idleCheck below stops the host if need be
      }
      let verdict: ReturnType<typeof idleCheck>;
      try {
        verdict = idleCheck(args.dataDir, idleSince, idleMs);
      } catch {
        verdict = 'stop'; // the data directory went away
      }
      if (verdict === 'busy') idleSince = Date.now();
      if (verdict === 'stop') {
        clearInterval(timer);
        void close();
      }
    }, 250);
  }
  process.send?.({ type: 'ready', pid: process.pid, ports });
  if (args.detached) process.disconnect?.();
}

runHost(main, true);
