/**
 * Decodes a capture file: pcap records -> UDP packets or TCP recovery frames -> SBE messages.
 * Every problem is counted in `DecodeStats.errors` and skipped; decoding always continues.
 */
import { SbeError } from '../sbe/codec';
import type { DecodedMessage, SbeCodec } from '../sbe/codec';
import { extractTransport, pcapInfo, readPcap } from './pcap';
import { forEachMessage, PACKET_HEADER_SIZE, packetSendingTime, packetSeq, TcpFrameParser } from './packet';

export interface DecodeStats {
  records: number;
  udpPackets: number;
  tcpSegments: number;
  messages: number;
  decoded: number;
  /** Error code -> count (framing, pcap and SBE errors alike). */
  errors: Record<string, number>;
}

export interface DecodedRow {
  /** 0-based pcap record index (for TCP: the record in which the frame started). */
  readonly packet: number;
  readonly seq: number;
  readonly sendingTime: bigint;
  readonly message: DecodedMessage;
}

export function newDecodeStats(): DecodeStats {
  return { records: 0, udpPackets: 0, tcpSegments: 0, messages: 0, decoded: 0, errors: {} };
}

export function countError(stats: DecodeStats, code: string): void {
  stats.errors[code] = (stats.errors[code] ?? 0) + 1;
}

export function totalErrors(stats: DecodeStats): number {
  return Object.values(stats.errors).reduce((a, b) => a + b, 0);
}

function decodeOne(
  codec: SbeCodec,
  stats: DecodeStats,
  buf: Buffer,
  offset: number,
  length: number,
  dv: DataView,
): DecodedMessage | null {
  stats.messages++;
  try {
    const m = codec.decode(buf, offset, length, dv);
    stats.decoded++;
    return m;
  } catch (err) {
    if (err instanceof SbeError) {
      countError(stats, err.code);
      return null;
    }
    throw err;
  }
}

/**
 * Decodes the messages of one UDP MDP packet (header included in `buf`). Framing and SBE errors
 * are counted in `stats`; the messages before a framing error are still returned.
 */
export function decodePacketMessages(codec: SbeCodec, buf: Buffer, stats: DecodeStats): DecodedMessage[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: DecodedMessage[] = [];
  const err = forEachMessage(buf, 0, buf.length, (o, l) => {
    const m = decodeOne(codec, stats, buf, o, l, dv);
    if (m) out.push(m);
  });
  if (err) countError(stats, err);
  return out;
}

/** Yields every decodable message of a pcap capture (UDP MDP packets and TCP recovery streams) in capture order. */
export function* decodeCapture(
  codec: SbeCodec,
  pcap: Buffer,
  stats: DecodeStats = newDecodeStats(),
  source = 'pcap',
): Generator<DecodedRow> {
  const info = pcapInfo(pcap, source);
  const flows = new Map<string, { next: number; parser: TcpFrameParser }>();
  const onError = (code: string): void => countError(stats, code);
  for (const rec of readPcap(pcap, onError, source)) {
    stats.records++;
    const seg = extractTransport(info.linkType, rec.data);
    if ('error' in seg) {
      countError(stats, seg.error);
      continue;
    }
    if (seg.proto === 'udp') {
      stats.udpPackets++;
      if (seg.truncated) countError(stats, 'truncatedCapture');
      const buf = seg.payload;
      if (buf.length < PACKET_HEADER_SIZE) {
        countError(stats, 'truncatedPacket');
        continue;
      }
      const seq = packetSeq(buf);
      const sendingTime = packetSendingTime(buf);
      for (const m of decodePacketMessages(codec, buf, stats))
        yield { packet: rec.index, seq, sendingTime, message: m };
      continue;
    }
    stats.tcpSegments++;
    if (seg.payload.length === 0 && !seg.syn) continue;
    const key = `${seg.src}:${seg.srcPort}>${seg.dst}:${seg.dstPort}`;
    let flow = flows.get(key);
    if (!flow) {
      flow = { next: seg.syn ? (seg.tcpSeq + 1) >>> 0 : seg.tcpSeq, parser: new TcpFrameParser(onError) };
      flows.set(key, flow);
    }
    if (seg.syn) continue;
    let payload = seg.payload;
    const delta = (seg.tcpSeq - flow.next) | 0;
    if (delta < 0) {
      // Retransmission or overlap: keep only bytes beyond what the stream already has.
      if (-delta >= payload.length) continue;
      payload = payload.subarray(-delta);
    } else if (delta > 0) {
      countError(stats, 'tcpGap');
      flow.parser.reset();
    }
    flow.next = (flow.next + Math.max(delta, 0) + payload.length) >>> 0;
    for (const t of flow.parser.push(payload, rec.index)) {
      const dv = new DataView(t.buf.buffer, t.buf.byteOffset, t.buf.byteLength);
      const m = decodeOne(codec, stats, t.buf, t.offset, t.length, dv);
      if (m) yield { packet: t.tag, seq: t.seq, sendingTime: t.sendingTime, message: m };
    }
  }
  for (const f of flows.values()) f.parser.finish();
}
