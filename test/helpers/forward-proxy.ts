/**
 * A forward HTTP proxy on 127.0.0.1, the kind a corporate network puts between a server and the
 * internet: it forwards absolute-URI requests (`GET http://host/path`) and tunnels `CONNECT
 * host:port`, and records each request it handles. Clients reach it through undici's `ProxyAgent`.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { closeServer, listen } from './net';

export interface ProxiedRequest {
  /** `CONNECT` for a tunnel, otherwise the forwarded method. */
  method: string;
  /** `host:port` for a tunnel, the absolute URI otherwise. */
  target: string;
  headers: IncomingMessage['headers'];
}

export interface ForwardProxy {
  /** `http://127.0.0.1:<port>`, what `new ProxyAgent(url)` takes. */
  readonly url: string;
  /** Every request the proxy handled, in order. */
  readonly requests: ProxiedRequest[];
  /** The `host:port` each request went to (a tunnel's target, or an absolute URI's host). */
  targets(): string[];
  close(): Promise<void>;
}

export async function startForwardProxy(): Promise<ForwardProxy> {
  const requests: ProxiedRequest[] = [];
  const tunnels = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end('absolute URI required');
      return;
    }
    requests.push({ method: req.method ?? '', target: target.href, headers: req.headers });
    const upstream = httpRequest(
      target,
      { method: req.method, headers: { ...req.headers, host: target.host }, agent: false },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.headersSent || res.writeHead(502).end());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    requests.push({ method: 'CONNECT', target: req.url ?? '', headers: req.headers });
    const [host = '', port = ''] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    tunnels.add(client).add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      tunnels.delete(client);
      tunnels.delete(upstream);
    };
    upstream.on('error', end).on('close', end);
    client.on('error', end).on('close', end);
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    targets: () => requests.map((r) => (r.method === 'CONNECT' ? r.target : new URL(r.target).host)),
    close: async () => {
      for (const socket of tunnels) socket.destroy();
      await closeServer(server);
    },
  };
}
