/**
 * `quant feed replay`: sends the MDP packets of a capture to feeds A and B (multicast), repeated
 * with rewritten, increasing sequence numbers, at a given rate.
 */
import { InputError } from '../errors';
import { readPcap, extractTransport, pcapInfo } from './pcap';
import { multicastSender, type Endpoint } from './net';

export interface ReplayOptions {
  readonly feedA: Endpoint;
  readonly feedB?: Endpoint;
  readonly repeat?: number;
  /** Packets per second. @default 10000 */
  readonly rate?: number;
  readonly iface?: string;
  /** First sequence number. @default 1 */
  readonly startSeq?: number;
}

/** The UDP payloads (MDP packets) of a capture, in order. */
export function capturePackets(pcap: Buffer): Buffer[] {
  const info = pcapInfo(pcap);
  const out: Buffer[] = [];
  for (const rec of readPcap(pcap)) {
    const seg = extractTransport(info.linkType, rec.data);
    if (!('error' in seg) && seg.proto === 'udp' && seg.payload.length >= 12) out.push(seg.payload);
  }
  return out;
}

export async function replayCapture(
  pcap: Buffer,
  opts: ReplayOptions,
): Promise<{ packets: number; lastSeq: number }> {
  const packets = capturePackets(pcap);
  if (packets.length === 0)
    throw new InputError(
      'pcap: the capture holds no UDP MDP packets (TCP recovery captures cannot be replayed)',
      'pcap',
    );
  const sender = await multicastSender(opts.iface ?? '127.0.0.1');
  const rate = opts.rate ?? 10_000;
  const total = packets.length * (opts.repeat ?? 1);
  let seq = (opts.startSeq ?? 1) - 1;
  let sent = 0;
  const started = performance.now();
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
    while (sent < due) {
      const p = Buffer.from(packets[sent % packets.length]);
      p.writeUInt32LE(++seq >>> 0, 0);
      sender.send(p, opts.feedA);
      if (opts.feedB) sender.send(p, opts.feedB);
      sent++;
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await sender.close();
  return { packets: sent, lastSeq: seq };
}
