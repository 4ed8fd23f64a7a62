/**
 * Several trusted issuers in one gate (`issuers`), each with its own audiences and key set. The
 * attacks come first: a token naming one issuer but signed by another's key, one issuer's token
 * aimed at another's audience, and unknown issuers that must never cost a fetch.
 */
import express from 'express';
import request from 'supertest';
import { authErrorHandler, createTokenGate, OptionsError, type TokenGate, type TokenGateOptions } from '../../lib';
import { createTestIssuer, type TestIssuer } from '../../lib/testing';
import { makeSigningKey } from '../helpers/jwks-server';
import { AUDIENCE, ISSUER } from '../helpers/fixtures';

const PROD = { issuer: ISSUER, audience: 'prod-project' };
const STAGING = { issuer: 'staging.picketapi.com', audience: 'staging-project' };

interface Pair {
  prod: TestIssuer;
  staging: TestIssuer;
  gate: TokenGate;
  get(token?: string): request.Test;
  close(): Promise<void>;
}

/** Two fresh issuers (so their JWKS hit counts start at 0) and one gate trusting both. */
async function twoIssuers(extra: Partial<TokenGateOptions> = {}): Promise<Pair> {
  const [prod, staging] = await Promise.all([createTestIssuer(PROD), createTestIssuer(STAGING)]);
  const gate = createTokenGate({
    issuers: [
      { ...PROD, jwksUri: prod.jwksUri },
      { ...STAGING, jwksUri: staging.jwksUri },
    ],
    ...extra,
  });
  const app = express();
  app.get('/me', gate.requireAuth(), (req, res) =>
    res.json({ iss: req.wallet!.claims.iss, address: req.wallet!.address }),
  );
  app.use(authErrorHandler());
  return {
    prod,
    staging,
    gate,
    get: (token) =>
      token === undefined ? request(app).get('/me') : request(app).get('/me').set('Authorization', `Bearer ${token}`),
    close: async () => {
      await Promise.all([prod.close(), staging.close()]);
    },
  };
}

let pair: Pair;
afterEach(() => pair?.close());

describe('issuers: one gate accepts tokens from each trusted issuer', () => {
  test("each issuer's token is accepted, and claims.iss says which issuer vouched for it", async () => {
    pair = await twoIssuers();
    await pair
      .get(await pair.prod.sign())
      .expect(200)
      .expect((res) => expect(res.body.iss).toBe(ISSUER));
    await pair
      .get(await pair.staging.sign())
      .expect(200)
      .expect((res) => expect(res.body.iss).toBe('staging.picketapi.com'));
  });

  test("a token fetches only its own issuer's key set", async () => {
    pair = await twoIssuers();
    await pair.get(await pair.staging.sign()).expect(200);
    expect({ prod: pair.prod.jwksHits, staging: pair.staging.jwksHits }).toEqual({ prod: 0, staging: 1 });
  });

  test('gate.keySets holds one key set per issuer; gate.keySet is the first', async () => {
    pair = await twoIssuers();
    expect([...pair.gate.keySets.keys()]).toEqual([ISSUER, 'staging.picketapi.com']);
    expect(pair.gate.keySet).toBe(pair.gate.keySets.get(ISSUER));
    expect(pair.gate.keySets.get('staging.picketapi.com')!.status().uri).toBe(pair.staging.jwksUri);
  });
});

describe('issuers: a token is only ever checked against the keys of the issuer it names', () => {
  test("a token naming prod but signed by staging's key (with staging's kid) is refused", async () => {
    pair = await twoIssuers();
    const forged = await pair.staging.sign({ iss: PROD.issuer, aud: PROD.audience });
    const res = await pair.get(forged).expect(401);
    expect(res.body.reason).toBe('key_not_found');
  });

  test("the same forgery under prod's kid fails the signature", async () => {
    pair = await twoIssuers();
    const forged = await pair.staging.sign({ iss: PROD.issuer, aud: PROD.audience }, { kid: pair.prod.kid });
    const res = await pair.get(forged).expect(401);
    expect(res.body.reason).toBe('signature_invalid');
  });

  test('the same forgery without kid fails the signature', async () => {
    pair = await twoIssuers();
    const forged = await pair.staging.sign({ iss: PROD.issuer, aud: PROD.audience }, { header: { kid: undefined } });
    expect((await pair.get(forged).expect(401)).body.reason).toBe('signature_invalid');
  });

  test("one issuer's token aimed at another issuer's audience is refused", async () => {
    pair = await twoIssuers();
    const crossed = await pair.staging.sign({ aud: PROD.audience });
    expect((await pair.get(crossed).expect(401)).body.reason).toBe('audience_mismatch');
  });
});

describe("issuers: a cached token stops when its key leaves its issuer's set", () => {
  test("a staging token cached before staging's key left is refused after the refetch; prod's stays", async () => {
    pair = await twoIssuers({ jwks: { cooldownMs: 0 } });
    const prodToken = await pair.prod.sign();
    const stagingToken = await pair.staging.sign();
    await pair.get(prodToken).expect(200);
    await pair.get(stagingToken).expect(200);
    // Staging retires its key; a token of its new key makes the shared set refetch.
    await pair.staging.rotate({ keepPrevious: false });
    const probe = createTokenGate({ ...pair.staging.options, jwks: { cooldownMs: 0 } });
    await probe.verify(await pair.staging.sign());
    const res = await pair.get(stagingToken).expect(401);
    expect(res.body.reason).toBe('key_not_found');
    await pair.get(prodToken).expect(200);
  });
});

describe('issuers: an unknown iss never triggers a fetch', () => {
  test.each([
    ['an unknown iss', { iss: 'evil.example' }],
    ['a look-alike iss', { iss: 'picketapi.com ' }],
    ['an iss that is not a string', { iss: [ISSUER] }],
  ])('%s is refused with issuer_mismatch before any key work', async (_name, claims) => {
    pair = await twoIssuers();
    const res = await pair.get(await pair.prod.sign(claims)).expect(401);
    expect(res.body.reason).toBe('issuer_mismatch');
    expect({ prod: pair.prod.jwksHits, staging: pair.staging.jwksHits }).toEqual({ prod: 0, staging: 0 });
  });

  test('no iss is refused with claim_invalid before any key work', async () => {
    pair = await twoIssuers();
    const res = await pair.get(await pair.prod.sign({ iss: undefined })).expect(401);
    expect(res.body.reason).toBe('claim_invalid');
    expect({ prod: pair.prod.jwksHits, staging: pair.staging.jwksHits }).toEqual({ prod: 0, staging: 0 });
  });

  test('holds for the single-issuer form too', async () => {
    const issuer = await createTestIssuer({ audience: AUDIENCE });
    try {
      const gate = createTokenGate(issuer.options);
      await expect(gate.verify(await issuer.sign({ iss: 'evil.example' }))).rejects.toMatchObject({
        reason: 'issuer_mismatch',
      });
      expect(issuer.jwksHits).toBe(0);
    } finally {
      await issuer.close();
    }
  });
});

describe('issuers: an issuer may give static keys instead of a jwksUri', () => {
  test('a static issuer and a fetched one side by side', async () => {
    const key = await makeSigningKey('air-gapped');
    const prod = await createTestIssuer(PROD);
    try {
      const gate = createTokenGate({
        issuers: [
          { ...PROD, jwksUri: prod.jwksUri },
          { issuer: 'intranet', audience: 'intranet-app', keys: { keys: [key.jwk] } },
        ],
      });
      const { CompactSign } = await import('jose');
      const now = Math.floor(Date.now() / 1000);
      const claims = {
        iss: 'intranet',
        aud: 'intranet-app',
        walletAddress: '0x1111111111111111111111111111111111111111',
        iat: now,
        exp: now + 600,
      };
      const token = await new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
        .setProtectedHeader({ alg: 'ES256', kid: key.kid })
        .sign(key.privateKey);
      await expect(gate.verify(token)).resolves.toMatchObject({ iss: 'intranet' });
      await expect(gate.verify(await prod.sign())).resolves.toMatchObject({ iss: ISSUER });
      // The prod issuer's key cannot speak for the static issuer.
      await expect(gate.verify(await prod.sign({ iss: 'intranet', aud: 'intranet-app' }))).rejects.toMatchObject({
        reason: 'key_not_found',
      });
      expect(gate.keySets.get('intranet')!.status().source).toBe('static');
    } finally {
      await prod.close();
    }
  });
});

describe('issuers: exactly one form, each entry complete', () => {
  const entry = { issuer: 'a', audience: 'p', jwksUri: 'https://a.example/jwks.json' };
  test.each<[string, TokenGateOptions, RegExp]>([
    [
      'issuers with a top-level audience',
      { issuers: [entry], audience: 'p' },
      /option "audience" cannot be combined with issuers/,
    ],
    [
      'issuers with a top-level jwksUri',
      { issuers: [entry], jwksUri: 'https://a.example/jwks.json' },
      /option "jwksUri" cannot be combined/,
    ],
    ['issuers with a top-level issuer', { issuers: [entry], issuer: 'a' }, /option "issuer" cannot be combined/],
    ['an empty list', { issuers: [] }, /option "issuers" must be a non-empty list/],
    [
      'an entry without issuer',
      { issuers: [{ ...entry, issuer: undefined as never }] },
      /option "issuers\[0\].issuer"/,
    ],
    [
      'an entry without audience',
      { issuers: [{ ...entry, audience: undefined as never }] },
      /option "issuers\[0\].audience" is required/,
    ],
    [
      'an entry with jwksUri and keys',
      { issuers: [{ ...entry, keys: { keys: [] } }] },
      /option "issuers\[0\]" needs exactly one of jwksUri and keys/,
    ],
    ['an entry with neither', { issuers: [{ issuer: 'a', audience: 'p' }] }, /option "issuers\[0\]" needs exactly one/],
    ['the same issuer twice', { issuers: [entry, { ...entry }] }, /option "issuers\[1\].issuer" repeats "a"/],
    [
      'an unknown member',
      { issuers: [{ ...entry, algorithms: ['ES256'] } as never] },
      /option "issuers\[0\].algorithms" is not a known option/,
    ],
    [
      'a plain-http jwksUri off loopback',
      { issuers: [entry, { ...entry, issuer: 'b', jwksUri: 'http://b.example/jwks.json' }] },
      /option "issuers\[1\].jwksUri" must use https/,
    ],
    [
      'a bad static key',
      { issuers: [{ issuer: 'a', audience: 'p', keys: { keys: [{ kty: 'oct', k: 'AA' }] } }] },
      /option "issuers\[0\].keys.keys\[0\]"/,
    ],
  ])('%s throws an OptionsError', (_name, options, message) => {
    expect(() => createTokenGate(options)).toThrow(OptionsError);
    expect(() => createTokenGate(options)).toThrow(message);
  });

  test('the environment does not add an issuer or an audience to the issuers form', async () => {
    const saved = { ...process.env };
    process.env.PICKET_PROJECT_ID = 'from-env';
    try {
      const { options } = createTokenGate({ issuers: [entry] });
      expect({ audience: options.audience, issuer: options.issuer }).toEqual({ audience: ['p'], issuer: ['a'] });
    } finally {
      process.env = saved;
    }
  });
});
