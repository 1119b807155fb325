/** Seeded synthetic intraday ticks (trades and top-of-book quotes) for demos, tests and benchmarks. */
import type { MarketEvent } from '../market-data/events';
import { mulberry32 } from '../synthetic/random';

/** mulberry32: the same seed gives the same ticks on every machine. */
export const seededRandom = mulberry32;

export interface SyntheticOptions {
  readonly symbols: readonly string[];
  /** Trading day (UTC), YYYY-MM-DD. @default '2026-01-05' */
  readonly date?: string;
  /** Events per symbol. @default 10000 */
  readonly eventsPerSymbol?: number;
  /** Fraction of events that are trades (the rest are quotes). @default 0.3 */
  readonly tradeRatio?: number;
  /** @default 42 */
  readonly seed?: number;
  /** Session open/close in minutes after 00:00 UTC. @default 870 (14:30) and 1260 (21:00) */
  readonly openMinute?: number;
  readonly closeMinute?: number;
  /** @default 'XSYN' */
  readonly venue?: string;
}

/**
 * Ticks of all symbols interleaved in time order. Per symbol, seq counts from 1 and exchange
 * timestamps are strictly increasing; prices follow a random walk on a 0.01 tick grid.
 */
export function* syntheticTicks(o: SyntheticOptions): Generator<MarketEvent> {
  const rnd = seededRandom(o.seed ?? 42);
  const n = o.eventsPerSymbol ?? 10_000;
  const dayMs = Date.parse(`${o.date ?? '2026-01-05'}T00:00:00Z`);
  if (Number.isNaN(dayMs)) throw new RangeError(`date: "${o.date}" is not YYYY-MM-DD`);
  const open = BigInt(dayMs) * 1_000_000n + BigInt(o.openMinute ?? 870) * 60_000_000_000n;
  const sessionNs = BigInt((o.closeMinute ?? 1260) - (o.openMinute ?? 870)) * 60_000_000_000n;
  const stepNs = sessionNs / BigInt(n);
  const venue = o.venue ?? 'XSYN';
  const tradeRatio = o.tradeRatio ?? 0.3;
  const mids = o.symbols.map((_, i) => 50 + 25 * i + Math.floor(rnd() * 100));
  for (let k = 0; k < n; k++) {
    for (let s = 0; s < o.symbols.length; s++) {
      mids[s] = Math.max(1, mids[s] + Math.round((rnd() - 0.5) * 4) / 100);
      const mid = mids[s];
      // Offset within the slot keeps symbols interleaved but timestamps strictly increasing per symbol.
      const exchangeTs = open + BigInt(k) * stepNs + BigInt(s * 1000 + Math.floor(rnd() * 900));
      const receiveTs = exchangeTs + 20_000n + BigInt(Math.floor(rnd() * 5000));
      const base = { symbol: o.symbols[s], venue, seq: k + 1, exchangeTs, receiveTs };
      if (rnd() < tradeRatio) {
        const price = Math.round((mid + (rnd() < 0.5 ? -0.01 : 0.01)) * 100) / 100;
        yield { type: 'trade', ...base, price, size: 1 + Math.floor(rnd() * 10) * 100 };
      } else {
        const bid = Math.round((mid - 0.01) * 100) / 100;
        const ask = Math.round((mid + 0.01) * 100) / 100;
        yield {
          type: 'quote',
          ...base,
          bid,
          ask,
          bidSize: 100 * (1 + Math.floor(rnd() * 20)),
          askSize: 100 * (1 + Math.floor(rnd() * 20)),
        };
      }
    }
  }
}
