import { describe, expect, it } from 'vitest';
import { runFeedDemo } from '../../../src/feed/demo';
import { eventProblem } from '../../../src/market-data/validate';
import type { MarketEvent } from '../../../src/market-data/events';
import { SCHEMA_V13 } from './helpers';

describe('runFeedDemo (the feed phase of npm start)', () => {
  it('runs a lossy A/B channel through the handler and hands every valid event to the sink', async () => {
    const received: MarketEvent[] = [];
    const s = await runFeedDemo({
      schemaPath: SCHEMA_V13,
      packets: 4000,
      lossBoth: 0.002,
      snapshotEvery: 500,
      sink: (ev) => void received.push(...ev),
    });
    expect(s.packets).toBe(4001);
    expect(s.decodeErrors).toBe(0);
    expect(s.gaps).toBeGreaterThan(0);
    expect(s.recoveries).toBeGreaterThan(0);
    expect(s.recovering).toBe(false);
    expect(received).toHaveLength(s.trades + s.quotes);
    expect(received.map(eventProblem).filter((p) => p !== null)).toEqual([]);
    // Per-symbol event sequence numbers strictly increase.
    const last = new Map<string, number>();
    for (const e of received) {
      expect(e.seq).toBeGreaterThan(last.get(e.symbol) ?? 0);
      last.set(e.symbol, e.seq);
    }
    expect(s.line).toMatch(/^feed: 4001 packets on A\/B .* gaps, \d+ recoveries, \d+ events/);
  });

  it('names the missing schema file', async () => {
    await expect(runFeedDemo({ schemaPath: '/nope/schema.xml' })).rejects.toThrow(
      /schemaPath: \/nope\/schema.xml does not exist/,
    );
  });
});
