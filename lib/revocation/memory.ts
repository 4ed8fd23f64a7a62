/**
 * The default revocation store: a bounded map in this process. Right for one instance; with
 * several behind a load balancer a logout must reach all of them, which takes a shared store
 * (`express-token-gate/redis`).
 */
import { LRUCache } from 'lru-cache';
import { OptionsError } from '../errors';
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

/** Expired entries are swept out in bulk at most this often, and whenever the store is full. */
const SWEEP_INTERVAL_MS = 60_000;

/**
 * A revocation store in this process's memory: bounded (`maxEntries`), each entry dropped once its
 * token has expired. When full of live entries, the least recently checked revocation gives way:
 * size `maxEntries` above the number of logouts within one token lifetime.
 *
 * @example createRevocationList({ store: memoryRevocationStore({ maxEntries: 50_000 }) })
 */
export function memoryRevocationStore(options: MemoryRevocationStoreOptions = {}): MemoryRevocationStore {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new OptionsError('options', 'must be an object');
  }
  for (const key of Object.keys(options)) {
    if (key !== 'maxEntries') throw new OptionsError(key, 'is not a known option');
  }
  const maxEntries = options.maxEntries ?? 100_000;
  if (typeof maxEntries !== 'number' || !Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new OptionsError('maxEntries', 'must be a whole number, 1 or more');
  }
  // id → expiresAt (epoch ms)
  const entries = new LRUCache<string, number>({ max: maxEntries });
  let nextSweepAt = 0;

  function sweep(now: number): void {
    nextSweepAt = now + SWEEP_INTERVAL_MS;
    const expired: string[] = [];
    for (const [id, expiresAt] of entries.entries()) if (expiresAt <= now) expired.push(id);
    for (const id of expired) entries.delete(id);
  }

  return {
    async add(id, expiresAt) {
      const now = Date.now();
      if (!(expiresAt > now)) return;
      // Before a live revocation would be pushed out, make room from the expired ones.
      if (now >= nextSweepAt || (entries.size >= maxEntries && !entries.has(id))) sweep(now);
      entries.set(id, Math.max(expiresAt, entries.get(id) ?? 0));
    },
    has(id) {
      const expiresAt = entries.get(id);
      if (expiresAt === undefined) return false;
      if (expiresAt > Date.now()) return true;
      entries.delete(id);
      return false;
    },
    async close() {
      entries.clear();
    },
    get size() {
      return entries.size;
    },
  };
}
