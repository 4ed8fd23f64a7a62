/**
 * The Redis store against a real redis-server on a free loopback port: how long entries live,
 * how revocations reach other instances (pub/sub, and without it), what a hung or stopped Redis
 * does to requests, and its options. The two-process behaviour is in instances.test.ts.
 */
import { createClient } from 'redis';
import { OptionsError, createRevocationList, type RevocationList } from '../../lib';
import { redisRevocationStore, type RedisClientLike } from '../../lib/redis';
import { createTestIssuer, type TestIssuer } from '../../lib/testing';
import { startRedisServer, type RedisServer } from '../helpers/redis-server';
import { AUDIENCE, payloadOf } from '../helpers/fixtures';
import { logout, me, revocationApp, revocationIdOf } from '../helpers/revocation';

let server: RedisServer;
let issuer: TestIssuer;
let lists: RevocationList[] = [];
let prefixes = 0;

beforeAll(async () => {
  [server, issuer] = await Promise.all([startRedisServer(), createTestIssuer({ audience: AUDIENCE })]);
});
afterAll(async () => {
  await Promise.all([server.close(), issuer.close()]);
});
afterEach(async () => {
  await Promise.all(lists.map((list) => list.close()));
  lists = [];
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One "instance": a list on its own Redis store (its own connections), and an app gated by it. */
async function instance(options: {
  keyPrefix: string;
  cacheMs?: number;
  timeoutMs?: number;
  onStoreError?: 'deny' | 'allow';
}) {
  const { onStoreError, ...storeOptions } = options;
  const store = redisRevocationStore({ url: server.url, logger: false, ...storeOptions });
  await store.ready;
  const list = createRevocationList({ store, onStoreError, onRevocationEvent: () => {} });
  lists.push(list);
  return { store, list, app: revocationApp(issuer, list) };
}

const newPrefix = () => `redis-test-${++prefixes}:`;

/** Polls `check` until it is true, at most `limitMs`; returns whether it became true. */
async function eventually(check: () => Promise<boolean>, limitMs = 5000): Promise<boolean> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await sleep(25);
  }
  return check();
}

describe('entries carry the token’s expiry as their TTL', () => {
  test('the key of a revoked token expires when the token does (exp plus the clock tolerance)', async () => {
    const keyPrefix = newPrefix();
    const { app } = await instance({ keyPrefix });
    const token = await issuer.sign();
    await logout(app, token).expect(204);
    const { exp } = payloadOf(token) as { exp: number };
    const pttl = Number(await server.cli('PTTL', `${keyPrefix}${revocationIdOf(token)}`));
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual((exp + 5) * 1000 - Date.now() + 1000);
  });

  test('a token string claiming a far expiry is refused as the gate refuses it, and writes no key', async () => {
    const keyPrefix = newPrefix();
    const { list } = await instance({ keyPrefix });
    const tenYears = Math.floor(Date.now() / 1000) + 10 * 365 * 86400;
    const token = await issuer.sign({ exp: tenYears });
    await expect(list.revoke(token)).rejects.toMatchObject({ reason: 'token_lifetime_exceeded' });
    expect(await server.cli('EXISTS', `${keyPrefix}${revocationIdOf(token)}`)).toBe('0');
  });
});

describe('revocations reach other instances', () => {
  test('by pub/sub: an instance that cached "not revoked" for a minute refuses the token at once', async () => {
    const keyPrefix = newPrefix();
    const a = await instance({ keyPrefix });
    const b = await instance({ keyPrefix, cacheMs: 60_000 });
    const token = await issuer.sign();
    expect((await me(b.app, token)).status).toBe(200);
    await logout(a.app, token).expect(204);
    expect(await eventually(async () => (await me(b.app, token)).status === 401, 1000)).toBe(true);
  });

  test('without the message (a revocation written straight into Redis), within cacheMs', async () => {
    const keyPrefix = newPrefix();
    const b = await instance({ keyPrefix, cacheMs: 200 });
    const token = await issuer.sign();
    expect((await me(b.app, token)).status).toBe(200);
    const { exp } = payloadOf(token) as { exp: number };
    await server.cli('SET', `${keyPrefix}${revocationIdOf(token)}`, '1', 'PXAT', String(exp * 1000));
    expect(await eventually(async () => (await me(b.app, token)).body.reason === 'token_revoked', 2000)).toBe(true);
  });

  test('an instance started after the revocation refuses the token', async () => {
    const keyPrefix = newPrefix();
    const a = await instance({ keyPrefix });
    const token = await issuer.sign();
    await logout(a.app, token).expect(204);
    const later = await instance({ keyPrefix });
    expect((await me(later.app, token)).body.reason).toBe('token_revoked');
  });

  test('lists with another keyPrefix are another list', async () => {
    const a = await instance({ keyPrefix: newPrefix() });
    const b = await instance({ keyPrefix: newPrefix() });
    const token = await issuer.sign();
    await logout(a.app, token).expect(204);
    expect((await me(b.app, token)).status).toBe(200);
  });
});

describe('commands per check', () => {
  test('a token seen again within cacheMs costs no command; concurrent checks of one token share one', async () => {
    const keyPrefix = newPrefix();
    const { app } = await instance({ keyPrefix, cacheMs: 60_000 });
    const token = await issuer.sign();
    await server.cli('CONFIG', 'RESETSTAT');
    await Promise.all(Array.from({ length: 10 }, () => me(app, token).expect(200)));
    for (let i = 0; i < 10; i++) await me(app, token).expect(200);
    expect((await server.commandCounts()).exists).toBe(1);
  });
});

describe('a Redis that hangs (SIGSTOP)', () => {
  afterEach(() => server.resume());

  test.each([
    ['deny', 503],
    ['allow', 200],
  ] as const)("answers with the policy ('%s' → %i) instead of hanging, then recovers", async (onStoreError, status) => {
    const keyPrefix = newPrefix();
    const { app } = await instance({ keyPrefix, timeoutMs: 200, cacheMs: 0, onStoreError });
    const revoked = await issuer.sign();
    const fresh = await issuer.sign();
    await logout(app, revoked).expect(204);
    server.pause();
    const res = await me(app, fresh);
    expect(res.status).toBe(status);
    if (status === 503) expect(res.body.reason).toBe('revocation_unavailable');
    // A revocation this instance knows about holds during the outage, whatever the policy.
    expect((await me(app, revoked)).body.reason).toBe('token_revoked');
    server.resume();
    expect(await eventually(async () => (await me(app, fresh)).status === 200)).toBe(true);
  });
});

describe('a Redis that is stopped and comes back with its data', () => {
  test('requests get the policy while it is down; after, checks resume and earlier revocations hold, on a new instance too', async () => {
    const keyPrefix = newPrefix();
    const a = await instance({ keyPrefix, cacheMs: 0 });
    const revoked = await issuer.sign();
    const fresh = await issuer.sign();
    await logout(a.app, revoked).expect(204);
    await server.stop({ save: true });
    try {
      const res = await me(a.app, fresh);
      expect(res.status).toBe(503);
      expect(res.body.reason).toBe('revocation_unavailable');
      await expect(a.list.revoke(fresh)).rejects.toMatchObject({ status: 503, reason: 'revocation_unavailable' });
    } finally {
      await server.start();
    }
    expect(await eventually(async () => (await me(a.app, fresh)).status === 200)).toBe(true);
    const b = await instance({ keyPrefix });
    expect((await me(b.app, revoked)).body.reason).toBe('token_revoked');
    expect((await me(b.app, fresh)).status).toBe(200);
  });
});

describe('a client of your own', () => {
  test('is used as it is and left open by close()', async () => {
    const client = createClient({ url: server.url });
    client.on('error', () => {});
    await client.connect();
    try {
      const keyPrefix = newPrefix();
      const store = redisRevocationStore({ client: client as unknown as RedisClientLike, keyPrefix });
      await store.ready;
      const list = createRevocationList({ store });
      const app = revocationApp(issuer, list);
      const token = await issuer.sign();
      await logout(app, token).expect(204);
      expect(await client.exists(`${keyPrefix}${revocationIdOf(token)}`)).toBe(1);
      expect((await me(app, token)).body.reason).toBe('token_revoked');
      await list.close();
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.destroy();
    }
  });
});

describe('options are checked at startup', () => {
  test.each<[string, Record<string, unknown>]>([
    ['url', {}],
    ['url', { url: 'redis://127.0.0.1', client: {} }],
    ['url', { url: 'http://127.0.0.1:6379' }],
    ['url', { url: 'not a url' }],
    ['client', { client: { get: () => 1 } }],
    ['keyPrefix', { url: 'redis://127.0.0.1', keyPrefix: 'x'.repeat(101) }],
    ['timeoutMs', { url: 'redis://127.0.0.1', timeoutMs: 0 }],
    ['cacheMs', { url: 'redis://127.0.0.1', cacheMs: -1 }],
    ['cacheMs', { url: 'redis://127.0.0.1', cacheMs: 1.5 }],
    ['tls', { url: 'redis://127.0.0.1', tls: true }],
  ])('a bad %s throws an OptionsError naming it', (name, options) => {
    expect(() => redisRevocationStore(options as never)).toThrow(OptionsError);
    expect(() => redisRevocationStore(options as never)).toThrow(`"${name}"`);
  });

  test.each<[string, unknown]>([
    ['a string', 'console'],
    ['true', true],
    ['an object without warn', { log: () => {} }],
  ])('a logger that is %s throws an OptionsError saying what it takes', (_, logger) => {
    expect(() => redisRevocationStore({ url: 'redis://127.0.0.1', logger } as never)).toThrow(
      'must be false, a function or an object with a warn method',
    );
  });
});
