import express from 'express';
import request from 'supertest';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { authErrorHandler, createTokenGate } from '../../lib';
import { TEST_SOLANA_WALLET, TEST_WALLET, createTestIssuer, type TestIssuer } from '../../lib/testing';
import { AUDIENCE, ISSUER, OTHER_AUDIENCE } from '../helpers/fixtures';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function appFor(options: Parameters<typeof createTokenGate>[0]) {
  const gate = createTokenGate(options);
  const app = express();
  app.get('/me', gate.requireAuth(), (req, res) =>
    res.json({ address: req.wallet!.address, chain: req.wallet!.chain }),
  );
  app.use(authErrorHandler());
  return app;
}

async function reasonFor(app: express.Express, token: string): Promise<[number, string | undefined]> {
  const res = await request(app).get('/me').set('Authorization', `Bearer ${token}`);
  return [res.status, res.body.reason];
}

let issuer: TestIssuer;
let app: express.Express;
beforeAll(async () => {
  issuer = await createTestIssuer({ audience: AUDIENCE });
  app = appFor(issuer.options);
});
afterAll(() => issuer.close());

describe('createTestIssuer', () => {
  test('refuses to start without an audience', async () => {
    await expect(createTestIssuer({} as never)).rejects.toThrow('"audience"');
    await expect(createTestIssuer({ audience: '' })).rejects.toThrow('"audience"');
  });

  test('listens on 127.0.0.1 and hands out options that plug into createTokenGate', () => {
    expect(issuer.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(issuer.options).toEqual({ issuer: ISSUER, audience: AUDIENCE, jwksUri: issuer.jwksUri });
    expect(issuer.jwksUri.startsWith(`${issuer.url}/.well-known/jwks.json`)).toBe(true);
    expect(issuer.authzUrl).toBe(`${issuer.url}/authz`);
  });

  test('publishes its ES256 public key, without the private part, as a JWKS', async () => {
    const response = await fetch(issuer.jwksUri);
    expect(response.status).toBe(200);
    const { keys } = await response.json();
    expect(keys).toEqual([
      {
        kty: 'EC',
        crv: 'P-256',
        x: expect.any(String),
        y: expect.any(String),
        kid: issuer.kid,
        alg: 'ES256',
        use: 'sig',
      },
    ]);
  });

  test('gives every issuer its own key and JWKS address, even on a reused port', async () => {
    const other = await createTestIssuer({ audience: AUDIENCE });
    await other.close();
    expect(other.kid).not.toBe(issuer.kid);
    expect(other.jwksUri).not.toBe(issuer.jwksUri);
  });

  test('counts JWKS fetches: one per gate key set, however many requests', async () => {
    const counted = await createTestIssuer({ audience: AUDIENCE });
    try {
      const countedApp = appFor(counted.options);
      const token = await counted.sign();
      for (let i = 0; i < 3; i += 1)
        await request(countedApp).get('/me').set('Authorization', `Bearer ${token}`).expect(200);
      expect(counted.jwksHits).toBe(1);
    } finally {
      await counted.close();
    }
  });

  test('answers 404 on other paths', async () => {
    expect((await fetch(`${issuer.url}/nothing`)).status).toBe(404);
  });
});

describe('sign() defaults: a Picket-shaped token', () => {
  const NOW = Date.parse('2030-01-02T03:04:05Z');
  let token: string;
  beforeAll(async () => {
    // Only the clock is faked: signing must not depend on timers.
    jest.useFakeTimers({
      now: NOW,
      doNotFake: [
        'nextTick',
        'setImmediate',
        'clearImmediate',
        'setTimeout',
        'clearTimeout',
        'setInterval',
        'clearInterval',
        'queueMicrotask',
        'hrtime',
        'performance',
      ],
    });
    try {
      token = await issuer.sign();
    } finally {
      jest.useRealTimers();
    }
  });

  test('is an ES256 JWT whose kid names the published key', () => {
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', typ: 'JWT', kid: issuer.kid });
  });

  test('is issued to TEST_WALLET on ethereum, for the audience, by picketapi.com, for 12 hours', () => {
    const iat = NOW / 1000;
    expect(decodeJwt(token)).toEqual({
      walletAddress: TEST_WALLET,
      displayAddress: TEST_WALLET,
      chain: 'ethereum',
      sub: `ethereum:${TEST_WALLET}`,
      iat,
      exp: iat + 12 * 3600,
      iss: ISSUER,
      aud: AUDIENCE,
      tid: expect.stringMatching(UUID),
      ver: 1,
    });
  });

  test('gets a new tid every time', async () => {
    expect(decodeJwt(await issuer.sign()).tid).not.toBe(decodeJwt(token).tid);
  });

  test('is accepted by a gate built from issuer.options', async () => {
    const res = await request(app)
      .get('/me')
      .set('Authorization', `Bearer ${await issuer.sign()}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ address: TEST_WALLET.toLowerCase(), chain: 'ethereum' });
  });
});

describe('sign() overrides', () => {
  test('any claim replaces its default; sub and displayAddress follow walletAddress and chain', async () => {
    const wallet = '0x1111111111111111111111111111111111111111';
    const claims = decodeJwt(await issuer.sign({ walletAddress: wallet, chain: 'polygon', email: 'a@b.c' }));
    expect(claims).toMatchObject({
      walletAddress: wallet,
      displayAddress: wallet,
      chain: 'polygon',
      sub: `polygon:${wallet}`,
      email: 'a@b.c',
    });
  });

  test('an explicit displayAddress or sub wins', async () => {
    const claims = decodeJwt(
      await issuer.sign({ displayAddress: 'vitalik.eth', sub: `ethereum/mainnet:${TEST_WALLET}` }),
    );
    expect(claims).toMatchObject({ displayAddress: 'vitalik.eth', sub: `ethereum/mainnet:${TEST_WALLET}` });
  });

  test('undefined removes a claim', async () => {
    const claims = decodeJwt(await issuer.sign({ exp: undefined, chain: undefined }));
    expect(claims).not.toHaveProperty('exp');
    expect(claims).not.toHaveProperty('chain');
    expect(await reasonFor(app, await issuer.sign({ exp: undefined }))).toEqual([401, 'claim_invalid']);
  });

  test('a negative expiresIn gives a token that expired that long ago, issued a session earlier', async () => {
    const token = await issuer.sign({}, { expiresIn: -600 });
    const { iat, exp } = decodeJwt(token);
    expect(exp! - Date.now() / 1000).toBeLessThanOrEqual(-599);
    expect(exp! - iat!).toBe(12 * 3600);
    expect(await reasonFor(app, token)).toEqual([401, 'token_expired']);
  });

  test('a positive expiresIn sets the lifetime', async () => {
    const { iat, exp } = decodeJwt(await issuer.sign({}, { expiresIn: 60 }));
    expect(exp! - iat!).toBe(60);
  });

  test('a wrong audience or issuer is refused by the gate', async () => {
    expect(await reasonFor(app, await issuer.sign({ aud: OTHER_AUDIENCE }))).toEqual([401, 'audience_mismatch']);
    expect(await reasonFor(app, await issuer.sign({ iss: 'evil.example' }))).toEqual([401, 'issuer_mismatch']);
  });

  test('unpublishedKey signs with a key the JWKS does not publish', async () => {
    const token = await issuer.sign({}, { unpublishedKey: true });
    expect(decodeProtectedHeader(token).kid).not.toBe(issuer.kid);
    expect(await reasonFor(app, token)).toEqual([401, 'key_not_found']);
  });

  test('unpublishedKey with the published kid is a forged signature', async () => {
    expect(await reasonFor(app, await issuer.sign({}, { unpublishedKey: true, kid: issuer.kid }))).toEqual([
      401,
      'signature_invalid',
    ]);
  });

  test('header adds, replaces or removes protected-header fields', async () => {
    const token = await issuer.sign({}, { header: { kid: undefined, typ: 'at+jwt', cty: 'x' } });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', typ: 'at+jwt', cty: 'x' });
  });
});

describe('issuers for other chains', () => {
  test('a solana issuer signs for TEST_SOLANA_WALLET on solana', async () => {
    const solana = await createTestIssuer({ audience: AUDIENCE, chain: 'solana', issuer: 'issuer.example' });
    try {
      const token = await solana.sign();
      expect(decodeJwt(token)).toMatchObject({
        walletAddress: TEST_SOLANA_WALLET,
        chain: 'solana',
        sub: `solana:${TEST_SOLANA_WALLET}`,
        iss: 'issuer.example',
      });
      const res = await request(appFor(solana.options)).get('/me').set('Authorization', `Bearer ${token}`);
      expect(res.body).toEqual({ address: TEST_SOLANA_WALLET, chain: 'solana' });
    } finally {
      await solana.close();
    }
  });
});

describe('rotate()', () => {
  let rotating: TestIssuer;
  beforeEach(async () => {
    rotating = await createTestIssuer({ audience: AUDIENCE });
  });
  afterEach(() => rotating.close());

  const publishedKids = async () =>
    ((await (await fetch(rotating.jwksUri)).json()).keys as Array<{ kid: string }>).map((k) => k.kid);

  test('signs with a new key and keeps publishing the old one', async () => {
    const before = rotating.kid;
    await rotating.rotate();
    expect(rotating.kid).not.toBe(before);
    expect(decodeProtectedHeader(await rotating.sign()).kid).toBe(rotating.kid);
    expect(await publishedKids()).toEqual([before, rotating.kid]);
  });

  test('with keepPrevious: false publishes only the new key', async () => {
    await rotating.rotate({ keepPrevious: false });
    expect(await publishedKids()).toEqual([rotating.kid]);
  });

  test('a gate refetching without cooldown accepts tokens of old and new keys', async () => {
    const rotatingApp = appFor({ ...rotating.options, jwks: { cooldownMs: 0 } });
    const old = await rotating.sign();
    expect((await reasonFor(rotatingApp, old))[0]).toBe(200);
    await rotating.rotate();
    expect((await reasonFor(rotatingApp, await rotating.sign()))[0]).toBe(200);
    expect((await reasonFor(rotatingApp, old))[0]).toBe(200);
    expect(rotating.jwksHits).toBe(2);
  });
});

describe('close()', () => {
  test('stops serving at once, even with keep-alive connections open', async () => {
    const closing = await createTestIssuer({ audience: AUDIENCE });
    // fetch keeps its connection alive: close() must not wait for it to idle out.
    expect((await fetch(closing.jwksUri)).status).toBe(200);
    await closing.close();
    await expect(fetch(closing.jwksUri)).rejects.toThrow();
  });

  test('can be called twice', async () => {
    const closing = await createTestIssuer({ audience: AUDIENCE });
    await closing.close();
    await expect(closing.close()).resolves.toBeUndefined();
  });
});
