/**
 * TCP replay for small gaps, after CME's MDP 3.0 TCP Replay service: the client connects, sends one
 * FIX tag=value request (35=V, ApplID 1180 = channel, ApplBegSeqNum 1182, ApplEndSeqNum 1183) for at
 * most 2,000 packets, and the server answers with the packets in TCP recovery framing (0xCAFE
 * technical header + size-prefixed SBE messages) and closes; or with a FIX Logout (35=5, Text 58) and
 * closes when it refuses. Larger ranges are split into several requests. `ReplayServer` is the local
 * stand-in that serves packets from a history (the simulator's published packets).
 */
import net from 'node:net';
import { InputError } from '../errors';
import { PACKET_HEADER_SIZE, TCP_ENCODING_TYPE, TcpFrameParser } from './packet';
import type { Endpoint } from './net';

/** CME's limit per replay request. */
export const MAX_REPLAY_PACKETS = 2000;
const SOH = '\x01';

export class ReplayError extends Error {
  constructor(
    message: string,
    readonly reason: 'refused' | 'incomplete' | 'timeout' | 'connect',
  ) {
    super(message);
    this.name = 'ReplayError';
  }
}

/** FIX tag=value with BodyLength (9) and CheckSum (10). */
export function fixMessage(fields: Array<[number, string | number]>): Buffer {
  const body = fields.map(([t, v]) => `${t}=${v}${SOH}`).join('');
  const head = `8=FIX.4.2${SOH}9=${Buffer.byteLength(body)}${SOH}`;
  let sum = 0;
  for (const b of Buffer.from(head + body)) sum += b;
  return Buffer.from(`${head}${body}10=${String(sum % 256).padStart(3, '0')}${SOH}`);
}

/** Parses one complete FIX message at the start of `buf`: its fields and length, or null if incomplete. */
export function parseFix(buf: Buffer): { fields: Map<number, string>; length: number } | null {
  const text = buf.toString('latin1');
  const end = text.search(new RegExp(`(^|${SOH})10=\\d{3}${SOH}`));
  if (end < 0) return null;
  const length = text.indexOf(SOH, end + 1) + 1;
  const fields = new Map<number, string>();
  for (const kv of text.slice(0, length).split(SOH)) {
    const eq = kv.indexOf('=');
    if (eq > 0) fields.set(Number(kv.slice(0, eq)), kv.slice(eq + 1));
  }
  return { fields, length };
}

export interface ReplayClientOptions {
  readonly server: Endpoint;
  /** ApplID of the channel. */
  readonly channel: number;
  /** Per request: connect, send, and receive everything. @default 2000 */
  readonly timeoutMs?: number;
  /** Packets per request (≤ 2,000). @default 2000 */
  readonly maxPerRequest?: number;
}

export interface ReplayClientStats {
  requests: number;
  packets: number;
  failures: number;
}

/** Requests packet ranges from a TCP replay server and returns them as UDP packets (byte-exact). */
export class ReplayClient {
  readonly stats: ReplayClientStats = { requests: 0, packets: 0, failures: 0 };
  private readonly maxPer: number;

  constructor(private readonly opts: ReplayClientOptions) {
    this.maxPer = opts.maxPerRequest ?? MAX_REPLAY_PACKETS;
    if (!Number.isInteger(this.maxPer) || this.maxPer < 1 || this.maxPer > MAX_REPLAY_PACKETS)
      throw new InputError(`maxPerRequest: ${this.maxPer} is not 1..${MAX_REPLAY_PACKETS}`, 'maxPerRequest');
  }

  /** Packets `from`..`to` (inclusive), in order; requests of at most 2,000 packets, one after another. */
  async request(from: number, to: number): Promise<Buffer[]> {
    const out: Buffer[] = [];
    for (let beg = from; beg <= to; beg += this.maxPer) {
      const end = Math.min(to, beg + this.maxPer - 1);
      try {
        out.push(...(await this.requestOnce(beg, end)));
      } catch (err) {
        this.stats.failures++;
        throw err;
      }
    }
    return out;
  }

  private requestOnce(beg: number, end: number): Promise<Buffer[]> {
    this.stats.requests++;
    const timeoutMs = this.opts.timeoutMs ?? 2000;
    return new Promise<Buffer[]>((resolve, reject) => {
      const packets = new Map<number, Buffer>();
      let frameError = 0;
      const parser = new TcpFrameParser(() => frameError++);
      let first: Buffer | null = Buffer.alloc(0);
      let fixReply: string | null = null;
      // The messages of one frame, rebuilt into the UDP packet they came from (same bytes).
      let current: { seq: number; time: bigint; parts: Buffer[] } | null = null;
      const flushPacket = (): void => {
        if (!current) return;
        const header = Buffer.allocUnsafe(PACKET_HEADER_SIZE);
        header.writeUInt32LE(current.seq, 0);
        header.writeBigUInt64LE(current.time, 4);
        packets.set(current.seq, Buffer.concat([header, ...current.parts]));
        current = null;
      };
      const sock = net.connect(this.opts.server.port, this.opts.server.host);
      let settled = false;
      const fail = (err: ReplayError): void => {
        if (settled) return;
        settled = true;
        sock.destroy();
        reject(err);
      };
      sock.setTimeout(timeoutMs, () =>
        fail(new ReplayError(`replay ${beg}-${end}: no answer within ${timeoutMs} ms`, 'timeout')),
      );
      sock.on('error', (err) => fail(new ReplayError(`replay ${beg}-${end}: ${err.message}`, 'connect')));
      sock.on('connect', () =>
        sock.write(
          fixMessage([
            [35, 'V'],
            [1180, this.opts.channel],
            [1182, beg],
            [1183, end],
          ]),
        ),
      );
      sock.on('data', (chunk: Buffer) => {
        if (first !== null) {
          // The first bytes tell a refusal (FIX text) from data (0xCAFE frames).
          first = Buffer.concat([first, chunk]);
          if (first.length < 2) return;
          if (first.readUInt16LE(0) !== TCP_ENCODING_TYPE) {
            const fix = parseFix(first);
            if (fix) fixReply = fix.fields.get(58) ?? `message type ${fix.fields.get(35) ?? '?'}`;
            return;
          }
          chunk = first;
          first = null;
        }
        for (const m of parser.push(chunk, 0)) {
          if (current && current.seq !== m.seq) flushPacket();
          if (!current) current = { seq: m.seq, time: m.sendingTime, parts: [] };
          // Copy the message with its size prefix: the parser's buffer is reused.
          current.parts.push(Buffer.from(m.buf.subarray(m.offset - 2, m.offset + m.length)));
        }
      });
      sock.on('close', () => {
        if (settled) return;
        if (fixReply !== null || (first !== null && first.length > 0)) {
          fail(
            new ReplayError(`replay ${beg}-${end} refused: ${fixReply ?? 'unreadable answer'}`, 'refused'),
          );
          return;
        }
        flushPacket();
        parser.finish();
        const out: Buffer[] = [];
        for (let s = beg; s <= end; s++) {
          const p = packets.get(s);
          if (!p) {
            fail(
              new ReplayError(
                `replay ${beg}-${end}: connection closed after ${packets.size} of ${end - beg + 1} packets${frameError ? ` (${frameError} framing errors)` : ''}`,
                'incomplete',
              ),
            );
            return;
          }
          out.push(p);
        }
        settled = true;
        this.stats.packets += out.length;
        resolve(out);
      });
    });
  }
}

export interface ReplayServerOptions {
  /** Packets by sequence number (e.g. the simulator's published map, filled while it runs). */
  readonly history: ReadonlyMap<number, Buffer>;
  readonly listen?: Endpoint;
  /** Channel served; requests for another ApplID are refused. Omit to serve any. */
  readonly channel?: number;
  /** For tests: refuse every request (FIX Logout), or close without answering. */
  readonly behaviour?: 'serve' | 'refuse' | 'close';
}

export interface ReplayServerStats {
  requests: number;
  served: number;
  refused: number;
  packets: number;
}

/** Local stand-in of the exchange's TCP replay service. */
export class ReplayServer {
  readonly stats: ReplayServerStats = { requests: 0, served: 0, refused: 0, packets: 0 };
  /** Can be changed while running (tests). */
  behaviour: 'serve' | 'refuse' | 'close';
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    private readonly opts: ReplayServerOptions,
  ) {
    this.behaviour = opts.behaviour ?? 'serve';
    server.on('connection', (s) => this.accept(s));
  }

  static async start(opts: ReplayServerOptions): Promise<ReplayServer> {
    const server = net.createServer({ noDelay: true });
    const ep = opts.listen ?? { host: '127.0.0.1', port: 0 };
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(ep.port, ep.host, () => resolve());
    });
    return new ReplayServer(server, opts);
  }

  get endpoint(): Endpoint {
    const a = this.server.address();
    if (!a || typeof a !== 'object') throw new Error('replay server is not listening');
    return { host: '127.0.0.1', port: a.port };
  }

  private accept(s: net.Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => {});
    let buf = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const fix = parseFix(buf);
      if (!fix) {
        if (buf.length > 4096) this.refuse(s, 'request too long');
        return;
      }
      s.removeAllListeners('data');
      this.answer(s, fix.fields);
    });
  }

  private refuse(s: net.Socket, text: string): void {
    this.stats.refused++;
    s.end(
      fixMessage([
        [35, '5'],
        [58, text],
      ]),
    );
  }

  private answer(s: net.Socket, f: Map<number, string>): void {
    this.stats.requests++;
    if (this.behaviour === 'close') {
      s.destroy();
      return;
    }
    if (this.behaviour === 'refuse') return this.refuse(s, 'replay unavailable');
    const beg = Number(f.get(1182));
    const end = Number(f.get(1183));
    const channel = Number(f.get(1180));
    if (f.get(35) !== 'V') return this.refuse(s, `unsupported message type ${f.get(35)}`);
    if (this.opts.channel !== undefined && channel !== this.opts.channel)
      return this.refuse(s, `unknown ApplID ${f.get(1180)}`);
    if (!Number.isInteger(beg) || !Number.isInteger(end) || beg < 1 || end < beg)
      return this.refuse(s, `bad range ${f.get(1182)}-${f.get(1183)}`);
    if (end - beg + 1 > MAX_REPLAY_PACKETS)
      return this.refuse(s, `request for ${end - beg + 1} packets exceeds ${MAX_REPLAY_PACKETS}`);
    const frames: Buffer[] = [];
    for (let seq = beg; seq <= end; seq++) {
      const p = this.opts.history.get(seq);
      if (!p) return this.refuse(s, `sequence ${seq} not available`);
      const marker = Buffer.allocUnsafe(2);
      marker.writeUInt16LE(TCP_ENCODING_TYPE, 0);
      frames.push(marker, p);
    }
    this.stats.served++;
    this.stats.packets += end - beg + 1;
    s.end(Buffer.concat(frames));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
