/**
 * The feed benchmarks' packet: the shape of CME's v9 incremental book capture (one 1,196-byte packet:
 * an MDIncrementalRefreshBook46 with 23 book entries and 16 order entries, then an EndOfEvent 46 with
 * empty groups), encoded with the project's schema at header version 9, as that capture is, so the
 * figures stay comparable with runs on the capture. Values are deterministic.
 */
import { buildPacket } from '../src/feed/packet';
import type { SbeCodec } from '../src/sbe/codec';

const ACTIONS = ['New', 'Change', 'Delete'] as const;

export function bookCapturePacket(codec: SbeCodec): Buffer {
  const transactTime = 1536760535644820404n;
  const entries = Array.from({ length: 23 }, (_, i) => ({
    MDEntryPx: String(15230 + (i % 2 === 0 ? i : -i) * 5),
    MDEntrySize: 1 + (i % 7),
    SecurityID: 157660,
    RptSeq: 411 + i,
    NumberOfOrders: 1 + (i % 3),
    MDPriceLevel: 1 + (i % 10),
    MDUpdateAction: ACTIONS[i % 3],
    MDEntryType: i % 2 === 0 ? 'Offer' : 'Bid',
  }));
  const orders = Array.from({ length: 16 }, (_, i) => ({
    OrderID: 563189401446n + BigInt(i),
    MDOrderPriority: 10623363030n + BigInt(i),
    MDDisplayQty: 1 + (i % 5),
    ReferenceID: 1 + i,
    OrderUpdateAction: ['New', 'Update', 'Delete'][i % 3],
  }));
  const book = codec.encode(
    'MDIncrementalRefreshBook46',
    {
      TransactTime: transactTime,
      MatchEventIndicator: ['LastQuoteMsg'],
      NoMDEntries: entries,
      NoOrderIDEntries: orders,
    },
    { version: 9 },
  );
  const end = codec.encode(
    'MDIncrementalRefreshBook46',
    {
      TransactTime: transactTime,
      MatchEventIndicator: ['EndOfEvent'],
      NoMDEntries: [],
      NoOrderIDEntries: [],
    },
    { version: 9 },
  );
  const packet = buildPacket(1028095, 1536760535685381248n, [book, end]);
  if (packet.length !== 1196) throw new Error(`benchmark packet is ${packet.length} bytes, not 1,196`);
  return packet;
}
