/**
 * Key-set health and control: `status()` (fresh / stale / failing / empty, last fetch, last error,
 * key ids, next refresh) and `reload()` (refetch now, at most once per cooldown), on a real JWKS
 * server and a manual clock.
 */
import { makeSigningKey } from '../helpers/jwks-server';
import { keySetFixture, type Fixture } from '../helpers/key-set';

let f: Fixture;
afterEach(() => f.server.close());

describe('status() before the first fetch', () => {
  test('is empty: no keys, no failures, nothing planned', async () => {
    f = await keySetFixture();
    expect(f.set.status()).toEqual({
      state: 'empty',
      source: 'jwks',
      uri: f.server.uri,
      keyIds: [],
      keys: 0,
      failures: 0,
    });
  });
});

describe('status() of a fetched set', () => {
  test('is fresh, lists the key ids, and plans the refresh at 80 % of the freshness lifetime', async () => {
    f = await keySetFixture({ maxAgeMs: 100_000 });
    await f.set.getKeys('ES256', f.key.kid);
    const status = f.set.status();
    expect(status).toMatchObject({ state: 'fresh', source: 'jwks', keyIds: ['key-1'], keys: 1, failures: 0 });
    expect(status.nextRefreshAt! - status.lastFetchAt!).toBe(80_000);
    expect(status.lastError).toBeUndefined();
  });

  test('is stale once past its freshness while the refresh fails, and reports the error', async () => {
    f = await keySetFixture({ maxAgeMs: 100_000 });
    await f.set.getKeys('ES256', f.key.kid);
    f.server.answer = 'error';
    f.clock.advance(80_000);
    await f.set.getKeys('ES256', f.key.kid); // the first use from 80 s starts the refresh, which fails
    await f.set.idle();
    expect(f.set.status().state).toBe('fresh');
    f.clock.advance(20_000);
    const status = f.set.status();
    expect(status).toMatchObject({
      state: 'stale',
      keyIds: ['key-1'],
      failures: 1,
      lastError: { message: 'HTTP 500' },
    });
    expect(status.nextRefreshAt! - status.lastError!.at).toBe(1_000); // the first backoff step
    await f.set.idle();
  });

  test('keeps the last error after a recovery, older than the last fetch', async () => {
    f = await keySetFixture({ cooldownMs: 0 });
    f.server.answer = 'error';
    await f.set.reload();
    f.clock.advance(1_000);
    f.server.answer = 'good';
    const status = await f.set.reload();
    expect(status).toMatchObject({ state: 'fresh', failures: 0, lastError: { message: 'HTTP 500' } });
    expect(status.lastFetchAt! - status.lastError!.at).toBe(1_000);
  });
});

describe('status() with no usable key after a failure', () => {
  test('is failing, with the error and the end of the backoff', async () => {
    f = await keySetFixture();
    await f.server.stop();
    const status = await f.set.reload();
    expect(status).toMatchObject({
      state: 'failing',
      keyIds: [],
      keys: 0,
      failures: 1,
      lastError: { message: expect.stringMatching(/ECONNREFUSED/) },
    });
    expect(status.lastFetchAt).toBeUndefined();
    expect(status.nextRefreshAt! - status.lastError!.at).toBe(1_000);
  });
});

describe('reload() fetches now, at most once per cooldown', () => {
  test('picks up a rotated set once the cooldown has passed', async () => {
    f = await keySetFixture({ cooldownMs: 30_000 });
    await f.set.getKeys('ES256', f.key.kid);
    const next = await makeSigningKey('key-2');
    f.server.keys = [next.jwk];
    f.clock.advance(30_000);
    expect((await f.set.reload()).keyIds).toEqual(['key-2']);
    expect(f.server.hits).toBe(2);
  });

  test('within the cooldown it fetches nothing and answers the current status', async () => {
    f = await keySetFixture({ cooldownMs: 30_000 });
    await f.set.getKeys('ES256', f.key.kid);
    f.server.keys = [(await makeSigningKey('key-2')).jwk];
    f.clock.advance(29_999);
    const status = await f.set.reload();
    expect(status.keyIds).toEqual(['key-1']);
    expect(f.server.hits).toBe(1);
  });

  test('during a failure backoff it fetches nothing, and it never rejects', async () => {
    f = await keySetFixture({ cooldownMs: 0 });
    f.server.answer = 'error';
    await expect(f.set.reload()).resolves.toMatchObject({ state: 'failing', failures: 1 });
    f.clock.advance(999);
    await expect(f.set.reload()).resolves.toMatchObject({ state: 'failing', failures: 1 });
    expect(f.server.hits).toBe(1);
  });

  test('joins a fetch already running instead of starting another', async () => {
    f = await keySetFixture();
    f.server.answer = 'slow';
    const request = f.set.getKeys('ES256', f.key.kid);
    await f.server.waitForHits(1);
    const reloaded = f.set.reload();
    f.server.release();
    expect((await reloaded).state).toBe('fresh');
    await request;
    expect(f.server.hits).toBe(1);
  });
});
