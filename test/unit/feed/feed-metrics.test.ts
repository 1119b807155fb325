import { describe, expect, it } from 'vitest';
import {
  emfDocument,
  LatencyHistogram,
  prometheusText,
  type FeedMetricsSnapshot,
} from '../../../src/feed/metrics';
import { rng } from './helpers';

function snapshot(over: Partial<FeedMetricsSnapshot> = {}): FeedMetricsSnapshot {
  return {
    feeds: {
      A: { packets: 100, duplicates: 40, malformed: 1 },
      B: { packets: 90, duplicates: 50, malformed: 0 },
    },
    delivered: 99,
    gaps: 2,
    gapPackets: 3,
    restarts: 0,
    recoveriesStarted: 1,
    snapshotRecoveries: 1,
    replayRecoveries: 1,
    replayFailures: 0,
    recovering: false,
    decodeErrors: { truncated: 2 },
    trades: 10,
    quotes: 20,
    subscribers: [
      { id: 'udp:127.0.0.1:9000', sent: 99, drops: 0 },
      { id: 'tcp:127.0.0.1:5555', sent: 50, drops: 1 },
    ],
    latency: new LatencyHistogram(),
    ...over,
  };
}

describe('LatencyHistogram (log-linear)', () => {
  it('buckets are contiguous and increasing; every value falls inside its bucket', () => {
    let prevEnd = 0;
    for (let i = 0; i < 16 + 28 * 16; i++) {
      const [lo, hi] = LatencyHistogram.bounds(i);
      expect(lo).toBe(prevEnd);
      expect(hi).toBeGreaterThan(lo);
      // Relative width at most 1/16 above the exact range.
      if (lo >= 16) expect((hi - lo) / lo).toBeLessThanOrEqual(1 / 16);
      prevEnd = hi;
    }
    const r = rng(9);
    for (let k = 0; k < 10_000; k++) {
      const v = Math.floor(2 ** (r() * 32));
      const [lo, hi] = LatencyHistogram.bounds(LatencyHistogram.index(v));
      expect(v).toBeGreaterThanOrEqual(lo);
      expect(v).toBeLessThan(hi);
    }
  });

  it('p50/p99/p99.9 within 1/16 of the exact quantiles, never below them', () => {
    const h = new LatencyHistogram();
    const r = rng(4);
    const values: number[] = [];
    for (let i = 0; i < 100_000; i++) {
      // Log-normal-ish latencies from 2 µs to a few ms.
      const v = Math.round(2000 * Math.exp(r() * r() * 8));
      values.push(v);
      h.record(v);
    }
    values.sort((a, b) => a - b);
    for (const q of [0.5, 0.99, 0.999]) {
      const exact = values[Math.ceil(q * values.length) - 1];
      const got = h.quantile(q);
      expect(got).toBeGreaterThanOrEqual(exact);
      expect(got).toBeLessThanOrEqual(exact * (1 + 1 / 16));
    }
    expect(h.count).toBe(100_000);
    expect(h.max).toBe(values.at(-1));
    expect(h.quantile(1)).toBe(values.at(-1));
    h.reset();
    expect(h.quantile(0.5)).toBe(0);
  });
});

describe('metric renderings', () => {
  it('Prometheus text: HELP/TYPE per family, labelled samples, summary quantiles in seconds', () => {
    const latency = new LatencyHistogram();
    for (let i = 1; i <= 1000; i++) latency.record(i * 1000); // 1..1000 µs
    const text = prometheusText(snapshot({ latency }), '7', { A: 1000, B: 900 });
    const lines = text.trim().split('\n');
    for (const l of lines) expect(l).toMatch(/^(# (HELP|TYPE) feed_\w+ .+|feed_\w+\{[^}]*\} [-\d.e+]+)$/);
    expect(lines).toContain('feed_packets_total{channel="7",feed="A"} 100');
    expect(lines).toContain('feed_duplicates_total{channel="7",feed="B"} 50');
    expect(lines).toContain('feed_packets_per_second{channel="7",feed="A"} 1000');
    expect(lines).toContain('feed_recoveries_total{channel="7",method="replay"} 1');
    expect(lines).toContain('feed_decode_errors_total{channel="7",code="truncated"} 2');
    expect(lines).toContain('feed_subscriber_drops_total{channel="7",subscriber="tcp:127.0.0.1:5555"} 1');
    expect(lines).toContain('# TYPE feed_latency_seconds summary');
    const p99 = Number(
      lines.find((l) => l.startsWith('feed_latency_seconds{channel="7",quantile="0.99"}'))!.split(' ')[1],
    );
    expect(p99).toBeGreaterThanOrEqual(990e-6);
    expect(p99).toBeLessThanOrEqual(990e-6 * (1 + 1 / 16));
    expect(lines).toContain('feed_latency_seconds_count{channel="7"} 1000');
  });

  it('EMF: the _aws directive names every metric at the root, with deltas since the previous document', () => {
    const prev = snapshot();
    const now = snapshot({
      feeds: {
        A: { packets: 150, duplicates: 60, malformed: 1 },
        B: { packets: 140, duplicates: 70, malformed: 0 },
      },
      gaps: 5,
      subscribers: [
        { id: 'udp:127.0.0.1:9000', sent: 149, drops: 0 },
        { id: 'tcp:127.0.0.1:5555', sent: 50, drops: 4 },
      ],
    });
    const interval = new LatencyHistogram();
    interval.record(5000);
    const doc = JSON.parse(
      JSON.stringify(emfDocument(now, prev, '7', { A: 50, B: 50 }, interval, 1_700_000_000_000)),
    );
    expect(doc._aws.Timestamp).toBe(1_700_000_000_000);
    expect(doc._aws.CloudWatchMetrics).toHaveLength(1);
    const d = doc._aws.CloudWatchMetrics[0];
    expect(d.Namespace).toBe('Quant/Feed');
    expect(d.Dimensions).toEqual([['Channel']]);
    expect(doc.Channel).toBe('7');
    for (const m of d.Metrics) {
      expect(Object.keys(m).sort()).toEqual(['Name', 'Unit']);
      expect(typeof doc[m.Name]).toBe('number');
    }
    expect(doc).toMatchObject({
      PacketsA: 50,
      PacketsB: 50,
      Duplicates: 40,
      Gaps: 3,
      SubscriberDrops: 3,
      LatencyP99: 5,
      subscriberDrops: { 'udp:127.0.0.1:9000': 0, 'tcp:127.0.0.1:5555': 3 },
    });
    // The names FeedHandlerStack alarms on.
    const names = d.Metrics.map((m: { Name: string }) => m.Name);
    expect(names).toEqual(
      expect.arrayContaining(['PacketsA', 'PacketsB', 'Duplicates', 'Gaps', 'Recoveries', 'SubscriberDrops']),
    );
    // The first document counts from zero.
    expect(emfDocument(now, undefined, '7', { A: 0, B: 0 }, interval).PacketsA).toBe(150);
  });
});
