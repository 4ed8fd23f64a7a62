/**
 * Every route of the issuer is bounded in size (64 KiB of body) and in time (`requestTimeoutMs`), its body included, over real
 * HTTP on 127.0.0.1: an ownership resolver that never answers (with `ownershipTimeoutMs` longer
 * than the request's deadline), a store that never answers, a client that sends its headers and
 * trickles its body or never finishes it.
 *
 * The attacks pinned here: a client holding a socket (and the work behind it) forever by never
 * finishing its body (slowloris); a slow dependency holding every request until the client gives
 * up; and a token or session made after the client was told the request timed out.
 */
import net from 'node:net';
import { createServer } from 'node:http';
import express from 'express';
import { decodeJwt } from 'jose';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { OptionsError } from '../../lib';
import { createIssuer, memoryIssuerStore, type IssuerOptions, type IssuerStore } from '../../lib/issuer';
import { listen, type RunningServer } from '../../lib/issuer/server';
import type { OwnershipResolver } from '../../lib/ownership/resolvers/types';
import { APES_CONTRACT, AUDIENCE } from '../helpers/fixtures';
import { closeServer, listen as listenOn } from '../helpers/net';
import { loginToken, postJson, walletLogin } from '../helpers/wallet-login';

const BASE: IssuerOptions = { issuer: 'auth.example.com', audience: AUDIENCE, ephemeralKey: true, rateLimits: false };
/**
 * The deadline of issuers whose other routes must still do real work (a login) in time: generous
 * for a loaded machine, short enough to wait out where a route hangs on purpose.
 */
const DEADLINE_MS = 5000;
/** The deadline of an issuer that is only sent bodies that never complete. */
const BODY_DEADLINE_MS = 300;

async function start(
  options: Partial<IssuerOptions>,
  requestTimeoutMs = DEADLINE_MS,
): Promise<{ api: string; close(): Promise<void> }> {
  const issuer = createIssuer({ ...BASE, requestTimeoutMs, ...options });
  const server: RunningServer = await listen(issuer.handler);
  return {
    api: server.url,
    async close() {
      await server.close();
      await issuer.close();
    },
  };
}

/** A resolver that answers only when the test lets it, whatever its signal says; counts its calls. */
function heldResolver() {
  let release: (balance: string) => void = () => undefined;
  const answered = new Promise<string>((resolve) => (release = resolve));
  let calls = 0;
  const resolver: OwnershipResolver = {
    name: 'held',
    async resolve() {
      calls += 1;
      return { balance: await answered };
    },
  };
  return { resolver, release: (balance: string) => release(balance), calls: () => calls };
}

/** The memory store, counting the sessions started through it. */
function countingStore(): IssuerStore & { sessionsStarted(): number } {
  const inner = memoryIssuerStore();
  let started = 0;
  return {
    issueNonce: (...args) => inner.issueNonce(...args),
    consumeNonce: (...args) => inner.consumeNonce(...args),
    pendingNonces: (...args) => inner.pendingNonces(...args),
    async createSession(...args) {
      started += 1;
      return inner.createSession(...args);
    },
    getSession: (...args) => inner.getSession(...args),
    endSession: (...args) => inner.endSession(...args),
    hit: (...args) => inner.hit(...args),
    close: () => inner.close(),
    sessionsStarted: () => started,
  };
}

describe('a route whose work outlasts requestTimeoutMs answers 503 timeout with Retry-After', () => {
  test('/authz with an ownership resolver that does not answer (ownershipTimeoutMs far longer): 503, and the session upgrades once the resolver answers', async () => {
    const held = heldResolver();
    const store = countingStore();
    const running = await start({ ownership: held.resolver, ownershipTimeoutMs: 120_000, store });
    try {
      const wallet = privateKeyToAccount(generatePrivateKey());
      const token = await loginToken(running.api, wallet);
      expect(store.sessionsStarted()).toBe(1);
      const reply = await postJson(running.api, '/authz', {
        accessToken: token,
        requirements: { contractAddress: APES_CONTRACT },
      });
      expect(reply.status).toBe(503);
      expect(reply.body).toMatchObject({ code: 'timeout', reason: 'timeout', error: 'temporarily_unavailable' });
      expect(reply.body.msg).toContain(`${DEADLINE_MS} ms`);
      expect(reply.headers.get('retry-after')).toBe('1');
      expect(held.calls()).toBe(1);
      held.release('5');
      // The same session still upgrades once the resolver answers: the issuer is not stuck.
      const later = await postJson(running.api, '/authz', {
        accessToken: token,
        requirements: { contractAddress: APES_CONTRACT },
      });
      expect(later.status).toBe(200);
      expect(decodeJwt(later.body.accessToken as string).sid).toBe(decodeJwt(token).sid);
    } finally {
      await running.close();
    }
  });

  test('a login with requirements whose resolver does not answer: 503, and no session is started', async () => {
    const held = heldResolver();
    const store = countingStore();
    const running = await start({ ownership: held.resolver, ownershipTimeoutMs: 120_000, store });
    try {
      const wallet = privateKeyToAccount(generatePrivateKey());
      const reply = await walletLogin(running.api, wallet, { requirements: { contractAddress: APES_CONTRACT } });
      expect([reply.status, reply.body.code]).toEqual([503, 'timeout']);
      expect(held.calls()).toBe(1);
      held.release('5');
      await new Promise((resolve) => setImmediate(resolve));
      expect(store.sessionsStarted()).toBe(0);
    } finally {
      await running.close();
    }
  });

  test('a store that never answers: /auth/nonce answers 503 timeout', async () => {
    const never = () => new Promise<never>(() => undefined);
    const store: IssuerStore = {
      issueNonce: never,
      consumeNonce: never,
      pendingNonces: never,
      createSession: never,
      getSession: never,
      endSession: never,
      hit: never,
      close: () => Promise.resolve(),
    };
    const running = await start({ store });
    try {
      const wallet = privateKeyToAccount(generatePrivateKey());
      const reply = await postJson(running.api, '/auth/nonce', { chain: 'ethereum', walletAddress: wallet.address });
      expect([reply.status, reply.body.code, reply.headers.get('retry-after')]).toEqual([503, 'timeout', '1']);
      const validate = await postJson(running.api, '/auth/validate', { accessToken: 'x' });
      // A bad token needs no store: it is refused at once, deadline or not.
      expect(validate.status).toBe(401);
    } finally {
      await running.close();
    }
  });
});

/** Opens a socket to `api`, writes `head`, then `trickle` (if any) one byte per 50 ms; resolves to what came back once the issuer closes the socket. */
function slowClient(api: string, head: string, trickle = ''): Promise<string> {
  const { port } = new URL(api);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    let received = '';
    let timer: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      socket.write(head);
      let at = 0;
      if (trickle !== '')
        timer = setInterval(() => {
          if (at < trickle.length && socket.writable) socket.write(trickle[at++]!);
        }, 50);
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve(received);
    });
    setTimeout(() => reject(new Error('the issuer held the socket for 60 s')), 60_000).unref();
  });
}

describe('a client that does not finish its body within requestTimeoutMs gets 408, and its socket is closed', () => {
  let running: { api: string; close(): Promise<void> };
  beforeAll(async () => {
    running = await start({}, BODY_DEADLINE_MS);
  });
  afterAll(() => running.close());

  const head = (length: number) =>
    `POST /auth/nonce HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

  test('headers sent, the body never completed', async () => {
    const answer = await slowClient(running.api, `${head(100)}{"chain":`);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toContain('"code":"request_timeout"');
    expect(answer.toLowerCase()).toContain('connection: close');
  });

  test('the body trickled one byte at a time, far slower than the deadline allows', async () => {
    const body = JSON.stringify({ chain: 'ethereum', walletAddress: `0x${'1'.repeat(40)}`, locale: 'en'.repeat(100) });
    const answer = await slowClient(running.api, head(body.length), body);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });
});

describe('a body past 64 KiB gets 413 body_too_large, and the rest is not read', () => {
  let running: { api: string; close(): Promise<void> };
  beforeAll(async () => {
    running = await start({});
  });
  afterAll(() => running.close());

  test('declared in Content-Length', async () => {
    const reply = await postJson(running.api, '/auth/nonce', { walletAddress: 'x'.repeat(70_000) });
    expect([reply.status, reply.body.code]).toEqual([413, 'body_too_large']);
  });

  test('sent chunked, without Content-Length: answered once past the limit, the socket closed', async () => {
    const head =
      'POST /auth HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
    const chunk = `${(40_000).toString(16)}\r\n${'a'.repeat(40_000)}\r\n`;
    // Two chunks pass the limit; the client would go on, but the issuer closes the socket.
    const answer = await slowClient(running.api, head + chunk + chunk);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain('"code":"body_too_large"');
  });
});

test('maxBodyBytes sets the limit: 1024 refuses a body of 2000 bytes, takes one of 500', async () => {
  const running = await start({ maxBodyBytes: 1024 });
  try {
    const big = await postJson(running.api, '/auth/nonce', { walletAddress: 'x'.repeat(2000) });
    expect([big.status, big.body.code, big.body.msg]).toEqual([
      413,
      'body_too_large',
      'The body must be at most 1024 bytes',
    ]);
    const small = await postJson(running.api, '/auth/nonce', { walletAddress: 'x'.repeat(500) });
    expect([small.status, small.body.code]).toEqual([400, 'request_invalid']);
  } finally {
    await running.close();
  }
});

test('a body a parser read before the router (express.json() mounted first) is a 500 naming the mount order, not a wait', async () => {
  const issuer = createIssuer({ ...BASE, requestTimeoutMs: 120_000 });
  const app = express();
  app.use(express.json());
  app.use('/api/v1', issuer.router);
  const server = createServer(app);
  const port = await listenOn(server);
  try {
    const reply = await postJson(`http://127.0.0.1:${port}/api/v1`, '/auth/nonce', {
      chain: 'ethereum',
      walletAddress: `0x${'1'.repeat(40)}`,
    });
    expect([reply.status, reply.body.code]).toEqual([500, 'body_consumed']);
    expect(reply.body.msg).toContain('before any body parser');
  } finally {
    await closeServer(server);
    await issuer.close();
  }
});

describe('requestTimeoutMs and maxBodyBytes are checked at startup', () => {
  test.each<[string, unknown]>([
    ['0', 0],
    ['more than 1 MiB', 1_048_577],
  ])('maxBodyBytes %s throws an OptionsError naming maxBodyBytes', (_case, value) => {
    const options = { ...BASE, maxBodyBytes: value } as IssuerOptions;
    expect(() => createIssuer(options)).toThrow('"maxBodyBytes"');
  });

  test.each<[string, unknown]>([
    ['0', 0],
    ['a fraction', 1.5],
    ['more than 300000', 300_001],
    ['a string', '15000'],
  ])('%s throws an OptionsError naming requestTimeoutMs', (_case, value) => {
    const options = { ...BASE, requestTimeoutMs: value } as IssuerOptions;
    expect(() => createIssuer(options)).toThrow(OptionsError);
    expect(() => createIssuer(options)).toThrow('"requestTimeoutMs"');
  });
});
