import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dev } from '../../../../lib/config';
import { bundleFeedHandler } from '../../../../lib/constructs/feed-handler-host/bundle';
import { feedRunArgs } from '../../../../lib/constructs/feed-handler-host/systemd';
import { FEED_BUNDLE_FILE } from '../../../../src/contract/feed';
import { FEED_METRICS } from '../../../../src/contract/metrics';
import { PROJECT_SCHEMA_PATH } from '../../../../src/feed/project-schema';

describe('the handler bundle (esbuild at synth, no Docker)', () => {
  const run = promisify(execFile);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'feed-bundle-test-'));
  const bundle = path.join(dir, FEED_BUNDLE_FILE);
  // The bundle takes the schema as configuration; the project's own is enough to run it.
  const schema = PROJECT_SCHEMA_PATH;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  beforeAll(() => bundleFeedHandler(dir));

  it('accepts every flag the systemd unit passes to `feed run`', async () => {
    // `--aws` is a global option, the rest belong to `feed run`.
    const global = await run(process.execPath, [bundle, '--help'], { cwd: dir });
    const command = await run(process.execPath, [bundle, 'feed', 'run', '--help'], { cwd: dir });
    const stdout = `${global.stdout}\n${command.stdout}`;
    // A channel with every option: the unit then passes every flag it can.
    const args = feedRunArgs({
      channel: { ...dev.feed.channels[0]!, relayUdp: ['10.10.5.7:7000'], tcpReplay: '10.200.9.9:10000' },
      schemaPath: dev.feed.schemaPath,
      multicastIp: '10.0.0.5',
      replaySecretArn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:quant/cme-replay-Ab12Cd',
      ticksStreamName: 'ticks',
    });
    const flags = args.flatMap((a) => [...a.matchAll(/(--[a-z-]+)/g)].map((m) => m[1]!));
    expect(flags).toHaveLength(14);
    for (const flag of flags) expect(stdout).toContain(flag);
  });

  it('runs outside the repository (no node_modules): a simulated channel through the bundled handler', async () => {
    const ports = 20_000 + Math.floor(Math.random() * 20_000);
    const feeds = [
      '--feed-a',
      `239.255.77.1:${ports}`,
      '--feed-b',
      `239.255.77.2:${ports + 1}`,
      '--snapshot',
      `239.255.77.3:${ports + 2}`,
    ];
    const handler = spawn(
      process.execPath,
      // As the systemd unit runs it (no --aws: the local-cloud path is not needed for this check).
      [
        bundle,
        'feed',
        'run',
        '--channel',
        '310',
        '--schema',
        schema,
        ...feeds,
        '--metrics-port',
        '0',
        '--emf',
        '--duration',
        '3',
        '--json',
      ],
      { cwd: dir },
    );
    let out = '';
    let err = '';
    handler.stdout.on('data', (d: Buffer) => (out += d.toString()));
    handler.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // 'close', not 'exit': stdout may still hold the summary when the process exits.
    const exited = new Promise<number | null>((resolve) => handler.on('close', resolve));
    await new Promise<void>((resolve) => handler.stderr.once('data', () => resolve()));
    const sim = await run(
      process.execPath,
      [
        bundle,
        'feed',
        'simulate',
        '--schema',
        schema,
        ...feeds,
        '--packets',
        '300',
        '--rate',
        '3000',
        '--json',
      ],
      { cwd: dir },
    );
    expect((JSON.parse(sim.stdout) as { packets: number }).packets).toBeGreaterThanOrEqual(300);
    expect(await exited).toBe(0);
    // With --emf, stdout holds only EMF lines (at least the one written on stop); the summary goes to stderr.
    const lines = out.trim().split('\n');
    const isEmf = (l: string): boolean => l.startsWith('{"_aws"');
    const emf = lines.filter(isEmf).map((l) => JSON.parse(l)) as {
      _aws: {
        CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[];
      };
      Channel: string;
    }[];
    expect(emf.length).toBeGreaterThan(0);
    const [directive] = emf[0]!._aws.CloudWatchMetrics;
    // The metrics the stack's alarms and dashboard read are the ones the handler writes.
    expect(directive).toMatchObject({
      Namespace: FEED_METRICS.namespace,
      Dimensions: [[FEED_METRICS.dimension]],
    });
    expect(emf[0]!.Channel).toBe('310');
    const names = directive!.Metrics.map((m) => m.Name);
    for (const k of ['packetsA', 'packetsB', 'duplicates', 'gaps', 'recoveries', 'subscriberDrops'] as const)
      expect(names).toContain(FEED_METRICS[k]);
    expect(names).toEqual(expect.arrayContaining(['LatencyP50', 'LatencyP99', 'LatencyP999']));
    expect(lines.every(isEmf)).toBe(true);
    const summary = JSON.parse(err.slice(err.indexOf('{'))) as {
      packetsA: number;
      packetsB: number;
      delivered: number;
      gaps: number;
      trades: number;
      quotes: number;
      decodeErrors: Record<string, number>;
      decoder: { droppedPackets: number; restarts: number };
    };
    expect(summary.delivered).toBeGreaterThanOrEqual(300);
    expect(summary.packetsA).toBeGreaterThan(0);
    expect(summary.packetsB).toBeGreaterThan(0);
    // Decoded on the decoder worker, which the bundle starts from its own file.
    expect(summary.trades).toBeGreaterThan(0);
    expect(summary.quotes).toBeGreaterThan(0);
    expect(summary.decodeErrors).toEqual({});
    expect(summary.decoder).toEqual(expect.objectContaining({ droppedPackets: 0, restarts: 0 }));
  }, 30_000);
});
