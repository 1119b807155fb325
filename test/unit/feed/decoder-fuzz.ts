/**
 * Fuzz: 120,000 random mutations of seed packets (bit flips, overwrites, truncations, insertions,
 * splices) through packet framing, TCP recovery framing, pcap parsing, SBE decoding and the whole
 * handler (arbitration, books, recovery). Nothing may throw, every message handed to the decoder is
 * either decoded or counted, and each test has a time limit (a hang fails it). The seeds are
 * synthetic packets in test/unit/feed/feed-fuzz.test.ts and CME's real captures in
 * test/conformance/feed/feed-fuzz.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { SbeCodec } from '../../../src/sbe/codec';
import {
  decodeCapture,
  decodePacketMessages,
  newDecodeStats,
  totalErrors,
  type DecodeStats,
} from '../../../src/feed/decode';
import { jsonValue } from '../../../src/feed/jsonl';
import { TcpFrameParser } from '../../../src/feed/packet';
import { FeedHandler } from '../../../src/feed/handler';
import { rng } from './helpers';

export interface FuzzSeeds {
  /** One UDP MDP packet (12-byte header, then messages). */
  readonly udp: Buffer;
  /** One TCP recovery frame (0xCAFE header, then a message). */
  readonly tcp: Buffer;
  /** Whole pcap files. */
  readonly pcaps: readonly Buffer[];
}

/** Generous for a shared 2-core machine; only an endless loop gets near it. */
const HANG_GUARD_MS = 60_000;
const SBE_CODES = ['truncated', 'unknownTemplate', 'unknownSchema', 'unknownVersion', 'badBlockLength'];

function mutateOnce(src: Buffer, r: () => number, count: () => void): Buffer {
  count();
  let b = Buffer.from(src);
  const kind = Math.floor(r() * 6);
  const at = (): number => Math.floor(r() * Math.max(1, b.length));
  switch (kind) {
    case 0: // flip 1-8 bits
      for (let i = 0, n = 1 + Math.floor(r() * 8); i < n && b.length > 0; i++)
        b[at()] ^= 1 << Math.floor(r() * 8);
      break;
    case 1: // overwrite 1-4 bytes with extremes or random values
      for (let i = 0, n = 1 + Math.floor(r() * 4); i < n && b.length > 0; i++)
        b[at()] = [0, 0xff, 0x7f, 0x80][Math.floor(r() * 4)] ?? 0;
      break;
    case 2: // truncate
      b = b.subarray(0, at());
      break;
    case 3: {
      // insert random bytes
      const p = at();
      const ins = Buffer.from(Array.from({ length: 1 + Math.floor(r() * 16) }, () => Math.floor(r() * 256)));
      b = Buffer.concat([b.subarray(0, p), ins, b.subarray(p)]);
      break;
    }
    case 4: {
      // duplicate a slice somewhere else
      const p = at();
      const q = at();
      b = Buffer.concat([b.subarray(0, p), b.subarray(q, q + 1 + Math.floor(r() * 64)), b.subarray(p)]);
      break;
    }
    default: // random 16-bit value at a random place (sizes, block lengths, counts, template ids)
      if (b.length >= 2) b.writeUInt16LE(Math.floor(r() * 65536), Math.floor(r() * (b.length - 1)));
  }
  return b;
}

function sbeErrors(stats: DecodeStats): number {
  return SBE_CODES.reduce((s, c) => s + (stats.errors[c] ?? 0), 0);
}

export function describeDecoderFuzz(label: string, codec: SbeCodec, seeds: FuzzSeeds): void {
  const { udp, tcp, pcaps } = seeds;
  let mutations = 0;
  const mutate = (src: Buffer, r: () => number): Buffer => mutateOnce(src, r, () => mutations++);
  describe(`fuzzing the decoder with mutated ${label}`, () => {
    it(
      '50,000 mutated UDP packets: no throw, every message decoded or counted',
      () => {
        const r = rng(1);
        const stats = newDecodeStats();
        let decoded = 0;
        let damaged = 0;
        let jsonLength = 0;
        for (let i = 0; i < 50_000; i++) {
          const before = totalErrors(stats);
          const b = mutate(udp, r);
          if (b.length < 12) {
            damaged++;
            continue;
          }
          const ms = decodePacketMessages(codec, b, stats);
          decoded += ms.length;
          // Decoded bodies must serialise (nulls, enums, sets, decimals of mutated values); sampled for speed.
          if (i % 50 === 0) for (const m of ms) jsonLength += jsonValue(m.body).length;
          if (totalErrors(stats) > before) damaged++;
        }
        expect(stats.decoded).toBe(decoded);
        expect(stats.messages).toBe(stats.decoded + sbeErrors(stats));
        // The mutations must actually hit error paths, and many packets must still decode.
        expect(damaged).toBeGreaterThan(10_000);
        expect(jsonLength).toBeGreaterThan(0);
        expect(decoded).toBeGreaterThan(10_000);
        expect(Object.keys(stats.errors).sort()).toEqual(
          expect.arrayContaining(['badMessageSize', 'messageBeyondPacket', 'truncated', 'unknownTemplate']),
        );
      },
      HANG_GUARD_MS,
    );

    it(
      '25,000 mutated TCP recovery streams: no throw, every message decoded or counted',
      () => {
        const r = rng(2);
        const stats = newDecodeStats();
        let framingErrors = 0;
        for (let i = 0; i < 25_000; i++) {
          // A stream of three frames with the mutated one in the middle, delivered in random chunks.
          const stream = Buffer.concat([tcp, mutate(tcp, r), tcp]);
          const parser = new TcpFrameParser(() => framingErrors++);
          let p = 0;
          while (p < stream.length) {
            const n = 1 + Math.floor(r() * 200);
            for (const m of parser.push(stream.subarray(p, p + n), i)) {
              stats.messages++;
              try {
                codec.decode(m.buf, m.offset, m.length);
                stats.decoded++;
              } catch (err) {
                expect((err as Error).name).toBe('SbeError');
                stats.errors[(err as { code: string }).code] =
                  (stats.errors[(err as { code: string }).code] ?? 0) + 1;
              }
            }
            p += n;
          }
          parser.finish();
        }
        expect(stats.messages).toBe(stats.decoded + sbeErrors(stats));
        // The intact first frame always decodes; the last one too unless the mutated middle swallowed it.
        expect(stats.decoded).toBeGreaterThanOrEqual(25_000);
        expect(framingErrors + sbeErrors(stats)).toBeGreaterThan(5_000);
      },
      HANG_GUARD_MS,
    );

    it(
      '25,000 mutated pcap files: no throw except InputError for files that are no longer pcap',
      () => {
        const r = rng(3);
        let notPcap = 0;
        let rows = 0;
        const total = newDecodeStats();
        for (let i = 0; i < 25_000; i++) {
          const b = mutate(pcaps[i % pcaps.length], r);
          const stats = newDecodeStats();
          try {
            for (const row of decodeCapture(codec, b, stats)) {
              rows++;
              expect(row.message.size).toBeGreaterThan(0);
            }
          } catch (err) {
            expect((err as Error).name).toBe('InputError');
            expect((err as Error).message).toMatch(/pcap/);
            notPcap++;
            continue;
          }
          expect(stats.messages).toBe(stats.decoded + sbeErrors(stats));
          total.messages += stats.messages;
          total.decoded += stats.decoded;
        }
        expect(notPcap).toBeGreaterThan(0);
        expect(notPcap).toBeLessThan(2_000);
        expect(rows).toBe(total.decoded);
      },
      HANG_GUARD_MS,
    );

    it(
      '20,000 mutated packets through the handler (A/B, books, recovery) and its snapshot feed: it keeps going',
      () => {
        const r = rng(4);
        const events: unknown[] = [];
        const h = new FeedHandler(
          codec,
          (e) => events.push(e),
          () => {},
          {
            arbiter: { gapPacketThreshold: 16, gapTimeoutMs: 1e9 },
          },
        );
        for (let i = 0; i < 20_000; i++) {
          // Mostly in sequence (so packets reach the books); the mutation may still hit the header.
          const src = Buffer.from(udp);
          src.writeUInt32LE(i + 1, 0);
          const b = mutate(src, r);
          if (r() < 0.9) h.onIncremental('A', b);
          if (r() < 0.9) h.onIncremental('B', r() < 0.5 ? b : mutate(src, r));
          if (i % 100 === 0) h.onSnapshot(mutate(src, r));
          if (i % 1000 === 0) h.poll();
        }
        const st = h.decodeStats;
        expect(st.messages).toBe(st.decoded + sbeErrors(st));
        // A mutated sequence number far ahead makes the arbiter jump there (later packets are then
        // duplicates), so only part of the run reaches the books; the point is that nothing breaks.
        expect(st.decoded).toBeGreaterThan(1_000);
        expect(totalErrors(st)).toBeGreaterThan(100);
        const a = h.arbiter.stats;
        expect(a.feeds.A.packets + a.feeds.B.packets).toBeGreaterThan(30_000);
        expect(a.delivered).toBeGreaterThan(1_000);
        expect(a.gaps).toBeGreaterThan(0);
      },
      HANG_GUARD_MS,
    );

    it('covered at least 100,000 mutations in total', () => {
      expect(mutations).toBeGreaterThanOrEqual(100_000);
    });
  });
}
