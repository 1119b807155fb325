import { describe, expect, it } from 'vitest';
import { runFeedDemo } from '../../../src/feed/demo';
import { eventProblem } from '../../../src/market-data/validate';
import type { MarketEvent } from '../../../src/market-data/events';
import { SCHEMA } from './helpers';

describe('runFeedDemo (the feed phase of npm start)', () => {
  it('runs a lossy A/B channel through the handler and hands every valid event to the sink', async () => {
    const received: MarketEvent[] = [];
    const s = await runFeedDemo({
      schemaPath: SCHEMA,
      packets: 4000,
      lossBoth: 0.002,
      snapshotEvery: 500,
      sink: (ev) => void received.push(...ev),
    });
    expect(s.packets).toBe(4001);
    expect(s.decodeErrors).toBe(0);
    expect(s.gaps).toBeGreaterThan(0);
    // Every gap filled by TCP replay over real TCP; every packet relayed over real UDP, and received.
    expect(s.replayed).toBe(s.gaps);
    expect(s.replayFailed).toBe(0);
    expect(s.recoveries).toBe(0);
    expect(s.recovering).toBe(false);
    expect(s.relayed).toBe(4001);
    expect(s.subscriberReceived).toBe(4001);
    expect(received).toHaveLength(s.trades + s.quotes);
    expect(received.map(eventProblem).filter((p) => p !== null)).toEqual([]);
    // Per-symbol event sequence numbers strictly increase.
    const last = new Map<string, number>();
    for (const e of received) {
      expect(e.seq).toBeGreaterThan(last.get(e.symbol) ?? 0);
      last.set(e.symbol, e.seq);
    }
    expect(s.line).toMatch(
      /^feed: 4001 packets on A\/B .*, (\d+) gaps \(\1 recovered by TCP replay, 0 by snapshot\), 0 snapshot recoveries, \d+ events .*; relayed 4001 packets to a UDP subscriber \(all received\)$/,
    );
  });

  it('at the size npm start runs, the UDP subscriber in the same process still receives every packet', async () => {
    // libuv reads 32 datagrams per loop turn: a sender that outpaces that overflows the socket.
    const s = await runFeedDemo({ schemaPath: SCHEMA });
    expect(s.relayed).toBe(20_001);
    expect(s.subscriberReceived).toBe(20_001);
  });

  it('TCP replay loses nothing: the same events as a run without loss; the snapshot loop alone loses some', async () => {
    const run = async (lossBoth: number, maxReplayGap?: number, lossAB?: number) => {
      const events: MarketEvent[] = [];
      const s = await runFeedDemo({
        schemaPath: SCHEMA,
        packets: 2000,
        lossBoth,
        lossA: lossAB,
        lossB: lossAB,
        snapshotEvery: 500,
        maxReplayGap,
        sink: (ev) => void events.push(...ev),
      });
      return { s, events };
    };
    const lossless = await run(0, undefined, 0);
    const replay = await run(0.003);
    const snapshot = await run(0.003, 0);
    expect(lossless.s.gaps).toBe(0);
    expect(replay.s.gaps).toBeGreaterThan(0);
    // Equal but for the wall-clock receive time.
    const strip = (ev: MarketEvent[]) => ev.map((e) => ({ ...e, receiveTs: 0n }));
    expect(strip(replay.events)).toEqual(strip(lossless.events));
    expect(snapshot.s.gaps).toBe(replay.s.gaps);
    expect(snapshot.s.replayed).toBe(0);
    expect(snapshot.s.recoveries).toBeGreaterThan(0);
    expect(snapshot.s.recovering).toBe(false);
    expect(snapshot.events.length).toBeLessThan(lossless.events.length);
  });

  it('names the missing schema file', async () => {
    await expect(runFeedDemo({ schemaPath: '/nope/schema.xml' })).rejects.toThrow(
      /schemaPath: \/nope\/schema.xml does not exist/,
    );
  });
});
