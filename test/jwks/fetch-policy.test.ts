/**
 * When a key set fetches, as one pure decision: single flight, freshness, backoff after failures,
 * and the cooldown on refetches for unknown kids and reloads.
 */
import { fetchDecision, type FetchDecision, type FetchState, type FetchTrigger } from '../../lib/jwks/fetch-policy';

/** A set fetched at 0, due for a refresh at 480 s, with the default 30 s cooldown; the clock at 100 s. */
const base: FetchState = {
  now: 100_000,
  inflight: false,
  lastAttemptAt: 0,
  retryAt: -Infinity,
  refreshAt: 480_000,
  cooldownMs: 30_000,
};
const ALL: FetchTrigger[] = ['use', 'refresh', 'unknown-kid', 'reload'];

describe('fetchDecision', () => {
  test.each<[string, Partial<FetchState>, Record<FetchTrigger, FetchDecision>]>([
    [
      'a fetch is running: every caller joins it',
      { inflight: true },
      { use: 'join', refresh: 'join', 'unknown-kid': 'join', reload: 'join' },
    ],
    [
      'a fetch is running during a backoff: still joined',
      { inflight: true, retryAt: 200_000 },
      { use: 'join', refresh: 'join', 'unknown-kid': 'join', reload: 'join' },
    ],
    [
      'a fresh set past the cooldown: a use needs nothing, an unknown kid or a reload fetches',
      {},
      { use: 'wait', refresh: 'fetch', 'unknown-kid': 'fetch', reload: 'fetch' },
    ],
    [
      'a fresh set within the cooldown: only an explicit refresh fetches',
      { lastAttemptAt: 90_000 },
      { use: 'wait', refresh: 'fetch', 'unknown-kid': 'wait', reload: 'wait' },
    ],
    [
      'the cooldown has just passed',
      { lastAttemptAt: 70_000 },
      { use: 'wait', refresh: 'fetch', 'unknown-kid': 'fetch', reload: 'fetch' },
    ],
    [
      'cooldown 0: no limit on refetches',
      { lastAttemptAt: 100_000, cooldownMs: 0 },
      { use: 'wait', refresh: 'fetch', 'unknown-kid': 'fetch', reload: 'fetch' },
    ],
    [
      'a refresh is due: a use starts it',
      { now: 480_000, lastAttemptAt: 479_000 },
      { use: 'fetch', refresh: 'fetch', 'unknown-kid': 'wait', reload: 'wait' },
    ],
    [
      'nothing usable is cached: a use fetches',
      { refreshAt: undefined, lastAttemptAt: -Infinity },
      { use: 'fetch', refresh: 'fetch', 'unknown-kid': 'fetch', reload: 'fetch' },
    ],
    [
      'in backoff after failures: nobody fetches, whatever the trigger',
      { refreshAt: undefined, retryAt: 101_000, lastAttemptAt: 0 },
      { use: 'wait', refresh: 'wait', 'unknown-kid': 'wait', reload: 'wait' },
    ],
    [
      'in backoff with a due refresh: the backoff holds',
      { now: 500_000, retryAt: 501_000, lastAttemptAt: 400_000 },
      { use: 'wait', refresh: 'wait', 'unknown-kid': 'wait', reload: 'wait' },
    ],
    [
      'the backoff has just passed',
      { now: 501_000, retryAt: 501_000, lastAttemptAt: 400_000 },
      { use: 'fetch', refresh: 'fetch', 'unknown-kid': 'fetch', reload: 'fetch' },
    ],
  ])('%s', (_name, state, expected) => {
    const decisions = Object.fromEntries(
      ALL.map((trigger) => [trigger, fetchDecision(trigger, { ...base, ...state })]),
    );
    expect(decisions).toEqual(expected);
  });

  test('depends on nothing but its arguments', () => {
    const state = { ...base, now: 480_000 };
    expect(ALL.map((t) => fetchDecision(t, state))).toEqual(ALL.map((t) => fetchDecision(t, { ...state })));
    expect(state).toEqual({ ...base, now: 480_000 });
  });
});
