import { type JwksAnswer } from '../helpers/jwks-server';
import { expectKeys, type Fixture, keySetFixture, xOf } from '../helpers/key-set';

type Failure = JwksAnswer | 'down';

/** Each way a fetch can fail, and the words the `failed` event uses for it. */
const FAILURES: [Failure, RegExp][] = [
  ['error', /HTTP 500/],
  ['html', /content type "text\/html" is not JSON/],
  ['garbage', /not valid JSON/],
  ['not-a-set', /not a JWK Set/],
  ['redirect', /redirect refused \(HTTP 302\)/],
  ['reset', /fetch failed|socket|closed/i],
  ['down', /ECONNREFUSED/],
  ['slow', /no complete answer within 5000 ms/],
  ['huge', /larger than 262144 bytes/],
  ['huge-declared', /declared body of \d+ bytes is larger than 262144/],
];

async function breakServer(f: Fixture, failure: Failure): Promise<void> {
  if (failure === 'down') await f.server.stop();
  else f.server.answer = failure;
}

/** Lets a started fetch finish; a `slow` one finishes by timing out on the manual clock. */
async function settle(f: Fixture, failure: Failure, hitsBefore: number): Promise<void> {
  if (failure === 'slow') {
    await f.server.waitForHits(hitsBefore + 1);
    f.clock.advance(5_000);
  }
  await f.set.idle();
}

let f: Fixture;
afterEach(() => f.server.close());

describe('a failed refresh keeps serving the last good keys', () => {
  test.each(FAILURES)('%s: keys still served, failure reported', async (failure, message) => {
    f = await keySetFixture({}, 'max-age=100');
    await f.set.getKeys('ES256', f.key.kid);
    await breakServer(f, failure);
    f.clock.advance(80_000);
    await f.set.getKeys('ES256', f.key.kid); // the first use after the refresh point starts the refresh
    await settle(f, failure, 1);
    expect(f.eventsOf('failed')).toEqual([
      { type: 'failed', uri: f.server.uri, error: expect.stringMatching(message), retryInMs: 1_000 },
    ]);
    expect(await xOf(await f.set.getKeys('ES256', f.key.kid))).toBe(f.key.jwk.x);
    expect(f.server.hits).toBe(failure === 'down' ? 1 : 2);
    expect(f.server.redirectTargetHits).toBe(0);
  });
});

describe('with no usable key, a failure is a 503 with Retry-After', () => {
  test.each(FAILURES)('%s: 503 jwks_unavailable, and no second fetch within the backoff', async (failure, message) => {
    f = await keySetFixture();
    await breakServer(f, failure);
    const first = f.set.getKeys('ES256', f.key.kid);
    if (failure === 'slow') {
      await f.server.waitForHits(1);
      f.clock.advance(5_000);
    }
    await expect(first).rejects.toMatchObject({
      status: 503,
      reason: 'jwks_unavailable',
      retryAfter: 1,
      headers: { 'Retry-After': '1' },
    });
    await expect(f.set.getKeys('ES256', f.key.kid)).rejects.toMatchObject({ status: 503 });
    expect(f.eventsOf('failed')).toEqual([expect.objectContaining({ error: expect.stringMatching(message) })]);
    expect(f.server.hits).toBe(failure === 'down' ? 0 : 1);
    expect(f.server.redirectTargetHits).toBe(0);
  });
});

describe('retries back off exponentially whatever the request rate', () => {
  test('without keys: attempts at 0, 1, 3, 7 and 15 s under a request every 250 ms; Retry-After counts down', async () => {
    f = await keySetFixture();
    f.server.answer = 'error';
    const retryAfter = new Map<number, number>();
    for (let t = 0; t <= 20_000; t += 250) {
      const error = await f.set.getKeys('ES256', f.key.kid).catch((e: { status: number; retryAfter: number }) => e);
      expect(error).toMatchObject({ status: 503 });
      retryAfter.set(t, (error as { retryAfter: number }).retryAfter);
      f.clock.advance(250);
    }
    expect(f.server.hits).toBe(5);
    expect(f.eventsOf('failed').map((e) => e.retryInMs)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000]);
    expect([0, 250, 1_000, 1_250, 3_000, 5_000, 6_750].map((t) => retryAfter.get(t))).toEqual([1, 1, 2, 2, 4, 2, 1]);
  });

  test('with keys: retries at 80, 81, 83, 87, 95 and 111 s under a request every 100 ms; every request still answered', async () => {
    f = await keySetFixture({}, 'max-age=100');
    await f.set.getKeys('ES256', f.key.kid);
    f.server.answer = 'error';
    for (let t = 0; t < 120_000; t += 100) {
      f.clock.advance(100);
      await f.set.idle();
      await expectKeys(f.set.getKeys('ES256', f.key.kid), f.key.jwk);
    }
    expect(f.server.hits).toBe(7);
    expect(f.eventsOf('failed').map((e) => e.retryInMs)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000]);
    // Once the set is past its 100 s freshness, stale answers are reported once per attempt.
    const stale = f.eventsOf('stale-served');
    expect(stale).toHaveLength(2);
    for (const event of stale) expect(event.ageMs).toBeGreaterThanOrEqual(100_000);
  });

  test('backoff is capped at five minutes', async () => {
    f = await keySetFixture();
    f.server.answer = 'error';
    for (let i = 0; i < 12; i += 1) {
      await f.set.getKeys('ES256', f.key.kid).catch(() => undefined);
      f.clock.advance(f.eventsOf('failed').at(-1)!.retryInMs);
    }
    expect(
      f
        .eventsOf('failed')
        .map((e) => e.retryInMs)
        .slice(-4),
    ).toEqual([256_000, 300_000, 300_000, 300_000]);
  });

  test('a success resets the backoff', async () => {
    f = await keySetFixture({}, 'max-age=100');
    f.server.answer = 'error';
    await f.set.getKeys('ES256', f.key.kid).catch(() => undefined);
    f.clock.advance(1_000);
    await f.set.getKeys('ES256', f.key.kid).catch(() => undefined);
    f.clock.advance(2_000);
    f.server.answer = 'good';
    await expectKeys(f.set.getKeys('ES256', f.key.kid), f.key.jwk);
    f.server.answer = 'error';
    f.clock.advance(80_000);
    await f.set.getKeys('ES256', f.key.kid); // the first use after the refresh point starts the refresh
    await f.set.idle();
    expect(f.eventsOf('failed').map((e) => e.retryInMs)).toEqual([1_000, 2_000, 1_000]);
  });
});

describe('stale-if-error is bounded', () => {
  test('keys serve until freshness + staleIfErrorMs, then a failing issuer means 503', async () => {
    f = await keySetFixture({ staleIfErrorMs: 600_000 }, 'max-age=100');
    await f.set.getKeys('ES256', f.key.kid);
    f.server.answer = 'error';
    f.clock.advance(699_999);
    await f.set.idle();
    await expectKeys(f.set.getKeys('ES256', f.key.kid), f.key.jwk);
    await f.set.idle();
    f.clock.advance(1);
    await expect(f.set.getKeys('ES256', f.key.kid)).rejects.toMatchObject({ status: 503, reason: 'jwks_unavailable' });
  });

  test('staleIfErrorMs 0 stops serving at the end of freshness', async () => {
    f = await keySetFixture({ staleIfErrorMs: 0 }, 'max-age=100');
    await f.set.getKeys('ES256', f.key.kid);
    f.server.answer = 'error';
    f.clock.advance(99_999);
    await f.set.idle();
    await expectKeys(f.set.getKeys('ES256', f.key.kid), f.key.jwk);
    f.clock.advance(1);
    await f.set.idle();
    await expect(f.set.getKeys('ES256', f.key.kid)).rejects.toMatchObject({ status: 503 });
  });

  test('after a 503, the issuer coming back is picked up at the next allowed attempt', async () => {
    f = await keySetFixture();
    f.server.answer = 'error';
    const error = await f.set.getKeys('ES256', f.key.kid).catch((e: { retryAfter: number }) => e);
    f.server.answer = 'good';
    f.clock.advance((error as { retryAfter: number }).retryAfter * 1000);
    expect(await xOf(await f.set.getKeys('ES256', f.key.kid))).toBe(f.key.jwk.x);
    expect(f.server.hits).toBe(2);
  });
});

describe('a document with no usable key is a failure, not an empty set', () => {
  test('the last good keys stay in use', async () => {
    f = await keySetFixture({}, 'max-age=100');
    await f.set.getKeys('ES256', f.key.kid);
    f.server.keys = [{ ...f.key.jwk, use: 'enc' }];
    f.clock.advance(80_000);
    await f.set.getKeys('ES256', f.key.kid); // the first use after the refresh point starts the refresh
    await f.set.idle();
    expect(f.eventsOf('failed')).toEqual([expect.objectContaining({ error: 'none of the 1 keys is usable' })]);
    await expectKeys(f.set.getKeys('ES256', f.key.kid), f.key.jwk);
  });

  test('without earlier keys it is a 503', async () => {
    f = await keySetFixture();
    f.server.keys = [];
    await expect(f.set.getKeys('ES256', f.key.kid)).rejects.toMatchObject({ status: 503 });
  });
});
