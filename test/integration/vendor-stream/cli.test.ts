import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VendorSimulator } from '../../../src/vendor-stream/simulator';
import { removeDataDirs } from '../../helpers/quant-process';
import { until } from './helpers';

const root = path.resolve(import.meta.dirname, '../../..');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ingest-stream-cli-'));
afterAll(() => removeDataDirs(dataDir));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs quant asynchronously (the simulator lives in this process and must keep serving). */
function quant(
  args: string[],
  env: Record<string, string> = {},
  onStart?: (p: ReturnType<typeof spawn>) => void,
): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(root, 'bin/quant.js'), '--data-dir', dataDir, ...args], {
      cwd: root,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (status) => resolve({ status, stdout, stderr }));
    onStart?.(p);
  });
}

const COUNTS = ['received', 'published', 'reconnects', 'backfilled', 'duplicates', 'quarantined'];

describe('quant ingest stream (CLI)', () => {
  it('streams from the simulator through a disconnect, prints the counts, and quant ingest run lands every tick', async () => {
    const sim = await VendorSimulator.start({ vendor: 'polygon' });
    let run: Run;
    try {
      const started = quant(
        [
          'ingest',
          'stream',
          '--vendor',
          'polygon',
          '--symbols',
          'CLA,CLB',
          '--url',
          sim.url,
          '--rest-url',
          sim.restUrl,
          '--duration',
          '6',
          '--json',
        ],
        { QUANT_VENDOR_KEY: 'test-key' },
      );
      await until(() => sim.subscribedSymbols().length === 2, 'the subscription', 60_000);
      sim.startTicking(50);
      await new Promise((r) => setTimeout(r, 1000));
      sim.refuseConnections(true);
      sim.dropConnections();
      await new Promise((r) => setTimeout(r, 400));
      sim.refuseConnections(false);
      await new Promise((r) => setTimeout(r, 1000));
      sim.sendRaw('[{"ev":"T","sym":"CLA"}]');
      await new Promise((r) => setTimeout(r, 500));
      sim.stopTicking();
      run = await started;
    } finally {
      await sim.stop();
    }
    expect(run.stderr).not.toMatch(/^error/m);
    expect(run.status).toBe(0);
    const counts = JSON.parse(run.stdout) as Record<string, number>;
    expect(Object.keys(counts)).toEqual(COUNTS);
    const record = [...sim.history('CLA'), ...sim.history('CLB')];
    expect(record.length).toBeGreaterThan(100);
    expect(counts).toMatchObject({ published: record.length, reconnects: 1, quarantined: 1 });
    expect(counts.backfilled).toBeGreaterThan(0);

    const landed = spawnSync(
      process.execPath,
      [path.join(root, 'bin/quant.js'), '--data-dir', dataDir, 'ingest', 'run', '--json'],
      {
        cwd: root,
        encoding: 'utf8',
      },
    );
    expect(JSON.parse(landed.stdout)).toMatchObject({
      written: record.length,
      quarantined: { undecodable: 0, invalid: 0, duplicate_seq: 0, out_of_order_ts: 0 },
    });
  }, 120_000);

  it('stops on SIGINT and prints the counts', async () => {
    const sim = await VendorSimulator.start({ vendor: 'alpaca' });
    let child: ReturnType<typeof spawn> | undefined;
    let run: Run;
    try {
      const started = quant(
        [
          'ingest',
          'stream',
          '--vendor',
          'alpaca',
          '--symbols',
          'SIG',
          '--url',
          sim.url,
          '--rest-url',
          sim.restUrl,
          '--json',
        ],
        { QUANT_VENDOR_KEY: 'test-id:test-secret' },
        (p) => (child = p),
      );
      await until(() => sim.subscribedSymbols().length === 1, 'the subscription', 60_000);
      sim.emit(25);
      await new Promise((r) => setTimeout(r, 500));
      child?.kill('SIGINT');
      run = await started;
    } finally {
      await sim.stop();
    }
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      received: 25,
      published: 25,
      reconnects: 0,
      backfilled: 0,
      duplicates: 0,
      quarantined: 0,
    });
  }, 120_000);

  it('a refused key: exit 2, a clear error, nothing on stdout', async () => {
    const sim = await VendorSimulator.start({ vendor: 'polygon' });
    let run: Run;
    try {
      run = await quant(
        [
          'ingest',
          'stream',
          '--vendor',
          'polygon',
          '--symbols',
          'X',
          '--url',
          sim.url,
          '--rest-url',
          sim.restUrl,
          '--duration',
          '2',
          '--json',
        ],
        { QUANT_VENDOR_KEY: 'wrong' },
      );
    } finally {
      await sim.stop();
    }
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /^error: polygon refused the key: authentication failed\. Check QUANT_VENDOR_KEY/m,
    );
  }, 120_000);

  it.each([
    [['--vendor', 'iex', '--symbols', 'A'], /--vendor: "iex" is not one of polygon, alpaca/],
    [['--vendor', 'polygon', '--symbols', 'A,B C/D'], /--symbols: invalid symbol\(s\) "B C\/D"/],
    [
      ['--vendor', 'polygon', '--symbols', 'A', '--url', 'http://h:1'],
      /--url: "http:\/\/h:1" must start with ws:\/\/ or wss:\/\//,
    ],
    [
      ['--vendor', 'polygon', '--symbols', 'A', '--rest-url', 'ftp://h'],
      /--rest-url: "ftp:\/\/h" must start with http:\/\/ or https:\/\//,
    ],
    [
      ['--vendor', 'polygon', '--symbols', 'A', '--duration', 'soon'],
      /--duration: "soon" is not a positive number of seconds/,
    ],
    [['--symbols', 'A'], /required option '--vendor <name>' not specified/],
  ])('bad flags %j: exit 2 naming the flag', async (args, message) => {
    const run = await quant(['ingest', 'stream', ...args, '--json'], { QUANT_VENDOR_KEY: 'k' });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });

  it('no key in the environment: exit 2 naming QUANT_VENDOR_KEY', async () => {
    const run = await quant(
      ['ingest', 'stream', '--vendor', 'alpaca', '--symbols', 'A', '--url', 'ws://127.0.0.1:1', '--json'],
      {},
    );
    // The parent environment of the tests has no key either.
    expect(process.env.QUANT_VENDOR_KEY).toBeUndefined();
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/QUANT_VENDOR_KEY: not set; put the alpaca key in it as KEY_ID:SECRET/);
  });

  it('an endpoint that refuses the connection: exit 2 naming the URL, no stack trace', async () => {
    const run = await quant(
      ['ingest', 'stream', '--vendor', 'polygon', '--symbols', 'A', '--url', 'ws://127.0.0.1:1', '--json'],
      { QUANT_VENDOR_KEY: 'k' },
    );
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/polygon: cannot connect to ws:\/\/127\.0\.0\.1:1/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
