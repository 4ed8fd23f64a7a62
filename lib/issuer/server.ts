/** The issuer's HTTP server on 127.0.0.1: listening, JSON bodies in and out, closing. */
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Largest request body the issuer reads. */
export const MAX_BODY_BYTES = 65_536;

/** A body past the issuer's limit: declared so, or found so while reading (the rest is not read). */
export class RequestBodyTooLargeError extends Error {
  override name = 'RequestBodyTooLargeError';
}

/** A body some other middleware read before the issuer (`express.json()` mounted first). */
export class RequestBodyConsumedError extends Error {
  override name = 'RequestBodyConsumedError';
}

/** Reads a JSON body of at most `limit` bytes; rejects on anything else (`RequestBodyTooLargeError` past the limit). */
export function readJson(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  return new Promise((resolve, reject) => {
    if (req.readableEnded) {
      // Read already, by a body parser mounted before the issuer's router: nothing will arrive.
      reject(new RequestBodyConsumedError('the request body was read before the issuer saw it'));
      return;
    }
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new RequestBodyTooLargeError(`declared body of ${declared} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        req.removeAllListeners('data');
        reject(new RequestBodyTooLargeError('body too large'));
      } else chunks.push(chunk);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (error) {
        reject(error);
      }
    });
    req.on('error', reject);
    // A connection dropped before the body ended settles the read too (a no-op once it has).
    req.on('close', () => reject(new Error('the request closed before its body ended')));
  });
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (status === 204) {
    res.writeHead(status, { 'Cache-Control': 'no-store', ...headers }).end();
    return;
  }
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

export interface RunningServer {
  /** e.g. `http://127.0.0.1:41234` */
  url: string;
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1 (`port` 0: a free one). A request without `Host` reaches `handler` too, so
 * that it can answer with its own error instead of Node's bare 400.
 */
export async function listen(handler: RequestListener, port = 0): Promise<RunningServer> {
  const http = createServer({ requireHostHeader: false }, handler);
  // Idle keep-alive sockets must not outlive a test.
  http.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    close() {
      return new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };
}
