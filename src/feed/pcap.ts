/**
 * Classic libpcap reader (microsecond and nanosecond, either byte order) and the link/IP/UDP/TCP
 * layers needed to get at MDP payloads. Damaged records are counted by the caller, never thrown:
 * only a file that is not pcap at all is an InputError.
 */
import { InputError } from '../errors';

export interface PcapRecord {
  /** 0-based record index in the file. */
  readonly index: number;
  readonly tsSec: number;
  /** Microseconds or nanoseconds, see `nano`. */
  readonly tsFrac: number;
  readonly nano: boolean;
  readonly data: Buffer;
  readonly origLen: number;
}

export interface PcapInfo {
  readonly linkType: number;
  readonly nano: boolean;
  readonly littleEndian: boolean;
  readonly snapLen: number;
}

export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LINUX_SLL: 113,
  IPV4: 228,
  LINUX_SLL2: 276,
} as const;

/** Parses the 24-byte global header; throws InputError when the buffer is not a classic pcap file. */
export function pcapInfo(buf: Buffer, source = 'pcap'): PcapInfo {
  if (buf.length < 24)
    throw new InputError(`${source}: ${buf.length} bytes is too short for a pcap header`, 'pcap');
  const magicLe = buf.readUInt32LE(0);
  let littleEndian: boolean;
  let nano: boolean;
  if (magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d) {
    littleEndian = true;
    nano = magicLe === 0xa1b23c4d;
  } else if (buf.readUInt32BE(0) === 0xa1b2c3d4 || buf.readUInt32BE(0) === 0xa1b23c4d) {
    littleEndian = false;
    nano = buf.readUInt32BE(0) === 0xa1b23c4d;
  } else if (magicLe === 0x0a0d0d0a) {
    throw new InputError(
      `${source}: pcapng is not supported; convert it with "editcap -F pcap in.pcapng out.pcap"`,
      'pcap',
    );
  } else {
    throw new InputError(`${source}: not a pcap file (magic 0x${magicLe.toString(16)})`, 'pcap');
  }
  const u32 = (o: number): number => (littleEndian ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  return { littleEndian, nano, snapLen: u32(16), linkType: u32(20) };
}

/**
 * Yields the records of a pcap file. A truncated last record is reported through `onError`
 * ('truncatedRecord') and ends the iteration, since nothing after it can be framed.
 */
export function* readPcap(
  buf: Buffer,
  onError: (code: string) => void = () => {},
  source = 'pcap',
): Generator<PcapRecord> {
  const info = pcapInfo(buf, source);
  const u32 = (o: number): number => (info.littleEndian ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  let off = 24;
  let index = 0;
  while (off < buf.length) {
    if (off + 16 > buf.length) {
      onError('truncatedRecord');
      return;
    }
    const incl = u32(off + 8);
    if (off + 16 + incl > buf.length) {
      onError('truncatedRecord');
      return;
    }
    yield {
      index,
      tsSec: u32(off),
      tsFrac: u32(off + 4),
      nano: info.nano,
      data: buf.subarray(off + 16, off + 16 + incl),
      origLen: u32(off + 12),
    };
    off += 16 + incl;
    index++;
  }
}

export interface TransportSegment {
  readonly proto: 'udp' | 'tcp';
  readonly src: string;
  readonly dst: string;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payload: Buffer;
  /** TCP only. */
  readonly tcpSeq: number;
  readonly syn: boolean;
  /** The capture cut the datagram short (snap length): payload is incomplete. */
  readonly truncated: boolean;
}

function ipv4(b: Buffer, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

/**
 * Extracts the UDP or TCP payload of one captured frame. Returns an error code for frames that
 * are not IPv4 UDP/TCP or are malformed ('notIp', 'notUdpOrTcp', 'ipFragment', 'badIpHeader', ...).
 */
export function extractTransport(linkType: number, frame: Buffer): TransportSegment | { error: string } {
  let off = 0;
  let etherType = 0x0800;
  switch (linkType) {
    case LINKTYPE.ETHERNET:
      if (frame.length < 14) return { error: 'truncatedLinkHeader' };
      etherType = frame.readUInt16BE(12);
      off = 14;
      while (etherType === 0x8100 || etherType === 0x88a8) {
        if (frame.length < off + 4) return { error: 'truncatedLinkHeader' };
        etherType = frame.readUInt16BE(off + 2);
        off += 4;
      }
      break;
    case LINKTYPE.LINUX_SLL:
      if (frame.length < 16) return { error: 'truncatedLinkHeader' };
      etherType = frame.readUInt16BE(14);
      off = 16;
      break;
    case LINKTYPE.LINUX_SLL2:
      if (frame.length < 20) return { error: 'truncatedLinkHeader' };
      etherType = frame.readUInt16BE(0);
      off = 20;
      break;
    case LINKTYPE.NULL:
      if (frame.length < 4) return { error: 'truncatedLinkHeader' };
      off = 4;
      break;
    case LINKTYPE.RAW:
    case LINKTYPE.IPV4:
      break;
    default:
      return { error: 'unsupportedLinkType' };
  }
  if (etherType !== 0x0800) return { error: 'notIp' };
  if (frame.length < off + 20) return { error: 'badIpHeader' };
  const vihl = frame[off];
  if (vihl >> 4 !== 4) return { error: 'notIp' };
  const ihl = (vihl & 0x0f) * 4;
  const totalLen = frame.readUInt16BE(off + 2);
  if (ihl < 20 || totalLen < ihl || frame.length < off + ihl) return { error: 'badIpHeader' };
  const flagsFrag = frame.readUInt16BE(off + 6);
  if ((flagsFrag & 0x1fff) !== 0 || (flagsFrag & 0x2000) !== 0) return { error: 'ipFragment' };
  const proto = frame[off + 9];
  const src = ipv4(frame, off + 12);
  const dst = ipv4(frame, off + 16);
  const ipEnd = off + totalLen;
  const captured = Math.min(ipEnd, frame.length);
  const truncatedIp = ipEnd > frame.length;
  const l4 = off + ihl;
  if (proto === 17) {
    if (captured < l4 + 8) return { error: 'badUdpHeader' };
    const udpLen = frame.readUInt16BE(l4 + 4);
    if (udpLen < 8) return { error: 'badUdpHeader' };
    const end = Math.min(l4 + udpLen, captured);
    return {
      proto: 'udp',
      src,
      dst,
      srcPort: frame.readUInt16BE(l4),
      dstPort: frame.readUInt16BE(l4 + 2),
      payload: frame.subarray(l4 + 8, end),
      tcpSeq: 0,
      syn: false,
      truncated: truncatedIp || l4 + udpLen > captured,
    };
  }
  if (proto === 6) {
    if (captured < l4 + 20) return { error: 'badTcpHeader' };
    const dataOff = (frame[l4 + 12] >> 4) * 4;
    if (dataOff < 20 || captured < l4 + dataOff) return { error: 'badTcpHeader' };
    return {
      proto: 'tcp',
      src,
      dst,
      srcPort: frame.readUInt16BE(l4),
      dstPort: frame.readUInt16BE(l4 + 2),
      payload: frame.subarray(l4 + dataOff, captured),
      tcpSeq: frame.readUInt32BE(l4 + 4),
      syn: (frame[l4 + 13] & 0x02) !== 0,
      truncated: truncatedIp,
    };
  }
  return { error: 'notUdpOrTcp' };
}

/** Wraps a UDP payload in Ethernet/IPv4/UDP headers (checksums zero: "not computed" for UDP). */
export function udpFrame(
  payload: Buffer,
  opts: { src?: string; dst?: string; srcPort?: number; dstPort?: number } = {},
): Buffer {
  return ipFrame(
    17,
    udpHeader(payload.length, opts.srcPort ?? 14361, opts.dstPort ?? 14361),
    payload,
    opts.src ?? '10.0.0.1',
    opts.dst ?? '224.0.28.20',
  );
}

/** Wraps a TCP payload in Ethernet/IPv4/TCP headers (ACK|PSH, given sequence number). */
export function tcpFrame(
  payload: Buffer,
  seq: number,
  opts: { src?: string; dst?: string; srcPort?: number; dstPort?: number; syn?: boolean } = {},
): Buffer {
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(opts.srcPort ?? 9232, 0);
  tcp.writeUInt16BE(opts.dstPort ?? 56316, 2);
  tcp.writeUInt32BE(seq >>> 0, 4);
  tcp[12] = 5 << 4;
  tcp[13] = opts.syn ? 0x02 : 0x18;
  tcp.writeUInt16BE(65535, 14);
  return ipFrame(6, tcp, payload, opts.src ?? '10.10.10.1', opts.dst ?? '192.168.0.1');
}

function udpHeader(len: number, srcPort: number, dstPort: number): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(srcPort, 0);
  h.writeUInt16BE(dstPort, 2);
  h.writeUInt16BE(len + 8, 4);
  return h;
}

function ipFrame(proto: number, l4: Buffer, payload: Buffer, src: string, dst: string): Buffer {
  const eth = Buffer.from([0x01, 0x00, 0x5e, 0, 0x1c, 0x14, 0, 0x15, 0xc7, 0x24, 0x6c, 0xc0, 0x08, 0x00]);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + l4.length + payload.length, 2);
  ip.writeUInt16BE(0x4000, 6);
  ip[8] = 17;
  ip[9] = proto;
  src.split('.').forEach((o, i) => (ip[12 + i] = Number(o)));
  dst.split('.').forEach((o, i) => (ip[16 + i] = Number(o)));
  return Buffer.concat([eth, ip, l4, payload]);
}

/** Writes a classic little-endian microsecond pcap (link type Ethernet) from frames. */
export function writePcap(
  frames: ReadonlyArray<Buffer | { data: Buffer; tsSec?: number; tsUsec?: number; origLen?: number }>,
): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(262144, 16);
  header.writeUInt32LE(LINKTYPE.ETHERNET, 20);
  const parts: Buffer[] = [header];
  frames.forEach((f, i) => {
    const data = Buffer.isBuffer(f) ? f : f.data;
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(Buffer.isBuffer(f) ? 1700000000 + i : (f.tsSec ?? 1700000000 + i), 0);
    rec.writeUInt32LE(Buffer.isBuffer(f) ? 0 : (f.tsUsec ?? 0), 4);
    rec.writeUInt32LE(data.length, 8);
    rec.writeUInt32LE(Buffer.isBuffer(f) ? data.length : (f.origLen ?? data.length), 12);
    parts.push(rec, data);
  });
  return Buffer.concat(parts);
}
