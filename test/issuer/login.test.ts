/**
 * Wallet login through `createIssuer` over real HTTP on 127.0.0.1, with real wallets: viem local
 * accounts (secp256k1), an ERC-1271 contract wallet on ganache, an Ed25519 Solana key. Messages are
 * written here by an EIP-4361 writer of the test's own, never by the code under test.
 *
 * The attacks pinned here: whoever knew a wallet's address could burn its pending nonce with one
 * wrong signature (or replace it by asking a new one); a nonce taken on one instance must not
 * log in again on another.
 */
import crypto from 'node:crypto';
import { base58 } from '@scure/base';
import { getAddress, serializeCompactSignature, parseSignature, signatureToCompactSignature, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { createSiweMessage } from 'viem/siwe';
import { decodeJwt } from 'jose';
import { OptionsError } from '../../lib';
import { createIssuer, memoryIssuerStore, type IssuerOptions } from '../../lib/issuer';
import { listen } from '../../lib/issuer/server';
import { redisIssuerStore } from '../../lib/redis';
import { compileContracts, startChain, type LocalChain } from '../helpers/chain';
import { closedPort } from '../helpers/net';
import { startRedisServer, type RedisServer } from '../helpers/redis-server';
import { AUDIENCE } from '../helpers/fixtures';

const PAGE = 'http://localhost:5173';
const BASE: IssuerOptions = { issuer: 'auth.example.com', audience: AUDIENCE, ephemeralKey: true };

interface Fields {
  scheme?: string;
  domain: string;
  address: string;
  statement?: string;
  uri?: string;
  chainId: number;
  nonce: string;
  issuedAt: string;
  expirationTime?: string;
  notBefore?: string;
  requestId?: string;
  resources?: string[];
}

/** EIP-4361's message layout, written out independently of lib/issuer/siwe. */
function siweText(f: Fields, account = 'Ethereum'): string {
  const lines = [
    `${f.scheme ? `${f.scheme}://` : ''}${f.domain} wants you to sign in with your ${account} account:`,
    f.address,
    '',
    ...(f.statement === undefined ? [] : [f.statement, '']),
    ...(f.uri === undefined ? [] : [`URI: ${f.uri}`]),
    'Version: 1',
    `Chain ID: ${f.chainId}`,
    `Nonce: ${f.nonce}`,
    `Issued At: ${f.issuedAt}`,
  ];
  if (f.expirationTime) lines.push(`Expiration Time: ${f.expirationTime}`);
  if (f.notBefore) lines.push(`Not Before: ${f.notBefore}`);
  if (f.requestId) lines.push(`Request ID: ${f.requestId}`);
  if (f.resources) lines.push('Resources:', ...f.resources.map((r) => `- ${r}`));
  return lines.join('\n');
}

interface Reply {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

/** POSTs JSON from a page on `origin` (`null`: a client that sends no Origin, as a server does). */
async function post(base: string, path: string, body: unknown, origin: string | null = PAGE): Promise<Reply> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(origin !== null && { Origin: origin }) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

interface Running {
  url: string;
  close(): Promise<void>;
}

/** An issuer on 127.0.0.1; these tests log in far more often than rate limits allow, which have their own suite. */
async function start(options: Partial<IssuerOptions> = {}): Promise<Running> {
  const issuer = createIssuer({ ...BASE, rateLimits: false, ...options });
  const server = await listen(issuer.handler);
  return {
    url: server.url,
    async close() {
      await server.close();
      await issuer.close();
    },
  };
}

const newWallet = (): PrivateKeyAccount => privateKeyToAccount(generatePrivateKey());
/** RFC 3339 without milliseconds. */
const seconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

async function askNonce(base: string, walletAddress: string, chain = 'ethereum') {
  const reply = await post(base, '/auth/nonce', { chain, walletAddress, locale: 'en' });
  expect(reply.status).toBe(200);
  return reply.body as { nonce: string; statement: string; format: string };
}

/** picket-js's context for the page, plus `changes`. */
function contextFor(changes: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    domain: 'localhost:5173',
    uri: PAGE,
    chainId: 1,
    issuedAt: new Date().toISOString(),
    chainType: 'ethereum',
    locale: 'en-US',
    ...changes,
  };
}

/** The nonce each body of `signedLogin` was signed with. */
const nonceOf = new WeakMap<object, string>();

/** Asks a nonce for `wallet`, has `signer` sign the SIWE message of `context`, and returns the /auth body. */
async function signedLogin(
  base: string,
  wallet: { address: string },
  signer: PrivateKeyAccount,
  context = contextFor(),
  address = wallet.address,
) {
  const { nonce, statement } = await askNonce(base, address);
  const message = siweText({ ...(context as unknown as Fields), address, statement, nonce });
  const signature = await signer.signMessage({ message });
  const body = { chain: 'ethereum', walletAddress: address, signature, context };
  nonceOf.set(body, nonce);
  return body;
}

let issuer: Running;
beforeAll(async () => {
  issuer = await start();
});
afterAll(() => issuer.close());

describe('the SIWE context, field by field (decision table)', () => {
  const now = Date.now();
  const HOUR = 3_600_000;
  /** The page's Origin is the one the message names unless a row gives one (the 5th column). */
  type Row = [string, Record<string, unknown>, number, string | undefined, string?];
  const rows: Row[] = [
    ["picket-js's own context", {}, 200, undefined],
    ['an Expiration Time an hour ago', { expirationTime: seconds(now - HOUR) }, 401, 'expired'],
    ['an Expiration Time in an hour', { expirationTime: seconds(now + HOUR) }, 200, undefined],
    ['a Not Before in an hour', { notBefore: seconds(now + HOUR) }, 401, 'not_yet_valid'],
    ['a Not Before a minute ago', { notBefore: new Date(now - 60_000).toISOString() }, 200, undefined],
    ['a Request ID', { requestId: 'req-42' }, 200, undefined],
    ['a Request ID with a space', { requestId: 'req 42' }, 400, 'request_id_invalid'],
    [
      'Resources',
      { resources: ['https://app.example/a', 'ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3e'] },
      200,
      undefined,
    ],
    ['a resource that is no URI', { resources: ['not a uri'] }, 400, 'resources_invalid'],
    ['a scheme', { scheme: 'http' }, 200, undefined],
    ['a scheme that is none', { scheme: 'ht tp' }, 400, 'scheme_invalid'],
    ['issuedAt without milliseconds', { issuedAt: seconds(now) }, 200, undefined],
    [
      'issuedAt with an offset',
      { issuedAt: `${new Date(now + 2 * HOUR).toISOString().slice(0, 19)}+02:00` },
      200,
      undefined,
    ],
    ['issuedAt an hour ago', { issuedAt: seconds(now - HOUR) }, 401, 'issued_at_too_old'],
    ['issuedAt an hour ahead', { issuedAt: seconds(now + HOUR) }, 401, 'issued_at_in_future'],
    ['issuedAt that is no RFC 3339 time', { issuedAt: 'yesterday' }, 400, 'issued_at_invalid'],
    [
      'the IPv6 loopback [::1]:5173',
      { domain: '[::1]:5173', uri: 'http://[::1]:5173/' },
      200,
      undefined,
      'http://[::1]:5173',
    ],
    [
      'a *.localhost name',
      { domain: 'app.localhost:5173', uri: 'http://app.localhost:5173/' },
      200,
      undefined,
      'http://app.localhost:5173',
    ],
    [
      '127.0.0.1 on another port',
      { domain: '127.0.0.1:3000', uri: 'http://127.0.0.1:3000/' },
      200,
      undefined,
      'http://127.0.0.1:3000',
    ],
    ['a loopback host with userinfo', { domain: 'me@localhost:5173' }, 401, 'domain_not_allowed'],
    ['a name ending in localhost', { domain: 'evillocalhost:5173' }, 401, 'domain_not_allowed'],
    ['another site', { domain: 'evil.example', uri: 'https://evil.example' }, 401, 'domain_not_allowed'],
    ['no uri', { uri: undefined }, 400, 'uri_missing'],
    ['a uri that is none', { uri: 'not a uri' }, 400, 'uri_invalid'],
    ["another chain's chain id", { chainId: 5 }, 401, 'chain_id_mismatch'],
  ];
  test.each(rows)('%s %j → %d %s', async (_name, changes, status, code, origin = PAGE) => {
    const wallet = newWallet();
    const body = await signedLogin(issuer.url, wallet, wallet, contextFor(changes));
    const reply = await post(issuer.url, '/auth', body, origin);
    expect({ status: reply.status, code: reply.body.code }).toEqual({ status, code });
    if (status === 200) expect(reply.body.user).toMatchObject({ walletAddress: wallet.address });
    else expect(reply.body.msg).toEqual(expect.any(String));
  });

  test('a lower-case address → 400 address_not_checksummed', async () => {
    const wallet = newWallet();
    const body = await signedLogin(issuer.url, wallet, wallet, contextFor(), wallet.address.toLowerCase());
    const reply = await post(issuer.url, '/auth', body);
    expect([reply.status, reply.body.code]).toEqual([400, 'address_not_checksummed']);
  });

  test('no context → 400 context_invalid', async () => {
    const wallet = newWallet();
    const { context: _dropped, ...body } = await signedLogin(issuer.url, wallet, wallet);
    const reply = await post(issuer.url, '/auth', body);
    expect([reply.status, reply.body.code]).toEqual([400, 'context_invalid']);
  });

  test('an EIP-2098 compact (64-byte) signature logs in', async () => {
    const wallet = newWallet();
    const body = await signedLogin(issuer.url, wallet, wallet);
    const compact = serializeCompactSignature(signatureToCompactSignature(parseSignature(body.signature as Hex)));
    expect(compact.length).toBe(2 + 128);
    const reply = await post(issuer.url, '/auth', { ...body, signature: compact });
    expect(reply.status).toBe(200);
  });

  test('a nonce past login.nonceTtlSeconds → 401 nonce_expired, the signature checked first', async () => {
    const stale = await start({ login: { nonceTtlSeconds: 0 } });
    try {
      const wallet = newWallet();
      const forged = await signedLogin(stale.url, wallet, newWallet());
      expect((await post(stale.url, '/auth', forged)).body.code).toBe('signature_invalid');
      const body = await signedLogin(stale.url, wallet, wallet);
      const reply = await post(stale.url, '/auth', body);
      expect([reply.status, reply.body.code]).toEqual([401, 'nonce_expired']);
    } finally {
      await stale.close();
    }
  });
});

describe("the message's domain and scheme agree with the browser's Origin (decision table)", () => {
  // A site that is not the issuer's page cannot have a message signed for that page sent from its
  // own: the browser names the real page in Origin. Loopback pages of development sign without a
  // scheme over http; anywhere else a message without one means https.
  let site: Running;
  beforeAll(async () => {
    site = await start({ login: { domains: ['app.example', 'app.example:8443'] }, cors: { origins: '*' } });
  });
  afterAll(() => site.close());

  type Row = [string, Record<string, unknown>, string | null, number, string | undefined];
  const rows: Row[] = [
    ['a loopback page over http, no scheme', {}, 'http://localhost:5173', 200, undefined],
    ['a loopback page over https, no scheme', {}, 'https://localhost:5173', 200, undefined],
    [
      'a loopback message naming https, the page on http',
      { scheme: 'https' },
      'http://localhost:5173',
      403,
      'origin_mismatch',
    ],
    ['another port of the same host', {}, 'http://localhost:5174', 403, 'origin_mismatch'],
    ['another loopback host', {}, 'http://127.0.0.1:5173', 403, 'origin_mismatch'],
    [
      'no port, the page on the default port',
      { domain: 'localhost', uri: 'http://localhost/' },
      'http://localhost',
      200,
      undefined,
    ],
    [
      'port 80 written out, the page on the default port',
      { domain: 'localhost:80' },
      'http://localhost',
      200,
      undefined,
    ],
    [
      'a site, no scheme, the page on https',
      { domain: 'app.example', uri: 'https://app.example/' },
      'https://app.example',
      200,
      undefined,
    ],
    [
      'a site in upper case (ASCII case)',
      { domain: 'APP.example', uri: 'https://app.example/' },
      'https://app.example',
      200,
      undefined,
    ],
    [
      'a site, no scheme, the page on http',
      { domain: 'app.example', uri: 'https://app.example/' },
      'http://app.example',
      403,
      'origin_mismatch',
    ],
    [
      'a site, scheme http, the page on http',
      { scheme: 'http', domain: 'app.example' },
      'http://app.example',
      200,
      undefined,
    ],
    ['a site on 8443, the page on 443', { domain: 'app.example:8443' }, 'https://app.example', 403, 'origin_mismatch'],
    ['a site on 8443, the page on 8443', { domain: 'app.example:8443' }, 'https://app.example:8443', 200, undefined],
    ['a site, the page elsewhere', { domain: 'app.example' }, 'https://evil.example', 403, 'origin_mismatch'],
    ['a site, a sandboxed page (Origin null)', { domain: 'app.example' }, 'null', 403, 'origin_mismatch'],
    ['a site, no Origin (a server-side client)', { domain: 'app.example' }, null, 200, undefined],
  ];
  test.each(rows)('%s %j from %s → %d %s', async (_name, changes, origin, status, code) => {
    // Loopback messages go to the default issuer (any loopback domain), the site's to its own.
    const target = String(changes.domain ?? '')
      .toLowerCase()
      .includes('app.example')
      ? site
      : issuer;
    const wallet = newWallet();
    const body = await signedLogin(target.url, wallet, wallet, contextFor(changes));
    const reply = await post(target.url, '/auth', body, origin);
    expect({ status: reply.status, code: reply.body.code }).toEqual({ status, code });
    if (status === 403) {
      // The reason names both: what the message says and where the request came from.
      expect(reply.body.msg).toContain(String(changes.domain ?? 'localhost:5173'));
      expect(reply.body.msg).toContain(`Origin "${origin}"`);
      // Nothing was taken: the same signed body logs in from the right page.
      const right = await post(target.url, '/auth', body, null);
      expect(right.status).toBe(200);
    }
  });
});

describe('a whole signed EIP-4361 message, as standard SIWE clients send it ({ message, signature })', () => {
  /** viem's createSiweMessage for `wallet`, with a nonce the issuer handed out. */
  async function siweBody(
    base: string,
    wallet: PrivateKeyAccount,
    changes: Partial<Parameters<typeof createSiweMessage>[0]> = {},
    signer = wallet,
    chain?: string,
  ) {
    const { nonce, statement } = await askNonce(base, wallet.address, chain);
    const message = createSiweMessage({
      domain: 'localhost:5173',
      address: wallet.address,
      statement,
      uri: PAGE,
      version: '1',
      chainId: 1,
      nonce,
      issuedAt: new Date(),
      ...changes,
    });
    return { message, signature: await signer.signMessage({ message }) };
  }

  test("logs in: the token is the wallet's, with a session, and the nonce is taken once", async () => {
    const wallet = newWallet();
    const body = await siweBody(issuer.url, wallet);
    const reply = await post(issuer.url, '/auth', body);
    expect(reply.status).toBe(200);
    expect(reply.body.user).toMatchObject({ walletAddress: wallet.address, chain: 'ethereum' });
    const claims = decodeJwt(reply.body.accessToken as string);
    expect(claims).toMatchObject({ walletAddress: wallet.address, sid: expect.any(String) });
    const replay = await post(issuer.url, '/auth', body);
    expect([replay.status, replay.body.code]).toEqual([401, 'nonce_invalid']);
  });

  test('a chain id of another chain of the issuer picks that chain (polygon)', async () => {
    const wallet = newWallet();
    const reply = await post(
      issuer.url,
      '/auth',
      await siweBody(issuer.url, wallet, { chainId: 137 }, wallet, 'polygon'),
    );
    expect([reply.status, (reply.body.user as Record<string, unknown>)?.chain]).toEqual([200, 'polygon']);
  });

  type Row = [string, (wallet: PrivateKeyAccount) => Promise<Record<string, unknown>>, number, string];
  const stranger = newWallet();
  const rows: Row[] = [
    [
      'a domain the issuer does not serve',
      (w) => siweBody(issuer.url, w, { domain: 'evil.example', uri: 'https://evil.example' }),
      401,
      'domain_not_allowed',
    ],
    [
      'a nonce the issuer never handed out',
      async (w) => {
        const message = createSiweMessage({
          domain: 'localhost:5173',
          address: w.address,
          uri: PAGE,
          version: '1',
          chainId: 1,
          nonce: 'neverissued1234',
          issuedAt: new Date(),
        });
        return { message, signature: await w.signMessage({ message }) };
      },
      401,
      'nonce_invalid',
    ],
    ['another key signed', (w) => siweBody(issuer.url, w, {}, stranger), 401, 'signature_invalid'],
    ['another statement', (w) => siweBody(issuer.url, w, { statement: 'Free money' }), 401, 'statement_mismatch'],
    [
      'an Expiration Time past',
      (w) => siweBody(issuer.url, w, { expirationTime: new Date(Date.now() - 60_000) }),
      401,
      'expired',
    ],
    [
      'issuedAt an hour ago',
      (w) => siweBody(issuer.url, w, { issuedAt: new Date(Date.now() - 3_600_000) }),
      401,
      'issued_at_too_old',
    ],
    [
      'a chain id the issuer has no chain for',
      (w) => siweBody(issuer.url, w, { chainId: 5 }),
      400,
      'chain_not_supported',
    ],
    [
      'both shapes mixed (message and walletAddress)',
      async (w) => ({ ...(await siweBody(issuer.url, w)), walletAddress: w.address }),
      400,
      'request_invalid',
    ],
    [
      'both shapes mixed (message and context)',
      async (w) => ({ ...(await siweBody(issuer.url, w)), context: contextFor() }),
      400,
      'request_invalid',
    ],
    [
      'a message that is no string',
      async (w) => ({ message: 42, signature: (await siweBody(issuer.url, w)).signature }),
      400,
      'message_missing',
    ],
    [
      'a message with CR LF line breaks',
      async (w) => {
        const body = await siweBody(issuer.url, w);
        return { ...body, message: body.message.replace(/\n/g, '\r\n') };
      },
      400,
      'message_invalid',
    ],
    [
      'a lower-case address',
      async (w) => {
        const body = await siweBody(issuer.url, w);
        return { ...body, message: body.message.replace(w.address, w.address.toLowerCase()) };
      },
      400,
      'address_not_checksummed',
    ],
  ];
  test.each(rows)('%s → %d %s', async (_name, build, status, code) => {
    const wallet = newWallet();
    const reply = await post(issuer.url, '/auth', await build(wallet));
    expect({ status: reply.status, code: reply.body.code }).toEqual({ status, code });
    expect(reply.body.msg).toEqual(expect.any(String));
  });

  test('a nonce past login.nonceTtlSeconds → 401 nonce_expired', async () => {
    const stale = await start({ login: { nonceTtlSeconds: 0 } });
    try {
      const wallet = newWallet();
      const reply = await post(stale.url, '/auth', await siweBody(stale.url, wallet));
      expect([reply.status, reply.body.code]).toEqual([401, 'nonce_expired']);
    } finally {
      await stale.close();
    }
  });

  test("a refused message takes nothing: the wallet's nonce still logs in", async () => {
    const wallet = newWallet();
    const good = await siweBody(issuer.url, wallet);
    const forged = await stranger.signMessage({ message: good.message });
    expect((await post(issuer.url, '/auth', { message: good.message, signature: forged })).status).toBe(401);
    expect((await post(issuer.url, '/auth', good)).status).toBe(200);
  });
});

describe('nonces no stranger can spend', () => {
  test("a stranger's wrong signatures, many times, never burn the wallet's nonce", async () => {
    const wallet = newWallet();
    const stranger = newWallet();
    const { nonce, statement } = await askNonce(issuer.url, wallet.address);
    const context = contextFor();
    const message = siweText({ ...(context as unknown as Fields), address: wallet.address, statement, nonce });
    const attempts = [
      await stranger.signMessage({ message }),
      `0x${'11'.repeat(65)}`,
      `0x${'00'.repeat(64)}`,
      await wallet.signMessage({ message: `${message}x` }),
    ];
    for (let round = 0; round < 5; round++) {
      for (const signature of attempts) {
        const reply = await post(issuer.url, '/auth', {
          chain: 'ethereum',
          walletAddress: wallet.address,
          signature,
          context,
        });
        expect([reply.status, reply.body.code]).toEqual([401, 'signature_invalid']);
      }
    }
    const signature = await wallet.signMessage({ message });
    const reply = await post(issuer.url, '/auth', {
      chain: 'ethereum',
      walletAddress: wallet.address,
      signature,
      context,
    });
    expect(reply.status).toBe(200);
  });

  test("a stranger asking a new nonce for the wallet does not replace the wallet's own", async () => {
    const wallet = newWallet();
    const body = await signedLogin(issuer.url, wallet, wallet);
    await askNonce(issuer.url, wallet.address);
    expect((await post(issuer.url, '/auth', body)).status).toBe(200);
  });

  test('two tabs (two nonces) both log in, in either order', async () => {
    const wallet = newWallet();
    const first = await signedLogin(issuer.url, wallet, wallet);
    const second = await signedLogin(issuer.url, wallet, wallet);
    expect((await post(issuer.url, '/auth', second)).status).toBe(200);
    expect((await post(issuer.url, '/auth', first)).status).toBe(200);
  });

  test('a login replayed is refused, whether or not another nonce is pending', async () => {
    const wallet = newWallet();
    const body = await signedLogin(issuer.url, wallet, wallet);
    expect((await post(issuer.url, '/auth', body)).status).toBe(200);
    const alone = await post(issuer.url, '/auth', body);
    expect([alone.status, alone.body.code]).toEqual([401, 'nonce_invalid']);
    await askNonce(issuer.url, wallet.address);
    const withOther = await post(issuer.url, '/auth', body);
    expect([withOther.status, withOther.body.code]).toEqual([401, 'signature_invalid']);
    const named = await post(issuer.url, '/auth', {
      ...body,
      context: { ...body.context, nonce: nonceOf.get(body)! },
    });
    expect([named.status, named.body.code]).toEqual([401, 'nonce_invalid']);
  });

  test('a nonce of one chain does not log in on another', async () => {
    const wallet = newWallet();
    const body = await signedLogin(issuer.url, wallet, wallet, contextFor({ chainId: 137 }));
    const reply = await post(issuer.url, '/auth', { ...body, chain: 'polygon' });
    expect([reply.status, reply.body.code]).toEqual([401, 'nonce_invalid']);
  });

  test('one signed login sent to two instances at once logs in once', async () => {
    const store = memoryIssuerStore();
    const [a, b] = [await start({ store }), await start({ store })];
    try {
      for (let round = 0; round < 5; round++) {
        const wallet = newWallet();
        const body = await signedLogin(a.url, wallet, wallet);
        const replies = await Promise.all([post(a.url, '/auth', body), post(b.url, '/auth', body)]);
        expect(replies.map((r) => r.status).sort()).toEqual([200, 401]);
        expect(replies.find((r) => r.status === 401)!.body.code).toBe('nonce_invalid');
      }
    } finally {
      await a.close();
      await b.close();
      await store.close();
    }
  });
});

describe('nonces in Redis, shared by two instances', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
  }, 60_000);
  afterAll(() => redis?.close());

  test('a nonce issued by A logs in at B, once', async () => {
    const stores = [
      redisIssuerStore({ url: redis.url, timeoutMs: 5000 }),
      redisIssuerStore({ url: redis.url, timeoutMs: 5000 }),
    ];
    const [a, b] = [await start({ store: stores[0] }), await start({ store: stores[1] })];
    try {
      const wallet = newWallet();
      const body = await signedLogin(a.url, wallet, wallet);
      const stranger = await post(b.url, '/auth', {
        ...body,
        signature: await newWallet().signMessage({ message: 'x' }),
      });
      expect(stranger.body.code).toBe('signature_invalid');
      expect((await post(b.url, '/auth', body)).status).toBe(200);
      expect((await post(a.url, '/auth', body)).body.code).toBe('nonce_invalid');
    } finally {
      await a.close();
      await b.close();
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  test('Redis down: 503 with Retry-After at /auth/nonce and /auth, never a login', async () => {
    const store = redisIssuerStore({ url: `redis://127.0.0.1:${await closedPort()}`, timeoutMs: 200 });
    const down = await start({ store });
    try {
      const wallet = newWallet();
      const asked = await post(down.url, '/auth/nonce', { chain: 'ethereum', walletAddress: wallet.address });
      expect([asked.status, asked.body.code]).toEqual([503, 'issuer_store_unavailable']);
      expect(asked.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
      const context = contextFor();
      const message = siweText({
        ...(context as unknown as Fields),
        address: wallet.address,
        statement: 'Sign in with your wallet to test-project',
        nonce: 'a'.repeat(32),
      });
      const body = {
        chain: 'ethereum',
        walletAddress: wallet.address,
        signature: await wallet.signMessage({ message }),
        context,
      };
      const reply = await post(down.url, '/auth', body);
      expect([reply.status, reply.body.code]).toEqual([503, 'issuer_store_unavailable']);
      expect(reply.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
    } finally {
      await down.close();
      await store.close();
    }
  });
});

describe('the simple format', () => {
  test('keeps working: "<statement>\\n\\nAddress: …\\nNonce: …"; a stranger cannot burn it either', async () => {
    const simple = await start({ login: { format: 'simple', statement: 'Sign in to the demo' } });
    try {
      const wallet = newWallet();
      const { nonce, statement, format } = await askNonce(simple.url, wallet.address);
      expect([format, statement]).toEqual(['simple', 'Sign in to the demo']);
      const message = `${statement}\n\nAddress: ${wallet.address}\nNonce: ${nonce}`;
      const forged = await newWallet().signMessage({ message });
      const refused = await post(simple.url, '/auth', { walletAddress: wallet.address, signature: forged });
      expect([refused.status, refused.body.code]).toEqual([401, 'signature_invalid']);
      const signature = await wallet.signMessage({ message });
      const reply = await post(simple.url, '/auth', { walletAddress: wallet.address, signature });
      expect(reply.status).toBe(200);
    } finally {
      await simple.close();
    }
  });
});

describe('Solana wallets', () => {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  const address = base58.encode(Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url'));
  const sign = (text: string) => base58.encode(crypto.sign(null, Buffer.from(text, 'utf8'), privateKey));

  test("log in with picket-js's Solana message (base58 address, Ed25519 signature)", async () => {
    const { nonce, statement } = await askNonce(issuer.url, address, 'solana');
    const context = {
      domain: 'localhost:5173',
      uri: PAGE,
      chainId: 101,
      issuedAt: new Date().toISOString(),
      chainType: 'solana',
    };
    // picket-js writes the EIP-4361 text and replaces "Ethereum" with "Solana" throughout.
    const message = siweText({ ...context, address, statement, nonce }).replaceAll('Ethereum', 'Solana');
    const other = crypto.generateKeyPairSync('ed25519').privateKey;
    const forged = base58.encode(crypto.sign(null, Buffer.from(message, 'utf8'), other));
    const refused = await post(issuer.url, '/auth', {
      chain: 'solana',
      walletAddress: address,
      signature: forged,
      context,
    });
    expect([refused.status, refused.body.code]).toEqual([401, 'signature_invalid']);
    const reply = await post(issuer.url, '/auth', {
      chain: 'solana',
      walletAddress: address,
      signature: sign(message),
      context,
    });
    expect(reply.status).toBe(200);
    expect(reply.body.user).toEqual({ chain: 'solana', walletAddress: address, displayAddress: address });
  });

  test('a Solana login with an EVM address or a hex signature is a 400', async () => {
    const evm = await post(issuer.url, '/auth/nonce', { chain: 'solana', walletAddress: newWallet().address });
    expect([evm.status, evm.body.code]).toEqual([400, 'request_invalid']);
    const hex = await post(issuer.url, '/auth', {
      chain: 'solana',
      walletAddress: address,
      signature: `0x${'11'.repeat(64)}`,
    });
    expect([hex.status, hex.body.code]).toEqual([400, 'signature_malformed']);
  });
});

describe('contract wallets (ERC-1271) on ganache', () => {
  let chain: LocalChain;
  let contract: string;
  const owner = newWallet();
  beforeAll(async () => {
    const contracts = compileContracts();
    chain = await startChain({ chainId: 1 });
    contract = getAddress(await chain.deploy(contracts.Erc1271Wallet!, [owner.address]));
  }, 120_000);
  afterAll(() => chain?.close());

  test("log in with the owner's signature through chains.ethereum.rpcUrl; without it, signature_invalid", async () => {
    const withRpc = await start({ chains: { ethereum: { rpcUrl: chain.rpcUrl } } });
    try {
      const body = await signedLogin(withRpc.url, { address: contract }, owner);
      const reply = await post(withRpc.url, '/auth', body);
      expect(reply.status).toBe(200);
      expect(reply.body.user).toMatchObject({ walletAddress: contract });
      const stranger = await signedLogin(withRpc.url, { address: contract }, newWallet());
      expect((await post(withRpc.url, '/auth', stranger)).body.code).toBe('signature_invalid');
    } finally {
      await withRpc.close();
    }
    const body = await signedLogin(issuer.url, { address: contract }, owner);
    const reply = await post(issuer.url, '/auth', body);
    expect([reply.status, reply.body.code]).toEqual([401, 'signature_invalid']);
  }, 60_000);

  test('with several nonces pending, the one the owner signed is found through the chain, and only it is taken', async () => {
    const withRpc = await start({ chains: { ethereum: { rpcUrl: chain.rpcUrl } } });
    try {
      const older = await signedLogin(withRpc.url, { address: contract }, owner);
      const newer = await signedLogin(withRpc.url, { address: contract }, owner);
      await askNonce(withRpc.url, contract);
      expect((await post(withRpc.url, '/auth', older)).status).toBe(200);
      expect((await post(withRpc.url, '/auth', older)).body.code).toBe('signature_invalid');
      expect((await post(withRpc.url, '/auth', newer)).status).toBe(200);
    } finally {
      await withRpc.close();
    }
  }, 60_000);

  test('an RPC that cannot be reached → 503 signature_unverifiable with Retry-After', async () => {
    const unreachable = await start({ chains: { ethereum: { rpcUrl: `http://127.0.0.1:${await closedPort()}` } } });
    try {
      const body = await signedLogin(unreachable.url, { address: contract }, owner);
      const reply = await post(unreachable.url, '/auth', body);
      expect([reply.status, reply.body.code]).toEqual([503, 'signature_unverifiable']);
      expect(reply.headers.get('retry-after')).toBe('1');
    } finally {
      await unreachable.close();
    }
  });
});

describe('login options are checked at startup', () => {
  test.each<[string, string, Partial<IssuerOptions>]>([
    ['a statement with a line break', 'login.statement', { login: { statement: 'Sign in\nnow' } }],
    ['a statement with U+202E', 'login.statement', { login: { statement: 'Sign in \u202Eto evil' } }],
    ['a domain that is no host', 'login.domains', { login: { domains: ['https://app.example'] } }],
    ['a nonce lifetime over a day', 'login.nonceTtlSeconds', { login: { nonceTtlSeconds: 86_401 } }],
    ['chains that are a list', 'chains', { chains: [] as never }],
    ['a chain the issuer does not know', 'chains.bitcoin', { chains: { bitcoin: { rpcUrl: 'http://127.0.0.1:1' } } }],
    ['a Solana rpcUrl', 'chains.solana', { chains: { solana: { rpcUrl: 'http://127.0.0.1:1' } } }],
    ['an rpcUrl that is not http', 'chains.ethereum.rpcUrl', { chains: { ethereum: { rpcUrl: 'ws://127.0.0.1:1' } } }],
    ['an unknown chain option', 'chains.ethereum.rpc', { chains: { ethereum: { rpc: 'x' } as never } }],
  ])('%s throws an OptionsError naming %s', (_case, name, change) => {
    const build = () => createIssuer({ ...BASE, ...change });
    expect(build).toThrow(OptionsError);
    expect(build).toThrow(`"${name}"`);
  });

  test('the default statement of an audience like café-project is valid EIP-4361', async () => {
    const cafe = await start({ audience: 'café-project' });
    try {
      const wallet = newWallet();
      expect((await askNonce(cafe.url, wallet.address)).statement).toBe('Sign in with your wallet to cafe-project');
      const body = await signedLogin(cafe.url, wallet, wallet);
      expect((await post(cafe.url, '/auth', body)).status).toBe(200);
    } finally {
      await cafe.close();
    }
  });
});
