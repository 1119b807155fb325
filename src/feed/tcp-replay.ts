/**
 * TCP replay of small gaps, after CME's MDP 3.0 TCP Recovery service, and `ReplayServer`, its local
 * stand-in (tests and the demo serve the simulator's published packets with it).
 *
 * One TCP connection per request (CME "MDP 3.0 - TCP Recovery"): the client logs on with a FIX
 * tag=value Logon (35=A, Username 553, Password 554); CME confirms with a Logon; the client sends one
 * MarketDataRequest (35=V, MDReqID 262, ApplID 1180 = channel, ApplBegSeqNum 1182, ApplEndSeqNum 1183,
 * both 1..4294967295, at most 2,000 packets); CME sends the packets, then a Logout (35=5) and closes.
 * A rejected logon or request is a Logout whose Text (58) gives the reason. Only the first request
 * of a session is processed. Client messages are tag=value; CME's are SBE-encoded: the Logon maps
 * to template AdminLogin15 (HeartBtInt 108), the Logout to AdminLogout16 (Text 58, char[180]),
 * heartbeats to AdminHeartbeat12, all in the MDP schema (id 1).
 *
 * Assumptions we could not confirm from CME's public pages (documented so they are easy to change):
 * - Framing. Everything the server sends uses the TCP recovery framing this code already parses:
 *   0xCAFE, MsgSeqNum uint32, SendingTime uint64, then size-prefixed SBE messages. The admin messages
 *   travel in frames of their own; the Logon confirmation in frame MsgSeqNum 1 (as the open-source
 *   EPAM handler expects), the Logout in the next. Data frames carry the packets' MsgSeqNum.
 * - Client header. We send the FIX 4.2 standard header (8, 9, 35, 49, 56, 34, 52) and the Logon's
 *   EncryptMethod 98=0 and HeartBtInt 108. CME's page lists no SenderCompID/TargetCompID values:
 *   SenderCompID defaults to the Username and TargetCompID to "CME" (both configurable). Open-source
 *   clients send fewer fields, so the local server requires only what the replay needs.
 * - Server replies as tag=value. CME documents SBE; a tag=value Logon, Logout or Reject (35=3)
 *   received before any binary frame is understood too (some FIX-style replay gateways answer so).
 * - Reject texts. CME's exact Text strings are not published; the local server's are our own.
 * - Heartbeats. The client never sends any: a replay of at most 2,000 packets takes far less than
 *   HeartBtInt (30 s); the server's heartbeats are accepted and ignored.
 */
import net from 'node:net';
import { InputError } from '../errors';
import { encodeFix, FixError, type FixMessage, fixTimestamp, tagName, tryDecodeFix } from './fix';
import { PACKET_HEADER_SIZE, TCP_ENCODING_TYPE, TcpFrameParser, buildTcpFrame } from './packet';
import type { Endpoint } from './net';

/** CME's limit per replay request. */
export const MAX_REPLAY_PACKETS = 2000;
/** ApplBegSeqNum and ApplEndSeqNum are 1..4294967295 (uint32). */
export const MAX_REPLAY_SEQ = 4_294_967_295;
/** Templates of the MDP schema that CME's replay service answers with. */
export const ADMIN_TEMPLATES = { heartbeat: 12, logon: 15, logout: 16 } as const;
/** Schema id of the MDP 3.0 templates (templates_FixBinary.xml, `messageSchema id`). */
export const MDP_SCHEMA_ID = 1;
/** AdminLogout16.Text is char[180]. */
export const LOGOUT_TEXT_LENGTH = 180;
/** HeartBtInt the client asks for (seconds). */
export const REPLAY_HEARTBEAT_SECONDS = 30;

export interface ReplayCredentials {
  /** Username (553) CME assigned for the TCP replay service. */
  readonly username: string;
  /** Password (554). */
  readonly password: string;
}

export type ReplayErrorReason =
  | 'connect'
  | 'timeout'
  /** The server rejected the logon (Logout or Reject with its Text). */
  | 'logon'
  /** The server rejected the request (Logout before any packet, with its Text). */
  | 'refused'
  /** The connection ended or the server logged out before every packet arrived. */
  | 'incomplete'
  /** Bytes that are neither a frame nor a FIX message. */
  | 'protocol';

export class ReplayError extends Error {
  constructor(
    message: string,
    readonly reason: ReplayErrorReason,
    /** The server's Text (58), when it sent one. */
    readonly serverText?: string,
  ) {
    super(message);
    this.name = 'ReplayError';
  }
}

// --- Admin messages (SBE) ------------------------------------------------------------------------

export type AdminMessage =
  | { readonly type: 'logon'; readonly heartBtInt: number }
  | { readonly type: 'logout'; readonly text: string }
  | { readonly type: 'heartbeat' };

/** One admin message in a TCP recovery frame of its own. */
export function encodeAdminFrame(
  msg: AdminMessage,
  seq: number,
  opts: { schemaVersion?: number; sendingTime?: bigint } = {},
): Buffer {
  const template = ADMIN_TEMPLATES[msg.type];
  let body: Buffer;
  if (msg.type === 'logon') {
    body = Buffer.alloc(1);
    body.writeInt8(Math.max(-128, Math.min(127, msg.heartBtInt)), 0);
  } else if (msg.type === 'logout') {
    // char[180], NUL-padded; longer texts are cut (SBE fixed-length field).
    body = Buffer.alloc(LOGOUT_TEXT_LENGTH);
    body.write(msg.text.slice(0, LOGOUT_TEXT_LENGTH), 'latin1');
  } else body = Buffer.alloc(0);
  const header = Buffer.alloc(8);
  header.writeUInt16LE(body.length, 0); // blockLength
  header.writeUInt16LE(template, 2);
  header.writeUInt16LE(MDP_SCHEMA_ID, 4);
  header.writeUInt16LE(opts.schemaVersion ?? 13, 6);
  return buildTcpFrame(seq, opts.sendingTime ?? BigInt(Date.now()) * 1_000_000n, [
    Buffer.concat([header, body]),
  ]);
}

/** The admin message at buf[offset, offset + length) (SBE header + body), or null for market data. */
export function decodeAdmin(buf: Buffer, offset: number, length: number): AdminMessage | null {
  if (length < 8) return null;
  const blockLength = buf.readUInt16LE(offset);
  const template = buf.readUInt16LE(offset + 2);
  if (buf.readUInt16LE(offset + 4) !== MDP_SCHEMA_ID) return null;
  const body = offset + 8;
  const bodyLength = Math.min(blockLength, length - 8);
  if (template === ADMIN_TEMPLATES.heartbeat) return { type: 'heartbeat' };
  if (template === ADMIN_TEMPLATES.logon)
    return { type: 'logon', heartBtInt: bodyLength >= 1 ? buf.readInt8(body) : 0 };
  if (template === ADMIN_TEMPLATES.logout) {
    const raw = buf.toString('latin1', body, body + Math.min(bodyLength, LOGOUT_TEXT_LENGTH));
    const nul = raw.indexOf('\0');
    return { type: 'logout', text: (nul < 0 ? raw : raw.slice(0, nul)).trim() };
  }
  return null;
}

// --- Client ----------------------------------------------------------------------------------------

export interface ReplayClientOptions {
  readonly server: Endpoint;
  /** ApplID of the channel. */
  readonly channel: number;
  readonly credentials: ReplayCredentials;
  /** SenderCompID (49). @default credentials.username */
  readonly senderCompId?: string;
  /** TargetCompID (56). @default 'CME' */
  readonly targetCompId?: string;
  /** Connect, then the logon response, must each come within this long. @default timeoutMs */
  readonly logonTimeoutMs?: number;
  /** Longest silence while connecting or receiving packets. @default 2000 */
  readonly timeoutMs?: number;
  /** Packets per request (≤ 2,000). @default 2000 */
  readonly maxPerRequest?: number;
}

export type ReplayClientStats = ReplayClient['stats'];

function checkCredentials(c: ReplayCredentials | undefined, field: string): void {
  if (!c) throw new InputError(`${field}: TCP replay needs a username and password`, field);
  for (const k of ['username', 'password'] as const) {
    const v = c[k];
    if (typeof v !== 'string' || v === '' || v.includes('\x01'))
      throw new InputError(`${field}.${k}: must be a non-empty string without SOH`, `${field}.${k}`);
  }
}

/** Requests packet ranges from a TCP replay server and returns them as UDP packets (byte-exact). */
export class ReplayClient {
  readonly stats = { requests: 0, packets: 0, failures: 0 };
  private readonly maxPer: number;

  constructor(private readonly opts: ReplayClientOptions) {
    this.maxPer = opts.maxPerRequest ?? MAX_REPLAY_PACKETS;
    if (!Number.isInteger(this.maxPer) || this.maxPer < 1 || this.maxPer > MAX_REPLAY_PACKETS)
      throw new InputError(`maxPerRequest: ${this.maxPer} is not 1..${MAX_REPLAY_PACKETS}`, 'maxPerRequest');
    if (!Number.isInteger(opts.channel) || opts.channel < 0)
      throw new InputError(`channel: ${opts.channel} is not an ApplID (integer >= 0)`, 'channel');
    checkCredentials(opts.credentials, 'credentials');
  }

  /** Packets `from`..`to` (inclusive), in order; requests of at most 2,000 packets, one after another. */
  async request(from: number, to: number): Promise<Buffer[]> {
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 1 || to > MAX_REPLAY_SEQ || from > to)
      throw new InputError(`replay range ${from}-${to}: need 1 <= from <= to <= ${MAX_REPLAY_SEQ}`, 'range');
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
    const o = this.opts;
    const timeoutMs = o.timeoutMs ?? 2000;
    const logonTimeoutMs = o.logonTimeoutMs ?? timeoutMs;
    const where = `${o.server.host}:${o.server.port}`;
    const what = `replay ${beg}-${end}`;
    const header = (seq: number): Array<[number, string | number]> => [
      [49, o.senderCompId ?? o.credentials.username],
      [56, o.targetCompId ?? 'CME'],
      [34, seq],
      [52, fixTimestamp(new Date())],
    ];
    const logon = encodeFix('A', [
      ...header(1),
      [98, 0],
      [108, REPLAY_HEARTBEAT_SECONDS],
      [553, o.credentials.username],
      [554, o.credentials.password],
    ]);
    const request = encodeFix('V', [
      ...header(2),
      [262, `${o.channel}-${this.stats.requests}`],
      [1180, o.channel],
      [1182, beg],
      [1183, end],
    ]);
    const wanted = end - beg + 1;

    return new Promise<Buffer[]>((resolve, reject) => {
      let state: 'connecting' | 'logon' | 'replay' = 'connecting';
      const packets = new Map<number, Buffer>();
      let frameErrors = 0;
      const parser = new TcpFrameParser(() => frameErrors++);
      /** Bytes before the first binary frame (tag=value replies are read there). */
      let pending: Buffer | null = Buffer.alloc(0);
      // The messages of one frame, rebuilt into the UDP packet they came from (same bytes).
      let current: { seq: number; time: bigint; parts: Buffer[] } | null = null;
      const flushPacket = (): void => {
        if (!current) return;
        const h = Buffer.allocUnsafe(PACKET_HEADER_SIZE);
        h.writeUInt32LE(current.seq, 0);
        h.writeBigUInt64LE(current.time, 4);
        if (current.seq >= beg && current.seq <= end)
          packets.set(current.seq, Buffer.concat([h, ...current.parts]));
        current = null;
      };
      const progress = (): string =>
        `${packets.size} of ${wanted} packets${frameErrors ? ` (${frameErrors} framing errors)` : ''}`;

      const sock = net.connect(o.server.port, o.server.host);
      sock.setNoDelay(true);
      let settled = false;
      const failWith = (err: ReplayError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(logonTimer);
        sock.destroy();
        reject(err);
      };
      /** Fails with `${what}: ${detail}`. */
      const fail = (detail: string, reason: ReplayErrorReason, serverText?: string): void =>
        failWith(new ReplayError(`${what}: ${detail}`, reason, serverText));
      const succeed = (): void => {
        if (settled) return;
        flushPacket();
        const out: Buffer[] = [];
        for (let s = beg; s <= end; s++) out.push(packets.get(s)!);
        settled = true;
        clearTimeout(logonTimer);
        sock.end();
        this.stats.packets += out.length;
        resolve(out);
      };
      const complete = (): boolean => {
        flushPacket();
        return packets.size === wanted;
      };
      let logonTimer: NodeJS.Timeout | undefined;
      sock.setTimeout(timeoutMs, () => {
        if (state === 'connecting') fail(`connect to ${where} timed out after ${timeoutMs} ms`, 'timeout');
        else if (state === 'replay')
          fail(`no data from ${where} for ${timeoutMs} ms after ${progress()}`, 'timeout');
      });
      sock.on('error', (err) =>
        fail(
          `${state === 'connecting' ? `connect to ${where} failed` : `connection to ${where} failed`}: ${err.message}`,
          state === 'connecting' ? 'connect' : 'incomplete',
        ),
      );
      sock.on('connect', () => {
        state = 'logon';
        logonTimer = setTimeout(
          () => fail(`no logon response from ${where} within ${logonTimeoutMs} ms`, 'timeout'),
          logonTimeoutMs,
        );
        sock.write(logon);
      });

      /** A Logon, Logout or Reject from the server (SBE or tag=value). */
      const onAdmin = (m: AdminMessage | { type: 'reject'; text: string }): void => {
        if (m.type === 'heartbeat') return;
        if (state === 'logon') {
          if (m.type === 'logon') {
            clearTimeout(logonTimer);
            state = 'replay';
            sock.write(request);
            return;
          }
          fail(`logon rejected by ${where}: ${m.text || '(no text)'}`, 'logon', m.text);
          return;
        }
        if (m.type === 'logon') return;
        // Logout (or Reject) after the request: the end of the replay, or its refusal.
        if (complete()) return succeed();
        if (packets.size === 0 && m.type === 'logout')
          return failWith(new ReplayError(`${what} refused: ${m.text || '(no text)'}`, 'refused', m.text));
        fail(
          `${m.type === 'reject' ? 'reject' : 'logout'} after ${progress()}: ${m.text || '(no text)'}`,
          m.type === 'reject' && packets.size === 0 ? 'refused' : 'incomplete',
          m.text,
        );
      };
      const onFrames = (chunk: Buffer): void => {
        for (const m of parser.push(chunk, 0)) {
          const admin = decodeAdmin(m.buf, m.offset, m.length);
          if (admin) {
            flushPacket();
            onAdmin(admin);
            if (settled) return;
            continue;
          }
          if (state !== 'replay') {
            fail(`market data from ${where} before the logon response`, 'protocol');
            return;
          }
          if (current && current.seq !== m.seq) flushPacket();
          if (!current) current = { seq: m.seq, time: m.sendingTime, parts: [] };
          // Copy the message with its size prefix: the parser's buffer is reused.
          current.parts.push(Buffer.from(m.buf.subarray(m.offset - 2, m.offset + m.length)));
        }
      };
      sock.on('data', (chunk: Buffer) => {
        if (settled) return;
        if (pending === null) return onFrames(chunk);
        // Before the first binary frame: tag=value messages are read here, then the rest is frames.
        let buf = Buffer.concat([pending, chunk]);
        while (buf.length >= 2 && buf.readUInt16LE(0) !== TCP_ENCODING_TYPE) {
          let fix: FixMessage | null;
          try {
            fix = tryDecodeFix(buf);
          } catch (err) {
            const detail = err instanceof FixError ? err.message : String(err);
            return fail(`unreadable answer from ${where}: ${detail}`, 'protocol');
          }
          if (!fix) break;
          buf = buf.subarray(fix.length);
          const type = fix.msgType;
          const text = fix.get(58) ?? '';
          if (type === 'A') onAdmin({ type: 'logon', heartBtInt: Number(fix.get(108) ?? 0) });
          else if (type === '5') onAdmin({ type: 'logout', text });
          else if (type === '3') onAdmin({ type: 'reject', text: text || 'Reject (35=3) without Text' });
          else if (type !== '0') return fail(`unexpected MsgType ${type} from ${where}`, 'protocol');
          if (settled) return;
        }
        if (buf.length >= 2 && buf.readUInt16LE(0) === TCP_ENCODING_TYPE) {
          pending = null;
          onFrames(Buffer.from(buf));
        } else pending = Buffer.from(buf);
      });
      sock.on('close', () => {
        if (settled) return;
        parser.finish();
        if (state === 'connecting') return fail(`connection to ${where} closed while connecting`, 'connect');
        if (state === 'logon')
          return fail(`${where} closed the connection before the logon response`, 'incomplete');
        // Every packet arrived: accept it even without the closing Logout (nothing is missing).
        if (complete()) return succeed();
        fail(`connection closed after ${progress()}, without a Logout`, 'incomplete');
      });
    });
  }
}

// --- Local server ----------------------------------------------------------------------------------

/** For tests: what the server does with a session. */
export type ReplayServerBehaviour =
  /** Answer as CME documents. */
  | 'serve'
  /** Log on, then refuse every request (Logout "replay unavailable"). */
  | 'refuse'
  /** Log on, then close on the request without answering. */
  | 'close'
  /** Never answer the logon (the client's logon timeout). */
  | 'silent'
  /** Log on, send the first half of the packets, then drop the connection. */
  | 'drop';

export interface ReplayServerOptions {
  /** Packets by sequence number (e.g. the simulator's published map, filled while it runs). */
  readonly history: ReadonlyMap<number, Buffer>;
  /** The only credentials accepted. */
  readonly credentials: ReplayCredentials;
  readonly listen?: Endpoint;
  /** Channel served; requests for another ApplID are refused. Omit to serve any. */
  readonly channel?: number;
  readonly behaviour?: ReplayServerBehaviour;
  /** A connection that has not logged on within this long is closed. @default 10000 */
  readonly logonTimeoutMs?: number;
  /** SBE schema version in the admin messages' headers. @default 13 */
  readonly schemaVersion?: number;
}

export type ReplayServerStats = ReplayServer['stats'];

/** Local stand-in of the exchange's TCP replay service (one request per logged-on connection). */
export class ReplayServer {
  readonly stats = {
    /** Logons accepted and rejected. */
    logons: 0,
    logonsRejected: 0,
    /** MarketDataRequests received, served in full, and refused. */
    requests: 0,
    served: 0,
    refused: 0,
    packets: 0,
  };
  /** Can be changed while running (tests). */
  behaviour: ReplayServerBehaviour;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    private readonly opts: ReplayServerOptions,
  ) {
    this.behaviour = opts.behaviour ?? 'serve';
    server.on('connection', (s) => this.accept(s));
  }

  static async start(opts: ReplayServerOptions): Promise<ReplayServer> {
    checkCredentials(opts.credentials, 'credentials');
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
    let loggedOn = false;
    let adminSeq = 0;
    let buf: Buffer = Buffer.alloc(0);
    const admin = (m: AdminMessage): Buffer =>
      encodeAdminFrame(m, ++adminSeq, { schemaVersion: this.opts.schemaVersion });
    const logout = (text: string): void => {
      s.removeAllListeners('data');
      clearTimeout(logonTimer);
      s.end(admin({ type: 'logout', text }));
    };
    const logonTimer = setTimeout(() => s.destroy(), this.opts.logonTimeoutMs ?? 10_000);
    s.on('close', () => clearTimeout(logonTimer));
    s.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (buf.length > 0) {
        let m: FixMessage | null;
        try {
          m = tryDecodeFix(buf);
        } catch (err) {
          if (!loggedOn) this.stats.logonsRejected++;
          else this.stats.refused++;
          return logout(`Malformed message: ${err instanceof FixError ? err.message : String(err)}`);
        }
        if (!m) {
          if (buf.length > 8192) return logout('Malformed message: no complete message in 8192 bytes');
          return;
        }
        buf = buf.subarray(m.length);
        if (!loggedOn) {
          if (this.behaviour === 'silent') return;
          const problem = this.checkLogon(m);
          if (problem) {
            this.stats.logonsRejected++;
            return logout(problem);
          }
          loggedOn = true;
          clearTimeout(logonTimer);
          this.stats.logons++;
          s.write(admin({ type: 'logon', heartBtInt: Number(m.get(108) ?? 30) }));
          continue;
        }
        if (m.msgType === '5') return logout('Logout confirmed');
        if (m.msgType === '0') continue;
        if (m.msgType !== 'V') {
          this.stats.refused++;
          return logout(`Unsupported MsgType ${m.msgType}`);
        }
        // One request per session: CME ignores later ones; this server ends the session after it.
        s.removeAllListeners('data');
        this.answer(s, m, admin);
        return;
      }
    });
  }

  /** Why a Logon is rejected, or null when it is accepted. */
  private checkLogon(m: FixMessage): string | null {
    if (m.msgType !== 'A') return `Logon (35=A) required before MsgType ${m.msgType}`;
    const user = m.get(553);
    const password = m.get(554);
    if (user === undefined) return `Logon rejected: missing required ${tagName(553)}`;
    if (password === undefined) return `Logon rejected: missing required ${tagName(554)}`;
    if (user !== this.opts.credentials.username || password !== this.opts.credentials.password)
      return 'Logon rejected: invalid Username/Password';
    return null;
  }

  private answer(s: net.Socket, f: FixMessage, admin: (m: AdminMessage) => Buffer): void {
    this.stats.requests++;
    const refuse = (text: string): void => {
      this.stats.refused++;
      s.end(admin({ type: 'logout', text }));
    };
    if (this.behaviour === 'close') {
      s.destroy();
      return;
    }
    if (this.behaviour === 'refuse') return refuse('replay unavailable');
    let channel: number;
    let beg: number;
    let end: number;
    try {
      f.require(262);
      channel = f.requireInt(1180, 0, 2 ** 31 - 1);
      beg = f.requireInt(1182, 1, MAX_REPLAY_SEQ);
      end = f.requireInt(1183, 1, MAX_REPLAY_SEQ);
    } catch (err) {
      return refuse(`Request rejected: ${err instanceof FixError ? err.message : String(err)}`);
    }
    if (this.opts.channel !== undefined && channel !== this.opts.channel)
      return refuse(`unknown ApplID ${channel}`);
    if (end < beg) return refuse(`bad range ${beg}-${end}`);
    if (end - beg + 1 > MAX_REPLAY_PACKETS)
      return refuse(`request for ${end - beg + 1} packets exceeds ${MAX_REPLAY_PACKETS}`);
    const frames: Buffer[] = [];
    for (let seq = beg; seq <= end; seq++) {
      const p = this.opts.history.get(seq);
      if (!p) return refuse(`sequence ${seq} not available`);
      const marker = Buffer.allocUnsafe(2);
      marker.writeUInt16LE(TCP_ENCODING_TYPE, 0);
      frames.push(marker, p);
    }
    if (this.behaviour === 'drop') {
      // Half the packets, then the connection goes away (no Logout).
      s.write(Buffer.concat(frames.slice(0, 2 * Math.floor((end - beg + 1) / 2))), () => s.destroy());
      return;
    }
    this.stats.served++;
    this.stats.packets += end - beg + 1;
    frames.push(admin({ type: 'logout', text: `Replay of ${beg}-${end} complete` }));
    s.end(Buffer.concat(frames));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
