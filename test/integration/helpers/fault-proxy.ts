/**
 * A real HTTP reverse proxy in front of a local S3 server that can fail or delay chosen requests,
 * or run an action (e.g. change the source object) before forwarding one. Requests stay signed
 * for the proxy's host, which the upstream checks against the Host header it receives unchanged.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  readonly method: string;
  /** Decoded path without the query, e.g. `/bucket/some key`. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: http.IncomingHttpHeaders;
}

export type Verdict = 'forward' | { status: number; code: string };

export interface FaultProxy {
  readonly endpoint: string;
  /** Requests seen, in order. */
  readonly seen: ProxiedRequest[];
  rule: (req: ProxiedRequest) => Verdict | Promise<Verdict>;
  /** Flip the first byte of this request's body on its way to the upstream (corruption in transit). */
  corrupt: (req: ProxiedRequest) => boolean;
  /** Replace the ETag of this response (a destination whose ETags are not MD5s, like SSE-KMS). */
  opaqueEtag: (req: ProxiedRequest) => boolean;
  close(): Promise<void>;
}

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  const seen: ProxiedRequest[] = [];
  const proxy: FaultProxy = {
    endpoint: '',
    seen,
    rule: () => 'forward',
    corrupt: () => false,
    opaqueEtag: () => false,
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const info: ProxiedRequest = {
      method: req.method ?? 'GET',
      path: decodeURIComponent(url.pathname),
      query: url.searchParams,
      headers: req.headers,
    };
    seen.push(info);
    void Promise.resolve(proxy.rule(info)).then((verdict) => {
      if (verdict !== 'forward') {
        // Drain the body so the client sees the error response, not a reset.
        req.resume();
        req.on('end', () => {
          res.writeHead(verdict.status, { 'content-type': 'application/xml' });
          res.end(
            `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${verdict.code}</Code><Message>injected by the fault proxy</Message></Error>`,
          );
        });
        return;
      }
      const up = http.request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (upRes) => {
          const headers = { ...upRes.headers };
          if (headers.etag && proxy.opaqueEtag(info))
            headers.etag = `"${crypto.randomBytes(16).toString('hex')}"`;
          res.writeHead(upRes.statusCode ?? 502, headers);
          upRes.pipe(res);
        },
      );
      up.on('error', () => res.destroy());
      if (!proxy.corrupt(info)) {
        req.pipe(up);
        return;
      }
      let first = true;
      req.on('data', (chunk: Buffer) => {
        if (first && chunk.length > 0) {
          first = false;
          chunk = Buffer.from(chunk);
          chunk[0] ^= 0xff;
        }
        up.write(chunk);
      });
      req.on('end', () => up.end());
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  (proxy as { endpoint: string }).endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
