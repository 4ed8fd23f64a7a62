import { RemoteKeySet } from '../../lib/jwks/key-set';
import { parseKeySetOptions } from '../../lib/jwks/options';
import { freshnessMs, maxAgeFromHeaders } from '../../lib/jwks/freshness';
import { unrefSchedule } from '../../lib/jwks/schedule';
import { keySetFixture, xOf, type Fixture } from '../helpers/key-set';
import { ManualClock } from '../helpers/manual-clock';

describe('Cache-Control parsing', () => {
  test.each([
    [null, null, undefined],
    ['public', null, undefined],
    ['max-age=600', null, 600_000],
    ['public, max-age=120, must-revalidate', null, 120_000],
    ['MAX-AGE="90"', null, 90_000],
    ['max-age=600', '100', 500_000],
    ['max-age=60', '100', 0],
    ['no-store', null, 0],
    ['no-cache, max-age=600', null, 0],
    ['max-age=600, max-age=60', null, 60_000],
    ['max-age=abc', null, 0],
    ['max-age=-5', null, 0],
  ])('%s with Age %s asks for %s ms', (cacheControl, age, expected) => {
    expect(maxAgeFromHeaders(cacheControl, age)).toBe(expected);
  });
});

describe('freshness stays within bounds', () => {
  test.each([
    [undefined, 600_000, 600_000],
    [120_000, 600_000, 120_000],
    [0, 600_000, 30_000],
    [31_536_000_000, 600_000, 3_600_000],
    [86_400_000, 7_200_000, 7_200_000],
    [0, 5_000, 5_000],
  ])('header %s with configured %s gives %s ms', (header, configured, expected) => {
    expect(freshnessMs(header, configured)).toBe(expected);
  });
});

describe('the set is refreshed ahead of expiry when its keys are used, never by an idle timer', () => {
  let f: Fixture | undefined;
  afterEach(() => f?.server.close());

  // The first use from 80 % of the freshness lifetime on starts a refresh.
  test.each([
    ['max-age=120', {}, 96_000],
    [undefined, {}, 480_000],
    ['max-age=0', {}, 24_000],
    ['no-store', {}, 24_000],
    ['max-age=31536000', {}, 2_880_000],
    ['max-age=86400', { maxAgeMs: 7_200_000 }, 5_760_000],
  ])('Cache-Control %s (options %j): first refresh at %s ms', async (cacheControl, jwks, refreshAt) => {
    f = await keySetFixture(jwks, cacheControl);
    await f.set.getKeys('ES256', f.key.kid);
    f.clock.advance(refreshAt - 1);
    await f.set.getKeys('ES256', f.key.kid);
    await f.set.idle();
    expect(f.server.hits).toBe(1);
    f.clock.advance(1);
    await f.set.getKeys('ES256', f.key.kid);
    await f.set.idle();
    expect(f.server.hits).toBe(2);
    expect(f.eventsOf('fetched')).toHaveLength(2);
  });

  test('a request during a background refresh is answered from the cache without waiting', async () => {
    f = await keySetFixture({}, 'max-age=100');
    await f.set.getKeys('ES256', f.key.kid);
    f.server.answer = 'slow';
    f.clock.advance(80_000);
    void f.set.getKeys('ES256', f.key.kid);
    await f.server.waitForHits(2);
    const key = await f.set.getKeys('ES256', f.key.kid);
    expect(f.server.held).toBe(1); // the refresh is still unanswered
    expect(await xOf(key)).toBe(f.key.jwk.x);
    f.server.release();
    await f.set.idle();
    expect(f.eventsOf('fetched')).toHaveLength(2);
  });

  test('the first request after the refresh point starts the refresh and does not wait for it', async () => {
    f = await keySetFixture({}, 'max-age=100');
    const clock = new ManualClock();
    const neverFires = () => () => undefined;
    const set = new RemoteKeySet(f.server.uri, f.options, clock.now, neverFires);
    await set.getKeys('ES256', f.key.kid);
    clock.advance(79_999);
    await set.getKeys('ES256', f.key.kid);
    expect(f.server.hits).toBe(1);
    clock.advance(1);
    f.server.answer = 'slow';
    await set.getKeys('ES256', f.key.kid);
    await f.server.waitForHits(2);
    expect(f.server.held).toBe(1);
    f.server.release();
    await set.idle();
  });

  test('a refresh keeps the set fresh for another lifetime', async () => {
    f = await keySetFixture({}, 'max-age=100');
    await f.set.getKeys('ES256', f.key.kid);
    for (let i = 0; i < 5; i += 1) {
      f.clock.advance(80_000);
      await f.set.getKeys('ES256', f.key.kid);
      await f.set.idle();
    }
    expect(f.server.hits).toBe(6);
    expect(f.eventsOf('stale-served')).toHaveLength(0);
  });
});

describe('an idle process fetches nothing', () => {
  let f: Fixture | undefined;
  afterEach(() => f?.server.close());

  test('with jwks.maxAgeMs 10, a second without use costs no fetch; the next use refreshes once', async () => {
    f = await keySetFixture({ maxAgeMs: 10 });
    await f.set.getKeys('ES256', f.key.kid);
    for (let ms = 0; ms < 1_000; ms += 1) {
      f.clock.advance(1);
      await f.set.idle();
    }
    expect(f.server.hits).toBe(1);
    expect(f.clock.pending).toBe(0);
    await f.set.getKeys('ES256', f.key.kid);
    await f.set.idle();
    expect(f.server.hits).toBe(2);
  });

  test('failures are not retried on a timer either: the next use retries once the backoff allows', async () => {
    f = await keySetFixture({}, 'max-age=100');
    await f.set.getKeys('ES256', f.key.kid);
    f.server.answer = 'error';
    f.clock.advance(80_000);
    await f.set.getKeys('ES256', f.key.kid);
    await f.set.idle();
    expect(f.server.hits).toBe(2);
    f.clock.advance(600_000);
    await f.set.idle();
    expect(f.server.hits).toBe(2);
  });
});

describe('timers never keep the process alive', () => {
  const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

  test('the default schedule unrefs its timers', () => {
    const before = timeouts();
    const cancel = unrefSchedule(() => undefined, 3_600_000);
    expect(timeouts()).toBe(before);
    cancel();
    // The measure can tell: a plain timer is counted.
    const plain = setTimeout(() => undefined, 3_600_000);
    expect(timeouts()).toBe(before + 1);
    clearTimeout(plain);
  });

  test('a key set on real timers leaves no referenced timer behind after a fetch', async () => {
    const f = await keySetFixture();
    try {
      const before = timeouts();
      const set = new RemoteKeySet(f.server.uri, parseKeySetOptions({}));
      await set.getKeys('ES256', f.key.kid);
      expect(timeouts()).toBe(before);
    } finally {
      await f.server.close();
    }
  });
});
