/**
 * The `RevocationStore` port: where a revocation list keeps the identities of revoked tokens.
 * Adapters live in their own files (`memory.ts`, `redis.ts`); the list never imports one but the
 * default memory store. Write your own for another database: four small methods.
 */

/**
 * A store of revoked token identities.
 *
 * - `id` is an opaque string of at most about 310 characters (`iss:<digest>|tid:…`,
 *   `iss:<digest>|sha256:…`, `iss:<digest>|sid:…`).
 * - `expiresAt` is epoch milliseconds: the token's `exp` plus the clock tolerance (for a session,
 *   the latest time a token of it could still be accepted). After it the token is refused as
 *   expired anyway, so the store should forget the entry then.
 * - A failure (unreachable, too slow, full, closed) is a thrown error or a rejection; the list turns
 *   it into its `onStoreError` policy. The list bounds every call by its `timeoutMs` too: a call
 *   that has not settled by then counts as a failure.
 */
export interface RevocationStore {
  /** Records `id` as revoked until `expiresAt`. Resolves once the revocation is durable for every reader. */
  add(id: string, expiresAt: number): Promise<void>;
  /**
   * Whether `id` is revoked. Answers synchronously when it knows without waiting (a memory
   * store, a local cache hit), so the gate's hot path stays free of Promises. `expiresAt` tells
   * how long a "revoked" answer stays true.
   */
  has(id: string, expiresAt: number): boolean | Promise<boolean>;
  /** Releases connections and timers; later calls may fail. */
  close(): Promise<void>;
}

/** True for an object with the port's methods. */
export function isRevocationStore(value: unknown): value is RevocationStore {
  if (typeof value !== 'object' || value === null) return false;
  const store = value as Record<string, unknown>;
  return typeof store.add === 'function' && typeof store.has === 'function' && typeof store.close === 'function';
}
