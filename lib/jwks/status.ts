/**
 * Key-set health for readiness probes and dashboards: `gate.keySet.status()` (cheap, synchronous)
 * and `gate.keySet.reload()` (refetch now, within the cooldown).
 */
import type { VerificationKey } from './parse';

/** What a key set reports about itself. Times are epoch milliseconds. */
export interface KeySetStatus {
  /**
   * `fresh`: keys within their freshness lifetime. `stale`: keys past it, still served (a refresh
   * is due or failing, within `staleIfErrorMs`). `failing`: no usable key and the last fetch
   * failed: tokens are answered 503. `empty`: nothing fetched yet (the first token fetches).
   */
  state: 'fresh' | 'stale' | 'failing' | 'empty';
  /** `jwks` for a fetched set, `static` for `keys` given in the options. */
  source: 'jwks' | 'static';
  /** The JWKS URL (`jwks` only). */
  uri?: string;
  /** The `kid`s of the usable keys, in the set's order (keys without `kid` are counted in `keys`). */
  keyIds: string[];
  /** How many usable keys are held. */
  keys: number;
  /** When the held keys were fetched. */
  lastFetchAt?: number;
  /** The most recent failed fetch, kept after a later success (compare `at` with `lastFetchAt`). */
  lastError?: { message: string; at: number };
  /** Failed fetches in a row (0 after a success). */
  failures: number;
  /** When the next fetch may start: the refresh point of fresh keys, or the end of the backoff. */
  nextRefreshAt?: number;
}

/** The part of a key set that probes and operators use: `gate.keySet`. */
export interface KeySetControl {
  /** The set's health now; cheap and synchronous. */
  status(): KeySetStatus;
  /**
   * Fetches the set now unless one was fetched less than `jwks.cooldownMs` ago or a failure's
   * backoff is running; resolves to the status afterwards and never rejects.
   */
  reload(): Promise<KeySetStatus>;
}

/** The internals of a remote set that its status is made of (times on the set's own clock). */
export interface RemoteState {
  uri: string;
  keys: readonly VerificationKey[] | undefined;
  fetchedAt: number | undefined;
  refreshAt: number | undefined;
  freshUntil: number | undefined;
  usableUntil: number | undefined;
  failures: number;
  retryAt: number;
  lastError: { message: string; at: number } | undefined;
}

export function keyIdsOf(keys: readonly VerificationKey[]): string[] {
  const ids: string[] = [];
  for (const key of keys) if (key.kid !== undefined && !ids.includes(key.kid)) ids.push(key.kid);
  return ids;
}

/**
 * Builds the status of a remote set. The set runs on a monotonic clock (`now`); its times are
 * translated to epoch milliseconds here, once per call.
 */
export function remoteStatus(now: number, state: RemoteState): KeySetStatus {
  const wall = Date.now();
  const at = (t: number): number => Math.round(wall + (t - now));
  const usable = state.keys !== undefined && state.usableUntil !== undefined && now < state.usableUntil;
  const keys = usable ? state.keys! : [];
  let kind: KeySetStatus['state'];
  if (usable) kind = now < state.freshUntil! ? 'fresh' : 'stale';
  else kind = state.failures > 0 ? 'failing' : 'empty';
  const status: KeySetStatus = {
    state: kind,
    source: 'jwks',
    uri: state.uri,
    keyIds: keyIdsOf(keys),
    keys: keys.length,
    failures: state.failures,
  };
  if (usable) status.lastFetchAt = at(state.fetchedAt!);
  if (state.lastError) status.lastError = { message: state.lastError.message, at: at(state.lastError.at) };
  if (state.failures > 0) status.nextRefreshAt = at(state.retryAt);
  else if (usable) status.nextRefreshAt = at(state.refreshAt!);
  return status;
}
