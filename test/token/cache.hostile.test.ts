/**
 * Invalid tokens cannot displace good entries, are answered with a cheap rejection where the
 * token itself shows it is bad, and cannot make the gate hammer the issuer's key set.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createTestIssuer } from '../../lib/testing';
import { AUDIENCE, decodeSegment, encodeSegment, OTHER_AUDIENCE } from '../helpers/fixtures';
import { crowdKeySet, type Fixture, get, setUp } from '../helpers/cache';

let fx: Fixture;
afterEach(() => fx?.issuer.close());

/** Invalid tokens of every kind, each distinct. */
async function flood(count: number): Promise<string[]> {
  const now = Math.floor(Date.now() / 1000);
  const valid = await fx.sign();
  const [header, payload] = valid.split('.');
  const other = await createTestIssuer({ audience: OTHER_AUDIENCE });
  const tokens: string[] = [];
  try {
    for (let i = 0; i < count; i++) {
      switch (i % 8) {
        case 0: // random junk in three segments
          tokens.push(
            `${randomBytes(20).toString('base64url')}.${randomBytes(60).toString('base64url')}.${randomBytes(64).toString('base64url')}`,
          );
          break;
        case 1: // a published kid, a signature that is not the issuer's
          tokens.push(
            `${header}.${encodeSegment({ ...decodeSegment(payload!), tid: randomUUID() })}.${randomBytes(64).toString('base64url')}`,
          );
          break;
        case 2: // a kid the issuer never published
          tokens.push(await fx.sign({}, { kid: randomUUID() }));
          break;
        case 3: // signed by the issuer, expired
          tokens.push(await fx.sign({ exp: now - 3600, iat: now - 7200 }));
          break;
        case 4: // signed by the issuer, for another audience
          tokens.push(await fx.sign({ aud: OTHER_AUDIENCE }));
          break;
        case 5: // another issuer's key
          tokens.push(await other.sign({ aud: AUDIENCE }));
          break;
        case 6: // an algorithm the gate does not accept
          tokens.push(
            `${encodeSegment({ alg: 'HS256', typ: 'JWT' })}.${payload}.${randomBytes(32).toString('base64url')}`,
          );
          break;
        default: // oversized
          tokens.push(`${header}.${'A'.repeat(9000)}.${randomBytes(64).toString('base64url')}`);
      }
    }
  } finally {
    await other.close();
  }
  return tokens;
}

describe('a flood of invalid tokens leaves good entries in place', () => {
  test('four cached tokens survive 160 invalid ones in a cache of four', async () => {
    fx = await setUp({ cache: { maxEntries: 4 } });
    const good = [await fx.sign(), await fx.sign(), await fx.sign(), await fx.sign()];
    for (const token of good) expect((await get(fx.app, token)).status).toBe(200);
    for (const token of await flood(160)) expect((await get(fx.app, token)).status).toBe(401);
    await crowdKeySet(fx.issuer);
    for (const token of good) expect((await get(fx.app, token)).status).toBe(200);
  });
});

describe('tokens that show they are bad are rejected before any key or signature work', () => {
  test.each([
    { name: 'garbage', reason: 'token_malformed', make: () => 'not-a-jwt' },
    { name: 'an oversized token', reason: 'token_too_large', make: () => `${'A'.repeat(9000)}.e30.AAAA` },
    {
      name: 'a disallowed algorithm',
      reason: 'algorithm_not_allowed',
      make: () =>
        `${encodeSegment({ alg: 'HS256' })}.${encodeSegment({ iss: 'x' })}.${randomBytes(32).toString('base64url')}`,
    },
    {
      name: 'a signature of the wrong length',
      reason: 'signature_invalid',
      make: () =>
        `${encodeSegment({ alg: 'ES256' })}.${encodeSegment({ iss: 'x' })}.${randomBytes(40).toString('base64url')}`,
    },
  ])('$name gets 401 $reason without the key set being fetched', async ({ make, reason }) => {
    fx = await setUp();
    const res = await get(fx.app, make());
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe(reason);
    expect(fx.issuer.jwksHits).toBe(0);
  });
});

describe('unknown kids cannot make the gate hammer the key set', () => {
  test('forty unknown kids within one cooldown cause at most one refetch', async () => {
    fx = await setUp({ jwks: { cooldownMs: 60_000 } });
    expect((await get(fx.app, await fx.sign())).status).toBe(200);
    expect(fx.issuer.jwksHits).toBe(1);
    for (let i = 0; i < 40; i++) {
      const res = await get(fx.app, await fx.sign({}, { kid: randomUUID() }));
      expect(res.status).toBe(401);
      expect(res.body.reason).toBe('key_not_found');
    }
    expect(fx.issuer.jwksHits).toBeLessThanOrEqual(2);
  });
});

describe('a kid the key set knows to be absent is refused before the payload is read', () => {
  test('an unknown kid over an unreadable payload is key_not_found, not token_malformed', async () => {
    fx = await setUp({ jwks: { cooldownMs: 60_000 } });
    const valid = await fx.sign();
    expect((await get(fx.app, valid)).status).toBe(200);
    const header = encodeSegment({ alg: 'ES256', typ: 'JWT', kid: randomUUID() });
    const unreadable = Buffer.from('not json at all').toString('base64url');
    const res = await get(fx.app, `${header}.${unreadable}.${valid.split('.')[2]}`);
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('key_not_found');
    expect(fx.issuer.jwksHits).toBe(1);
  });
});
