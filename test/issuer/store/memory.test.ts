/**
 * The memory issuer store: the shared port suite, then what only it has: bounds that refuse
 * rather than evict, expiry boundaries on a manual clock, its options.
 */
import { IssuerStoreUnavailableError, OptionsError } from '../../../lib/errors';
import { memoryIssuerStore, type MemoryIssuerStoreOptions } from '../../../lib/issuer/store/memory';
import { ManualClock } from '../../helpers/manual-clock';
import { describeIssuerStore } from './port-suite';

describeIssuerStore('memoryIssuerStore', {
  async pair() {
    const store = memoryIssuerStore();
    return [store, store];
  },
});

const HOUR = 3_600_000;

/** The rejection of `work`, or undefined when it resolves. */
const rejectionOf = (work: Promise<unknown>) =>
  work.then(
    () => undefined,
    (error: unknown) => error,
  );

function storeOnClock(options: MemoryIssuerStoreOptions = {}) {
  const clock = new ManualClock(1_800_000_000_000);
  return { clock, store: memoryIssuerStore(options, clock.now) };
}

describe('when full of live nonces, a new one is refused and no other wallet loses one', () => {
  test("a fourth wallet's nonce is a 503 whose Retry-After waits for the earliest expiry; the three stay", async () => {
    const { clock, store } = storeOnClock({ maxNonces: 3 });
    await store.issueNonce('w1', 'n1', { w: 1 }, 10_000);
    clock.advance(1000);
    await store.issueNonce('w2', 'n2', { w: 2 }, 60_000);
    await store.issueNonce('w3', 'n3', { w: 3 }, 60_000);
    const error = await rejectionOf(store.issueNonce('w4', 'n4', {}, 60_000));
    expect(error).toBeInstanceOf(IssuerStoreUnavailableError);
    expect(error).toMatchObject({
      status: 503,
      reason: 'issuer_store_unavailable',
      message: /too many pending nonces/,
    });
    expect((error as IssuerStoreUnavailableError).headers).toEqual({ 'Retry-After': '9' });
    expect(await store.consumeNonce('w2', 'n2')).toEqual({ w: 2 });
    expect(await store.consumeNonce('w3', 'n3')).toEqual({ w: 3 });
    expect(await store.consumeNonce('w1', 'n1')).toEqual({ w: 1 });
  });

  test('room comes back when the earliest nonce expires, even out of issue order', async () => {
    const { clock, store } = storeOnClock({ maxNonces: 2 });
    await store.issueNonce('w1', 'long', {}, 60_000);
    await store.issueNonce('w2', 'short', {}, 10_000);
    await expect(store.issueNonce('w3', 'n', {}, 60_000)).rejects.toBeInstanceOf(IssuerStoreUnavailableError);
    clock.advance(10_000);
    await store.issueNonce('w3', 'n', { w: 3 }, 60_000);
    expect(await store.consumeNonce('w3', 'n')).toEqual({ w: 3 });
    expect(await store.consumeNonce('w1', 'long')).toEqual({});
  });

  test('a taken nonce frees its room at once', async () => {
    const { store } = storeOnClock({ maxNonces: 1 });
    await store.issueNonce('w1', 'n1', {}, HOUR);
    await store.consumeNonce('w1', 'n1');
    await store.issueNonce('w2', 'n2', { w: 2 }, HOUR);
    expect(await store.consumeNonce('w2', 'n2')).toEqual({ w: 2 });
  });

  test('a wallet at its own cap still gets a new nonce when the store is full: its oldest gives way', async () => {
    const { store } = storeOnClock({ maxNonces: 2, maxNoncesPerWallet: 2 });
    await store.issueNonce('w', 'a', {}, HOUR);
    await store.issueNonce('w', 'b', {}, HOUR);
    await store.issueNonce('w', 'c', {}, HOUR);
    expect(store.size.nonces).toBe(2);
    expect(await store.consumeNonce('w', 'a')).toBeUndefined();
    expect(await store.consumeNonce('w', 'b')).toEqual({});
    expect(await store.consumeNonce('w', 'c')).toEqual({});
  });
});

describe('sessions and counters are bounded the same way; ending a session never is', () => {
  test('a third session is refused; an end of any session is kept beyond the bound', async () => {
    const { clock, store } = storeOnClock({ maxSessions: 2 });
    const expiresAt = clock.now() + HOUR;
    await store.createSession('s1', {}, expiresAt);
    await store.createSession('s2', {}, expiresAt);
    const error = await rejectionOf(store.createSession('s3', {}, expiresAt));
    expect(error).toBeInstanceOf(IssuerStoreUnavailableError);
    expect((error as Error).message).toMatch(/too many sessions/);
    await store.endSession('s3', expiresAt);
    await store.endSession('s4', expiresAt);
    expect(store.size.sessions).toBe(4);
    expect(await store.getSession('s4')).toEqual({ expiresAt, endedAt: clock.now() });
    // A live session can still be refreshed when full.
    expect(await store.createSession('s1', { v: 2 }, expiresAt)).toBe(true);
  });

  test('a third counter is refused while the first two keep counting', async () => {
    const { clock, store } = storeOnClock({ maxCounters: 2 });
    await store.hit('k1', 60_000);
    await store.hit('k2', 60_000);
    const error = await rejectionOf(store.hit('k3', 60_000));
    expect(error).toBeInstanceOf(IssuerStoreUnavailableError);
    expect((error as IssuerStoreUnavailableError).headers).toEqual({ 'Retry-After': '60' });
    expect((await store.hit('k1', 60_000)).count).toBe(2);
    clock.advance(60_000);
    expect(await store.hit('k3', 60_000)).toEqual({ count: 1, resetAt: clock.now() + 60_000 });
  });
});

describe('expiry boundaries (manual clock)', () => {
  test('a nonce is good until 1 ms before issue time + ttlMs, and gone at it', async () => {
    const { clock, store } = storeOnClock();
    await store.issueNonce('w', 'early', {}, 1000);
    await store.issueNonce('w', 'late', {}, 1000);
    clock.advance(999);
    expect(await store.consumeNonce('w', 'early')).toEqual({});
    clock.advance(1);
    expect(await store.consumeNonce('w', 'late')).toBeUndefined();
  });

  test('a session is seen until 1 ms before expiresAt; a counter window closes at resetAt', async () => {
    const { clock, store } = storeOnClock();
    const expiresAt = clock.now() + 1000;
    await store.createSession('s', {}, expiresAt);
    const { resetAt } = await store.hit('k', 1000);
    expect(resetAt).toBe(expiresAt);
    clock.advance(999);
    expect(await store.getSession('s')).toEqual({ record: {}, expiresAt });
    expect((await store.hit('k', 1000)).count).toBe(2);
    clock.advance(1);
    expect(await store.getSession('s')).toBeUndefined();
    expect((await store.hit('k', 1000)).count).toBe(1);
  });

  test('expired entries leave at the next write, so size counts live entries', async () => {
    const { clock, store } = storeOnClock();
    for (let i = 0; i < 5; i++) await store.issueNonce(`w${i}`, 'n', {}, 1000);
    await store.createSession('s', {}, clock.now() + 1000);
    await store.hit('k', 1000);
    expect(store.size).toEqual({ nonces: 5, sessions: 1, counters: 1 });
    clock.advance(1000);
    await store.issueNonce('w', 'fresh', {}, 1000);
    await store.createSession('s2', {}, clock.now() + 1000);
    await store.hit('k2', 1000);
    expect(store.size).toEqual({ nonces: 1, sessions: 1, counters: 1 });
  });

  test('an end whose expiry has passed (and the session too) leaves nothing behind', async () => {
    const { clock, store } = storeOnClock();
    await store.endSession('s', clock.now());
    expect(store.size.sessions).toBe(0);
    expect(await store.createSession('s', {}, clock.now() + 1000)).toBe(true);
  });
});

describe('options', () => {
  test.each([
    ['not an object', 'x', /"options" must be an object/],
    ['a list', [], /"options" must be an object/],
    ['an unknown option', { maxEntries: 10 }, /"maxEntries" is not a known option/],
    ['maxNonces 0', { maxNonces: 0 }, /"maxNonces" must be a whole number from 1/],
    ['maxNonces 1.5', { maxNonces: 1.5 }, /"maxNonces"/],
    [
      'maxNoncesPerWallet 101',
      { maxNoncesPerWallet: 101 },
      /"maxNoncesPerWallet" must be a whole number from 1 to 100/,
    ],
    ['maxSessions as a string', { maxSessions: '10' }, /"maxSessions"/],
    ['maxCounters negative', { maxCounters: -1 }, /"maxCounters"/],
  ])('%s is refused at startup', (_, options, message) => {
    expect(() => memoryIssuerStore(options as never)).toThrow(OptionsError);
    expect(() => memoryIssuerStore(options as never)).toThrow(message);
  });

  test('maxNoncesPerWallet sets how many a wallet holds', async () => {
    const store = memoryIssuerStore({ maxNoncesPerWallet: 1 });
    await store.issueNonce('w', 'a', {}, HOUR);
    await store.issueNonce('w', 'b', {}, HOUR);
    expect(await store.consumeNonce('w', 'a')).toBeUndefined();
    expect(await store.consumeNonce('w', 'b')).toEqual({});
  });
});
