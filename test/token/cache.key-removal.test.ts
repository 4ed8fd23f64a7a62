/**
 * A cached token stops with its key: when the issuer removes a key (a leak), every token it signed
 * is refused from the next refresh of the key set on, whether the gate has seen the token or not.
 */
import { crowdKeySet, type Fixture, get, retireSigningKey, setUp } from '../helpers/cache';

let fx: Fixture;
afterEach(() => fx?.issuer.close());

describe('a cached token is refused once its key has left the key set', () => {
  test('a token verified before the key was removed is refused with key_not_found after the refetch', async () => {
    fx = await setUp();
    const token = await fx.issuer.sign();
    expect((await get(fx.app, token)).status).toBe(200);
    await retireSigningKey(fx.issuer);
    const res = await get(fx.app, token);
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('key_not_found');
  });

  test('the same holds for a kid-less token, on every route of the gate', async () => {
    fx = await setUp();
    const token = await fx.sign();
    expect((await get(fx.app, token)).status).toBe(200);
    await retireSigningKey(fx.issuer);
    for (const path of ['/me', '/nft', '/feed']) expect((await get(fx.app, token, path)).status).toBe(401);
    // Verified again, against the one key left: not the one that signed it.
    await expect(fx.gate.verify(token)).rejects.toMatchObject({ status: 401, reason: 'signature_invalid' });
  });

  test('tokens of a key that stays keep being recognised across refreshes', async () => {
    fx = await setUp();
    const token = await fx.sign();
    expect((await get(fx.app, token)).status).toBe(200);
    // The set is refetched, the signing key stays among keys a kid-less token could not be verified with.
    await crowdKeySet(fx.issuer);
    expect((await get(fx.app, token)).status).toBe(200);
  });
});
