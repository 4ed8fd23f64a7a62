/**
 * The pages of docs/: each opens with what the reader can do after it, and the smallest complete
 * example that follows runs as written against a real issuer on 127.0.0.1 (a real redis-server for
 * the logout page, a ganache chain for live ownership). Only `app.listen` is captured, so supertest can drive the app; the environment
 * points the gate at the test issuer.
 */
import http from 'node:http';
import express from 'express';
import request from 'supertest';
import * as lib from '../../lib';
import { createTestIssuer, TEST_WALLET, type TestIssuer } from '../../lib/testing';
import { compileContracts, startChain, type LocalChain } from '../helpers/chain';
import { block, blocks, capturingExpress, docPages, readDoc, section } from '../helpers/docs';
import { APES_CONTRACT, OTHER_WALLET } from '../helpers/fixtures';
import { startRedisServer, type RedisServer } from '../helpers/redis-server';
import { upgradeRequest } from '../helpers/net';

const AUDIENCE = 'docs-project';
const wallet = TEST_WALLET.toLowerCase();
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

let issuer: TestIssuer;
const saved = { ...process.env };
beforeAll(async () => {
  issuer = await createTestIssuer({ audience: AUDIENCE });
  process.env.PICKET_PROJECT_ID = AUDIENCE;
  process.env.PICKET_ISSUER = issuer.options.issuer;
  process.env.PICKET_JWKS_URI = issuer.jwksUri;
});
afterAll(async () => {
  process.env = saved;
  await issuer.close();
});

/** The first ```js block of a page: its smallest complete example. */
const example = (page: string) => blocks(readDoc(page), 'js')[0]!;

/**
 * Runs `code` as a script with `require` resolving `express-token-gate` to the library and
 * `express` to an Express whose `listen` hands the app over instead; `scope` names more globals.
 * Resolves to the app it listened with (if any) and the values of `results`, evaluated at its end.
 */
function run(
  code: string,
  {
    scope = {},
    modules = {},
    results = [],
  }: { scope?: Record<string, unknown>; modules?: Record<string, unknown>; results?: string[] } = {},
): { app?: express.Express; values: Record<string, unknown> } {
  const capturing = capturingExpress();
  const known: Record<string, unknown> = { express: capturing.express, 'express-token-gate': lib, ...modules };
  const requireShim = (name: string) => (name in known ? known[name] : require(name));
  const names = Object.keys(scope);
  const values = new Function('require', ...names, `${code}\nreturn { ${results.join(', ')} };`)(
    requireShim,
    ...names.map((n) => scope[n]),
  ) as Record<string, unknown>;
  return { app: capturing.app(), values };
}

describe('every page of docs/ opens with what the reader can do after it', () => {
  test.each(docPages().filter((page) => page.startsWith('docs/')))('%s', (page) => {
    const text = readDoc(page);
    const opening = text
      .slice(text.indexOf('\n') + 1)
      .trimStart()
      .split('\n\n')[0]!
      .replace(/\n/g, ' ');
    expect({ page, opens: /(^|\. )After (reading )?this page you /.test(opening) }).toEqual({
      page,
      opens: true,
    });
  });
});

describe('docs/README.md', () => {
  test('its example serves /me and /apes, and answers rejections as JSON', async () => {
    const { app } = run(example('docs/README.md'));
    const me = await request(app!)
      .get('/me')
      .set(bearer(await issuer.sign()));
    expect([me.status, me.body.address]).toEqual([200, wallet]);
    const poor = await request(app!)
      .get('/apes')
      .set(bearer(await issuer.sign()));
    expect([poor.status, poor.body.reason]).toEqual([403, 'insufficient_balance']);
  });
});

describe('docs/api.md', () => {
  test('its example: /me, /maybe with and without a token, and verifyAccessToken on the same options', async () => {
    const { app, values } = run(example('docs/api.md'), { results: ['claimsOf'] });
    const token = await issuer.sign();
    const me = await request(app!).get('/me').set(bearer(token));
    expect([me.status, me.body]).toEqual([200, { wallet, chain: 'ethereum' }]);
    expect((await request(app!).get('/maybe')).body).toEqual({ wallet: null });
    expect((await request(app!).get('/maybe').set(bearer(token))).body).toEqual({ wallet });
    const claimsOf = values.claimsOf as (token: string) => Promise<{ walletAddress: string }>;
    await expect(claimsOf(token)).resolves.toMatchObject({ walletAddress: TEST_WALLET });
    await expect(claimsOf('junk')).rejects.toMatchObject({ name: 'InvalidTokenError', reason: 'token_malformed' });
  });
});

describe('docs/errors.md', () => {
  test('its example: an expired token gets its own header beside the JSON answer', async () => {
    const { app } = run(example('docs/errors.md'));
    const expired = await request(app!)
      .get('/me')
      .set(bearer(await issuer.sign({}, { expiresIn: -60 })));
    expect([expired.status, expired.headers['x-login-again'], expired.body.reason]).toEqual([
      401,
      'true',
      'token_expired',
    ]);
    const missing = await request(app!).get('/me');
    expect([missing.status, missing.headers['x-login-again'], missing.body.reason]).toEqual([
      401,
      undefined,
      'token_missing',
    ]);
  });
});

describe('docs/options.md', () => {
  test('its example builds a gate with those options, without fetching anything', () => {
    const { values } = run(example('docs/options.md'), { results: ['gate'] });
    expect((values.gate as lib.TokenGate).options).toMatchObject({
      audience: [AUDIENCE],
      issuer: ['picketapi.com'],
      jwksUri: 'https://picketapi.com/api/v1/.well-known/jwks.json',
      clockTolerance: 5,
      maxTokenAge: 3600,
      claimsProperty: 'auth',
    });
    expect((values.gate as lib.TokenGate).keySet.status().state).toBe('empty');
  });

  test('the cookie recipe reads a signed cookie', async () => {
    const app = express();
    const secret = 'docs-cookie-secret';
    const { values } = run(block('docs/options.md', 'Cookies and query tokens'), {
      scope: { app, createTokenGate: lib.createTokenGate, process: { env: { ...process.env, COOKIE_SECRET: secret } } },
      results: ['gate'],
    });
    const gate = values.gate as lib.TokenGate;
    app.get('/me', gate.requireAuth(), (req, res) => res.json({ address: req.wallet?.address }));
    app.use(lib.authErrorHandler());
    const token = await issuer.sign();
    const signature = require('node:crypto')
      .createHmac('sha256', secret)
      .update(token)
      .digest('base64')
      .replace(/=+$/, '');
    const signed = await request(app)
      .get('/me')
      .set('Cookie', `access_token=${encodeURIComponent(`s:${token}.${signature}`)}`);
    expect([signed.status, signed.body.address]).toEqual([200, wallet]);
    const unsigned = await request(app).get('/me').set('Cookie', `access_token=${token}`);
    expect([unsigned.status, unsigned.body.reason]).toEqual([401, 'token_missing']);
  });
});

describe('docs/options.md WebSocket upgrade', () => {
  /** An upgrade request to `server`: the status line's code and, on a 101, the wallet the server saw. */
  async function upgrade(port: number, path: string): Promise<[number, string | undefined]> {
    const { status, headers } = await upgradeRequest(port, path);
    return [status, status === 101 ? (headers['x-wallet'] as string | undefined) : undefined];
  }

  test('the recipe opens the socket for a query token, with req.wallet set, and refuses none or junk', async () => {
    const server = http.createServer();
    const connections: string[] = [];
    // The part of ws the recipe calls: accept the upgrade (101) and hand over the connection.
    const wss = {
      handleUpgrade(
        req: http.IncomingMessage & { wallet: { address: string } },
        socket: import('node:net').Socket,
        _head: Buffer,
        done: (ws: object) => void,
      ) {
        socket.end(
          `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Wallet: ${req.wallet.address}\r\n\r\n`,
        );
        done({});
      },
      emit: (_event: string, _ws: object, req: http.IncomingMessage & { wallet: { address: string } }) =>
        connections.push(req.wallet.address),
    };
    const gate = lib.createTokenGate({ ...issuer.options, allowQueryToken: true });
    run(section('docs/options.md', 'Cookies and query tokens').match(/```js\n(const requireAuth[\s\S]*?)```/)![1]!, {
      scope: { gate, server, wss },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const token = await issuer.sign();
      expect({
        query: await upgrade(port, `/ws?access_token=${token}`),
        none: await upgrade(port, '/ws'),
        junk: await upgrade(port, '/ws?access_token=junk'),
        connections,
      }).toEqual({ query: [101, wallet], none: [401, undefined], junk: [401, undefined], connections: [wallet] });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('docs/key-sets.md', () => {
  test('its example fetches the keys and reports the fetch', async () => {
    // A key set of its own: key sets are shared per jwksUri, and one fetched already reports nothing new.
    const own = await createTestIssuer({ audience: AUDIENCE });
    try {
      const lines: string[] = [];
      let logged!: () => void;
      const twoLines = new Promise<void>((resolve) => (logged = resolve));
      const log = (...args: unknown[]) => {
        lines.push(args.map(String).join(' '));
        if (lines.length === 2) logged();
      };
      const { values } = run(example('docs/key-sets.md'), {
        scope: { console: { log }, process: { env: { ...process.env, PICKET_JWKS_URI: own.jwksUri } } },
        results: ['gate'],
      });
      await twoLines;
      expect(lines.sort()).toEqual(['key set fetched', `keys fresh ${own.kid}`]);
      expect((values.gate as lib.TokenGate).keySet.status()).toMatchObject({ source: 'jwks', uri: own.jwksUri });
    } finally {
      await own.close();
    }
  });
});

describe('docs/requirements.md', () => {
  test('its example: two apes, ape #7, and a list of wallets', async () => {
    const { app } = run(example('docs/requirements.md'));
    const balance = (n: string) => issuer.sign({ tokenBalances: { contractAddress: { [APES_CONTRACT]: n } } });
    const status = async (path: string, token: string) => [
      (await request(app!).get(path).set(bearer(token))).status,
      path,
    ];
    expect([
      await status('/apes', await balance('2')),
      await status('/apes', await balance('1')),
      await status('/ape-7', await issuer.sign({ contractAddress: APES_CONTRACT, tokenIds: ['7'], tokenBalance: '1' })),
      await status('/ape-7', await issuer.sign({ contractAddress: APES_CONTRACT, tokenIds: ['8'], tokenBalance: '1' })),
      await status('/team', await issuer.sign()),
      await status('/team', await issuer.sign({ walletAddress: OTHER_WALLET })),
    ]).toEqual([
      [200, '/apes'],
      [403, '/apes'],
      [200, '/ape-7'],
      [403, '/ape-7'],
      [200, '/team'],
      [403, '/team'],
    ]);
  });

  test('the claim checks: an email domain, a claim equal to a value, a role in a list, and a gate-wide check', async () => {
    const app = express();
    const handler = (_req: express.Request, res: express.Response) => {
      res.json({ ok: true });
    };
    const gate = lib.createTokenGate(issuer.options);
    const { values } = run(block('docs/requirements.md', 'Claim checks'), {
      scope: {
        app,
        gate,
        handler,
        createTokenGate: (o: lib.TokenGateOptions) => lib.createTokenGate({ ...issuer.options, ...o }),
        audience: AUDIENCE,
      },
      results: ['staffGate'],
    });
    const staffGate = values.staffGate as lib.TokenGate;
    app.get('/ops', staffGate.requireAuth(), handler);
    app.use(lib.authErrorHandler());
    const status = async (path: string, claims: Record<string, unknown>) =>
      (
        await request(app)
          .get(path)
          .set(bearer(await issuer.sign(claims)))
      ).status;
    expect({
      staff: await status('/staff', { email: 'ann@example.org' }),
      notStaff: await status('/staff', { email: 'ann@example.com' }),
      beta: await status('/beta', { email_verified: true }),
      notBeta: await status('/beta', { email_verified: 'true' }),
      admin: await status('/admin', { roles: 'user admin' }),
      notAdmin: await status('/admin', { roles: ['user'] }),
      ops: await status('/ops', { email: 'ops@example.org' }),
      notOps: await status('/ops', { email: 'ann@example.org' }),
    }).toEqual({
      staff: 200,
      notStaff: 403,
      beta: 200,
      notBeta: 403,
      admin: 200,
      notAdmin: 403,
      ops: 200,
      notOps: 403,
    });
  });
});

describe('docs/incremental-authorization.md', () => {
  test("its client upgrades a login token at /authz and retries; a wallet without the balance gets the issuer's 403", async () => {
    const gate = lib.createTokenGate(issuer.options);
    const api = express();
    api.get('/apes', gate.requireTokens(APES_CONTRACT), (_req, res) => res.json({ welcome: true }));
    api.use(lib.authErrorHandler());
    const server = api.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/apes`;
      const { values } = run(example('docs/incremental-authorization.md'), { results: ['fetchGated'] });
      const fetchGated = values.fetchGated as (
        url: string,
        token: string,
        authz: string,
      ) => Promise<{ response: Response; accessToken: string }>;
      issuer.setBalances(TEST_WALLET, { [APES_CONTRACT]: '1' });
      const login = await issuer.sign();
      const upgraded = await fetchGated(url, login, issuer.authzUrl);
      expect([upgraded.response.status, await upgraded.response.json(), upgraded.accessToken !== login]).toEqual([
        200,
        { welcome: true },
        true,
      ]);
      const poor = await issuer.sign({ walletAddress: OTHER_WALLET });
      const refused = await fetchGated(url, poor, issuer.authzUrl);
      expect([refused.response.status, refused.response.url, refused.accessToken]).toEqual([
        403,
        issuer.authzUrl,
        poor,
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('docs/diagnostics.md', () => {
  test('its example prints each refusal with its reason', async () => {
    const lines: string[] = [];
    run(example('docs/diagnostics.md'), {
      scope: { console: { log: (...args: unknown[]) => lines.push(args.map(String).join(' ')) } },
    });
    const gate = lib.createTokenGate(issuer.options);
    const app = express().get('/me', gate.requireAuth(), (_req, res) => res.end());
    app.use(lib.authErrorHandler());
    await request(app).get('/me').expect(401);
    await request(app)
      .get('/me')
      .set(bearer(await issuer.sign()))
      .expect(200);
    expect(lines).toContain('refused: token_missing');
    expect(lines.filter((line) => line.startsWith('refused:'))).toHaveLength(1);
  });

  test('the metrics recipe serves the decisions on /metrics, with the shipped examples/metrics.js', async () => {
    const gate = lib.createTokenGate(issuer.options);
    const app = express();
    run(section('docs/diagnostics.md', 'Prometheus metrics').match(/```js\n([\s\S]*?)```/)![1]!, {
      scope: { app },
      modules: { './metrics': require('../../examples/metrics') },
    });
    app.get('/me', gate.requireAuth(), (_req, res) => res.end());
    app.use(lib.authErrorHandler());
    await request(app).get('/me').expect(401);
    const scraped = await request(app).get('/metrics').expect(200);
    expect(scraped.text).toMatch(
      /^token_gate_decisions_total\{outcome="rejected",reason="token_missing",source="requireAuth"\} 1$/m,
    );
  });
});

describe('docs/migration.md', () => {
  test('its example puts the payload at req.auth, as express-jwt did', async () => {
    const app = express();
    run(example('docs/migration.md'), {
      scope: { app, jwksUri: issuer.jwksUri, audience: AUDIENCE, issuer: issuer.options.issuer },
    });
    app.get('/me', (req, res) => res.json({ sub: (req as unknown as { auth: { sub: string } }).auth.sub }));
    app.use(lib.authErrorHandler());
    const token = await issuer.sign();
    expect((await request(app).get('/me').set(bearer(token))).body).toEqual({ sub: `ethereum:${TEST_WALLET}` });
    expect((await request(app).get('/me')).status).toBe(401);
  });
});

describe('docs/logout.md', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
  }, 30_000);
  afterAll(() => redis?.close());

  test('its example: a logout on one instance refuses the token on that one and on another, through Redis', async () => {
    const instances = [express(), express()].map((app) => {
      const { values } = run(example('docs/logout.md'), {
        scope: { app, process: { env: { ...process.env, REDIS_URL: redis.url } } },
        modules: { 'express-token-gate/redis': require('../../lib/redis') },
        results: ['revocations'],
      });
      app.use(lib.authErrorHandler());
      return { app, revocations: values.revocations as { close(): Promise<void> } };
    });
    const [a, b] = instances.map(({ app }) => app) as [express.Express, express.Express];
    try {
      const token = await issuer.sign();
      await request(a).post('/logout').set(bearer(token)).expect(204);
      const here = await request(a).post('/logout').set(bearer(token));
      const there = await request(b).post('/logout').set(bearer(token));
      expect([here.status, here.body.reason, there.status, there.body.reason]).toEqual([
        401,
        'token_revoked',
        401,
        'token_revoked',
      ]);
      const other = await request(b)
        .post('/logout')
        .set(bearer(await issuer.sign()));
      expect(other.status).toBe(204);
    } finally {
      for (const { revocations } of instances) await revocations.close();
    }
  });
});

describe('docs/live-ownership.md', () => {
  let chain: LocalChain;
  let nft: string;
  beforeAll(async () => {
    const { Nft721 } = compileContracts();
    chain = await startChain({ chainId: 1 });
    nft = await chain.deploy(Nft721!);
    await chain.send(chain.accounts[0]!, nft as `0x${string}`, Nft721!, 'mint', [TEST_WALLET, 7n]);
  }, 60_000);
  afterAll(() => chain?.close());

  test('its example: /vip asks the chain who holds #7 now, /cheap lets the token decide', async () => {
    const app = express();
    const handler = (_req: express.Request, res: express.Response) => {
      res.json({ ok: true });
    };
    run(example('docs/live-ownership.md'), {
      scope: { app, handler, NFT: nft, process: { env: { ...process.env, RPC_URL: chain.rpcUrl } } },
    });
    app.use(lib.authErrorHandler());
    const answer = async (path: string, token: string) => {
      const res = await request(app).get(path).set(bearer(token));
      return [res.status, res.body.reason ?? 'ok'];
    };
    const login = await issuer.sign();
    const proves = await issuer.sign({ tokenBalances: { contractAddress: { [nft.toLowerCase()]: '1' } } });
    expect({
      holder: await answer('/vip', login),
      other: await answer('/vip', await issuer.sign({ walletAddress: OTHER_WALLET })),
      cheapLogin: await answer('/cheap', login),
      cheapProved: await answer('/cheap', proves),
    }).toEqual({
      holder: [200, 'ok'],
      other: [403, 'insufficient_balance'],
      cheapLogin: [403, 'insufficient_balance'],
      cheapProved: [200, 'ok'],
    });
  }, 30_000);
});
