/**
 * What a request must be before any route of the emulated issuer runs: addressed to a host name
 * the issuer serves (against DNS rebinding), from an allowed origin when it changes state, and
 * with a JSON body (a page may send `text/plain` without a preflight, but not `application/json`).
 * Requests are made with node:http so that Host, Origin and Content-Type are exactly the table's.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { createSigningMessage } from './picket-js';
import { privateKeyToAccount } from 'viem/accounts';
import { OptionsError } from '../../../lib';
import { TEST_WALLET, createTestIssuer, type TestIssuer } from '../../../lib/testing';
import { APES_CONTRACT, AUDIENCE } from '../../helpers/fixtures';

let issuer: TestIssuer;
let port: number;
beforeAll(async () => {
  issuer = await createTestIssuer({ audience: AUDIENCE });
  port = Number(new URL(issuer.url).port);
  issuer.setBalances(TEST_WALLET, { [APES_CONTRACT]: '1' });
});
afterAll(() => issuer.close());

interface Sent {
  method: string;
  path: string;
  host?: string | null;
  origin?: string;
  contentType?: string;
  body?: string;
}

/** One request on its own connection; `host: null` sends none. Resolves to the status and JSON body. */
function send(target: TestIssuer, sent: Sent): Promise<{ status: number; body: Record<string, unknown> }> {
  const url = new URL(target.url);
  const headers: Record<string, string> = {};
  if (sent.host !== null) headers.host = sent.host ?? url.host;
  if (sent.origin !== undefined) headers.origin = sent.origin;
  if (sent.contentType !== undefined) headers['content-type'] = sent.contentType;
  if (sent.body !== undefined) headers['content-length'] = String(Buffer.byteLength(sent.body));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: url.port,
        method: sent.method,
        path: sent.path,
        headers,
        agent: false,
        setHost: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body: text === '' ? {} : JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(sent.body);
  });
}

/**
 * Writes `head` (an HTTP/1.0 request line and headers, UTF-8; 1.0 so that the answer is not
 * chunked) on a socket of its own, for what node:http will not send: non-ASCII header bytes, no Host.
 */
function sendRaw(target: TestIssuer, head: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(target.url).port), '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [statusLine, ...rest] = text.split('\r\n');
      const body = rest.join('\r\n').split('\r\n\r\n').slice(1).join('');
      try {
        resolve({ status: Number(statusLine!.split(' ')[1]), body: body === '' ? {} : JSON.parse(body) });
      } catch (error) {
        reject(error);
      }
    });
    socket.end(Buffer.from(`${head}\r\nConnection: close\r\n\r\n`, 'utf8'));
  });
}

const ALLOWED = 'http://localhost:5173';
const REFUSED = 'https://evil.example';
const ORIGINS: Array<[string, string | undefined]> = [
  ['no Origin', undefined],
  ['an allowed Origin', ALLOWED],
  ['a refused Origin', REFUSED],
  ['Origin "null"', 'null'],
];
const CONTENT_TYPES: Array<[string, string | undefined]> = [
  ['application/json', 'application/json'],
  ['application/json; charset=utf-8', 'application/json; charset=utf-8'],
  ['text/plain', 'text/plain'],
  ['no Content-Type', undefined],
];

/** Each POST route with a body it answers 200 to. */
async function postRoutes(): Promise<Array<[string, () => Promise<string>]>> {
  return [
    ['/auth/nonce', async () => JSON.stringify({ walletAddress: TEST_WALLET })],
    ['/api/v1/auth/validate', async () => JSON.stringify({ accessToken: await issuer.sign() })],
    ['/authz', async () => JSON.stringify({ accessToken: await issuer.sign(), requirements: {} })],
    [
      `/api/v1/chains/ethereum/wallets/${TEST_WALLET}/tokenOwnership`,
      async () => JSON.stringify({ contractAddress: APES_CONTRACT }),
    ],
  ];
}

describe('decision table: origin × content type × method × route → status', () => {
  const postCases: Array<[string, string, string, number, string | undefined]> = [];
  const routes = ['/auth/nonce', '/api/v1/auth/validate', '/authz', 'tokenOwnership'];
  for (const route of routes)
    for (const [originName, origin] of ORIGINS)
      for (const [typeName] of CONTENT_TYPES) {
        const refusedOrigin = origin === REFUSED || origin === 'null';
        const json = typeName.startsWith('application/json');
        const expected = refusedOrigin ? 403 : json ? 200 : 415;
        const code = refusedOrigin ? 'origin_not_allowed' : json ? undefined : 'content_type_unsupported';
        postCases.push([route, originName, typeName, expected, code]);
      }

  test.each(postCases)('POST %s, %s, %s → %d', async (route, originName, typeName, expected, code) => {
    const [path, body] = (await postRoutes()).find(([p]) => p === route || p.endsWith(route))!;
    const origin = ORIGINS.find(([name]) => name === originName)![1];
    const contentType = CONTENT_TYPES.find(([name]) => name === typeName)![1];
    const answer = await send(issuer, { method: 'POST', path, origin, contentType, body: await body() });
    expect(answer.status).toBe(expected);
    if (code !== undefined) expect(answer.body).toMatchObject({ code, reason: code, msg: expect.any(String) });
  });

  const getCases: Array<[string, string, string]> = [];
  for (const path of ['/api/v1/chains/ethereum', '/.well-known/jwks.json'])
    for (const [originName] of ORIGINS)
      for (const [typeName] of CONTENT_TYPES) getCases.push([path, originName, typeName]);

  test.each(getCases)('GET %s, %s, %s → 200 (reading changes nothing)', async (path, originName, typeName) => {
    const origin = ORIGINS.find(([name]) => name === originName)![1];
    const contentType = CONTENT_TYPES.find(([name]) => name === typeName)![1];
    expect((await send(issuer, { method: 'GET', path, origin, contentType })).status).toBe(200);
  });

  test.each([
    ['application/json; charset=UTF-8', 200],
    ['Application/JSON', 200],
    ['application/json;charset="utf-8"', 200],
    ['application/json; charset=latin1', 415],
    ['application/jsonp', 415],
    ['application/merge-patch+json', 415],
    ['application/x-www-form-urlencoded', 415],
    ['multipart/form-data; boundary=x', 415],
    ['text/plain; charset=utf-8', 415],
  ])('POST /auth/validate with Content-Type %s → %d', async (contentType, expected) => {
    const body = JSON.stringify({ accessToken: await issuer.sign() });
    const answer = await send(issuer, { method: 'POST', path: '/auth/validate', contentType, body });
    expect(answer.status).toBe(expected);
  });

  test('a refused origin is refused before the route is even looked up, an unknown POST route included', async () => {
    for (const path of ['/auth/nonce', '/no-such-route', '/chains/ethereum']) {
      const answer = await send(issuer, {
        method: 'POST',
        path,
        origin: REFUSED,
        contentType: 'text/plain',
        body: '{}',
      });
      expect(answer).toMatchObject({ status: 403, body: { code: 'origin_not_allowed' } });
    }
  });

  test("with cors.origins '*' every origin may post, and the body must still be JSON", async () => {
    const open = await createTestIssuer({ audience: AUDIENCE, cors: { origins: '*' } });
    try {
      const body = JSON.stringify({ walletAddress: TEST_WALLET });
      for (const origin of [REFUSED, 'null']) {
        const post = (contentType: string) =>
          send(open, { method: 'POST', path: '/auth/nonce', origin, contentType, body });
        expect((await post('application/json')).status).toBe(200);
        expect((await post('text/plain')).status).toBe(415);
      }
    } finally {
      await open.close();
    }
  });
});

describe('a page on another origin cannot burn the developer’s pending nonce', () => {
  test('text/plain posts from a refused origin to /auth/nonce and /auth leave the nonce good', async () => {
    const wallet = privateKeyToAccount(`0x${'5a'.repeat(32)}`);
    const ask = await send(issuer, {
      method: 'POST',
      path: '/api/v1/auth/nonce',
      origin: ALLOWED,
      contentType: 'application/json',
      body: JSON.stringify({ walletAddress: wallet.address }),
    });
    const { nonce, statement } = ask.body as { nonce: string; statement: string };
    const context = { domain: 'localhost:5173', uri: ALLOWED, chainId: 1, issuedAt: new Date().toISOString() };
    const message = createSigningMessage({
      format: 'siwe',
      nonce,
      statement,
      walletAddress: wallet.address,
      ...context,
    });
    const signature = await wallet.signMessage({ message });

    // The attack: simple requests (no preflight) that would replace or spend the nonce.
    for (const [path, body] of [
      ['/api/v1/auth/nonce', { walletAddress: wallet.address }],
      ['/api/v1/auth', { walletAddress: wallet.address, signature: '0x00' }],
    ] as const) {
      const attack = await send(issuer, {
        method: 'POST',
        path,
        origin: REFUSED,
        contentType: 'text/plain',
        body: JSON.stringify(body),
      });
      expect(attack.status).toBe(403);
    }

    const login = await send(issuer, {
      method: 'POST',
      path: '/api/v1/auth',
      origin: ALLOWED,
      contentType: 'application/json',
      body: JSON.stringify({ chain: 'ethereum', walletAddress: wallet.address, signature, context }),
    });
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ user: { walletAddress: wallet.address } });
  });
});

describe('host table: the issuer answers only the host names it serves', () => {
  const cases: Array<[string, number, () => string | null, string | undefined]> = [
    ['localhost:port', 200, () => `localhost:${port}`, undefined],
    ['127.0.0.1:port', 200, () => `127.0.0.1:${port}`, undefined],
    ['[::1]:port', 200, () => `[::1]:${port}`, undefined],
    ['LOCALHOST:port (ASCII case-insensitive)', 200, () => `LOCALHOST:${port}`, undefined],
    ['localhost without a port', 200, () => 'localhost', undefined],
    ['localhost on another port', 200, () => 'localhost:1', undefined],
    ['evil.example', 421, () => 'evil.example', 'host_not_allowed'],
    ['evil.example:port', 421, () => `evil.example:${port}`, 'host_not_allowed'],
    ['127.0.0.1.evil', 421, () => `127.0.0.1.evil:${port}`, 'host_not_allowed'],
    ['localhost.evil.example', 421, () => 'localhost.evil.example', 'host_not_allowed'],
    ['a.localhost (not a name it serves)', 421, () => `app.localhost:${port}`, 'host_not_allowed'],
    ['two hosts', 400, () => 'localhost, evil.example', 'host_invalid'],
    ['a port that is not a number', 400, () => 'localhost:http', 'host_invalid'],
    ['userinfo', 400, () => 'user@localhost', 'host_invalid'],
    ['missing', 400, () => null, 'host_invalid'],
  ];

  test.each(cases)('Host %s → %d', async (_name, expected, host, code) => {
    for (const sent of [
      { method: 'GET', path: '/api/v1/chains/ethereum' },
      { method: 'GET', path: '/.well-known/jwks.json' },
      {
        method: 'POST',
        path: '/api/v1/auth/validate',
        contentType: 'application/json',
        body: JSON.stringify({ accessToken: await issuer.sign() }),
      },
      { method: 'OPTIONS', path: '/api/v1/authz', origin: ALLOWED },
    ]) {
      const answer = await send(issuer, { ...sent, host: host() });
      expect(answer.status).toBe(sent.method === 'OPTIONS' && expected === 200 ? 204 : expected);
      if (code !== undefined) expect(answer.body).toMatchObject({ code, reason: code, msg: expect.any(String) });
    }
  });

  test.each([
    ['a non-ASCII look-alike (LOCALHOſT, UTF-8)', 'GET /chains/ethereum HTTP/1.0\r\nHost: LOCALHOſT'],
    ['none, over HTTP/1.0', 'GET /chains/ethereum HTTP/1.0'],
  ])('Host %s → 400 host_invalid', async (_name, head) => {
    expect(await sendRaw(issuer, head)).toMatchObject({ status: 400, body: { code: 'host_invalid' } });
  });

  test('hosts adds names to the loopback ones, compared without case and port', async () => {
    const named = await createTestIssuer({ audience: AUDIENCE, hosts: ['issuer.test', 'Host.Docker.Internal'] });
    try {
      const get = (host: string) => send(named, { method: 'GET', path: '/chains/ethereum', host });
      expect((await get('issuer.test:8787')).status).toBe(200);
      expect((await get('host.docker.internal')).status).toBe(200);
      expect((await get(`127.0.0.1:${new URL(named.url).port}`)).status).toBe(200);
      expect((await get('evil.example')).status).toBe(421);
    } finally {
      await named.close();
    }
  });

  test('an unusable hosts setting throws an OptionsError naming hosts', async () => {
    for (const hosts of ['issuer.test', ['issuer.test:8787'], ['*'], ['http://issuer.test'], [''], [42]]) {
      await expect(createTestIssuer({ audience: AUDIENCE, hosts: hosts as never })).rejects.toThrow(OptionsError);
      await expect(createTestIssuer({ audience: AUDIENCE, hosts: hosts as never })).rejects.toThrow('"hosts"');
    }
  });
});
