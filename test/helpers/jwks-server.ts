/**
 * A switchable JWKS server on 127.0.0.1 for key-set tests: it answers with the published keys or
 * with one of the ways a real issuer goes wrong, and counts every request it receives.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { CompactSign, exportJWK, generateKeyPair, type JWK } from 'jose';

/** How the server answers the JWKS path. */
export type JwksAnswer =
  | 'good' // 200, application/json, the published keys, `cacheControl` if set
  | 'slow' // holds the request until `release()` (or close)
  | 'error' // 500 with a JSON error body
  | 'html' // 200 text/html: a login or error page
  | 'garbage' // 200 application/json whose body is not JSON
  | 'not-a-set' // 200 {"keys":{}}
  | 'huge' // 200 chunked, far larger than any sane cap, no Content-Length
  | 'huge-declared' // 200 with a Content-Length far over the cap, body never sent
  | 'redirect' // 302 to a path that serves the good keys
  | 'reset'; // the connection is destroyed without an answer

export const JWKS_PATH = '/.well-known/jwks.json';
export const REDIRECT_TARGET = '/moved/jwks.json';
/** Size of a `huge` body: no client honouring a cap should ever read it all. */
export const HUGE_BYTES = 64 * 1024 * 1024;

export interface HugeOutcome {
  /** Bytes handed to the socket before the client hung up (or the end). */
  written: number;
  /** Whether the whole body went out. */
  completed: boolean;
}

export interface JwksServer {
  readonly uri: string;
  /** Requests to the JWKS path. */
  readonly hits: number;
  /** Requests to the redirect target (a client that follows redirects would show up here). */
  readonly redirectTargetHits: number;
  /** Requests currently held by `slow`. */
  readonly held: number;
  /** Headers of the last JWKS request. */
  readonly lastRequestHeaders: IncomingMessage['headers'] | undefined;
  answer: JwksAnswer;
  /** The published JWKs; assign to rotate. */
  keys: unknown[];
  /** Sent as `Cache-Control` on good answers; `undefined` sends none. */
  cacheControl: string | undefined;
  /** Resolves once the server has received `count` JWKS requests in total. */
  waitForHits(count: number): Promise<void>;
  /** Resolves when the last `huge`/`huge-declared` answer ended, one way or the other. */
  hugeOutcome(): Promise<HugeOutcome>;
  /** Answers every held `slow` request with the good set. */
  release(): void;
  /** Stops listening: connections are refused until `start()`. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startJwksServer(options: { keys?: unknown[]; cacheControl?: string } = {}): Promise<JwksServer> {
  let hits = 0;
  let redirectTargetHits = 0;
  let lastRequestHeaders: IncomingMessage['headers'] | undefined;
  const held = new Set<ServerResponse>();
  const hitWaiters: { count: number; resolve: () => void }[] = [];
  let huge: Promise<HugeOutcome> | undefined;
  const sockets = new Set<Socket>();

  const state = {
    answer: 'good' as JwksAnswer,
    keys: options.keys ?? [],
    cacheControl: options.cacheControl as string | undefined,
  };

  function sendGood(res: ServerResponse): void {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (state.cacheControl !== undefined) headers['Cache-Control'] = state.cacheControl;
    res.writeHead(200, headers);
    res.end(JSON.stringify({ keys: state.keys }));
  }

  function sendHuge(res: ServerResponse): Promise<HugeOutcome> {
    return new Promise((resolve) => {
      let written = 0;
      let done = false;
      const finish = (completed: boolean) => {
        if (!done) resolve({ written, completed });
        done = true;
      };
      res.on('close', () => finish(res.writableFinished));
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20); // JSON whitespace: a valid, endless prefix
      const pump = () => {
        while (!res.destroyed && written < HUGE_BYTES) {
          written += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        if (!res.destroyed) res.end('{"keys":[]}');
      };
      pump();
    });
  }

  function sendHugeDeclared(res: ServerResponse): Promise<HugeOutcome> {
    return new Promise((resolve) => {
      res.on('close', () => resolve({ written: 0, completed: res.writableFinished }));
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(HUGE_BYTES) });
      res.flushHeaders();
    });
  }

  const http: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === REDIRECT_TARGET) {
      redirectTargetHits += 1;
      sendGood(res);
      return;
    }
    if (path !== JWKS_PATH) {
      res.writeHead(404).end();
      return;
    }
    hits += 1;
    lastRequestHeaders = req.headers;
    for (const waiter of hitWaiters.filter((w) => hits >= w.count)) {
      hitWaiters.splice(hitWaiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    switch (state.answer) {
      case 'good':
        return sendGood(res);
      case 'slow':
        held.add(res);
        res.on('close', () => held.delete(res));
        return;
      case 'error':
        res.writeHead(500, { 'Content-Type': 'application/json' }).end('{"error":"internal"}');
        return;
      case 'html':
        res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><html><body>Sign in</body></html>');
        return;
      case 'garbage':
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"keys":[{"kty":"EC",');
        return;
      case 'not-a-set':
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"keys":{}}');
        return;
      case 'huge':
        huge = sendHuge(res);
        return;
      case 'huge-declared':
        huge = sendHugeDeclared(res);
        return;
      case 'redirect':
        res.writeHead(302, { Location: REDIRECT_TARGET }).end();
        return;
      case 'reset':
        req.socket.destroy();
        return;
    }
  });
  http.keepAliveTimeout = 1000;
  http.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, '127.0.0.1', () => {
        http.off('error', reject);
        resolve();
      });
    });
  const shut = () =>
    new Promise<void>((resolve) => {
      for (const res of held) res.destroy();
      http.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });

  await listen(0);
  const { port } = http.address() as AddressInfo;

  return {
    uri: `http://127.0.0.1:${port}${JWKS_PATH}`,
    get hits() {
      return hits;
    },
    get redirectTargetHits() {
      return redirectTargetHits;
    },
    get held() {
      return held.size;
    },
    get lastRequestHeaders() {
      return lastRequestHeaders;
    },
    get answer() {
      return state.answer;
    },
    set answer(value) {
      state.answer = value;
    },
    get keys() {
      return state.keys;
    },
    set keys(value) {
      state.keys = value;
    },
    get cacheControl() {
      return state.cacheControl;
    },
    set cacheControl(value) {
      state.cacheControl = value;
    },
    waitForHits(count) {
      if (hits >= count) return Promise.resolve();
      return new Promise((resolve) => hitWaiters.push({ count, resolve }));
    },
    hugeOutcome() {
      if (!huge) return Promise.reject(new Error('no huge answer was sent'));
      return huge;
    },
    release() {
      for (const res of [...held]) sendGood(res);
      held.clear();
    },
    stop: shut,
    start: () => listen(port),
    close: shut,
  };
}

/** A real ES256 key pair and its public JWK as an issuer would publish it. */
export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

export async function makeSigningKey(kid: string = randomUUID()): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

export const AUDIENCE = 'test-project';
export const ISSUER = 'picketapi.com';
export const WALLET = '0xA548ac9c6f41B19175023B5f09c6E70f99cFeec8';

/** Signs a Picket-shaped access token with `key` (header `kid` from the key unless overridden). */
export async function signAccessToken(key: SigningKey, header: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    walletAddress: WALLET,
    displayAddress: WALLET,
    chain: 'ethereum',
    sub: `ethereum:${WALLET}`,
    iat: now,
    exp: now + 3600,
    iss: ISSUER,
    aud: AUDIENCE,
  };
  const protectedHeader: Record<string, unknown> = { alg: 'ES256', typ: 'JWT', kid: key.kid };
  for (const [name, value] of Object.entries(header)) {
    if (value === undefined) delete protectedHeader[name];
    else protectedHeader[name] = value;
  }
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader(protectedHeader as { alg: string })
    .sign(key.privateKey);
}
