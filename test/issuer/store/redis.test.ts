/**
 * The Redis issuer store against a real redis-server on a free loopback port: the shared port
 * suite on two instances (two connections) per store, then what only Redis has: its keys and their
 * lifetimes, a Redis that hangs, stops, restarts or holds garbage, a client of your own, its
 * options. Several processes on one Redis: redis.instances.test.ts.
 */
import { createClient } from 'redis';
import { IssuerStoreUnavailableError, OptionsError } from '../../../lib/errors';
import { redisIssuerStore, type RedisIssuerStore, type RedisIssuerStoreOptions } from '../../../lib/redis';
import type { IssuerStore } from '../../../lib/issuer/store/store';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server';
import { describeIssuerStore } from './port-suite';

let server: RedisServer;
let stores: IssuerStore[] = [];
let prefixes = 0;

beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server.close();
});
afterEach(async () => {
  await Promise.all(stores.map((store) => store.close()));
  stores = [];
});

const HOUR = 3_600_000;
const newPrefix = () => `issuer-test-${++prefixes}:`;

async function store(options: Partial<RedisIssuerStoreOptions> = {}): Promise<RedisIssuerStore> {
  // A generous deadline unless a test sets one: a loaded machine may stall a reply.
  const created = redisIssuerStore({ url: server.url, timeoutMs: 5000, ...options } as RedisIssuerStoreOptions);
  stores.push(created);
  await created.ready;
  return created;
}

/** The rejection of `work`, or undefined when it resolves. */
const rejectionOf = (work: Promise<unknown>) =>
  work.then(
    () => undefined,
    (error: unknown) => error,
  );

describeIssuerStore('redisIssuerStore', {
  async pair() {
    const keyPrefix = newPrefix();
    return [await store({ keyPrefix }), await store({ keyPrefix })];
  },
});

describe('keys in Redis, and how long they live', () => {
  test("a wallet's nonces are one hash that expires with its last nonce and leaves when emptied", async () => {
    const keyPrefix = newPrefix();
    const s = await store({ keyPrefix });
    await s.issueNonce('ethereum:0xabc', 'n1', {}, 60_000);
    await s.issueNonce('ethereum:0xabc', 'n2', {}, 120_000);
    const key = `${keyPrefix}nonces:ethereum:0xabc`;
    expect(await server.cli('HLEN', key)).toBe('2');
    const pttl = Number(await server.cli('PTTL', key));
    expect(pttl).toBeGreaterThan(60_000);
    expect(pttl).toBeLessThanOrEqual(120_000);
    await s.consumeNonce('ethereum:0xabc', 'n1');
    await s.consumeNonce('ethereum:0xabc', 'n2');
    expect(await server.cli('EXISTS', key)).toBe('0');
  });

  test('a session key expires at the session’s expiry, and an ended one at the later expiry', async () => {
    const keyPrefix = newPrefix();
    const s = await store({ keyPrefix });
    const expiresAt = Date.now() + HOUR;
    await s.createSession('sid', { wallet: 'w' }, expiresAt);
    const key = `${keyPrefix}session:sid`;
    expect(await server.cli('PEXPIRETIME', key)).toBe(String(expiresAt));
    await s.endSession('sid', expiresAt + HOUR);
    expect(await server.cli('PEXPIRETIME', key)).toBe(String(expiresAt + HOUR));
  });

  test("a counter expires when its window closes; a stranger's keys are their own", async () => {
    const keyPrefix = newPrefix();
    const s = await store({ keyPrefix });
    await s.hit('ip:127.0.0.1', 60_000);
    const pttl = Number(await server.cli('PTTL', `${keyPrefix}rate:ip:127.0.0.1`));
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(60_000);
  });

  test('stores with different prefixes share nothing', async () => {
    const [one, two] = [await store({ keyPrefix: newPrefix() }), await store({ keyPrefix: newPrefix() })];
    await one.issueNonce('w', 'n', {}, HOUR);
    expect(await two.consumeNonce('w', 'n')).toBeUndefined();
    expect(await one.consumeNonce('w', 'n')).toEqual({});
  });

  test('maxNoncesPerWallet sets how many a wallet holds', async () => {
    const s = await store({ keyPrefix: newPrefix(), maxNoncesPerWallet: 2 });
    for (const nonce of ['a', 'b', 'c']) await s.issueNonce('w', nonce, {}, HOUR);
    expect(await s.consumeNonce('w', 'a')).toBeUndefined();
    expect(await s.consumeNonce('w', 'b')).toEqual({});
    expect(await s.consumeNonce('w', 'c')).toEqual({});
  });
});

describe('garbage in Redis', () => {
  test('a malformed nonce entry is taken as no nonce, and removed', async () => {
    const keyPrefix = newPrefix();
    const s = await store({ keyPrefix });
    const key = `${keyPrefix}nonces:w`;
    await server.cli('HSET', key, 'junk', 'not a nonce entry', 'late', `1 ${Date.now() + HOUR} {"ok":true}`);
    expect(await s.consumeNonce('w', 'junk')).toBeUndefined();
    expect(await server.cli('HEXISTS', key, 'junk')).toBe('0');
    expect(await s.consumeNonce('w', 'late')).toEqual({ ok: true });
  });

  test('a malformed session or record is a 503, never a made-up session', async () => {
    const keyPrefix = newPrefix();
    const s = await store({ keyPrefix });
    await server.cli('HSET', `${keyPrefix}session:a`, 'record', '{not json', 'expiresAt', String(Date.now() + HOUR));
    await server.cli('HSET', `${keyPrefix}session:b`, 'record', '{}', 'expiresAt', 'soon');
    await server.cli('HSET', `${keyPrefix}session:c`, 'record', '[1]', 'expiresAt', String(Date.now() + HOUR));
    for (const sid of ['a', 'b', 'c']) {
      const error = await rejectionOf(s.getSession(sid));
      expect(error).toBeInstanceOf(IssuerStoreUnavailableError);
      expect((error as Error).message).toMatch(/malformed session/);
    }
  });

  test('a key of another type under the prefix is a 503 with Redis’s answer as its cause', async () => {
    const keyPrefix = newPrefix();
    const s = await store({ keyPrefix });
    await server.cli('SET', `${keyPrefix}nonces:w`, 'a string');
    const error = await rejectionOf(s.issueNonce('w', 'n', {}, HOUR));
    expect(error).toBeInstanceOf(IssuerStoreUnavailableError);
    expect(((error as Error).cause as Error).message).toMatch(/WRONGTYPE/);
  });
});

describe('Redis failing', () => {
  const calls = (s: IssuerStore): [string, () => Promise<unknown>][] => [
    ['issueNonce', () => s.issueNonce('w', 'n', {}, HOUR)],
    ['consumeNonce', () => s.consumeNonce('w', 'n')],
    ['createSession', () => s.createSession('sid', {}, Date.now() + HOUR)],
    ['getSession', () => s.getSession('sid')],
    ['endSession', () => s.endSession('sid', Date.now() + HOUR)],
    ['hit', () => s.hit('k', HOUR)],
  ];

  async function expectAllUnavailable(s: IssuerStore, message: RegExp): Promise<void> {
    const errors = await Promise.all(calls(s).map(async ([method, call]) => [method, await rejectionOf(call())]));
    for (const [method, error] of errors) {
      expect({ method, error }).toEqual({ method, error: expect.any(IssuerStoreUnavailableError) });
      expect(error).toMatchObject({ status: 503, reason: 'issuer_store_unavailable', message });
      expect((error as IssuerStoreUnavailableError).headers['Retry-After']).toBe('1');
    }
  }

  test('a hung Redis (SIGSTOP): every method rejects at its deadline with a 503', async () => {
    const s = await store({ keyPrefix: newPrefix(), timeoutMs: 200 });
    server.pause();
    try {
      await expectAllUnavailable(s, /did not answer within 200 ms/);
    } finally {
      server.resume();
    }
    // The late replies change nothing; the store answers again.
    expect((await s.hit('after-hang', HOUR)).count).toBe(1);
  });

  test('a stopped Redis: every method rejects with a 503; after a restart (scripts forgotten) all work again', async () => {
    const keyPrefix = newPrefix();
    const s = await store({ keyPrefix, timeoutMs: 300 });
    await s.issueNonce('w', 'kept', { before: true }, HOUR);
    await server.stop({ save: true });
    try {
      await expectAllUnavailable(s, /unavailable|did not answer/);
    } finally {
      await server.start();
    }
    let consumed: unknown;
    for (let attempt = 0; attempt < 100 && consumed === undefined; attempt++) {
      consumed = await s.consumeNonce('w', 'kept').catch(async (error: unknown) => {
        if (!(error instanceof IssuerStoreUnavailableError)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
        return undefined;
      });
    }
    expect(consumed).toEqual({ before: true });
    await s.issueNonce('w', 'again', {}, HOUR);
    expect(await s.consumeNonce('w', 'again')).toEqual({});
    expect(await s.createSession('sid', {}, Date.now() + HOUR)).toBe(true);
    expect((await s.hit('k', HOUR)).count).toBe(1);
  }, 30_000);

  test('a Redis that is not there at startup: calls reject within the deadline, nothing crashes', async () => {
    const closed = await startRedisServer();
    const url = closed.url;
    await closed.close();
    const s = redisIssuerStore({ url, timeoutMs: 200 });
    stores.push(s);
    await expectAllUnavailable(s, /unavailable|did not answer within 200 ms/);
  });

  test('scripts flushed from Redis are sent again whole', async () => {
    const s = await store({ keyPrefix: newPrefix() });
    await s.issueNonce('w', 'n', {}, HOUR);
    await server.cli('SCRIPT', 'FLUSH');
    expect(await s.consumeNonce('w', 'n')).toEqual({});
  });
});

describe('a client of your own', () => {
  test('is used as given and stays open after close()', async () => {
    const client = createClient({ url: server.url });
    client.on('error', () => {});
    await client.connect();
    try {
      const s = redisIssuerStore({ client, keyPrefix: newPrefix() });
      await s.issueNonce('w', 'n', { mine: true }, HOUR);
      expect(await s.consumeNonce('w', 'n')).toEqual({ mine: true });
      await s.close();
      expect(await client.ping()).toBe('PONG');
      await expect(s.hit('k', HOUR)).rejects.toThrow(/closed/);
    } finally {
      client.destroy();
    }
  });
});

describe('options', () => {
  test.each([
    ['nothing', undefined, /"options" must be an object/],
    ['neither url nor client', {}, /"url" or client is required/],
    ['both url and client', { url: 'redis://127.0.0.1:1', client: {} }, /"url" or client is required/],
    ['a client that is not one', { client: { get: () => {} } }, /"client" must be a node-redis client/],
    ['an http URL', { url: 'http://127.0.0.1:6379' }, /"url" must use redis:\/\/ or rediss:\/\//],
    ['a URL that is not one', { url: 'not a url' }, /"url" is not a valid URL/],
    ['a URL that is not a string', { url: 6379 }, /"url" must be a redis/],
    ['an unknown option', { url: 'redis://127.0.0.1:1', cacheMs: 1 }, /"cacheMs" is not a known option/],
    ['timeoutMs 0', { url: 'redis://127.0.0.1:1', timeoutMs: 0 }, /"timeoutMs" must be a whole number of milliseconds/],
    ['a keyPrefix of 101 characters', { url: 'redis://127.0.0.1:1', keyPrefix: 'p'.repeat(101) }, /"keyPrefix"/],
    ['maxNoncesPerWallet 0', { url: 'redis://127.0.0.1:1', maxNoncesPerWallet: 0 }, /"maxNoncesPerWallet"/],
  ])('%s is refused at startup', (_, options, message) => {
    expect(() => redisIssuerStore(options as never)).toThrow(OptionsError);
    expect(() => redisIssuerStore(options as never)).toThrow(message);
  });
});
