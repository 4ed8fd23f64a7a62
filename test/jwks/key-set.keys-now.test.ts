/**
 * `keysNow`: the keys `getKeys` would resolve to, handed back synchronously when the cached set
 * can answer, so a new token's key lookup needs no Promise. The risk is a shortcut that answers
 * differently from `getKeys` (another kid's key, a key past its usable life, keys before any were
 * loaded). A decision table on a manual clock compares the two on the same set.
 */
import { generateKeyPair, exportJWK } from 'jose';
import { StaticKeySet } from '../../lib/jwks/static';
import { expectKeys, type Fixture, keySetFixture } from '../helpers/key-set';

let f: Fixture;
beforeEach(async () => {
  f = await keySetFixture({ maxAgeMs: 60_000, staleIfErrorMs: 60_000 }, 'max-age=60');
});
afterEach(() => f.server.close());

describe('keysNow on a fetched key set', () => {
  test('answers nothing before the first fetch, and starts none', () => {
    expect(f.set.keysNow('ES256', f.key.kid)).toBeUndefined();
    expect(f.server.hits).toBe(0);
  });

  test("once loaded, hands back the kid's key (the one getKeys resolves to), nothing for another kid or alg", async () => {
    await f.set.getKeys('ES256', f.key.kid);
    const now = f.set.keysNow('ES256', f.key.kid);
    await expectKeys(Promise.resolve(now ?? []), f.key.jwk);
    expect(now).toEqual(await f.set.getKeys('ES256', f.key.kid));
    expect(f.set.keysNow('ES256', 'another-kid')).toBeUndefined();
    expect(f.set.keysNow('ES384', f.key.kid)).toBeUndefined();
    expect(f.server.hits).toBe(1);
  });

  test('answers while the set is usable (stale included) and nothing once it is not', async () => {
    await f.set.getKeys('ES256', f.key.kid);
    f.server.answer = 'error';
    f.clock.advance(90_000); // past max-age, within stale-if-error
    expect(f.set.keysNow('ES256', f.key.kid)).toHaveLength(1);
    await f.set.idle();
    f.clock.advance(40_000); // past stale-if-error
    expect(f.set.keysNow('ES256', f.key.kid)).toBeUndefined();
  });
});

describe('keysNow on a static key set', () => {
  test("answers nothing until the keys are imported, then the kid's key", async () => {
    const { publicKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'static-1', alg: 'ES256', use: 'sig' };
    const set = new StaticKeySet({ keys: [jwk] });
    expect(set.keysNow('ES256', 'static-1')).toBeUndefined();
    await expectKeys(set.getKeys('ES256', 'static-1'), jwk);
    await expectKeys(Promise.resolve(set.keysNow('ES256', 'static-1') ?? []), jwk);
    expect(set.keysNow('ES256', 'static-2')).toBeUndefined();
  });
});
