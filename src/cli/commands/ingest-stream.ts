/**
 * `quant ingest stream`: one vendor WebSocket connection (Polygon or Alpaca protocol) into the
 * `ticks` stream (src/vendor-stream/service.ts), and `quant ingest simulate`: the local vendor
 * simulator (src/vendor-stream/simulator.ts) for it to connect to.
 */
import type { Command } from 'commander';
import { VENDORS, VENDOR_STREAM_NAME_ENV } from '../../contract/vendor-stream';
import { InputError } from '../../errors';
import { withPlatform, type GlobalOptions } from '../context';
import { printJson } from '../output';
import { listOf, oneOf } from '../options';
import { CHANNELS, type Channel } from '../../vendor-stream/types';

const SYMBOL = /^[A-Za-z0-9._-]{1,64}$/;

function symbolsOf(v: string): string[] {
  const list = listOf(v);
  const bad = list.filter((s) => !SYMBOL.test(s));
  if (list.length === 0 || bad.length > 0)
    throw new InputError(
      `--symbols: ${bad.length ? `invalid symbol(s) ${bad.map((b) => JSON.stringify(b)).join(', ')}` : 'no symbol given'} (letters, digits, . _ -; comma-separated)`,
      'symbols',
    );
  return [...new Set(list)];
}

function urlOf(v: string | undefined, flag: string, schemes: readonly string[]): string | undefined {
  if (v === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new InputError(`${flag}: "${v}" is not a URL`, flag.slice(2));
  }
  if (!schemes.includes(u.protocol))
    throw new InputError(
      `${flag}: "${v}" must start with ${schemes.map((s) => `${s}//`).join(' or ')}`,
      flag.slice(2),
    );
  return v;
}

function secondsOf(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(Number.isFinite(n) && n > 0))
    throw new InputError(`${flag}: "${v}" is not a positive number of seconds`, flag.slice(2));
  return n;
}

interface StreamOpts {
  vendor: string;
  symbols: string;
  url?: string;
  restUrl?: string;
  duration?: string;
  channels: string;
  stream?: string;
  metricsInterval?: string;
  json?: boolean;
}

/** Adds `stream` and `simulate` to `quant ingest`. */
export function registerIngestStream(ingest: Command): void {
  ingest
    .command('stream')
    .description(
      'stream trades and quotes from a vendor WebSocket (Polygon or Alpaca protocol) into the ticks stream',
    )
    .requiredOption('--vendor <name>', `vendor protocol: ${VENDORS.join(' | ')}`)
    .requiredOption('--symbols <list>', 'symbols, comma-separated')
    .option('--url <ws-url>', "WebSocket endpoint (default: the vendor's)")
    .option('--rest-url <http-url>', "REST history endpoint for backfills (default: the vendor's)")
    .option('--duration <seconds>', 'stop after this long (default: at Ctrl-C / SIGTERM)')
    .option('--channels <list>', 'trades, quotes, bars (bars are counted, not published)', 'trades,quotes')
    .option('--stream <name>', `Kinesis stream (default: $${VENDOR_STREAM_NAME_ENV} or ticks)`)
    .option(
      '--metrics-interval <seconds>',
      'write CloudWatch EMF metric lines to stdout this often (the ECS service)',
    )
    .option('--json', 'machine-readable output')
    .action(ingestStream);

  ingest
    .command('simulate')
    .description(
      'run a local vendor simulator (WebSocket + REST history on one port) for quant ingest stream',
    )
    .requiredOption('--vendor <name>', `protocol: ${VENDORS.join(' | ')}`)
    .option('--port <n>', 'port (0: any free one)', '0')
    .option('--rate <n>', 'events per second per subscribed symbol', '100')
    .option('--disconnect-every <seconds>', 'drop every connection this often')
    .option('--malformed-every <seconds>', 'send a malformed frame this often')
    .option('--clock-offset-ms <n>', 'vendor clock ahead of ours by this much', '0')
    .option('--duration <seconds>', 'stop after this long (default: at Ctrl-C)')
    .option('--json', 'machine-readable output')
    .action(ingestStreamSimulate);
}

async function ingestStream(opts: StreamOpts, cmd: Command): Promise<void> {
  const vendor = oneOf(opts.vendor, '--vendor', VENDORS);
  const symbols = symbolsOf(opts.symbols);
  const url = urlOf(opts.url, '--url', ['ws:', 'wss:']);
  const restUrl = urlOf(opts.restUrl, '--rest-url', ['http:', 'https:']);
  const duration = secondsOf(opts.duration, '--duration');
  const metricsInterval = secondsOf(opts.metricsInterval, '--metrics-interval');
  const channels = opts.channels.split(',').map((c) => c.trim());
  const badChannel = channels.filter((c) => !(CHANNELS as readonly string[]).includes(c));
  if (badChannel.length > 0 || channels.length === 0)
    throw new InputError(
      `--channels: ${badChannel.join(', ') || '(none)'} not among ${CHANNELS.join(', ')}`,
      'channels',
    );
  const streamName = opts.stream ?? process.env[VENDOR_STREAM_NAME_ENV] ?? 'ticks';
  const { ADAPTERS, resolveVendorKey, runVendorStream } = await import('../../vendor-stream/service');
  const g = cmd.optsWithGlobals<GlobalOptions>();
  await withPlatform({ ...g, services: ['kinesis', 's3'] }, async (ctx) => {
    const key = await resolveVendorKey(
      ADAPTERS[vendor],
      process.env,
      ctx.runtime.mode === 'aws' ? () => ctx.clients.secretsManager : undefined,
    );
    if (ctx.runtime.mode === 'local') {
      const { ensureStream } = await import('../../ingest/runner');
      await ensureStream(ctx.clients.kinesis, streamName);
    }
    const ac = new AbortController();
    const stop = (): void => ac.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const r = await runVendorStream({
        vendor,
        key,
        symbols,
        channels: channels as Channel[],
        url,
        restUrl,
        kinesis: ctx.clients.kinesis,
        streamName,
        s3: ctx.clients.s3,
        rawBucket: ctx.buckets.raw,
        durationMs: duration === undefined ? undefined : duration * 1000,
        signal: ac.signal,
        metricsIntervalMs: metricsInterval === undefined ? undefined : metricsInterval * 1000,
        writeMetrics: (line) => process.stdout.write(`${line}\n`),
        log: (level, message) => process.stderr.write(`${level}: ${message}\n`),
      });
      const s = r.stats;
      const counts = {
        received: s.received,
        published: s.published,
        reconnects: s.reconnects,
        backfilled: s.backfilled,
        duplicates: s.duplicates,
        quarantined: s.quarantined,
      };
      if (opts.json) {
        printJson(counts);
        process.stderr.write(
          `${s.drops} dropped, ${s.gapsUnfilled} gap(s) unfilled, clock skew ${s.clockSkewMs ?? 'n/a'} ms\n`,
        );
      } else
        console.log(
          `received ${s.received}, published ${s.published} to ${streamName}, ${s.reconnects} reconnect(s), ${s.backfilled} backfilled, ${s.duplicates} duplicate(s), ${s.quarantined} quarantined, ${s.drops} dropped, ${s.gapsUnfilled} gap(s) unfilled, clock skew ${s.clockSkewMs ?? 'n/a'} ms`,
        );
      if (r.error) throw r.error;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  });
}

async function ingestStreamSimulate(opts: {
  vendor: string;
  port: string;
  rate: string;
  disconnectEvery?: string;
  malformedEvery?: string;
  clockOffsetMs: string;
  duration?: string;
  json?: boolean;
}): Promise<void> {
  const vendor = oneOf(opts.vendor, '--vendor', VENDORS);
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InputError(`--port: "${opts.port}" is not a port number`, 'port');
  const rate = Number(opts.rate);
  if (!(rate > 0)) throw new InputError(`--rate: "${opts.rate}" is not a positive number`, 'rate');
  const offset = Number(opts.clockOffsetMs);
  if (!Number.isFinite(offset))
    throw new InputError(`--clock-offset-ms: "${opts.clockOffsetMs}" is not a number`, 'clock-offset-ms');
  const every = secondsOf(opts.disconnectEvery, '--disconnect-every');
  const malformed = secondsOf(opts.malformedEvery, '--malformed-every');
  const duration = secondsOf(opts.duration, '--duration');
  const { VendorSimulator } = await import('../../vendor-stream/simulator');
  const sim = await VendorSimulator.start({
    vendor,
    port,
    clockOffsetMs: offset,
    historyLimit: 200_000,
  });
  sim.startTicking(rate);
  const timers = [
    every && setInterval(() => sim.dropConnections(), every * 1000),
    malformed && setInterval(() => sim.sendRaw('{"malformed": '), malformed * 1000),
  ];
  const info = {
    vendor,
    url: sim.url,
    restUrl: sim.restUrl,
    key: vendor === 'alpaca' ? 'test-id:test-secret' : 'test-key',
  };
  if (opts.json) printJson(info);
  else console.log(`${vendor} simulator on ${sim.url} (REST ${sim.restUrl}); key: ${info.key}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
    if (duration !== undefined) setTimeout(resolve, duration * 1000);
  });
  for (const t of timers) if (t) clearInterval(t);
  await sim.stop();
  if (!opts.json)
    console.log(`sent ${sim.counts.sentEvents} events over ${sim.counts.connections} connection(s)`);
}
