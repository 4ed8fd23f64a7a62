/**
 * The Redis store's events subscription, against a real redis-server with ACL users: a "not
 * revoked" answer is reused only while the subscription is confirmed (the SUBSCRIBE reply came
 * back); a refused or lost subscription means every check asks Redis until it is confirmed
 * again, and is reported through the logger and on `express-token-gate:revocation-store`. A
 * revocation whose PUBLISH fails is still recorded, and reported.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { channels, createRevocationList, type RevocationList, type RevocationStoreMessage } from '../../lib';
import { redisRevocationStore, type RedisRevocationStore } from '../../lib/redis';
import { createTestIssuer, type TestIssuer } from '../../lib/testing';
import { startRedisServer, type RedisServer } from '../helpers/redis-server';
import { AUDIENCE, payloadOf } from '../helpers/fixtures';
import { logout, me, revocationApp } from '../helpers/revocation';
import { revocationIdOf } from '../helpers/revocation';

let server: RedisServer;
let issuer: TestIssuer;
let lists: RevocationList[] = [];
let subscriptions: (() => void)[] = [];
let prefixes = 0;
let users = 0;

beforeAll(async () => {
  [server, issuer] = await Promise.all([startRedisServer(), createTestIssuer({ audience: AUDIENCE })]);
});
afterAll(async () => {
  await Promise.all([server.close(), issuer.close()]);
});
afterEach(async () => {
  for (const done of subscriptions) done();
  subscriptions = [];
  await Promise.all(lists.map((list) => list.close()));
  lists = [];
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it is true, at most `limitMs`; returns whether it became true. */
async function eventually(check: () => boolean | Promise<boolean>, limitMs = 15_000): Promise<boolean> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await sleep(25);
  }
  return check();
}

const newPrefix = () => `subscription-test-${++prefixes}:`;

/**
 * A Redis user with the password `pw`, rights on every key and every command, and the given
 * channel rights (`&<pattern>`, or none) and extra rules (`-publish`). Returns the URL to use it.
 */
async function redisUser(channelRules: string[], ...rules: string[]): Promise<string> {
  const name = `user-${++users}`;
  expect(await server.cli('ACL', 'SETUSER', name, 'reset', 'on', '>pw', '~*', '+@all', ...rules, ...channelRules)).toBe(
    'OK',
  );
  return `redis://${name}:pw@127.0.0.1:${server.port}`;
}

/** The store's messages on express-token-gate:revocation-store, for this test's events channel. */
function storeMessages(keyPrefix: string): RevocationStoreMessage[] {
  const seen: RevocationStoreMessage[] = [];
  const onMessage = (message: unknown) => {
    if ((message as RevocationStoreMessage).channel === `${keyPrefix}events`)
      seen.push(message as RevocationStoreMessage);
  };
  subscribe(channels.revocationStore, onMessage);
  subscriptions.push(() => unsubscribe(channels.revocationStore, onMessage));
  return seen;
}

/** One instance: a list on its own store (its own connections) with a logger that collects lines. */
function instance(options: { keyPrefix: string; url?: string; cacheMs?: number }) {
  const lines: string[] = [];
  const store: RedisRevocationStore = redisRevocationStore({
    url: server.url,
    ...options,
    logger: (line: string) => lines.push(line),
  });
  store.ready.catch(() => {});
  const list = createRevocationList({ store, onRevocationEvent: () => {} });
  lists.push(list);
  return { store, list, lines, app: revocationApp(issuer, list) };
}

function keyOf(keyPrefix: string, token: string): string {
  return `${keyPrefix}${revocationIdOf(token)}`;
}

describe('a store whose Redis user may not subscribe to the events channel', () => {
  test('caches no "not revoked" answer: a revocation made by another instance is refused at its very next check', async () => {
    const keyPrefix = newPrefix();
    const full = instance({ keyPrefix });
    await full.store.ready;
    const limited = instance({ keyPrefix, url: await redisUser(['resetchannels']), cacheMs: 60_000 });
    await expect(limited.store.ready).rejects.toThrow(/NOPERM/);
    const token = await issuer.sign();
    expect((await me(limited.app, token)).status).toBe(200);
    await logout(full.app, token).expect(204);
    expect((await me(limited.app, token)).body.reason).toBe('token_revoked');
  });

  test('asks Redis on every check', async () => {
    const keyPrefix = newPrefix();
    const limited = instance({ keyPrefix, url: await redisUser(['resetchannels']), cacheMs: 60_000 });
    await expect(limited.store.ready).rejects.toThrow(/NOPERM/);
    const token = await issuer.sign();
    await server.cli('CONFIG', 'RESETSTAT');
    for (let i = 0; i < 3; i++) await me(limited.app, token).expect(200);
    expect((await server.commandCounts()).exists).toBe(3);
  });

  test('reports the refusal on the revocation-store channel at every attempt, and through the logger once', async () => {
    const keyPrefix = newPrefix();
    const messages = storeMessages(keyPrefix);
    const limited = instance({ keyPrefix, url: await redisUser(['resetchannels']) });
    await expect(limited.store.ready).rejects.toThrow(/NOPERM/);
    expect(await eventually(() => messages.length >= 2)).toBe(true);
    expect(messages.slice(0, 2)).toEqual([
      {
        store: 'redis',
        type: 'subscription-failed',
        channel: `${keyPrefix}events`,
        error: expect.stringContaining('NOPERM'),
        retryInMs: 1000,
      },
      {
        store: 'redis',
        type: 'subscription-failed',
        channel: `${keyPrefix}events`,
        error: expect.stringContaining('NOPERM'),
        retryInMs: 2000,
      },
    ]);
    expect(limited.lines).toHaveLength(1);
    expect(limited.lines[0]).toContain(`cannot subscribe to ${keyPrefix}events`);
    expect(limited.lines[0]).toContain('NOPERM');
    expect(limited.lines[0]).toContain('every check asks Redis');
  });

  test('keeps retrying: once the rights are granted it subscribes, says so, and caches again', async () => {
    const keyPrefix = newPrefix();
    const messages = storeMessages(keyPrefix);
    const url = await redisUser(['resetchannels']);
    const limited = instance({ keyPrefix, url, cacheMs: 60_000 });
    expect(await eventually(() => messages.some((m) => m.type === 'subscription-failed'))).toBe(true);
    const name = new URL(url).username;
    expect(await server.cli('ACL', 'SETUSER', name, `&${keyPrefix}events`)).toBe('OK');
    expect(await eventually(() => messages.some((m) => m.type === 'subscribed'))).toBe(true);
    expect(messages.at(-1)).toEqual({ store: 'redis', type: 'subscribed', channel: `${keyPrefix}events` });
    expect(limited.lines).toHaveLength(2);
    expect(limited.lines[1]).toContain(`subscribed to ${keyPrefix}events again`);
    const token = await issuer.sign();
    await server.cli('CONFIG', 'RESETSTAT');
    for (let i = 0; i < 3; i++) await me(limited.app, token).expect(200);
    expect((await server.commandCounts()).exists).toBe(1);
  });
});

describe('a subscription that is lost', () => {
  test('the server closing the subscriber connection stops the cache at once; the store subscribes again and caches again', async () => {
    const keyPrefix = newPrefix();
    const messages = storeMessages(keyPrefix);
    const b = instance({ keyPrefix, cacheMs: 60_000 });
    await b.store.ready;
    const token = await issuer.sign();
    expect((await me(b.app, token)).status).toBe(200);
    const before = messages.length;
    expect(Number(await server.cli('CLIENT', 'KILL', 'TYPE', 'pubsub'))).toBeGreaterThan(0);
    expect(await eventually(() => messages.slice(before).some((m) => m.type === 'subscription-failed'))).toBe(true);
    // Written straight into Redis: no message reaches the instance, only its next question does.
    const { exp } = payloadOf(token) as { exp: number };
    await server.cli('SET', keyOf(keyPrefix, token), '1', 'PXAT', String(exp * 1000));
    expect((await me(b.app, token)).body.reason).toBe('token_revoked');
    expect(b.lines[0]).toContain(`cannot subscribe to ${keyPrefix}events`);

    expect(await eventually(() => messages.slice(before).some((m) => m.type === 'subscribed'))).toBe(true);
    const fresh = await issuer.sign();
    await server.cli('CONFIG', 'RESETSTAT');
    for (let i = 0; i < 3; i++) await me(b.app, fresh).expect(200);
    expect((await server.commandCounts()).exists).toBe(1);
  });
});

describe('a confirmed subscription', () => {
  test('is announced on the channel, and a token seen again within cacheMs costs no command, as before', async () => {
    const keyPrefix = newPrefix();
    const messages = storeMessages(keyPrefix);
    const b = instance({ keyPrefix, cacheMs: 60_000 });
    await b.store.ready;
    expect(messages).toEqual([{ store: 'redis', type: 'subscribed', channel: `${keyPrefix}events` }]);
    const token = await issuer.sign();
    await server.cli('CONFIG', 'RESETSTAT');
    for (let i = 0; i < 3; i++) await me(b.app, token).expect(200);
    expect((await server.commandCounts()).exists).toBe(1);
    expect(b.lines).toEqual([]);
  });
});

describe('a revocation whose PUBLISH is refused (a Redis user without the publish command)', () => {
  test('is recorded and revoke resolves; the failure is reported; other instances refuse the token within cacheMs', async () => {
    const keyPrefix = newPrefix();
    const messages = storeMessages(keyPrefix);
    const other = instance({ keyPrefix, cacheMs: 200 });
    const revoking = instance({ keyPrefix, url: await redisUser([`&${keyPrefix}events`], '-publish') });
    await Promise.all([other.store.ready, revoking.store.ready]);
    const token = await issuer.sign();
    expect((await me(other.app, token)).status).toBe(200);

    await logout(revoking.app, token).expect(204);
    expect(await server.cli('EXISTS', keyOf(keyPrefix, token))).toBe('1');
    expect((await me(revoking.app, token)).body.reason).toBe('token_revoked');
    expect(messages.filter((m) => m.type === 'publish-failed')).toEqual([
      {
        store: 'redis',
        type: 'publish-failed',
        channel: `${keyPrefix}events`,
        error: expect.stringContaining('NOPERM'),
      },
    ]);
    expect(revoking.lines).toHaveLength(1);
    expect(revoking.lines[0]).toContain(`its PUBLISH on ${keyPrefix}events failed`);
    expect(revoking.lines[0]).toContain('NOPERM');
    // A refused PUBLISH is no outage: the next check still asks Redis.
    expect((await me(revoking.app, await issuer.sign())).status).toBe(200);
    // The other instance's cached answer ages out, and Redis has the entry.
    expect(await eventually(async () => (await me(other.app, token)).body.reason === 'token_revoked')).toBe(true);

    // Logged once while PUBLISH keeps failing; published on the channel every time.
    await logout(revoking.app, await issuer.sign()).expect(204);
    expect(messages.filter((m) => m.type === 'publish-failed')).toHaveLength(2);
    expect(revoking.lines).toHaveLength(1);
  });
});
