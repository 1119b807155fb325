/**
 * `npm run bench -- sync`: `quant sync run` against `aws s3 sync` (Debian's awscli) between two
 * local S3 servers, on the same data in the same run.
 *
 * - small: 10,000 objects of 4-64 KB; large: 20 objects of 100 MB (objects/s, MB/s);
 * - incremental: 1% of the small objects changed, re-run (time vs the full run), in rounds.
 *
 * `aws s3 sync` cannot copy between two endpoints (it copies server-side within one), so the peer
 * is what people do with it: download to local disk, then upload (`aws s3 sync` twice, timed
 * together; the local folder persists between the full and the incremental run). Both tools run
 * as CLIs (startup included) with their default concurrency (quant 32 objects, awscli 10 requests).
 *
 * Env: SYNC_BENCH_SMALL (default 10000), SYNC_BENCH_LARGE (20), SYNC_BENCH_LARGE_MB (100),
 * SYNC_BENCH_INC_ROUNDS (3 incremental rounds, each a different 1%; ratios use the median, at most 10).
 */
import { execFile, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { makeS3Client } from '../src/aws/clients';
import { startLocalS3Server } from '../src/sync/local-s3';

const SMALL = Number(process.env.SYNC_BENCH_SMALL ?? 10_000);
const LARGE = Number(process.env.SYNC_BENCH_LARGE ?? 20);
const LARGE_MB = Number(process.env.SYNC_BENCH_LARGE_MB ?? 100);
const ROUNDS = Number(process.env.SYNC_BENCH_INC_ROUNDS ?? 3);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 10) {
  throw new Error(
    `SYNC_BENCH_INC_ROUNDS: expected an integer 1-10, got ${process.env.SYNC_BENCH_INC_ROUNDS}`,
  );
}
const CLI = path.resolve(import.meta.dirname, '../bin/quant.js');

function findAws(): string | undefined {
  for (const p of ['/usr/bin/aws']) if (fs.existsSync(p)) return p;
  const r = spawnSync('sh', ['-c', 'command -v aws'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** CPU seconds (user + system) of a process from /proc; for `self`, of its waited-for children. */
function cpuSeconds(pid: number | 'self', children = false): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const [u, s] = children ? [f[13], f[14]] : [f[11], f[12]];
    return (Number(u) + Number(s)) / 100; // USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}

let serverPids: number[] = [];
/** CPU the tool (a child, so counted once it exits) and both servers used during `fn`. */
async function measured<T>(fn: () => Promise<T>): Promise<{ out: T; toolCpu: number; serverCpu: number }> {
  const c0 = cpuSeconds('self', true);
  const s0 = serverPids.map((p) => cpuSeconds(p));
  const out = await fn();
  const serverCpu = serverPids.reduce((a, p, i) => a + cpuSeconds(p) - s0[i], 0);
  return { out, toolCpu: cpuSeconds('self', true) - c0, serverCpu };
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ secs: number; stdout: string }> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env, maxBuffer: 256 * 2 ** 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.slice(0, 3).join(' ')} failed: ${stderr.slice(-2000)}`));
      else resolve({ secs: (performance.now() - t) / 1000, stdout });
    });
  });
}

const load = (): string =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join('/');

async function seed(
  client: S3Client,
  bucket: string,
  items: Array<{ key: string; size: number }>,
): Promise<void> {
  let i = 0;
  const worker = async (): Promise<void> => {
    while (i < items.length) {
      const it = items[i++];
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: it.key, Body: crypto.randomBytes(it.size) }),
      );
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
}

async function main(): Promise<void> {
  const aws = findAws();
  if (!aws) {
    console.log(
      'PEER MISSING: `aws` (awscli) is not installed, so the peer cannot be measured. Install it with `apt-get install -y awscli` and re-run.',
    );
  } else {
    console.log(`peer: ${spawnSync(aws, ['--version'], { encoding: 'utf8' }).stdout.trim()} (${aws})`);
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sync-bench-'));
  const [src, dst] = await Promise.all([
    startLocalS3Server({ dir: path.join(tmp, 'src'), buckets: ['bench-src'] }),
    startLocalS3Server({ dir: path.join(tmp, 'dst'), buckets: ['bench-dst'] }),
  ]);
  serverPids = [src.pid, dst.pid];
  const s3 = makeS3Client({ endpoint: src.endpoint });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_PAGER: '',
  };
  const rows: Array<Record<string, string | number>> = [];
  try {
    // Sizes from a fixed LCG so every run copies the same byte count.
    let x = 42;
    const rnd = (): number => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const small = Array.from({ length: SMALL }, (_, i) => ({
      key: `small/d${String(i % 100).padStart(2, '0')}/obj-${String(i).padStart(6, '0')}.bin`,
      size: 4096 + Math.floor(rnd() * (64 - 4) * 1024),
    }));
    const large = Array.from({ length: LARGE }, (_, i) => ({
      key: `large/obj-${i}.bin`,
      size: LARGE_MB * 1e6,
    }));
    const t = performance.now();
    await seed(s3, 'bench-src', small);
    await seed(s3, 'bench-src', large);
    console.log(
      `seeded ${SMALL} small + ${LARGE} large objects in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    const bytes = (items: Array<{ size: number }>): number => items.reduce((a, b) => a + b.size, 0);

    const engineSecs: number[] = [];
    const quant = async (prefix: string, label: string, n: number, b: number): Promise<number> => {
      const loadBefore = load();
      const {
        out: r,
        toolCpu,
        serverCpu,
      } = await measured(() =>
        run(
          process.execPath,
          [
            CLI,
            'sync',
            'run',
            '--source',
            `s3://bench-src/${prefix}`,
            '--dest',
            `s3://bench-dst/quant/${prefix}`,
            '--source-endpoint',
            src.endpoint,
            '--dest-endpoint',
            dst.endpoint,
            '--json',
          ],
          env,
        ),
      );
      const rep = JSON.parse(r.stdout) as {
        copied: { objects: number };
        failed: { objects: number };
        elapsedSeconds: number;
      };
      if (rep.failed.objects > 0) throw new Error(`quant: ${rep.failed.objects} failed`);
      rows.push({
        case: label,
        tool: 'quant sync run',
        seconds: +r.secs.toFixed(2),
        engine: rep.elapsedSeconds,
        copied: rep.copied.objects,
        'objects/s': +(n / r.secs).toFixed(1),
        'MB/s': +(b / 1e6 / r.secs).toFixed(1),
        cpu: `${toolCpu.toFixed(1)} / ${serverCpu.toFixed(1)}`,
        load: `${loadBefore} -> ${load()}`,
      });
      engineSecs.push(rep.elapsedSeconds);
      return r.secs;
    };
    const peer = async (prefix: string, label: string, n: number, b: number): Promise<number | undefined> => {
      if (!aws) {
        rows.push({ case: label, tool: 'aws s3 sync (NOT INSTALLED)', seconds: NaN });
        return undefined;
      }
      const local = path.join(tmp, 'aws-local', prefix);
      const loadBefore = load();
      const m = await measured(async () => {
        const down = await run(
          aws,
          [
            's3',
            'sync',
            `s3://bench-src/${prefix}`,
            local,
            '--endpoint-url',
            src.endpoint,
            '--only-show-errors',
          ],
          env,
        );
        const up = await run(
          aws,
          [
            's3',
            'sync',
            local,
            `s3://bench-dst/aws/${prefix}`,
            '--endpoint-url',
            dst.endpoint,
            '--only-show-errors',
          ],
          env,
        );
        return { down, up };
      });
      const { down, up } = m.out;
      const secs = down.secs + up.secs;
      rows.push({
        case: label,
        tool: `aws s3 sync (down ${down.secs.toFixed(1)} s + up ${up.secs.toFixed(1)} s)`,
        seconds: +secs.toFixed(2),
        copied: NaN,
        'objects/s': +(n / secs).toFixed(1),
        'MB/s': +(b / 1e6 / secs).toFixed(1),
        cpu: `${m.toolCpu.toFixed(1)} / ${m.serverCpu.toFixed(1)}`,
        load: `${loadBefore} -> ${load()}`,
      });
      return secs;
    };

    const sb = bytes(small);
    const lb = bytes(large);
    // `quant` runs the build in dist/ (bin/build.js), rebuilt first when a source changed: bring it
    // up to date here, untimed, so the full run does not include a build.
    await run(process.execPath, [CLI, 'sync', 'estimate', '--size', '1TB', '--gbps', '1'], env);
    const qSmall = await quant('small', `full: ${SMALL} x 4-64 KB`, SMALL, sb);
    const aSmall = await peer('small', `full: ${SMALL} x 4-64 KB`, SMALL, sb);
    const qLarge = await quant('large', `full: ${LARGE} x ${LARGE_MB} MB`, LARGE, lb);
    const aLarge = await peer('large', `full: ${LARGE} x ${LARGE_MB} MB`, LARGE, lb);

    // 1% changed (new content, same keys; half of them a different size), in ROUNDS rounds, each a
    // different 1%: a ~2 s run on a shared machine is noisy, so the ratios use the median round.
    const qIncs: number[] = [];
    const qIncEngine: number[] = [];
    const aIncs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const changed = small
        .filter((_, i) => i % 100 === 7 + 10 * round)
        .map((o, i) => ({ ...o, size: i % 2 ? o.size : o.size + 1 }));
      await seed(s3, 'bench-src', changed);
      const cb = bytes(changed);
      const label = `incremental ${round + 1}: ${changed.length} of ${SMALL} changed`;
      qIncs.push(await quant('small', label, changed.length, cb));
      qIncEngine.push(engineSecs[engineSecs.length - 1]);
      const a = await peer('small', label, changed.length, cb);
      if (a !== undefined) aIncs.push(a);
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const qInc = median(qIncs);
    const aInc = aIncs.length > 0 ? median(aIncs) : undefined;

    console.log(
      '\n| case | tool | seconds (wall, CLI start included) | engine s | objects/s | MB/s | CPU s tool / servers | load 1/5/15 min before -> after |\n| --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const r of rows) {
      console.log(
        `| ${r.case} | ${r.tool} | ${r.seconds} | ${r.engine ?? ''} | ${r['objects/s'] ?? ''} | ${r['MB/s'] ?? ''} | ${r.cpu ?? ''} | ${r.load ?? ''} |`,
      );
    }
    const ratio = (a: number | undefined, b: number): string =>
      a === undefined ? 'n/a (peer missing)' : `${(a / b).toFixed(2)}x`;
    console.log(`\nquant vs aws, small objects: ${ratio(aSmall, qSmall)} (goal >= 2x)`);
    console.log(`quant vs aws, large objects: ${ratio(aLarge, qLarge)} (goal >= 1x)`);
    console.log(
      `quant full / incremental (1% changed): ${(qSmall / qInc).toFixed(1)}x wall, ${(engineSecs[0] / median(qIncEngine)).toFixed(1)}x engine (goal >= 20x; median of ${ROUNDS} rounds)`,
    );
    if (aInc !== undefined)
      console.log(
        `aws full / incremental: ${((aSmall ?? 0) / aInc).toFixed(1)}x (median of ${ROUNDS} rounds)`,
      );
    // The goals, wall time with CLI start-up included on both sides.
    const goal = (what: string, met: boolean | undefined, measured: string): void =>
      console.log(
        `GOAL ${met === undefined ? 'NOT MEASURED' : met ? 'MET' : 'MISSED'}: ${what} (measured: ${measured})`,
      );
    goal(
      `small objects (${SMALL} x 4-64 KB): >= 2x aws s3 sync`,
      aSmall === undefined ? undefined : aSmall / qSmall >= 2,
      ratio(aSmall, qSmall),
    );
    goal(
      `large objects (${LARGE} x ${LARGE_MB} MB): >= aws s3 sync`,
      aLarge === undefined ? undefined : aLarge / qLarge >= 1,
      ratio(aLarge, qLarge),
    );
    goal(
      'incremental re-run with 1% changed >= 20x faster than the full run',
      qSmall / qInc >= 20,
      `${(qSmall / qInc).toFixed(1)}x (wall, CLI start included)`,
    );
  } finally {
    s3.destroy();
    await Promise.all([src.stop(), dst.stop()]);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
