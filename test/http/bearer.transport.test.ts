/**
 * Where else a token may come from: an asynchronous `getToken`, the RFC 6750 §2.3 `access_token`
 * query parameter under `allowQueryToken`, and the cookie recipe of docs/options.md (cookie-parser, signed
 * cookies included). Real Express apps on 127.0.0.1.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import cookieParser from 'cookie-parser';
import express, { type Request } from 'express';
import request from 'supertest';
import { authErrorHandler, createTokenGate, OptionsError, type TokenGate } from '../../lib';
import { useTestIssuer } from '../helpers/harness';
import { WALLET } from '../helpers/fixtures';
import { closeServer, listen, upgradeRequest } from '../helpers/net';

const env = useTestIssuer();
let token: string;
let otherToken: string;
beforeAll(async () => {
  token = await env.issuer.sign();
  otherToken = await env.issuer.sign({ tid: 'another-session' });
});

/** The gate's answer for `path` with optional headers: status, reason and the wallet address. */
async function ask(gate: TokenGate, path: string, headers: Record<string, string> = {}) {
  const app = express();
  app.get('/r', gate.requireAuth(), (req, res) => res.json({ address: req.wallet?.address ?? null }));
  app.get('/optional', gate.optionalAuth(), (req, res) => res.json({ address: req.wallet?.address ?? null }));
  app.use(authErrorHandler());
  const res = await request(app).get(path).set(headers);
  return { status: res.status, reason: (res.body as { reason?: string }).reason, address: res.body.address };
}

const walletKey = WALLET.toLowerCase();

describe('getToken may answer with a Promise', () => {
  const later = <T>(value: T) => new Promise<T>((resolve) => setImmediate(() => resolve(value)));

  // [case, getToken's answer, Authorization header, status, reason]
  const table: Array<[string, () => Promise<unknown>, boolean, number, string | undefined]> = [
    ['resolves to a valid token', () => later(token), false, 200, undefined],
    ['resolves to nothing, no header', () => later(undefined), false, 401, 'token_missing'],
    ['resolves to null, the header has the token', () => later(null), true, 200, undefined],
    ['resolves to "", the header has the token', () => later(''), true, 200, undefined],
    ['resolves to a token while the header has one too', () => later(token), true, 400, 'token_location_conflict'],
    ['resolves to a number', () => later(42), false, 400, 'header_malformed'],
    ['resolves to an object', () => later({ token }), false, 400, 'header_malformed'],
    [
      'rejects',
      () => later(undefined).then(() => Promise.reject(new Error('session store down'))),
      false,
      400,
      'header_malformed',
    ],
    ['resolves to a garbage token', () => later('not-a-jwt'), false, 401, 'token_malformed'],
  ];
  test.each(table)('getToken that %s', async (_case, getToken, withHeader, status, reason) => {
    const gate = createTokenGate({ ...env.issuer.options, getToken: getToken as () => Promise<string> });
    const answer = await ask(gate, '/r', withHeader ? { Authorization: `Bearer ${token}` } : {});
    expect({ status: answer.status, reason: answer.reason }).toEqual({ status, reason });
    if (status === 200) expect(answer.address).toBe(walletKey);
  });

  test('under optionalAuth, a Promise of nothing is an anonymous request', async () => {
    const gate = createTokenGate({ ...env.issuer.options, getToken: () => later(undefined) });
    expect(await ask(gate, '/optional')).toEqual({ status: 200, reason: undefined, address: null });
  });

  test('a thenable that is not a Promise is waited for too', async () => {
    const thenable = { then: (resolve: (value: string) => void) => resolve(token) };
    const gate = createTokenGate({ ...env.issuer.options, getToken: () => thenable as unknown as Promise<string> });
    expect((await ask(gate, '/r')).status).toBe(200);
  });

  test('the token read asynchronously is verified like any other (expired: 401 token_expired)', async () => {
    const expired = await env.issuer.sign({}, { expiresIn: -3600 });
    const gate = createTokenGate({ ...env.issuer.options, getToken: () => later(expired) });
    expect((await ask(gate, '/r')).reason).toBe('token_expired');
  });
});

describe('allowQueryToken: the access_token query parameter (RFC 6750 §2.3)', () => {
  const q = (value: string) => `/r?access_token=${value}`;

  test('is refused with a non-boolean value at startup', () => {
    expect(() => createTokenGate({ ...env.issuer.options, allowQueryToken: 'yes' as unknown as boolean })).toThrow(
      OptionsError,
    );
    expect(() => createTokenGate({ ...env.issuer.options, allowQueryToken: 'yes' as unknown as boolean })).toThrow(
      /"allowQueryToken" must be true or false/,
    );
  });

  test('is off by default: a token in the query is not read (401 token_missing)', async () => {
    expect(await ask(env.gate, q(token))).toMatchObject({ status: 401, reason: 'token_missing' });
  });

  // [case, path (TOKEN and OTHER stand for two valid tokens), headers, status, reason]
  const table: Array<[string, string, Record<string, string>, number, string | undefined]> = [
    ['a token in the query', '/r?access_token=TOKEN', {}, 200, undefined],
    ['a token among other parameters', '/r?stream=prices&access_token=TOKEN&since=1', {}, 200, undefined],
    ['a percent-encoded token', '/r?access_token=ENCODED', {}, 200, undefined],
    ['no parameter at all', '/r', {}, 401, 'token_missing'],
    ['another parameter whose name contains access_token', '/r?my_access_token=TOKEN', {}, 401, 'token_missing'],
    ['a token in the header only', '/r?stream=prices', { Authorization: 'Bearer TOKEN' }, 200, undefined],
    [
      'the same token in the header and the query',
      '/r?access_token=TOKEN',
      { Authorization: 'Bearer TOKEN' },
      400,
      'token_location_conflict',
    ],
    [
      'two different tokens in the header and the query',
      '/r?access_token=OTHER',
      { Authorization: 'Bearer TOKEN' },
      400,
      'token_location_conflict',
    ],
    ['the parameter twice', '/r?access_token=TOKEN&access_token=TOKEN', {}, 400, 'query_malformed'],
    ['a percent-encoded name', '/r?%61ccess_token=TOKEN', {}, 200, undefined],
    [
      'a percent-encoded name beside a header token',
      '/r?%61ccess_token=OTHER',
      { Authorization: 'Bearer TOKEN' },
      400,
      'token_location_conflict',
    ],
    [
      'the parameter twice, once with an encoded name',
      '/r?access_token=TOKEN&%61ccess_token=TOKEN',
      {},
      400,
      'query_malformed',
    ],
    ['a query with no parameters', '/r?', {}, 401, 'token_missing'],
    ['an empty parameter', '/r?access_token=', {}, 400, 'query_malformed'],
    ['a value outside b64token', '/r?access_token=abc%24def', {}, 400, 'query_malformed'],
    ['a value with a space', '/r?access_token=abc+def', {}, 400, 'query_malformed'],
    ['a value that is no JWT', '/r?access_token=abcdef', {}, 401, 'token_malformed'],
  ];
  test.each(table)('%s: %s', async (_case, path, headers, status, reason) => {
    const gate = createTokenGate({ ...env.issuer.options, allowQueryToken: true });
    const fill = (text: string) =>
      text
        .replace('ENCODED', encodeURIComponent(token).replace(/\./g, '%2E'))
        .replace('OTHER', otherToken)
        .replace('TOKEN', token)
        .replace('TOKEN', token);
    const answer = await ask(
      gate,
      fill(path),
      Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, fill(value)])),
    );
    expect({ status: answer.status, reason: answer.reason }).toEqual({ status, reason });
    if (status === 200) expect(answer.address).toBe(walletKey);
  });

  test('a query token and a getToken token are two locations too (400 token_location_conflict)', async () => {
    const gate = createTokenGate({ ...env.issuer.options, allowQueryToken: true, getToken: () => token });
    expect(await ask(gate, q(token))).toMatchObject({ status: 400, reason: 'token_location_conflict' });
  });

  test('under optionalAuth a malformed query token is refused, not taken for no token', async () => {
    const gate = createTokenGate({ ...env.issuer.options, allowQueryToken: true });
    expect(await ask(gate, '/optional?access_token=')).toMatchObject({ status: 400, reason: 'query_malformed' });
  });

  test('the query is read on a router mounted under a path as well', async () => {
    const gate = createTokenGate({ ...env.issuer.options, allowQueryToken: true });
    const router = express.Router();
    router.get('/events', gate.requireAuth(), (req, res) => res.json({ address: req.wallet?.address }));
    const app = express();
    app.use('/stream', router);
    app.use(authErrorHandler());
    const res = await request(app).get(`/stream/events?access_token=${token}`);
    expect([res.status, res.body.address]).toEqual([200, walletKey]);
  });
});

describe('the WebSocket upgrade recipe of docs/options.md', () => {
  /** A server that runs the gate on its upgrade requests as docs/options.md shows, and answers 101 itself. */
  async function upgradeServer(gate: TokenGate) {
    const requireAuth = gate.requireAuth();
    const server = http.createServer();
    server.on('upgrade', (req: http.IncomingMessage & { wallet?: { address: string } }, socket) => {
      requireAuth(req, undefined as never, (err?: unknown) => {
        if (err) {
          const { status, reason } = err as { status?: number; reason?: string };
          socket.end(`HTTP/1.1 ${status ?? 500} Refused\r\nX-Reason: ${reason}\r\nConnection: close\r\n\r\n`);
          return;
        }
        socket.end(
          `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Wallet: ${req.wallet!.address}\r\n\r\n`,
        );
      });
    });
    const port = await listen(server);
    return { port, close: () => closeServer(server) };
  }

  /** An upgrade request: the status, and the wallet (on a 101) or the reason (otherwise) the server answered with. */
  async function upgrade(port: number, path: string): Promise<{ status: number; header: string | undefined }> {
    const { status, headers } = await upgradeRequest(port, path);
    return { status, header: (status === 101 ? headers['x-wallet'] : headers['x-reason']) as string | undefined };
  }

  test('a token in the query opens the socket with the wallet; none, or one in a gate without allowQueryToken, does not', async () => {
    const open = await upgradeServer(createTokenGate({ ...env.issuer.options, allowQueryToken: true }));
    const closed = await upgradeServer(env.gate);
    try {
      expect(await upgrade(open.port, `/ws?access_token=${token}`)).toEqual({ status: 101, header: walletKey });
      expect(await upgrade(open.port, '/ws')).toEqual({ status: 401, header: 'token_missing' });
      expect(await upgrade(open.port, '/ws?access_token=garbage')).toEqual({ status: 401, header: 'token_malformed' });
      expect(await upgrade(closed.port, `/ws?access_token=${token}`)).toEqual({ status: 401, header: 'token_missing' });
    } finally {
      await Promise.all([open.close(), closed.close()]);
    }
  });
});

describe('the cookie recipe of docs/options.md', () => {
  const SECRET = 'cookie-signing-secret';

  function cookieApp(gate: TokenGate) {
    const app = express();
    app.use(cookieParser(SECRET));
    app.get('/r', gate.requireAuth(), (req, res) => res.json({ address: req.wallet?.address ?? null }));
    app.use(authErrorHandler());
    return app;
  }

  test('a plain cookie: getToken reads req.cookies', async () => {
    const gate = createTokenGate({
      ...env.issuer.options,
      getToken: (req: Request) => req.cookies?.access_token as string | undefined,
    });
    const res = await request(cookieApp(gate)).get('/r').set('Cookie', `access_token=${token}`);
    expect([res.status, res.body.address]).toEqual([200, walletKey]);
  });

  describe('a signed cookie: getToken reads req.signedCookies', () => {
    const gate = () =>
      createTokenGate({
        ...env.issuer.options,
        // cookie-parser answers false for a signed cookie whose signature does not match.
        getToken: (req: Request) => (req.signedCookies?.access_token as string | false | undefined) || undefined,
      });
    const signed = (value: string) => `s:${cookieSignature(value, SECRET)}`;

    test('a cookie signed with the secret is read', async () => {
      const res = await request(cookieApp(gate()))
        .get('/r')
        .set('Cookie', `access_token=${encodeURIComponent(signed(token))}`);
      expect([res.status, res.body.address]).toEqual([200, walletKey]);
    });

    test.each([
      ['signed with another secret', () => `s:${cookieSignature(token, 'another-secret')}`],
      ['not signed at all', () => token],
      ['with the signature cut off', () => `s:${token}`],
    ])('a cookie %s is no token (401 token_missing)', async (_case, value) => {
      const res = await request(cookieApp(gate()))
        .get('/r')
        .set('Cookie', `access_token=${encodeURIComponent(value())}`);
      expect([res.status, res.body.reason]).toEqual([401, 'token_missing']);
    });

    test('a signed cookie and an Authorization header together are a 400', async () => {
      const res = await request(cookieApp(gate()))
        .get('/r')
        .set('Cookie', `access_token=${encodeURIComponent(signed(token))}`)
        .set('Authorization', `Bearer ${token}`);
      expect([res.status, res.body.reason]).toEqual([400, 'token_location_conflict']);
    });
  });
});

/** cookie-signature's format (`value.base64(HMAC-SHA256)` without padding), written out independently. */
function cookieSignature(value: string, secret: string): string {
  return `${value}.${createHmac('sha256', secret).update(value).digest('base64').replace(/=+$/, '')}`;
}
