/**
 * A switchable JWKS server on 127.0.0.1 for key-set tests: it answers with the published keys or
 * with one of the ways a real issuer goes wrong, and counts every request it receives.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { CompactSign, exportJWK, generateKeyPair, type JWK } from 'jose';
import { AUDIENCE, b64url, ISSUER, picketClaims } from './fixtures';
import { closeServer, listen } from './net';

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
  /**
   * A whole JWKS document served in place of `{ keys }` on good answers: a string goes out byte
   * for byte, anything else as JSON. `undefined` serves `{ keys }`.
   */
  document: unknown;
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
    document: undefined as unknown,
    cacheControl: options.cacheControl as string | undefined,
  };

  function sendGood(res: ServerResponse): void {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (state.cacheControl !== undefined) headers['Cache-Control'] = state.cacheControl;
    res.writeHead(200, headers);
    const document = state.document ?? { keys: state.keys };
    res.end(typeof document === 'string' ? document : JSON.stringify(document));
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
    // Gates share one key set per URI in a process, and a later server may get the port of a closed
    // one (with another key under the same kid): the URI names this server too.
    uri: `http://127.0.0.1:${port}${JWKS_PATH}?server=${randomUUID().slice(0, 8)}`,
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
    get document() {
      return state.document;
    },
    set document(value) {
      state.document = value;
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

/**
 * Signs a Picket-shaped access token (`picketClaims()` unless `payload` is given) with `key`; the
 * header's `kid` is the key's unless `header` overrides it (`undefined` removes a parameter).
 */
export async function signAccessToken(
  key: SigningKey,
  header: Record<string, unknown> = {},
  payload: Record<string, unknown> = picketClaims(),
): Promise<string> {
  const protectedHeader: Record<string, unknown> = { alg: 'ES256', typ: 'JWT', kid: key.kid };
  for (const [name, value] of Object.entries(header)) {
    if (value === undefined) delete protectedHeader[name];
    else protectedHeader[name] = value;
  }
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader(protectedHeader as { alg: string })
    .sign(key.privateKey);
}

/** An issuer that signs whatever bytes a test gives it, for tokens JSON.stringify cannot produce. */
export interface RawIssuer {
  readonly options: { issuer: string; audience: string; jwksUri: string };
  readonly kid: string;
  readonly publicJwk: JWK;
  /** Requests to its JWKS. */
  readonly hits: number;
  /** What the JWKS endpoint serves next (default: the signing key); a string is sent as it is. */
  jwks: unknown;
  /** Signs an arbitrary signing input (the first two segments, as sent) and appends the signature. */
  signInput(input: string, key?: CryptoKey): Promise<string>;
  /** Signs `header` and `payload` exactly as given (strings are used byte for byte). */
  signRaw(header: string | Uint8Array, payload: string | Uint8Array, key?: CryptoKey): Promise<string>;
  /** Signs JSON values with ES256 and this issuer's kid unless the header says otherwise. */
  sign(payload?: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

/** A raw issuer: a real P-256 key and the JWKS server above serving whatever document it is told. */
export async function createRawIssuer(): Promise<RawIssuer> {
  const key = await makeSigningKey('raw-issuer-key');
  const server = await startJwksServer();
  server.document = { keys: [key.jwk] };

  async function signInput(input: string, privateKey: CryptoKey = key.privateKey): Promise<string> {
    const signature = await crypto.subtle.sign(
      { name: 'ECDSA', hash: 'SHA-256' },
      privateKey,
      Buffer.from(input, 'latin1'),
    );
    return `${input}.${b64url(new Uint8Array(signature))}`;
  }
  const signRaw = (header: string | Uint8Array, payload: string | Uint8Array, privateKey?: CryptoKey) =>
    signInput(`${b64url(header)}.${b64url(payload)}`, privateKey);

  return {
    options: { issuer: ISSUER, audience: AUDIENCE, jwksUri: server.uri },
    kid: key.kid,
    publicJwk: key.jwk,
    get hits() {
      return server.hits;
    },
    get jwks() {
      return server.document;
    },
    set jwks(value: unknown) {
      server.document = value;
    },
    signInput,
    signRaw,
    sign: (payload = picketClaims(), header = {}) =>
      signRaw(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid: key.kid, ...header }), JSON.stringify(payload)),
    close: () => server.close(),
  };
}

/** A loopback server that counts every request: where the gate must never call out. */
export interface Trap {
  readonly url: string;
  readonly requests: number;
  close(): Promise<void>;
}

export async function createTrap(): Promise<Trap> {
  let requests = 0;
  const server = createServer((_req, res) => {
    requests += 1;
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"keys":[]}');
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    close: () => closeServer(server),
  };
}
