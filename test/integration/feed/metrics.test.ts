/**
 * Metrics of a running handler on loopback multicast: /metrics scraped over HTTP while the simulator
 * publishes and after it stopped (counters equal the handler's own stats), and the EMF lines the
 * runner writes (their deltas add up to the same totals).
 */
import http from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { FeedRunner, runSimulator } from '../../../src/feed/simulator';
import { SbeCodec } from '../../../src/sbe/codec';
import { loadSchema } from '../../../src/sbe/schema';
import { SCHEMA } from '../../unit/feed/helpers';

const codec = new SbeCodec(loadSchema(SCHEMA));
const base = 20000 + Math.floor(Math.random() * 30000);
const group = (n: number) => ({ host: `239.254.${(base >> 8) & 0xff}.${n}`, port: base + n });

const closers: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

function scrape(port: number, path = '/metrics'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }),
        );
      })
      .on('error', reject);
  });
}

/** Prometheus text -> `name{labels}` -> value. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels = m[2]
      .split(',')
      .filter((l) => !l.startsWith('channel='))
      .join(',');
    out.set(`${m[1]}{${labels}}`, Number(m[3]));
  }
  return out;
}

describe('feed metrics on a loopback multicast run', () => {
  it('/metrics counters equal the handler stats; EMF lines parse and add up to the same totals', async () => {
    const emf: string[] = [];
    const runner = await FeedRunner.start(codec, {
      feedA: group(1),
      feedB: group(2),
      snapshot: group(3),
      channel: '42',
      gapPacketThreshold: 32,
      gapTimeoutMs: 50,
      relay: { tcpListen: { host: '127.0.0.1', port: 0 } },
      metrics: { port: 0, emf: (l) => emf.push(l), intervalSeconds: 0.2 },
    });
    closers.push(() => runner.stop());
    const port = runner.metrics!.port!;
    expect(port).toBeGreaterThan(0);

    const sim = runSimulator(codec, {
      feedA: group(1),
      feedB: group(2),
      snapshot: group(3),
      packets: 4000,
      rate: 10_000,
      a: { loss: 0.02, dup: 0.02 },
      b: { loss: 0.02, dup: 0.02 },
      lossBoth: 0.002,
      snapshotEvery: 500,
    });
    // During the run: a valid exposition with traffic already counted.
    await waitFor(() => runner.handler.arbiter.stats.delivered > 500, 5000);
    const during = await scrape(port);
    expect(during.status).toBe(200);
    expect(during.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(parse(during.body).get('feed_packets_total{feed="A"}')).toBeGreaterThan(0);

    const s = await sim;
    const h = runner.handler;
    await waitFor(() => h.arbiter.nextSeq > s.channel.lastSeq && !h.isRecovering, 10_000);
    expect(h.isRecovering).toBe(false);
    const m = parse((await scrape(port)).body);
    const a = h.arbiter.stats;
    expect(m.get('feed_packets_total{feed="A"}')).toBe(a.feeds.A.packets);
    expect(m.get('feed_packets_total{feed="B"}')).toBe(a.feeds.B.packets);
    expect(m.get('feed_duplicates_total{feed="A"}')).toBe(a.feeds.A.duplicates);
    expect(m.get('feed_duplicates_total{feed="B"}')).toBe(a.feeds.B.duplicates);
    expect(m.get('feed_delivered_packets_total{}')).toBe(a.delivered);
    expect(m.get('feed_gaps_total{}')).toBe(a.gaps);
    expect(m.get('feed_gap_packets_total{}')).toBe(a.gapPackets);
    expect(m.get('feed_recoveries_total{method="snapshot"}')).toBe(h.recovery.completed);
    expect(m.get('feed_recovering{}')).toBe(0);
    expect(m.get('feed_events_total{type="trade"}')).toBe(runner.events.trades);
    expect(m.get('feed_events_total{type="quote"}')).toBe(runner.events.quotes);
    expect(a.feeds.A.duplicates + a.feeds.B.duplicates).toBeGreaterThan(3000);
    expect(a.gaps).toBeGreaterThan(0);
    // Latency: one sample per packet delivered from the network, quantiles ordered.
    expect(m.get('feed_latency_seconds_count{}')).toBe(a.delivered);
    const p50 = m.get('feed_latency_seconds{quantile="0.5"}')!;
    const p99 = m.get('feed_latency_seconds{quantile="0.99"}')!;
    const p999 = m.get('feed_latency_seconds{quantile="0.999"}')!;
    expect(p50).toBeGreaterThan(0);
    expect(p99).toBeGreaterThanOrEqual(p50);
    expect(p999).toBeGreaterThanOrEqual(p99);
    expect((await scrape(port, '/other')).status).toBe(404);

    await runner.stop();
    closers.pop();
    // Stopping wrote the last partial interval; every line is one EMF document.
    expect(emf.length).toBeGreaterThan(1);
    type Emf = Record<string, unknown> & {
      _aws: {
        Timestamp: unknown;
        CloudWatchMetrics: Array<{
          Namespace: string;
          Dimensions: string[][];
          Metrics: Array<{ Name: string }>;
        }>;
      };
    };
    const docs = emf.map((l) => JSON.parse(l) as Emf);
    let packetsA = 0;
    let dups = 0;
    let gaps = 0;
    for (const d of docs) {
      expect(d._aws.CloudWatchMetrics[0].Namespace).toBe('Quant/Feed');
      expect(d._aws.CloudWatchMetrics[0].Dimensions).toEqual([['Channel']]);
      expect(typeof d._aws.Timestamp).toBe('number');
      expect(d.Channel).toBe('42');
      for (const { Name } of d._aws.CloudWatchMetrics[0].Metrics) expect(typeof d[Name]).toBe('number');
      packetsA += d.PacketsA as number;
      dups += d.Duplicates as number;
      gaps += d.Gaps as number;
    }
    expect(packetsA).toBe(a.feeds.A.packets);
    expect(dups).toBe(a.feeds.A.duplicates + a.feeds.B.duplicates);
    expect(gaps).toBe(a.gaps);
    expect(docs.some((d) => (d.PacketsPerSecondA as number) > 0)).toBe(true);
  });
});
