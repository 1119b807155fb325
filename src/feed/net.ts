/**
 * Sockets for the feed: multicast receivers and senders (explicit interface, as loopback multicast
 * needs), and the relay that copies packets byte-exact to unicast UDP subscribers and to TCP
 * subscribers (4-byte big-endian length prefix). A slow TCP subscriber is disconnected once its
 * unsent backlog passes the limit, so it can never stall the feed or other subscribers.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { InputError } from '../errors';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** Parses `host:port` (multicast group or unicast address); port 0 (any free port) only for listeners. */
export function parseEndpoint(text: string, field: string, allowPortZero = false): Endpoint {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < (allowPortZero ? 0 : 1) || port > 65535 || m[1].split('.').some((o) => Number(o) > 255)) {
    throw new InputError(`${field}: "${text}" is not an IPv4 host:port`, field);
  }
  return { host: m[1], port };
}

export interface MulticastReceiver {
  readonly socket: dgram.Socket;
  close(): Promise<void>;
}

/** Joins `group:port` on `iface` and calls `onPacket` for every datagram. */
export async function joinMulticast(
  ep: Endpoint,
  onPacket: (buf: Buffer) => void,
  iface = '127.0.0.1',
): Promise<MulticastReceiver> {
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  socket.on('message', (buf) => onPacket(buf));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(ep.port, ep.host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.addMembership(ep.host, iface);
  try {
    // Bursts at 100k packets/s overflow the default receive buffer.
    socket.setRecvBufferSize(8 << 20);
  } catch {
    // The kernel may cap it (net.core.rmem_max); the default still works at lower rates.
  }
  return { socket, close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
}

export interface MulticastSender {
  send(buf: Buffer, to: Endpoint): void;
  close(): Promise<void>;
}

export async function multicastSender(iface = '127.0.0.1', ttl = 1): Promise<MulticastSender> {
  const socket = dgram.createSocket({ type: 'udp4' });
  await new Promise<void>((resolve) => socket.bind(0, iface, () => resolve()));
  // Without an explicit interface the kernel routes multicast out of the default interface.
  socket.setMulticastInterface(iface);
  socket.setMulticastTTL(ttl);
  socket.setMulticastLoopback(true);
  try {
    socket.setSendBufferSize(8 << 20);
  } catch {
    // capped by the kernel: fine
  }
  return {
    send: (buf, to) => socket.send(buf, to.port, to.host),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

export interface RelayOptions {
  /** Unicast UDP subscribers. */
  readonly udp?: readonly Endpoint[];
  /** Listen for TCP subscribers here (port 0: any free port). Omit for no TCP. */
  readonly tcpListen?: Endpoint;
  /** Unsent bytes a TCP subscriber may accumulate before it is disconnected. @default 4 MiB */
  readonly maxTcpBacklogBytes?: number;
}

export type RelayStats = Relay['stats'];

export class Relay {
  readonly stats = {
    packets: 0,
    udpSent: 0,
    udpErrors: 0,
    tcpSubscribers: 0,
    tcpConnected: 0,
    tcpPacketsSent: 0,
    /** Subscribers disconnected for falling behind. */
    tcpSlowDisconnects: 0,
    /** Packets not delivered to a subscriber because it was disconnected for being slow. */
    tcpDropped: 0,
  };
  private readonly clients = new Set<net.Socket>();
  private readonly maxBacklog: number;
  /** Per-subscriber counters: UDP targets by index; TCP subscribers by socket (kept after they leave). */
  private readonly udpCounters: Array<{ id: string; sent: number; drops: number }>;
  private readonly tcpCounters = new Map<net.Socket, { id: string; sent: number; drops: number }>();
  /** One send callback per UDP subscriber, made once (no closure per packet). */
  private readonly onUdpSent: Array<(err: Error | null) => void>;

  private constructor(
    private readonly udpSockets: readonly dgram.Socket[],
    private readonly server: net.Server | null,
    opts: RelayOptions,
  ) {
    this.maxBacklog = opts.maxTcpBacklogBytes ?? 4 << 20;
    this.udpCounters = (opts.udp ?? []).map((t) => ({ id: `udp:${t.host}:${t.port}`, sent: 0, drops: 0 }));
    const udpError = (i: number): void => {
      this.stats.udpErrors++;
      this.udpCounters[i].drops++;
    };
    this.onUdpSent = this.udpCounters.map((_, i) => (err: Error | null) => {
      if (err) udpError(i);
    });
    server?.on('connection', (s) => this.accept(s));
    // A connected socket reports an absent subscriber (ICMP port unreachable) as an error: count it.
    udpSockets.forEach((s, i) => s.on('error', () => udpError(i)));
  }

  /** Packets sent and dropped per subscriber (TCP subscribers that left stay listed, up to 1,000). */
  subscribers(): Array<{ id: string; sent: number; drops: number }> {
    return [...this.udpCounters, ...this.tcpCounters.values()].map((c) => ({ ...c }));
  }

  static async start(opts: RelayOptions): Promise<Relay> {
    // One connected socket per subscriber: send() on an unconnected socket resolves the address
    // through dns.lookup and a nextTick, so the datagram would leave only after the handler has
    // decoded the packet; a connected socket sends synchronously.
    const udp: dgram.Socket[] = [];
    for (const t of opts.udp ?? []) {
      const s = dgram.createSocket({ type: 'udp4' });
      udp.push(s);
      await new Promise<void>((resolve) => s.bind(0, '0.0.0.0', () => resolve()));
      try {
        s.setSendBufferSize(8 << 20);
      } catch {
        // capped by the kernel
      }
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.connect(t.port, t.host, () => {
          s.off('error', reject);
          resolve();
        });
      });
    }
    let server: net.Server | null = null;
    if (opts.tcpListen) {
      server = net.createServer({ noDelay: true });
      const ep = opts.tcpListen;
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(ep.port, ep.host, () => resolve());
      });
    }
    return new Relay(udp, server, opts);
  }

  /** The TCP port subscribers connect to (when listening). */
  get tcpPort(): number | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  /** Sends one packet to every subscriber; never waits. */
  send(packet: Buffer): void {
    this.stats.packets++;
    for (let i = 0; i < this.udpSockets.length; i++) {
      this.udpSockets[i].send(packet, this.onUdpSent[i]);
      this.stats.udpSent++;
      this.udpCounters[i].sent++;
    }
    if (this.clients.size > 0) {
      const header = Buffer.allocUnsafe(4);
      header.writeUInt32BE(packet.length, 0);
      for (const c of this.clients) {
        const counters = this.tcpCounters.get(c);
        if (c.writableLength > this.maxBacklog) {
          this.stats.tcpSlowDisconnects++;
          this.stats.tcpDropped++;
          if (counters) counters.drops++;
          this.clients.delete(c);
          c.destroy();
          continue;
        }
        c.cork();
        c.write(header);
        c.write(packet);
        c.uncork();
        this.stats.tcpPacketsSent++;
        if (counters) counters.sent++;
      }
    }
  }

  private accept(s: net.Socket): void {
    this.stats.tcpSubscribers++;
    this.clients.add(s);
    if (this.tcpCounters.size >= 1000) {
      // Forget the oldest subscriber that has left (bounded memory with reconnecting clients).
      for (const k of this.tcpCounters.keys())
        if (!this.clients.has(k)) {
          this.tcpCounters.delete(k);
          break;
        }
    }
    this.tcpCounters.set(s, { id: `tcp:${s.remoteAddress}:${s.remotePort}`, sent: 0, drops: 0 });
    this.stats.tcpConnected = this.clients.size;
    s.setNoDelay(true);
    s.on('data', () => {}); // subscribers send nothing; ignore
    s.on('error', () => {});
    s.on('close', () => {
      this.clients.delete(s);
      this.stats.tcpConnected = this.clients.size;
    });
  }

  async close(): Promise<void> {
    for (const c of this.clients) c.destroy();
    this.clients.clear();
    await Promise.all([
      ...this.udpSockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
      this.server ? new Promise<void>((resolve) => this.server!.close(() => resolve())) : undefined,
    ]);
  }
}

/** Splits a TCP relay stream (4-byte big-endian length + packet) back into packets. */
export class LengthPrefixedReader {
  private buf: Buffer = Buffer.alloc(0);
  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Buffer[] = [];
    let p = 0;
    while (p + 4 <= this.buf.length) {
      const n = this.buf.readUInt32BE(p);
      if (p + 4 + n > this.buf.length) break;
      out.push(this.buf.subarray(p + 4, p + 4 + n));
      p += 4 + n;
    }
    this.buf = this.buf.subarray(p);
    return out;
  }
}
