/**
 * The decoder fuzz (decoder-fuzz.ts) seeded with synthetic packets written with the project's
 * schema: a packet of consecutive incremental messages of an MBO channel, a TCP recovery frame
 * holding an order-book snapshot, and a pcap file of each.
 */
import { buildPacket, buildTcpFrame, forEachMessage } from '../../../src/feed/packet';
import { tcpFrame, udpFrame, writePcap } from '../../../src/feed/pcap';
import { SyntheticChannel } from '../../../src/feed/synthetic';
import { SbeCodec } from '../../../src/sbe/codec';
import { loadSchema } from '../../../src/sbe/schema';
import { describeDecoderFuzz } from './decoder-fuzz';
import { SCHEMA } from './helpers';

const codec = new SbeCodec(loadSchema(SCHEMA));
const ch = new SyntheticChannel(codec, { seed: 31, mbo: true });
const incrementals = Array.from({ length: 2000 }, () => ch.next());
// One packet of about the real capture's size (1,196 bytes): consecutive incremental messages.
const messages: Buffer[] = [];
for (const p of incrementals) {
  forEachMessage(p, 0, p.length, (o, l) => void messages.push(p.subarray(o, o + l)));
  if (messages.reduce((n, m) => n + 2 + m.length, 12) > 1100) break;
}
const udp = buildPacket(1, 1n, messages);
const snapshot = ch.orderSnapshotLoop(2000).reduce((a, b) => (b.length > a.length ? b : a));
const tcp = buildTcpFrame(8, 1n, [snapshot.subarray(14, 12 + snapshot.readUInt16LE(12))]);

describeDecoderFuzz('synthetic packets', codec, {
  udp,
  tcp,
  pcaps: [writePcap([udpFrame(udp)]), writePcap([tcpFrame(tcp, 1000)])],
});
