import { resolveOptions } from '../../lib/http/options';
import { TokenVerifier } from '../../lib/token/verify';
import { AUDIENCE, ISSUER } from '../helpers/fixtures';
import { makeSigningKey, signAccessToken, type SigningKey } from '../helpers/jwks-server';
import { keySetFixture, xOf, type Fixture } from '../helpers/key-set';

let f: Fixture;
let next: SigningKey;
let verifier: TokenVerifier;
beforeEach(async () => {
  f = await keySetFixture();
  next = await makeSigningKey('key-2');
  verifier = new TokenVerifier(
    resolveOptions({ audience: AUDIENCE, issuer: ISSUER, jwksUri: f.server.uri, cache: false }),
    f.set,
  );
  await verifier.verify(await signAccessToken(f.key));
});
afterEach(() => f.server.close());

describe('a new key is picked up by the first token that uses it', () => {
  test('after the cooldown, the first token with the new kid verifies, at the cost of one fetch', async () => {
    f.clock.advance(30_000);
    f.server.keys = [f.key.jwk, next.jwk];
    await expect(verifier.verify(await signAccessToken(next))).resolves.toMatchObject({ aud: AUDIENCE });
    expect(f.server.hits).toBe(2);
    await expect(verifier.verify(await signAccessToken(next))).resolves.toMatchObject({ iss: ISSUER });
    expect(f.server.hits).toBe(2);
  });

  test('within the cooldown the new kid is a 401; once the cooldown has passed it verifies', async () => {
    f.clock.advance(10_000);
    f.server.keys = [f.key.jwk, next.jwk];
    const token = await signAccessToken(next);
    await expect(verifier.verify(token)).rejects.toMatchObject({ status: 401, reason: 'key_not_found' });
    f.clock.advance(20_000);
    await expect(verifier.verify(token)).resolves.toMatchObject({ iss: ISSUER });
    expect(f.server.hits).toBe(2);
  });

  test('the old key keeps verifying while both are published', async () => {
    f.clock.advance(30_000);
    f.server.keys = [f.key.jwk, next.jwk];
    await verifier.verify(await signAccessToken(next));
    await expect(verifier.verify(await signAccessToken(f.key))).resolves.toMatchObject({ iss: ISSUER });
  });
});

describe('a removed key stops verifying once the set is refreshed', () => {
  test('by the refresh ahead of expiry, which the first use after 80 % of the freshness starts', async () => {
    f.server.keys = [next.jwk];
    const old = await signAccessToken(f.key);
    f.clock.advance(479_999);
    await expect(verifier.verify(old)).resolves.toMatchObject({ iss: ISSUER });
    f.clock.advance(1);
    // This request is answered from the set it started refreshing, without waiting.
    await expect(verifier.verify(old)).resolves.toMatchObject({ iss: ISSUER });
    await f.set.idle();
    expect(f.server.hits).toBe(2);
    await expect(verifier.verify(old)).rejects.toMatchObject({ status: 401, reason: 'key_not_found' });
    await expect(verifier.verify(await signAccessToken(next))).resolves.toMatchObject({ iss: ISSUER });
  });

  test('by a refetch for a new kid: the set is replaced whole, never merged', async () => {
    f.clock.advance(30_000);
    f.server.keys = [next.jwk];
    await expect(verifier.verify(await signAccessToken(next))).resolves.toMatchObject({ iss: ISSUER });
    await expect(verifier.verify(await signAccessToken(f.key))).rejects.toMatchObject({ reason: 'key_not_found' });
  });

  test('a key replaced under the same kid verifies with the new material after the refresh', async () => {
    const replacement = await makeSigningKey(f.key.kid);
    f.server.keys = [replacement.jwk];
    f.clock.advance(480_000);
    await f.set.getKeys('ES256', f.key.kid);
    await f.set.idle();
    expect(await xOf(await f.set.getKeys('ES256', f.key.kid))).toBe(replacement.jwk.x);
    await expect(verifier.verify(await signAccessToken(f.key))).rejects.toMatchObject({ reason: 'signature_invalid' });
  });
});

describe('a cached token stops with its key', () => {
  test('a process serving only cached tokens still refreshes the set, and stops the removed key’s tokens', async () => {
    const cached = new TokenVerifier(
      resolveOptions({ audience: AUDIENCE, issuer: ISSUER, jwksUri: f.server.uri }),
      f.set,
    );
    const old = await signAccessToken(f.key);
    await cached.verify(old);
    expect(cached.verifyCached(old)).toMatchObject({ iss: ISSUER });
    f.server.keys = [next.jwk];
    f.clock.advance(480_000);
    // A cache hit is a use of the key: it starts the refresh and is answered without waiting.
    expect(cached.verifyCached(old)).toMatchObject({ iss: ISSUER });
    await f.set.idle();
    expect(f.server.hits).toBe(2);
    expect(cached.verifyCached(old)).toBeUndefined();
    await expect(cached.verify(old)).rejects.toMatchObject({ status: 401, reason: 'key_not_found' });
  });
});
