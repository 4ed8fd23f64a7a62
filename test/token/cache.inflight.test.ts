/**
 * Requests that arrive together with the same new token share one key lookup and signature check,
 * and the next one after it checks again (nothing is remembered once the check has ended).
 */
import { resolveOptions } from '../../lib/http/options';
import { keySetFor, type KeyResolver } from '../../lib/jwks/key-set';
import { TokenVerifier } from '../../lib/token/verify';
import { createTestIssuer, type TestIssuer } from '../../lib/testing';
import { AUDIENCE } from '../helpers/fixtures';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer({ audience: AUDIENCE });
});
afterAll(() => issuer.close());

/** The real shared key set, with a count of the lookups the verifier makes (one per check). */
function countingVerifier(): { verifier: TokenVerifier; lookups: () => number } {
  const options = resolveOptions({ ...issuer.options, cache: false }, {});
  const keys = keySetFor(options.jwksUri!, options.jwks);
  let lookups = 0;
  const counting: KeyResolver = {
    getKeys: (alg, kid) => ((lookups += 1), keys.getKeys(alg, kid)),
    hasKid: (kid) => keys.hasKid(kid),
  };
  return { verifier: new TokenVerifier(options, counting), lookups: () => lookups };
}

describe('concurrent verifications of one token', () => {
  test('twenty requests with the same new token make one check and all pass', async () => {
    const { verifier, lookups } = countingVerifier();
    const token = await issuer.sign();
    const results = await Promise.all(Array.from({ length: 20 }, () => verifier.verify(token)));
    expect(results.every((claims) => claims.aud === AUDIENCE)).toBe(true);
    expect(lookups()).toBe(1);
  });

  test('a shared check that fails fails every request that waited on it', async () => {
    const { verifier, lookups } = countingVerifier();
    const token = await issuer.sign({}, { unpublishedKey: true, kid: issuer.kid });
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => verifier.verify(token)));
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as { reason: string }).reason : 'passed'))).toEqual(
      Array(20).fill('signature_invalid'),
    );
    expect(lookups()).toBe(1);
  });

  test('once a check has ended, the same token (uncached) is checked again', async () => {
    const { verifier, lookups } = countingVerifier();
    const token = await issuer.sign();
    await verifier.verify(token);
    await verifier.verify(token);
    expect(lookups()).toBe(2);
  });
});
