/** Raw HTTP requests for what supertest cannot send, such as repeated header lines. */
import http, { type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Serves `handler` on 127.0.0.1, sends one GET with `rawHeaders` (name/value pairs, repeats allowed). */
export async function rawGet(handler: RequestListener, path: string, rawHeaders: Array<[string, string]>): Promise<RawResponse> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise<RawResponse>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path, method: 'GET', agent: false });
      for (const [name, value] of rawHeaders) {
        const existing = req.getHeader(name);
        req.setHeader(name, existing === undefined ? value : [...([] as string[]).concat(existing as string | string[]), value]);
      }
      req.on('response', (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}
