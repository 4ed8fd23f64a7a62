/**
 * Time claims (RFC 7519 §4.1.4-4.1.6, RFC 8725 §3.10): exp required, a finite number, in the
 * future within clockTolerance; nbf and iat honoured; exp - iat within maxTokenLifetime. The
 * issuer's `ext` counts only when `exp` is absent. Margins are whole seconds, never waits.
 */
import { createTestIssuer, type TestIssuer } from '../../lib/testing';
import { resolveOptions } from '../../lib/http/options';
import { importJWK, type JWK } from 'jose';
import { TokenVerifier } from '../../lib/token/verify';
import { AUDIENCE, nowSeconds, picketClaims } from '../helpers/fixtures';
import { createHarness, expectRejected, type Harness, useRawHarness } from '../helpers/harness';
import { createRawIssuer, type RawIssuer } from '../helpers/jwks-server';

let issuer: TestIssuer;
let harness: Harness; // clockTolerance 5 (default), maxTokenLifetime 86400 (default)
let strict: Harness; // clockTolerance 0

beforeAll(async () => {
  issuer = await createTestIssuer({ audience: AUDIENCE });
  harness = await createHarness(issuer.options);
  strict = await createHarness({ ...issuer.options, clockTolerance: 0 });
});
afterAll(async () => {
  await harness.close();
  await strict.close();
  await issuer.close();
});

const DAY = 86_400;

describe('exp is required, a finite number', () => {
  test('rejects a token without exp (and without ext)', async () => {
    const token = await issuer.sign({ exp: undefined });
    expectRejected(await harness.get('/me', token), 401, 'claim_invalid', token);
  });

  test.each([
    ['a numeric string', () => String(nowSeconds() + 3600)],
    ['an exponent string', () => '1e10'],
    ['"NaN"', () => 'NaN'],
    ['"Infinity"', () => 'Infinity'],
    ['null', () => null],
    ['true', () => true],
    ['an empty object (Number({}) is NaN)', () => ({})],
    ['a one-element array (Number([x]) is x)', () => [nowSeconds() + 3600]],
    ['an empty array (Number([]) is 0)', () => []],
  ])('rejects exp as %s', async (_name, exp) => {
    const token = await issuer.sign({ exp: exp() });
    expectRejected(await harness.get('/me', token), 401, 'claim_invalid', token);
  });

  describe('numbers JSON.stringify cannot write', () => {
    const ctx = useRawHarness();
    const withExp = (exp: string) => `${JSON.stringify(picketClaims({ exp: undefined })).slice(0, -1)},"exp":${exp}}`;

    test.each(['1e400', '-1e400', '1E+400'])('rejects exp %s (parses to ±Infinity)', async (exp) => {
      const token = await ctx.raw.signRaw(JSON.stringify({ alg: 'ES256', kid: ctx.raw.kid }), withExp(exp));
      expectRejected(await ctx.harness.get('/me', token), 401, 'claim_invalid', token);
    });

    test('rejects exp 1e308 (finite, far beyond maxTokenLifetime)', async () => {
      const token = await ctx.raw.signRaw(JSON.stringify({ alg: 'ES256', kid: ctx.raw.kid }), withExp('1e308'));
      expectRejected(await ctx.harness.get('/me', token), 401, 'token_lifetime_exceeded', token);
    });

    test('accepts exp written with an exponent when its value is fine', async () => {
      const exp = (nowSeconds() + 3600) / 1e3;
      const res = await ctx.harness.get(
        '/me',
        await ctx.raw.signRaw(JSON.stringify({ alg: 'ES256', kid: ctx.raw.kid }), withExp(`${exp}e3`)),
      );
      expect(res.status).toBe(200);
    });
  });
});

describe('exp is in the future, within clockTolerance', () => {
  test('rejects a token that expired a minute ago', async () => {
    const token = await issuer.sign({ exp: nowSeconds() - 60 });
    expectRejected(await harness.get('/me', token), 401, 'token_expired', token);
  });

  test('accepts a token that expired 2 s ago (within the default 5 s tolerance)', async () => {
    expect((await harness.get('/me', await issuer.sign({ exp: nowSeconds() - 2 }))).status).toBe(200);
  });

  test('rejects a token that expired 10 s ago (beyond the 5 s tolerance)', async () => {
    const token = await issuer.sign({ exp: nowSeconds() - 10 });
    expectRejected(await harness.get('/me', token), 401, 'token_expired', token);
  });

  test('accepts exp exactly now with the default tolerance', async () => {
    expect((await harness.get('/me', await issuer.sign({ exp: nowSeconds() }))).status).toBe(200);
  });

  test('rejects exp a second ago with clockTolerance 0', async () => {
    const token = await issuer.sign({ exp: nowSeconds() - 1 });
    expectRejected(await strict.get('/me', token), 401, 'token_expired', token);
  });

  test('rejects a token that expired 2 s ago with clockTolerance 0', async () => {
    const token = await issuer.sign({ exp: nowSeconds() - 2 });
    expectRejected(await strict.get('/me', token), 401, 'token_expired', token);
  });

  test('a cached token is rejected once its exp passes (time is checked on every cache hit)', async () => {
    let now = Date.now();
    const resolved = resolveOptions(issuer.options);
    const { keys } = (await (await fetch(issuer.jwksUri)).json()) as { keys: JWK[] };
    const key = (await importJWK(keys[0]!, 'ES256')) as CryptoKey;
    const verifier = new TokenVerifier(resolved, { getKeys: async () => [key] }, () => now);
    const token = await issuer.sign({ exp: nowSeconds() + 60 });
    await expect(verifier.verify(token)).resolves.toMatchObject({ tid: expect.any(String) });
    now += 66_000; // past exp + the 5 s tolerance
    await expect(verifier.verify(token)).rejects.toMatchObject({ status: 401, reason: 'token_expired' });
  });
});

/**
 * The exact boundary, on a clock the test sets to the millisecond. A token signed with exp = now
 * cannot show it over HTTP: the request reaches the check some milliseconds into the second, past
 * the boundary whether the comparison is inclusive or not.
 */
describe('exp + clockTolerance is the first instant a token is expired', () => {
  let key: CryptoKey;
  beforeAll(async () => {
    const { keys } = (await (await fetch(issuer.jwksUri)).json()) as { keys: JWK[] };
    key = (await importJWK(keys[0]!, 'ES256')) as CryptoKey;
  });

  /** Verifies `token` at `nowMs` on the clock, without the cache, with `clockTolerance`. */
  const verifyAt = (token: string, nowMs: number, clockTolerance: number) =>
    new TokenVerifier(
      resolveOptions({ ...issuer.options, clockTolerance, cache: false }),
      { getKeys: async () => [key] },
      () => nowMs,
    ).verify(token);

  test.each([5, 0])(
    'with clockTolerance %i: accepted 1 ms before (exp + clockTolerance) s, refused token_expired at it',
    async (clockTolerance) => {
      const exp = nowSeconds() + 60;
      const token = await issuer.sign({ exp });
      const boundaryMs = (exp + clockTolerance) * 1000;
      await expect(verifyAt(token, boundaryMs - 1, clockTolerance)).resolves.toMatchObject({ exp });
      await expect(verifyAt(token, boundaryMs, clockTolerance)).rejects.toMatchObject({
        status: 401,
        reason: 'token_expired',
      });
    },
  );
});

describe('maxTokenLifetime', () => {
  test('accepts exp - iat exactly maxTokenLifetime', async () => {
    const iat = nowSeconds();
    expect((await harness.get('/me', await issuer.sign({ iat, exp: iat + DAY }))).status).toBe(200);
  });

  test('rejects exp - iat one second beyond maxTokenLifetime', async () => {
    const iat = nowSeconds();
    const token = await issuer.sign({ iat, exp: iat + DAY + 1 });
    expectRejected(await harness.get('/me', token), 401, 'token_lifetime_exceeded', token);
  });

  test('rejects a far-future exp without iat', async () => {
    const token = await issuer.sign({ iat: undefined, exp: nowSeconds() + 10 * 365 * DAY });
    expectRejected(await harness.get('/me', token), 401, 'token_lifetime_exceeded', token);
  });

  test('rejects a long lifetime hidden behind an old iat', async () => {
    const token = await issuer.sign({ iat: nowSeconds() - 30 * DAY, exp: nowSeconds() + 3600 });
    expectRejected(await harness.get('/me', token), 401, 'token_lifetime_exceeded', token);
  });

  test('honours a smaller configured maxTokenLifetime', async () => {
    const short = await createHarness({ ...issuer.options, maxTokenLifetime: 600 });
    try {
      const token = await issuer.sign({ exp: nowSeconds() + 3600 });
      expectRejected(await short.get('/me', token), 401, 'token_lifetime_exceeded', token);
      expect((await short.get('/me', await issuer.sign({ exp: nowSeconds() + 600 }))).status).toBe(200);
    } finally {
      await short.close();
    }
  });
});

describe('nbf and iat', () => {
  test('rejects nbf a minute in the future', async () => {
    const token = await issuer.sign({ nbf: nowSeconds() + 60 });
    expectRejected(await harness.get('/me', token), 401, 'token_not_yet_valid', token);
  });

  test('accepts nbf 2 s in the future (within tolerance)', async () => {
    expect((await harness.get('/me', await issuer.sign({ nbf: nowSeconds() + 2 }))).status).toBe(200);
  });

  test('rejects iat a minute in the future', async () => {
    const token = await issuer.sign({ iat: nowSeconds() + 60, exp: nowSeconds() + 3600 });
    expectRejected(await harness.get('/me', token), 401, 'token_issued_in_future', token);
  });

  test('the iat bound is inclusive: iat exactly now + clockTolerance is accepted, one second more refused', async () => {
    const now = nowSeconds() * 1000; // a whole second, so the boundary is exact
    const { keys } = (await (await fetch(issuer.jwksUri)).json()) as { keys: JWK[] };
    const key = (await importJWK(keys[0]!, 'ES256')) as CryptoKey;
    const at = (iat: number) => issuer.sign({ iat, exp: iat + 3600 });
    for (const clockTolerance of [5, 0]) {
      const verifier = new TokenVerifier(
        resolveOptions({ ...issuer.options, clockTolerance, cache: false }),
        { getKeys: async () => [key] },
        () => now,
      );
      await expect(verifier.verify(await at(now / 1000 + clockTolerance))).resolves.toMatchObject({ aud: AUDIENCE });
      await expect(verifier.verify(await at(now / 1000 + clockTolerance + 1))).rejects.toMatchObject({
        status: 401,
        reason: 'token_issued_in_future',
      });
    }
  });

  test.each([
    ['nbf as a string', { nbf: '0' }],
    ['nbf as null', { nbf: null }],
    ['iat as a string', { iat: String(nowSeconds()) }],
    ['iat as an array', { iat: [nowSeconds()] }],
  ])('rejects %s', async (_name, claims) => {
    const token = await issuer.sign(claims);
    expectRejected(await harness.get('/me', token), 401, 'claim_invalid', token);
  });
});

describe('the issuer’s ext counts only when exp is absent', () => {
  test('accepts ext in the future when exp is absent', async () => {
    expect((await harness.get('/me', await issuer.sign({ exp: undefined, ext: nowSeconds() + 3600 }))).status).toBe(
      200,
    );
  });

  test('rejects ext in the past when exp is absent', async () => {
    const token = await issuer.sign({ exp: undefined, ext: nowSeconds() - 60 });
    expectRejected(await harness.get('/me', token), 401, 'token_expired', token);
  });

  test('an expired exp is not rescued by a future ext', async () => {
    const token = await issuer.sign({ exp: nowSeconds() - 60, ext: nowSeconds() + 3600 });
    expectRejected(await harness.get('/me', token), 401, 'token_expired', token);
  });

  test('a valid exp is not spoiled by a past ext', async () => {
    expect(
      (await harness.get('/me', await issuer.sign({ exp: nowSeconds() + 3600, ext: nowSeconds() - 60 }))).status,
    ).toBe(200);
  });

  test('rejects ext that is not a number when exp is absent', async () => {
    const token = await issuer.sign({ exp: undefined, ext: String(nowSeconds() + 3600) });
    expectRejected(await harness.get('/me', token), 401, 'claim_invalid', token);
  });

  test('ext is subject to maxTokenLifetime like exp', async () => {
    const token = await issuer.sign({ exp: undefined, ext: nowSeconds() + 30 * DAY });
    expectRejected(await harness.get('/me', token), 401, 'token_lifetime_exceeded', token);
  });

  test('req.wallet.claims.exp carries ext when exp is absent', async () => {
    const ext = nowSeconds() + 3600;
    const res = await harness.get('/me', await issuer.sign({ exp: undefined, ext }));
    expect(res.body.claims.exp).toBe(ext);
  });
});
