/**
 * One behavioural suite for every framework adapter: each `*.test.ts` here mounts the same routes
 * on its framework, behind a real server on 127.0.0.1, and this suite asks them the same
 * questions. The expected answers are written out below, not taken from any adapter.
 */
import http from 'node:http';
import { createRevocationList, createTokenGate, type TokenGate, type TokenGateOptions } from '../../lib';
import { createTestIssuer, TEST_WALLET, type TestIssuer } from '../../lib/testing';
import { APES_CONTRACT } from '../helpers/fixtures';
import { closedPort } from '../helpers/net';

/** What each route checks, in order; every route answers 200 `{ address }` (null without a wallet). */
export const ROUTES = {
  '/me': ['requireAuth'],
  '/apes': ['requireTokens'],
  '/both': ['requireAuth', 'requireTokens'],
  '/optional': ['optionalAuth'],
  '/claims': ['requireClaims'],
} as const;
export type Check = (typeof ROUTES)[keyof typeof ROUTES][number];
/** `requireTokens` is `(APES_CONTRACT, '1')`; `requireClaims` admits the chain `ethereum` only. */
export const CLAIMS_DESCRIPTION = 'Only Ethereum wallets';
export const claimsCheck = (claims: { chain: string }) => claims.chain === 'ethereum';

/** A running app of one framework: how to ask it (over loopback HTTP, or Fastify's inject), how to stop it. */
export interface Mounted {
  send(path: string, headers?: Record<string, string | string[]>, method?: string): Promise<Answer>;
  close(): Promise<void>;
}

/** A Mounted app behind a real server at `url`. */
export const overHttp = (url: string, close: () => Promise<void>): Mounted => ({
  send: (path, headers, method) => send(url, path, headers, method),
  close,
});

/**
 * Mounts `ROUTES` for `gate` on a framework, with its way of rendering rejections as JSON (the
 * framework's `authErrorHandler`, or the `Response` the adapter answers with), listening on 127.0.0.1.
 */
export type Mount = (gate: TokenGate) => Promise<Mounted>;

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** A request with any headers; an array value sends one header line per item. */
export function send(
  url: string,
  path: string,
  headers: Record<string, string | string[]> = {},
  method = 'GET',
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${path}`, { method, agent: false });
    for (const [name, value] of Object.entries(headers)) req.setHeader(name, value);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        let body: Record<string, unknown>;
        try {
          body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
        } catch {
          body = { text };
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const challenge = (error: string) => new RegExp(`^Bearer realm="api", error="${error}", error_description="[^"]+"$`);

/** Runs the shared suite against `mount`. */
export function adapterSuite(name: string, mount: Mount): void {
  describe(`${name}: the same answers as Express`, () => {
    let issuer: TestIssuer;
    const apps: Mounted[] = [];
    const up = async (options: Partial<TokenGateOptions> = {}, gate?: TokenGate) => {
      const app = await mount(gate ?? createTokenGate({ ...issuer.options, logger: false, ...options }));
      apps.push(app);
      return app;
    };
    let plain: Mounted;
    const tokens: Record<string, string> = {};
    beforeAll(async () => {
      issuer = await createTestIssuer({ audience: 'adapters-project' });
      plain = await up();
      tokens.valid = await issuer.sign();
      tokens.owner = await issuer.sign({ tokenBalances: { contractAddress: { [APES_CONTRACT]: '1' } } });
      tokens.expired = await issuer.sign({}, { expiresIn: -3600 });
      tokens.otherAudience = await issuer.sign({ aud: 'another-project' });
      tokens.unpublished = await issuer.sign({}, { unpublishedKey: true, kid: issuer.kid });
      tokens.solana = await issuer.sign({ chain: 'solana' });
    }, 30_000);
    afterAll(async () => {
      await Promise.all(apps.map((app) => app.close()));
      await issuer.close();
    });

    // [case, path, headers (token names resolve from `tokens`), status, error, reason, WWW-Authenticate]
    const table: Array<[string, string, () => Record<string, string | string[]>, number, string, string, RegExp]> = [
      ['no token', '/me', () => ({}), 401, 'unauthorized', 'token_missing', /^Bearer realm="api"$/],
      [
        'a malformed header',
        '/me',
        () => ({ Authorization: 'Bearer' }),
        400,
        'invalid_request',
        'header_malformed',
        challenge('invalid_request'),
      ],
      [
        'two Authorization headers',
        '/me',
        () => ({ Authorization: [`Bearer ${tokens.valid}`, `Bearer ${tokens.valid}`] }),
        400,
        'invalid_request',
        'header_duplicated',
        challenge('invalid_request'),
      ],
      [
        'a bad signature',
        '/me',
        () => bearer(tokens.unpublished!),
        401,
        'invalid_token',
        'signature_invalid',
        challenge('invalid_token'),
      ],
      [
        'an expired token',
        '/me',
        () => bearer(tokens.expired!),
        401,
        'invalid_token',
        'token_expired',
        challenge('invalid_token'),
      ],
      [
        'a wrong audience',
        '/me',
        () => bearer(tokens.otherAudience!),
        401,
        'invalid_token',
        'audience_mismatch',
        challenge('invalid_token'),
      ],
      [
        'a garbage token under optionalAuth',
        '/optional',
        () => bearer('a.b.c'),
        401,
        'invalid_token',
        'token_malformed',
        challenge('invalid_token'),
      ],
      [
        'no balance',
        '/apes',
        () => bearer(tokens.valid!),
        403,
        'insufficient_scope',
        'insufficient_balance',
        challenge('insufficient_scope'),
      ],
      [
        'a failed claim check',
        '/claims',
        () => bearer(tokens.solana!),
        403,
        'insufficient_scope',
        'claim_check_failed',
        challenge('insufficient_scope'),
      ],
    ];
    test.each(table)(
      '%s on %s is refused as in Express',
      async (_case, path, headers, status, error, reason, wwwAuthenticate) => {
        const answer = await plain.send(path, headers());
        expect({
          status: answer.status,
          error: answer.body.error,
          reason: answer.body.reason,
          description: typeof answer.body.error_description,
          wwwAuthenticate: answer.headers['www-authenticate'],
          contentType: answer.headers['content-type'],
          cacheControl: answer.headers['cache-control'],
        }).toEqual({
          status,
          error,
          reason,
          description: 'string',
          wwwAuthenticate: expect.stringMatching(wwwAuthenticate),
          contentType: 'application/json; charset=utf-8',
          cacheControl: 'no-store',
        });
      },
    );

    test('a 403 names the requirements, in the issuer /authz shape', async () => {
      const answer = await plain.send('/apes', bearer(tokens.valid!));
      expect(answer.body.requirements).toEqual({
        chain: 'ethereum',
        contractAddress: APES_CONTRACT,
        minTokenBalance: '1',
      });
    });

    test.each([
      ['/me', 'valid'],
      ['/apes', 'owner'],
      ['/both', 'owner'],
      ['/claims', 'valid'],
      ['/optional', 'valid'],
    ])('%s with a %s token answers 200 with the wallet', async (path, token) => {
      const answer = await plain.send(path, bearer(tokens[token]!));
      expect({ status: answer.status, body: answer.body }).toEqual({
        status: 200,
        body: { address: TEST_WALLET.toLowerCase() },
      });
    });

    test('optionalAuth without credentials passes with no wallet', async () => {
      const answer = await plain.send('/optional');
      expect({ status: answer.status, body: answer.body }).toEqual({ status: 200, body: { address: null } });
    });

    test('the key set out of reach answers 503 with Retry-After and no challenge', async () => {
      const app = await up({ jwksUri: `http://127.0.0.1:${await closedPort()}/jwks.json` });
      const answer = await app.send('/me', bearer(tokens.valid!));
      expect({
        status: answer.status,
        error: answer.body.error,
        reason: answer.body.reason,
        retryAfter: answer.headers['retry-after'],
        wwwAuthenticate: answer.headers['www-authenticate'],
      }).toEqual({
        status: 503,
        error: 'temporarily_unavailable',
        reason: 'jwks_unavailable',
        retryAfter: expect.stringMatching(/^[1-9]\d*$/),
        wwwAuthenticate: undefined,
      });
    });

    describe('CORS preflights', () => {
      const preflight = { Origin: 'http://127.0.0.1:1', 'Access-Control-Request-Method': 'GET' };
      test('pass without a token when allowPreflight is true (the default), with no wallet', async () => {
        const answer = await plain.send('/me', preflight, 'OPTIONS');
        expect({ status: answer.status, body: answer.body }).toEqual({ status: 200, body: { address: null } });
      });
      test('are refused like any request when allowPreflight is false', async () => {
        const app = await up({ allowPreflight: false });
        const answer = await app.send('/me', preflight, 'OPTIONS');
        expect({ status: answer.status, reason: answer.body.reason }).toEqual({ status: 401, reason: 'token_missing' });
      });
      test('an OPTIONS request without Access-Control-Request-Method needs a token', async () => {
        const answer = await plain.send('/me', {}, 'OPTIONS');
        expect({ status: answer.status, reason: answer.body.reason }).toEqual({ status: 401, reason: 'token_missing' });
      });
    });

    test('requireAuth then requireTokens on one request verify the token once', async () => {
      let verifications = 0;
      // With the cache off, every verification runs isRevoked once, after the signature passed.
      const app = await up({
        cache: false,
        isRevoked: () => {
          verifications += 1;
          return false;
        },
      });
      const answer = await app.send('/both', bearer(tokens.owner!));
      expect({ status: answer.status, verifications }).toEqual({ status: 200, verifications: 1 });
      await app.send('/me', bearer(tokens.owner!));
      expect(verifications).toBe(2);
    });

    test('revalidate: live balances decide, not the token', async () => {
      issuer.setBalances(TEST_WALLET, {});
      const emptied = await up({ revalidate: { resolver: issuer.ownershipResolver() } });
      const without = await emptied.send('/apes', bearer(tokens.owner!));
      issuer.setBalances(TEST_WALLET, { [APES_CONTRACT]: '5' });
      const bought = await up({ revalidate: { resolver: issuer.ownershipResolver() } });
      const withBalance = await bought.send('/apes', bearer(tokens.valid!));
      expect([without.status, without.body.reason, withBalance.status]).toEqual([403, 'insufficient_balance', 200]);
    });

    test('a token revoked in a revocation list is refused with token_revoked', async () => {
      const revocations = createRevocationList();
      const app = await up({ isRevoked: revocations.isRevoked });
      const token = await issuer.sign({ jti: 'adapter-suite-revoked' });
      const before = await app.send('/me', bearer(token));
      await revocations.revoke(token);
      const after = await app.send('/me', bearer(token));
      expect([before.status, after.status, after.body.reason]).toEqual([200, 401, 'token_revoked']);
    });

    test('a getToken answering with a Promise is waited for; a rejection is a 400', async () => {
      const later = await up({ getToken: () => new Promise((resolve) => setImmediate(() => resolve(tokens.valid))) });
      const failing = await up({ getToken: () => Promise.reject(new Error('session store down')) });
      const [read, refused] = [await later.send('/me'), await failing.send('/me')];
      expect([read.status, read.body.address, refused.status, refused.body.reason]).toEqual([
        200,
        TEST_WALLET.toLowerCase(),
        400,
        'header_malformed',
      ]);
    });

    test("allowQueryToken reads access_token from the request's URL; with a header too it is a 400", async () => {
      const app = await up({ allowQueryToken: true });
      const query = await app.send(`/me?stream=1&access_token=${tokens.valid}`);
      const both = await app.send(`/me?access_token=${tokens.valid}`, bearer(tokens.valid!));
      const twice = await app.send(`/me?access_token=${tokens.valid}&access_token=${tokens.valid}`);
      const off = await plain.send(`/me?access_token=${tokens.valid}`);
      expect([query.status, query.body.address, both.body.reason, twice.body.reason, off.body.reason]).toEqual([
        200,
        TEST_WALLET.toLowerCase(),
        'token_location_conflict',
        'query_malformed',
        'token_missing',
      ]);
    });

    test("getToken receives the framework's own request object", async () => {
      const seen: unknown[] = [];
      const app = await up({
        getToken: (request: unknown) => {
          seen.push(request);
          return tokens.valid;
        },
      });
      const answer = await app.send('/me');
      expect(answer.status).toBe(200);
      expect(seen.length).toBeGreaterThan(0);
      expect(requestKind(seen[0])).toBe(EXPECTED_REQUEST_KIND[name]);
    });
  });
}

/** What each framework hands its handlers, told apart by their own shape. */
const EXPECTED_REQUEST_KIND: Record<string, string> = {
  Express: 'express request',
  Connect: 'node IncomingMessage',
  'Fastify (listen)': 'fastify request',
  'Fastify (inject)': 'fastify request',
  Koa: 'koa context',
  Hono: 'hono context',
  'Request/Response': 'fetch Request',
};

function requestKind(value: unknown): string {
  if (typeof Request !== 'undefined' && value instanceof Request) return 'fetch Request';
  const v = value as Record<string, unknown>;
  if (v && 'req' in v && 'res' in v && 'state' in v && 'app' in v) return 'koa context';
  if (v && 'req' in v && typeof v.json === 'function' && typeof v.set === 'function') return 'hono context';
  if (v && 'raw' in v && 'routeOptions' in v) return 'fastify request';
  if (v instanceof http.IncomingMessage)
    return 'app' in v && 'res' in v && typeof (v as { get?: unknown }).get === 'function'
      ? 'express request'
      : 'node IncomingMessage';
  return 'unknown';
}
