import { execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeS3Client } from '../../../src/aws/clients';
import { MiB } from '../../../src/sync/engine';
import { startLocalS3Server, type LocalS3Server } from '../../../src/sync/local-s3';

const CLI = path.resolve(import.meta.dirname, '../../../bin/quant.js');
let tmp: string;
let vendor: LocalS3Server;
let lake: LocalS3Server;
let src: S3Client;
let dst: S3Client;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sync-cli-'));
  [vendor, lake] = await Promise.all([
    startLocalS3Server({ dir: path.join(tmp, 'vendor'), buckets: ['vendor-data'] }),
    startLocalS3Server({ dir: path.join(tmp, 'lake'), buckets: ['lake-vendor'] }),
  ]);
  src = makeS3Client({ endpoint: vendor.endpoint });
  dst = makeS3Client({ endpoint: lake.endpoint });
});

afterAll(async () => {
  src?.destroy();
  dst?.destroy();
  await Promise.all([vendor?.stop(), lake?.stop()]);
});

// The CLI's own environment: no credentials of the machine leak into the loopback runs.
const cleanEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const k of Object.keys(env))
    if (/^(AWS_|SOURCE_AWS_|DEST_AWS_)/.test(k) && !(k in extra)) delete env[k];
  return env;
};

function quant(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: cleanEnv(env), maxBuffer: 64 * MiB },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

async function listing(client: S3Client, bucket: string, prefix: string): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) m.set(o.Key!.slice(prefix.length), `${o.Size}:${o.ETag}`);
    token = page.NextContinuationToken;
  } while (token);
  return m;
}

const runArgs = (srcPrefix: string, dstPrefix: string, ...more: string[]): string[] => [
  'sync',
  'run',
  '--source',
  `s3://vendor-data/${srcPrefix}`,
  '--dest',
  `s3://lake-vendor/${dstPrefix}`,
  '--source-endpoint',
  vendor.endpoint,
  '--dest-endpoint',
  lake.endpoint,
  ...more,
];

describe('quant sync run (CLI contract)', () => {
  it('prints the JSON report; --dry-run changes nothing; a re-run skips everything', async () => {
    for (let i = 0; i < 20; i++) {
      await src.send(
        new PutObjectCommand({
          Bucket: 'vendor-data',
          Key: `cli/f${i}.csv`,
          Body: `row,${i}\n`.repeat(i + 1),
        }),
      );
    }
    const dry = await quant(runArgs('cli', 'cli-copy', '--dry-run', '--json'));
    expect(dry.code).toBe(0);
    const d = JSON.parse(dry.stdout);
    expect(d).toMatchObject({
      dryRun: true,
      planned: { copy: { objects: 20 } },
      copied: { objects: 0, bytes: 0 },
    });
    expect((await listing(dst, 'lake-vendor', 'cli-copy/')).size).toBe(0);

    const run = await quant(runArgs('cli', 'cli-copy', '--concurrency', '4', '--json'));
    expect(run.code).toBe(0);
    const r = JSON.parse(run.stdout);
    expect(r.copied.objects).toBe(20);
    expect(r.copied.bytes).toBeGreaterThan(0);
    expect(r.skipped).toEqual({ objects: 0, bytes: 0 });
    expect(r.failed).toEqual({ objects: 0, bytes: 0, items: [] });
    expect(typeof r.elapsedSeconds).toBe('number');
    expect(await listing(dst, 'lake-vendor', 'cli-copy/')).toEqual(await listing(src, 'vendor-data', 'cli/'));

    const again = JSON.parse((await quant(runArgs('cli', 'cli-copy', '--json'))).stdout);
    expect(again.skipped.objects).toBe(20);
    expect(again.copied.objects).toBe(0);
  });

  it('bad input exits 2 with a message naming the field; wrong credentials name the side', async () => {
    const badUri = await quant([
      'sync',
      'run',
      '--source',
      'vendor-data/x',
      '--dest',
      's3://lake-vendor/x',
      '--json',
    ]);
    expect(badUri.code).toBe(2);
    expect(badUri.stderr).toMatch(/error: source: expected s3:\/\/BUCKET/);
    const badConc = await quant(runArgs('cli', 'x', '--concurrency', '0'));
    expect(badConc.code).toBe(2);
    expect(badConc.stderr).toMatch(/--concurrency: expected an integer 1-1024/);
    const creds = await quant(runArgs('cli', 'x', '--json'), {
      SOURCE_AWS_ACCESS_KEY_ID: 'NOPE',
      SOURCE_AWS_SECRET_ACCESS_KEY: 'NOPE',
    });
    expect(creds.code).toBe(2);
    expect(creds.stderr).toMatch(/source: credentials rejected .*InvalidAccessKeyId/);
    const missing = await quant([
      'sync',
      'run',
      '--source',
      's3://vendor-data/cli',
      '--dest',
      's3://no-such-bucket/x',
      '--source-endpoint',
      vendor.endpoint,
      '--dest-endpoint',
      lake.endpoint,
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/dest: bucket "no-such-bucket" does not exist/);
  });

  it('a run killed with SIGKILL and re-run ends with every object exactly once, nothing partial', async () => {
    const big = crypto.randomBytes(70 * MiB); // multipart (two 64 MiB-class parts) in flight at the kill
    await src.send(new PutObjectCommand({ Bucket: 'vendor-data', Key: 'kill/0-big.bin', Body: big }));
    for (let i = 0; i < 200; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          src.send(
            new PutObjectCommand({
              Bucket: 'vendor-data',
              Key: `kill/obj-${String(i + j).padStart(4, '0')}`,
              Body: crypto.randomBytes(4096 + ((i + j) % 7) * 1000),
            }),
          ),
        ),
      );
    }
    const source = await listing(src, 'vendor-data', 'kill/');
    const child = spawn(
      process.execPath,
      [CLI, ...runArgs('kill', 'kill-copy', '--concurrency', '4', '--json')],
      {
        env: cleanEnv(),
        stdio: 'ignore',
      },
    );
    const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, sig) => r(sig)));
    let copiedAtKill = 0;
    for (let i = 0; i < 600; i++) {
      copiedAtKill = (await listing(dst, 'lake-vendor', 'kill-copy/')).size;
      if (copiedAtKill >= 40) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(copiedAtKill).toBeGreaterThanOrEqual(40);

    // After the kill: whatever is visible is complete and identical to its source (size and MD5 ETag).
    const afterKill = await listing(dst, 'lake-vendor', 'kill-copy/');
    expect(afterKill.size).toBeLessThan(source.size);
    for (const [k, v] of afterKill) expect(v, k).toBe(source.get(k));

    const rerun = await quant(runArgs('kill', 'kill-copy', '--json'));
    expect(rerun.code).toBe(0);
    const r = JSON.parse(rerun.stdout);
    // An upload fully sent before the kill may still land after our listing: at least those skip.
    expect(r.skipped.objects).toBeGreaterThanOrEqual(afterKill.size);
    expect(r.skipped.objects + r.copied.objects).toBe(source.size);
    expect(r.copied.objects).toBeGreaterThan(0);
    expect(await listing(dst, 'lake-vendor', 'kill-copy/')).toEqual(source);
    // No temporary or partial files left behind on the destination server's disk.
    const leftovers = fs
      .readdirSync(path.join(tmp, 'lake'), { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.partial'));
    expect(leftovers).toEqual([]);
  });
});

describe('quant sync estimate / policy (CLI)', () => {
  it('estimate: the issue example, with every assumption stated', async () => {
    const r = await quant(['sync', 'estimate', '--size', '100TB', '--gbps', '5', '--daily', '100GB']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/full copy time\s+55\.56 h \(2\.31 days\)/);
    expect(r.stdout).toMatch(/full copy total\s+\$3258/);
    const assumptions = r.stdout.slice(r.stdout.indexOf('assumptions:'));
    for (const a of [
      /5 Gbit\/s x 0\.8 efficiency = 4 Gbit\/s/,
      /1 TB = 10\^12 bytes/,
      /average object 64 MB -> 1562500 objects/,
      /DataSync \$0\.0125\/GB/,
      /inter-region transfer \$0\.02\/GB/,
      /list prices \(2025\)/,
      /no retries/,
    ]) {
      expect(assumptions).toMatch(a);
    }
    const json = JSON.parse(
      (await quant(['sync', 'estimate', '--size', '1.5TiB', '--gbps', '10', '--json'])).stdout,
    );
    expect(json.bytes).toBe(1.5 * 2 ** 40);
    expect(json.assumptions.length).toBeGreaterThanOrEqual(5);
    const bad = await quant(['sync', 'estimate', '--size', '100XB', '--gbps', '5']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/size: expected a size like 100TB/);
  });

  it('policy --print: the JSON for the vendor, from a config file (the DataSyncStack output) or flags', async () => {
    const config = path.join(tmp, 'vendor-acme.json');
    fs.writeFileSync(
      config,
      JSON.stringify({
        mode: 'pull',
        account: '333333333333',
        region: 'ap-southeast-1',
        vendorAccount: '444444444444',
        vendorBucket: 'vendor-market-data',
        vendorRegion: 'us-east-1',
        vendorPrefix: 'reference/',
        roleArn: 'arn:aws:iam::333333333333:role/quant-dev-DataSyncRole-ABC',
      }),
    );
    const r = await quant(['sync', 'policy', '--print', '--config', config]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.mode).toBe('pull');
    const [list, read, deny] = doc.bucketPolicy.Statement;
    expect(list).toMatchObject({
      Principal: { AWS: 'arn:aws:iam::333333333333:role/quant-dev-DataSyncRole-ABC' },
      Resource: 'arn:aws:s3:::vendor-market-data',
      Condition: { StringLike: { 's3:prefix': ['reference/*'] } },
    });
    expect(read.Resource).toBe('arn:aws:s3:::vendor-market-data/reference/*');
    expect(deny).toMatchObject({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    expect(JSON.stringify(doc.roleTrust)).toContain('datasync.amazonaws.com');
    // Flags override the file.
    const flagged = JSON.parse(
      (await quant(['sync', 'policy', '--print', '--config', config, '--vendor-prefix', 'eod/'])).stdout,
    );
    expect(flagged.bucketPolicy.Statement[1].Resource).toBe('arn:aws:s3:::vendor-market-data/eod/*');
    // Bad values are named.
    const bad = await quant(['sync', 'policy', '--print', '--config', config, '--vendor-account', '12']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/vendorAccount: expected a 12-digit AWS account id/);
    const missing = await quant(['sync', 'policy', '--print', '--config', path.join(tmp, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--config: cannot read .*nope\.json \(ENOENT\)/);
  });
});
