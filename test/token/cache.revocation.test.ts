/** Revocation is asked on every hit, whether `isRevoked` answers synchronously or not. */
import type { AccessTokenClaims } from '../../lib';
import { crowdKeySet, type Fixture, get, setUp } from '../helpers/cache';
import { payloadOf } from '../helpers/fixtures';

let fx: Fixture;
afterEach(() => fx?.issuer.close());

function revocationList() {
  const revoked = new Set<string>();
  const asked: string[] = [];
  return {
    revoked,
    asked,
    sync: (claims: AccessTokenClaims) => {
      asked.push(claims.tid!);
      return revoked.has(claims.tid!);
    },
    async: async (claims: AccessTokenClaims) => {
      asked.push(claims.tid!);
      await new Promise((resolve) => setImmediate(resolve));
      return revoked.has(claims.tid!);
    },
  };
}

function tidOf(token: string): string {
  return payloadOf(token).tid as string;
}

describe.each(['sync', 'async'] as const)('a token revoked while cached is rejected (%s isRevoked)', (kind) => {
  test('the next request after revocation gets 401 token_revoked', async () => {
    const list = revocationList();
    fx = await setUp({ isRevoked: list[kind] });
    const token = await fx.sign();
    expect((await get(fx.app, token)).status).toBe(200);
    list.revoked.add(tidOf(token));
    const res = await get(fx.app, token);
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('token_revoked');
  });

  test('isRevoked is asked on every request, cache hit or not', async () => {
    const list = revocationList();
    fx = await setUp({ isRevoked: list[kind] });
    const token = await fx.sign();
    for (let i = 0; i < 3; i++) expect((await get(fx.app, token)).status).toBe(200);
    expect(list.asked).toEqual([tidOf(token), tidOf(token), tidOf(token)]);
  });

  test('a cached token that isRevoked clears again is served from the cache', async () => {
    const list = revocationList();
    fx = await setUp({ isRevoked: list[kind] });
    const token = await fx.sign();
    expect((await get(fx.app, token)).status).toBe(200);
    list.revoked.add(tidOf(token));
    expect((await get(fx.app, token)).status).toBe(401);
    list.revoked.delete(tidOf(token));
    await crowdKeySet(fx.issuer);
    expect((await get(fx.app, token)).status).toBe(200);
  });
});

describe('a token revoked on first sight is never cached as good', () => {
  test('once isRevoked clears, the token is verified again', async () => {
    const list = revocationList();
    fx = await setUp({ isRevoked: list.sync });
    const token = await fx.sign();
    list.revoked.add(tidOf(token));
    expect((await get(fx.app, token)).body.reason).toBe('token_revoked');
    list.revoked.delete(tidOf(token));
    await crowdKeySet(fx.issuer);
    expect((await get(fx.app, token)).body.reason).toBe('key_not_found');
  });
});

describe('a failing revocation store fails closed on a cache hit', () => {
  test.each(['throws', 'rejects'] as const)(
    'isRevoked that %s answers with the error, never lets the request through',
    async (how) => {
      let broken = false;
      fx = await setUp({
        isRevoked: (() => {
          if (!broken) return false;
          if (how === 'throws') throw new Error('revocation store down');
          return Promise.reject(new Error('revocation store down'));
        }) as () => boolean,
      });
      const token = await fx.sign();
      expect((await get(fx.app, token)).status).toBe(200);
      broken = true;
      const res = await get(fx.app, token);
      expect(res.status).toBe(500);
    },
  );
});
