/**
 * `quant sync ...` runs a cached esbuild bundle (bin/sync-bundle.js) instead of the sources through
 * tsx: same output, never a stale bundle, tsx when no bundle can be had. Each test points the CLI at
 * its own cache directory (QUANT_BUNDLE_DIR); the staleness tests run a copy of bin/ and src/ so
 * editing a source never touches the checkout.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeS3Client } from '../../src/aws/s3-client';
import { MiB } from '../../src/sync/engine';
import { listAll, listPage, type ListedObject } from '../../src/sync/listing';
import { startLocalS3Server, type LocalS3Server } from '../../src/sync/local-s3';

const REPO = path.resolve(import.meta.dirname, '../..');
let tmp: string;
let vendor: LocalS3Server;
let lake: LocalS3Server;
let src: S3Client;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sync-bundle-'));
  [vendor, lake] = await Promise.all([
    startLocalS3Server({ dir: path.join(tmp, 'vendor'), buckets: ['vendor-data'] }),
    startLocalS3Server({ dir: path.join(tmp, 'lake'), buckets: ['lake-vendor'] }),
  ]);
  src = makeS3Client({ endpoint: vendor.endpoint });
  for (let i = 0; i < 30; i++) {
    await src.send(
      new PutObjectCommand({
        Bucket: 'vendor-data',
        Key: `b/d${i % 3}/f ${i}.csv`,
        Body: `row,${i}\n`.repeat(i + 1),
        Metadata: { origin: `v${i}` },
      }),
    );
  }
});

afterAll(async () => {
  src?.destroy();
  await Promise.all([vendor?.stop(), lake?.stop()]);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `<root>/bin/quant.js` with a clean AWS environment and the given extra variables. */
function quant(args: string[], env: Record<string, string>, root = REPO): Promise<Result> {
  const full: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const k of Object.keys(full)) {
    if (/^(AWS_|SOURCE_AWS_|DEST_AWS_|QUANT_)/.test(k) && !(k in env)) delete full[k];
  }
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(root, 'bin/quant.js'), ...args],
      { env: full, maxBuffer: 64 * MiB },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

const runArgs = (dest: string, ...more: string[]): string[] => [
  'sync',
  'run',
  '--source',
  's3://vendor-data/b',
  '--dest',
  `s3://lake-vendor/${dest}`,
  '--source-endpoint',
  vendor.endpoint,
  '--dest-endpoint',
  lake.endpoint,
  ...more,
];

/** The report without its timing (the one field that differs between two runs). */
function report(stdout: string): Record<string, unknown> {
  const r = JSON.parse(stdout) as Record<string, unknown>;
  expect(typeof r.elapsedSeconds).toBe('number');
  delete r.elapsedSeconds;
  return r;
}

/** Output comparable across processes: the pid in Node's warnings and the elapsed time vary. */
const stable = (r: Result): Result => ({
  code: r.code,
  stdout: r.stdout.replace(/^\d+(\.\d+)? s; /m, 'N s; '),
  stderr: r.stderr.replace(/\(node:\d+\)/g, '(node:PID)'),
});

const manifestOf = (dir: string): { bundle: string; inputs: Record<string, unknown> } =>
  JSON.parse(fs.readFileSync(path.join(dir, 'sync.json'), 'utf8'));

describe('quant sync from the bundle', () => {
  it('runs from the bundle and reports exactly what the tsx path reports', async () => {
    const cache = path.join(tmp, 'cache-same');
    const bundled = { QUANT_BUNDLE_DIR: cache };
    const viaTsx = { QUANT_BUNDLE_DIR: cache, QUANT_NO_BUNDLE: '1' };

    // The bundle is built on first use and says so under QUANT_DEBUG.
    const dry = await quant(runArgs('same-b', '--dry-run', '--json'), { ...bundled, QUANT_DEBUG: '1' });
    expect(dry.code).toBe(0);
    const m = manifestOf(cache);
    expect(dry.stderr).toContain(`quant: sync bundle: using ${path.join(cache, m.bundle)}`);
    expect(Object.keys(m.inputs)).toEqual(
      expect.arrayContaining(['src/cli/main.ts', 'src/cli/commands/sync.ts', 'src/sync/engine.ts']),
    );
    // Other commands are not in it.
    expect(Object.keys(m.inputs).some((f) => f.startsWith('src/feed/') || f.startsWith('src/lake/'))).toBe(
      false,
    );
    const dryTsx = await quant(runArgs('same-b', '--dry-run', '--json'), viaTsx);
    expect(dryTsx.code).toBe(0);
    expect(report(dry.stdout)).toEqual(report(dryTsx.stdout));

    // A real copy by each path into its own prefix: same report, same objects.
    const b = await quant(runArgs('same-b', '--json'), bundled);
    const t = await quant(runArgs('same-t', '--json'), viaTsx);
    expect(b.code).toBe(0);
    expect(t.code).toBe(0);
    const rb = report(b.stdout);
    const rt = report(t.stdout);
    expect(rb).toMatchObject({ copied: { objects: 30 }, failed: { objects: 0 } });
    expect({ ...rb, dest: '' }).toEqual({ ...rt, dest: '' });
    expect(fs.readdirSync(cache).some((f) => f.endsWith('.run.v8'))).toBe(true); // written after a run

    // Text reports, help, and every kind of error: byte-identical output and exit codes.
    const cases: string[][] = [
      runArgs('same-b'),
      ['sync', '--help'],
      ['sync', 'run', '--help'],
      ['sync'],
      ['sync', 'nope'],
      ['sync', 'estimate', '--size', '100TB', '--gbps', '5', '--daily', '100GB'],
      ['sync', 'estimate', '--size', '100XB', '--gbps', '5'],
      ['sync', 'policy', '--print', '--config', path.join(tmp, 'nope.json')],
      ['sync', 'start', '--task-arn', 'arn:aws:datasync:us-east-1:1:task/x'],
      ['sync', 'run', '--source', 'vendor-data/x', '--dest', 's3://lake-vendor/x'],
      runArgs('x', '--concurrency', '0'),
      ['sync', 'run', '--source', 's3://vendor-data/b', '--dest', 's3://no-such-bucket/x'].concat(
        runArgs('x').slice(6),
      ),
      runArgs('x', '--source-profile', 'no-such-profile'),
    ];
    for (const args of cases) {
      const env = {
        AWS_CONFIG_FILE: path.join(tmp, 'none'),
        AWS_SHARED_CREDENTIALS_FILE: path.join(tmp, 'none'),
      };
      const [x, y] = await Promise.all([
        quant(args, { ...bundled, ...env }),
        quant(args, { ...viaTsx, ...env }),
      ]);
      expect(stable(x), args.join(' ')).toEqual(stable(y));
    }
  });

  it('a profile for one side works from the bundle (the credential providers load on use)', async () => {
    const creds = path.join(tmp, 'credentials');
    fs.writeFileSync(creds, '[vendor]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n');
    const r = await quant(runArgs('profile', '--source-profile', 'vendor', '--dry-run', '--json'), {
      QUANT_BUNDLE_DIR: path.join(tmp, 'cache-same'),
      QUANT_DEBUG: '1',
      AWS_SHARED_CREDENTIALS_FILE: creds,
      AWS_CONFIG_FILE: path.join(tmp, 'none'),
    });
    expect(r.stderr).toContain('quant: sync bundle: using');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).planned.copy.objects).toBe(30);
  });

  it('falls back to tsx when no bundle can be written', async () => {
    const blocker = path.join(tmp, 'a-file');
    fs.writeFileSync(blocker, '');
    const r = await quant(runArgs('fallback', '--dry-run', '--json'), {
      QUANT_BUNDLE_DIR: path.join(blocker, 'cache'),
      QUANT_DEBUG: '1',
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/quant: sync bundle: not used \(.*(ENOTDIR|EEXIST)/);
    expect(JSON.parse(r.stdout).planned.copy.objects).toBe(30);
  });

  it('CLIs started together with an empty cache all succeed and leave one consistent bundle', async () => {
    const cache = path.join(tmp, 'cache-race');
    const runs = await Promise.all(
      [0, 1, 2].map(() =>
        quant(['sync', 'estimate', '--size', '1TB', '--gbps', '1', '--json'], { QUANT_BUNDLE_DIR: cache }),
      ),
    );
    for (const r of runs) {
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(runs[0].stdout);
    }
    const m = manifestOf(cache);
    expect(fs.existsSync(path.join(cache, m.bundle))).toBe(true);
    expect(fs.readdirSync(cache).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});

describe('listing through a client that caches its middleware (as quant sync run makes them)', () => {
  it('the page parser still runs, per request, and gives what the SDK gives', async () => {
    const cached = makeS3Client({ endpoint: vendor.endpoint, cacheMiddleware: true });
    // What the SDK itself returned: an empty document when our parser took the page.
    const sdkOutputs: Array<{ Contents?: unknown[] }> = [];
    const send = cached.send.bind(cached) as (c: unknown) => Promise<{ Contents?: unknown[] }>;
    (cached as unknown as { send: typeof send }).send = async (c) => {
      const out = await send(c);
      sdkOutputs.push(out);
      return out;
    };
    try {
      const target = { client: cached, bucket: 'vendor-data', prefix: 'b/' };
      const all = async (fast: boolean): Promise<ListedObject[]> => {
        const out: ListedObject[] = [];
        for await (const page of listAll(target, 'b/', fast)) out.push(...page);
        return out;
      };
      const fast = await all(true);
      expect(fast).toHaveLength(30);
      expect(sdkOutputs.every((o) => o.Contents === undefined)).toBe(true);
      sdkOutputs.length = 0;
      // The same cached handler with no parser box: the SDK's own result, equal.
      expect(await all(false)).toEqual(fast);
      expect(sdkOutputs[0].Contents).toHaveLength(30);
      // Concurrent pages of both kinds on one client (one shared handler) keep their own results.
      const prefixes = ['b/d0/', 'b/d1/', 'b/d2/', 'b/d0/'];
      const pages = await Promise.all(
        prefixes.map((prefix, i) => listPage(target, { prefix, maxKeys: 4 }, i % 2 === 0)),
      );
      pages.forEach((p, i) => {
        expect(p.objects).toEqual(fast.filter((o) => o.key.startsWith(prefixes[i])).slice(0, 4));
        expect(p.truncated).toBe(true);
      });
    } finally {
      cached.destroy();
    }
  });
});

describe('a stale bundle is never used', () => {
  let root: string;
  let cache: string;
  beforeAll(() => {
    // A copy of the CLI's sources (node_modules linked): edits here cannot reach the checkout.
    root = path.join(tmp, 'copy');
    fs.mkdirSync(root);
    for (const d of ['bin', 'src']) fs.cpSync(path.join(REPO, d), path.join(root, d), { recursive: true });
    for (const f of ['package.json', 'tsconfig.json'])
      fs.copyFileSync(path.join(REPO, f), path.join(root, f));
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(root, 'node_modules'));
    cache = path.join(tmp, 'cache-stale');
  });

  const estimate = (env: Record<string, string> = {}): Promise<Result> =>
    quant(['sync', 'estimate', '--size', '1TB', '--gbps', '1'], { QUANT_BUNDLE_DIR: cache, ...env }, root);

  it('an input edited after the build makes the next CLI rebuild, and the new code runs', async () => {
    const first = await estimate({ QUANT_DEBUG: '1' });
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('- no retries, throttling');
    const before = manifestOf(cache).bundle;

    // Same size, new content, written after the build: the bundle must not be used as is.
    const file = path.join(root, 'src/sync/estimate.ts');
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toContain("'no retries, throttling");
    fs.writeFileSync(file, text.replace("'no retries, throttling", "'NO RETRIES, throttling"));

    const second = await estimate({ QUANT_DEBUG: '1' });
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('src/sync/estimate.ts changed since the bundle was built');
    expect(second.stdout).toContain('- NO RETRIES, throttling');
    const after = manifestOf(cache).bundle;
    expect(after).not.toBe(before);
    expect(second.stderr).toContain(`using ${path.join(cache, after)}`);
    expect(fs.readFileSync(path.join(cache, after), 'utf8')).toContain('NO RETRIES, throttling');

    // The rebuilt bundle is reused as long as nothing changes.
    const third = await estimate({ QUANT_DEBUG: '1' });
    expect(third.stdout).toBe(second.stdout);
    expect(third.stderr).not.toContain('changed since');
    expect(manifestOf(cache).bundle).toBe(after);
  });

  it('a missing or unreadable manifest or bundle is rebuilt, not trusted', async () => {
    const good = (await estimate()).stdout;
    expect(good).toContain('full copy time');
    fs.writeFileSync(path.join(cache, 'sync.json'), '{"format":1,"bund');
    const r1 = await estimate({ QUANT_DEBUG: '1' });
    expect(r1.stdout).toBe(good);
    expect(manifestOf(cache).bundle).toMatch(/^sync-[0-9a-f]{16}\.cjs$/);
    fs.rmSync(path.join(cache, manifestOf(cache).bundle));
    const r2 = await estimate({ QUANT_DEBUG: '1' });
    expect(r2.stdout).toBe(good);
    expect(r2.stderr).toContain('using');
    expect(fs.existsSync(path.join(cache, manifestOf(cache).bundle))).toBe(true);
  });

  it('a source that cannot be bundled runs through tsx, which reports the error as before', async () => {
    const file = path.join(root, 'src/sync/uri.ts');
    const text = fs.readFileSync(file, 'utf8');
    try {
      fs.writeFileSync(file, `${text}\nexport const broken = ;\n`);
      const r = await estimate({ QUANT_DEBUG: '1' });
      expect(r.stderr).toMatch(/quant: sync bundle: not used \(Build failed/);
      expect(r.code).not.toBe(0); // tsx fails on the same syntax error
    } finally {
      fs.writeFileSync(file, text);
    }
    const fixed = await estimate({ QUANT_DEBUG: '1' });
    expect(fixed.code).toBe(0);
    expect(fixed.stderr).toContain('using');
  });
});
