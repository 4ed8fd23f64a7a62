/**
 * The default revocation store: a bounded map in this process. Right for one instance; with
 * several behind a load balancer a logout must reach all of them, which takes a shared store
 * (`express-token-gate/redis`).
 */
import { LRUCache } from 'lru-cache';
import { OptionsError, rejectUnknownKeys } from '../errors';
import type { RevocationStore } from './store';

export interface MemoryRevocationStoreOptions {
  /** Most revocations kept at once. Default 100000. */
  maxEntries?: number;
}

/** A memory store: `size` is there for monitoring. */
export interface MemoryRevocationStore extends RevocationStore {
  /** Revocations held now (expired ones leave at the next sweep or lookup). */
  readonly size: number;
}

/**
 * A revocation store in this process's memory: bounded (`maxEntries`), each entry dropped by a timer
 * once its token has expired. A live revocation is never dropped to make room: when full, `add`
 * rejects (the list's `revoke` then rejects with `RevocationUnavailableError`) until entries
 * expire. Size `maxEntries` above the number of logouts within one token lifetime.
 *
 * @example createRevocationList({ store: memoryRevocationStore({ maxEntries: 50_000 }) })
 */
export function memoryRevocationStore(options: MemoryRevocationStoreOptions = {}): MemoryRevocationStore {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new OptionsError('options', 'must be an object');
  }
  rejectUnknownKeys(options, ['maxEntries']);
  const maxEntries = options.maxEntries ?? 100_000;
  if (typeof maxEntries !== 'number' || !Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new OptionsError('maxEntries', 'must be a whole number, 1 or more');
  }
  // ttlAutopurge: an (unref'd) timer drops each entry at its expiry. ttlResolution 0: a lookup
  // reads the clock itself instead of arming a timer to cache it. `max` is never reached by a set:
  // add refuses a new entry first, so the LRU never evicts a live revocation.
  const entries = new LRUCache<string, true>({ max: maxEntries, ttlAutopurge: true, ttlResolution: 0 });

  return {
    async add(id, expiresAt) {
      const ttl = Math.ceil(expiresAt - Date.now());
      if (!(ttl > 0)) return;
      if (!entries.has(id) && entries.size >= maxEntries) {
        entries.purgeStale();
        if (entries.size >= maxEntries) {
          throw new Error(
            `memory revocation store is full (maxEntries ${maxEntries}): a revocation is never dropped to make room`,
          );
        }
      }
      if (ttl > entries.getRemainingTTL(id)) entries.set(id, true, { ttl });
    },
    has(id) {
      return entries.get(id) === true;
    },
    async close() {
      entries.clear();
    },
    get size() {
      return entries.size;
    },
  };
}
