/**
 * When a key set may fetch: one pure decision, so every caller (a request using the keys, a token
 * with an unknown `kid`, `refresh()`, `reload()`) follows the same rules.
 */

/** Why a fetch is being considered. */
export type FetchTrigger =
  /** The cached keys are being used: a refresh is wanted once it is due. */
  | 'use'
  /** A fetch is wanted now: nothing usable is cached, or `refresh()` was called. */
  | 'refresh'
  /** A token names a `kid` the cached set lacks: limited by the cooldown. */
  | 'unknown-kid'
  /** `reload()` was called: limited by the cooldown too. */
  | 'reload';

/** What the decision looks at, all in ms on the key set's clock. */
export interface FetchState {
  now: number;
  /** A fetch is running. */
  inflight: boolean;
  /** When the last fetch started (`-Infinity` before the first). */
  lastAttemptAt: number;
  /** Backoff after failures: no attempt before this (`-Infinity` after a success). */
  retryAt: number;
  /** When a refresh of the cached set falls due; undefined when no usable set is cached. */
  refreshAt: number | undefined;
  /** Least time between the start of one fetch and a refetch for an unknown `kid` or a reload. */
  cooldownMs: number;
}

/** `join` the running fetch, start a `fetch`, or `wait`: what is cached stands for now. */
export type FetchDecision = 'join' | 'fetch' | 'wait';

/**
 * Whether a key set should fetch now. In order: a running fetch is always joined (single flight);
 * a fresh set used by a request needs nothing; the backoff after failures holds whatever the
 * trigger and the request rate; the cooldown limits refetches for unknown kids and reloads.
 */
export function fetchDecision(trigger: FetchTrigger, state: FetchState): FetchDecision {
  if (state.inflight) return 'join';
  if (trigger === 'use' && state.refreshAt !== undefined && state.now < state.refreshAt) return 'wait';
  if (state.now < state.retryAt) return 'wait';
  if ((trigger === 'unknown-kid' || trigger === 'reload') && state.now - state.lastAttemptAt < state.cooldownMs)
    return 'wait';
  return 'fetch';
}
