import { randomBytes, randomUUID } from 'node:crypto';
import { resolveOptions } from '../../lib/http/options';
import { TokenVerifier } from '../../lib/token/verify';
import { AUDIENCE, encodeSegment, ISSUER } from '../helpers/fixtures';
import { signAccessToken } from '../helpers/jwks-server';
import { expectKeys, type Fixture, keySetFixture } from '../helpers/key-set';

/** A well-formed ES256 token naming `kid`; its signature is random (it never gets that far). */
function tokenWithKid(kid: string): string {
  const now = Math.floor(Date.now() / 1000);
  const payload = { iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 600, walletAddress: '0x0' };
  return `${encodeSegment({ alg: 'ES256', typ: 'JWT', kid })}.${encodeSegment(payload)}.${randomBytes(64).toString('base64url')}`;
}

function verifierFor(f: Fixture): TokenVerifier {
  const options = resolveOptions({ audience: AUDIENCE, issuer: ISSUER, jwksUri: f.server.uri, cache: false });
  return new TokenVerifier(options, f.set);
}

let f: Fixture;
beforeEach(async () => {
  f = await keySetFixture();
  await f.set.getKeys('ES256', f.key.kid);
});
afterEach(() => f.server.close());

describe('an unknown kid refetches at most once per cooldown', () => {
  test('within the cooldown after a fetch, an unknown kid is rejected without fetching', async () => {
    f.clock.advance(29_999);
    await expect(f.set.getKeys('ES256', 'unknown')).rejects.toMatchObject({ status: 401, reason: 'key_not_found' });
    expect(f.server.hits).toBe(1);
  });

  test('once the cooldown has passed, an unknown kid refetches once; the next one waits a new cooldown', async () => {
    f.clock.advance(30_000);
    await expect(f.set.getKeys('ES256', 'unknown-1')).rejects.toMatchObject({ reason: 'key_not_found' });
    expect(f.server.hits).toBe(2);
    f.clock.advance(29_999);
    await expect(f.set.getKeys('ES256', 'unknown-2')).rejects.toMatchObject({ reason: 'key_not_found' });
    expect(f.server.hits).toBe(2);
    f.clock.advance(1);
    await expect(f.set.getKeys('ES256', 'unknown-3')).rejects.toMatchObject({ reason: 'key_not_found' });
    expect(f.server.hits).toBe(3);
  });

  test('1,000 concurrent tokens with random kids cause at most one extra fetch, and all are 401', async () => {
    const verifier = verifierFor(f);
    f.clock.advance(30_000);
    const tokens = Array.from({ length: 1000 }, () => tokenWithKid(randomUUID()));
    const results = await Promise.allSettled(tokens.map((t) => verifier.verify(t)));
    for (const result of results) {
      expect(result).toMatchObject({ status: 'rejected', reason: { status: 401, reason: 'key_not_found' } });
    }
    expect(f.server.hits).toBe(2);
    // A second wave right after costs nothing.
    const again = await Promise.allSettled(tokens.map((t) => verifier.verify(t)));
    expect(again.every((r) => r.status === 'rejected')).toBe(true);
    expect(f.server.hits).toBe(2);
  });

  test('a steady flood over 95 s with a 30 s cooldown fetches once per cooldown at most', async () => {
    const verifier = verifierFor(f);
    for (let second = 1; second <= 95; second += 1) {
      f.clock.advance(1_000);
      await Promise.allSettled(Array.from({ length: 20 }, () => verifier.verify(tokenWithKid(randomUUID()))));
    }
    // Refetches at 30, 60 and 90 s.
    expect(f.server.hits).toBe(4);
  });

  test('tokens with a known kid do not wait for a refetch caused by an unknown kid', async () => {
    const verifier = verifierFor(f);
    f.clock.advance(30_000);
    f.server.answer = 'slow';
    const unknown = verifier.verify(tokenWithKid('new-kid'));
    await f.server.waitForHits(2);
    const claims = await verifier.verify(await signAccessToken(f.key));
    expect(claims.walletAddress).toBeDefined();
    expect(f.server.held).toBe(1); // the refetch is still unanswered
    f.server.release();
    await expect(unknown).rejects.toMatchObject({ reason: 'key_not_found' });
  });

  test('when the refetch fails, an unknown kid is a 401 (keys exist), and known kids keep working', async () => {
    f.clock.advance(30_000);
    f.server.answer = 'error';
    await expect(f.set.getKeys('ES256', 'unknown')).rejects.toMatchObject({ status: 401, reason: 'key_not_found' });
    await expectKeys(f.set.getKeys('ES256', f.key.kid), f.key.jwk);
    expect(f.server.hits).toBe(2);
  });
});

describe('hasKid answers synchronously', () => {
  test('true for a cached kid, false for an unknown kid while fresh and within the cooldown', () => {
    expect(f.set.hasKid(f.key.kid)).toBe(true);
    expect(f.set.hasKid('unknown')).toBe(false);
  });

  test('undefined before the first fetch', async () => {
    const fresh = await keySetFixture();
    try {
      expect(fresh.set.hasKid(fresh.key.kid)).toBeUndefined();
    } finally {
      await fresh.server.close();
    }
  });

  test('undefined once the cooldown has passed (a fetch might know the kid)', () => {
    f.clock.advance(30_000);
    expect(f.set.hasKid('unknown')).toBeUndefined();
    expect(f.set.hasKid(f.key.kid)).toBe(true);
  });

  test('undefined while a fetch is in flight', async () => {
    f.clock.advance(30_000);
    f.server.answer = 'slow';
    const pending = f.set.getKeys('ES256', 'new-kid').catch(() => undefined);
    await f.server.waitForHits(2);
    f.clock.advance(1); // still inside the new cooldown
    expect(f.set.hasKid('other')).toBeUndefined();
    f.server.release();
    await pending;
    expect(f.set.hasKid('other')).toBe(false);
  });

  test('undefined for a token without kid (the algorithm decides)', () => {
    expect(f.set.hasKid(undefined)).toBeUndefined();
  });

  test('the verifier rejects an unknown kid with 401 key_not_found during the cooldown', async () => {
    await expect(verifierFor(f).verify(tokenWithKid('unknown'))).rejects.toMatchObject({
      status: 401,
      reason: 'key_not_found',
    });
    expect(f.server.hits).toBe(1);
  });
});
