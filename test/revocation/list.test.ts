/**
 * The revocation list's behaviour, one suite run against every store: the memory store and the
 * Redis store on a real redis-server. Real issuer, real keys, real Express apps.
 */
import { createRevocationList, memoryRevocationStore, type RevocationList, type RevocationStore } from '../../lib';
import { redisRevocationStore } from '../../lib/redis';
import { createTestIssuer, type TestIssuer } from '../../lib/testing';
import { startRedisServer, type RedisServer } from '../helpers/redis-server';
import { AUDIENCE, encodeSegment, OTHER_WALLET, payloadOf } from '../helpers/fixtures';
import { logout, me, revocationApp, revokeRaw, twinOf } from '../helpers/revocation';

interface StoreKit {
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  /** A fresh, empty store and a way to count the revocations it holds. */
  create(): { store: RevocationStore; entries(): Promise<number> };
}

const memoryKit = (): StoreKit => ({
  setUp: async () => {},
  tearDown: async () => {},
  create() {
    const store = memoryRevocationStore();
    return { store, entries: async () => store.size };
  },
});

const redisKit = (): StoreKit => {
  let server: RedisServer;
  let stores = 0;
  return {
    setUp: async () => {
      server = await startRedisServer();
    },
    tearDown: () => server.close(),
    create() {
      const keyPrefix = `suite-${++stores}:`;
      const store = redisRevocationStore({ url: server.url, keyPrefix });
      const entries = async () => {
        const keys = await server.cli('--scan', '--pattern', `${keyPrefix}*`);
        return keys.split('\n').filter(Boolean).length;
      };
      return { store, entries };
    },
  };
};

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer({ audience: AUDIENCE });
});
afterAll(() => issuer.close());

describe.each([
  ['memory', memoryKit()],
  ['redis', redisKit()],
])('revocation list on the %s store', (_name, kit) => {
  let lists: RevocationList[] = [];
  beforeAll(() => kit.setUp());
  afterAll(() => kit.tearDown());
  afterEach(async () => {
    await Promise.all(lists.map((list) => list.close()));
    lists = [];
  });

  async function setUp(options: { clockTolerance?: number } = {}) {
    const { store, entries } = kit.create();
    await (store as { ready?: Promise<void> }).ready;
    const list = createRevocationList({ store, ...options });
    lists.push(list);
    return { list, entries, app: revocationApp(issuer, list, options) };
  }

  describe('logout', () => {
    test('a logged-out token is refused with 401 token_revoked, though it was verified before', async () => {
      const { app } = await setUp();
      const token = await issuer.sign({ walletAddress: OTHER_WALLET });
      expect((await me(app, token)).status).toBe(200);
      expect((await logout(app, token)).status).toBe(204);
      const res = await me(app, token);
      expect(res.status).toBe(401);
      expect(res.body.reason).toBe('token_revoked');
      expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    });

    test("the wallet's other tokens still pass", async () => {
      const { app } = await setUp();
      const first = await issuer.sign({ walletAddress: OTHER_WALLET });
      const second = await issuer.sign({ walletAddress: OTHER_WALLET });
      await logout(app, first).expect(204);
      expect((await me(app, second)).status).toBe(200);
      expect((await me(app, first)).status).toBe(401);
    });

    test('a raw token string can be revoked (an admin revoking a leaked token)', async () => {
      const { app } = await setUp();
      const token = await issuer.sign({ walletAddress: OTHER_WALLET });
      await revokeRaw(app, token).expect(204);
      expect((await me(app, token)).body.reason).toBe('token_revoked');
    });

    test('a token is revoked until it expires, whichever way it was revoked: one entry per token', async () => {
      const { app, list, entries } = await setUp();
      const token = await issuer.sign({ walletAddress: OTHER_WALLET });
      await logout(app, token).expect(204);
      await list.revoke(token);
      await list.revoke(twinOf(token));
      expect(await entries()).toBe(1);
    });
  });

  describe('one token, several spellings: the identity is the token, never its string', () => {
    test('revoking a token refuses its high-S twin, never seen before', async () => {
      const { app } = await setUp();
      const token = await issuer.sign({ walletAddress: OTHER_WALLET });
      const twin = twinOf(token);
      expect(twin).not.toBe(token);
      await logout(app, token).expect(204);
      const res = await me(app, twin);
      expect(res.status).toBe(401);
      expect(res.body.reason).toBe('token_revoked');
    });

    test('logging out with the twin refuses the original, though the original was cached as good', async () => {
      const { app } = await setUp();
      const token = await issuer.sign({ walletAddress: OTHER_WALLET });
      expect((await me(app, token)).status).toBe(200);
      await logout(app, twinOf(token)).expect(204);
      expect((await me(app, token)).body.reason).toBe('token_revoked');
    });

    test('without tid, a token is known by its signing input: both spellings are refused, not the next token', async () => {
      const { app, list } = await setUp();
      const token = await issuer.sign({ walletAddress: OTHER_WALLET, tid: undefined });
      // Another login of the wallet: another iat, so another signing input.
      const next = await issuer.sign({
        walletAddress: OTHER_WALLET,
        tid: undefined,
        iat: (payloadOf(token).iat as number) - 1,
      });
      expect(payloadOf(token).tid).toBeUndefined();
      expect((await me(app, twinOf(token))).status).toBe(200);
      await logout(app, token).expect(204);
      expect((await me(app, token)).body.reason).toBe('token_revoked');
      expect((await me(app, twinOf(token))).body.reason).toBe('token_revoked');
      expect((await me(app, next)).status).toBe(200);
      // The raw twin names the same token as the verified claims did.
      await list.revoke(twinOf(next));
      expect((await me(app, next)).body.reason).toBe('token_revoked');
    });
  });

  describe('entries live as long as the token', () => {
    test('an entry leaves the store once its token has expired', async () => {
      const { list, entries } = await setUp({ clockTolerance: 0 });
      const token = await issuer.sign({ walletAddress: OTHER_WALLET }, { expiresIn: 1 });
      await list.revoke(token);
      expect(await entries()).toBe(1);
      const expiredAt = (payloadOf(token).exp as number) * 1000;
      while (Date.now() < expiredAt + 50) await new Promise((resolve) => setTimeout(resolve, 50));
      let left = await entries();
      for (let polls = 0; left > 0 && polls < 40; polls++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        left = await entries();
      }
      expect(left).toBe(0);
    });

    test('revoking an expired token stores nothing', async () => {
      const { list, entries } = await setUp();
      await list.revoke(await issuer.sign({ walletAddress: OTHER_WALLET }, { expiresIn: -60 }));
      expect(await entries()).toBe(0);
    });
  });

  describe('revoke refuses a string the gate would refuse, with its reason', () => {
    const header = encodeSegment({ alg: 'ES256' });
    // A signature of the right length, so the checks reach the payload.
    const signature = 'Q'.repeat(86);
    test.each<[string, string, () => Promise<string> | string]>([
      ['an empty string', 'token_malformed', () => ''],
      ['two segments', 'token_malformed', () => `${header}.${encodeSegment({ exp: 2e9 })}`],
      ['padding in a segment', 'token_malformed', () => `${header}.${encodeSegment({ exp: 2e9 })}=.${signature}`],
      ['a payload that is not JSON', 'token_malformed', () => `${header}.bm90IGpzb24.${signature}`],
      ['a payload that is an array', 'token_malformed', () => `${header}.${encodeSegment([1])}.${signature}`],
      ['a signed token without exp', 'claim_invalid', () => issuer.sign({ exp: undefined })],
      ['a signed token whose tid is a number', 'claim_invalid', () => issuer.sign({ tid: 7 as never })],
      ['9000 characters', 'token_too_large', () => 'a'.repeat(9000)],
    ])('%s is refused (%s), and nothing is stored', async (_what, reason, token) => {
      const { list, entries } = await setUp();
      await expect(list.revoke(await token())).rejects.toMatchObject({ status: 401, reason });
      expect(await entries()).toBe(0);
    });

    test('over HTTP the error is a 401 with its reason, never a crash', async () => {
      const { app } = await setUp();
      const res = await revokeRaw(app, 'garbage');
      expect(res.status).toBe(401);
      expect(res.body.reason).toBe('token_malformed');
    });

    test.each([[null], [42], [{ walletAddress: OTHER_WALLET }], [{ exp: 2e9 }], [{ tid: 'x', exp: 2e9 }]])(
      'claims that are not verified claims (%p) are refused with a TypeError',
      async (value) => {
        const { list } = await setUp();
        await expect(list.revoke(value as never)).rejects.toThrow(TypeError);
      },
    );
  });
});
