/**
 * Verified-token cache: a token string that passed every check once is recognised on later
 * requests without another key lookup or signature verification (the ECDSA check dominates the
 * cost of an authenticated request).
 *
 * Why this is safe:
 * - A hit needs the exact token string: the entry keeps the whole token and compares it. Any change
 *   to header, payload or signature is another string and misses; a miss falls through to full
 *   verification, so a forged or altered token can never be "found".
 * - Only tokens that passed signature, claim and revocation checks are stored. A token that fails
 *   is never stored, so garbage, forgeries, unknown kids and expired tokens cannot occupy entries
 *   and so cannot evict good ones. Only other valid tokens can, and only at the LRU rate.
 * - A lookup that finds another token under the same lookup key (see `lookupKey`) is a miss: a
 *   crafted collision costs its sender a full verification and removes nothing.
 * - An entry lives no longer than its token: it expires at `exp` plus the clock tolerance on the
 *   verifier's clock, is never returned after that, and expired entries are swept out regularly.
 * - A hit is not a free pass: the verifier checks `exp`, `nbf` and `iat` against the current time
 *   and asks `isRevoked` again on every hit. A revoked token stays cached on purpose, so that
 *   replaying it costs a lookup, not a signature check.
 * - An entry remembers the key that verified it, and a hit counts only while that key is still in
 *   the issuer's key set: when a leaked key is removed, every token it signed stops at the next
 *   refresh of the set, cached or not. The check is a set lookup, not a signature.
 * - Memory is bounded twice: by entry count (`maxEntries`) and by an estimate of the bytes each
 *   entry holds, so a few very large valid tokens cannot use more memory than many small ones.
 * - Cached claims are shared by every request presenting the token, so the verifier freezes them.
 */
import { LRUCache } from 'lru-cache';
import type { AccessTokenClaims } from './claims';

/** Tokens longer than this are verified every time instead of being cached. */
export const MAX_CACHED_TOKEN_LENGTH = 4096;

/**
 * Byte budget per entry. An entry holds the token string (one byte per character), the decoded
 * claims (roughly twice the JSON of the payload, about one and a half times the token) and its own
 * bookkeeping; an access token of about 800 characters comes to about 3 KiB.
 */
const BYTES_PER_ENTRY = 3072;
const ENTRY_OVERHEAD_BYTES = 512;

/** Expired entries are swept out in bulk at most this often, so they never pile up unseen. */
const SWEEP_INTERVAL_MS = 60_000;

/**
 * Characters at the end of the token used as the map key. The end of a JWS is its signature:
 * unpredictable to anyone but the signer, so keys spread evenly, and hashing 32 characters is much
 * cheaper than hashing the whole token, which a map does for every lookup of a fresh string.
 */
const KEY_CHARS = 32;

function lookupKey(token: string): string {
  return token.length > KEY_CHARS ? token.slice(-KEY_CHARS) : token;
}

export interface CacheEntry {
  readonly token: string;
  readonly claims: AccessTokenClaims;
  /** The key whose signature check admitted the token. */
  readonly key: CryptoKey;
  /** Epoch ms on the verifier's clock from which the entry is dead. */
  readonly expiresAt: number;
}

/** A bounded LRU map from verified token to its frozen claims. */
export class VerifiedTokenCache {
  private readonly lru: LRUCache<string, CacheEntry>;
  private nextSweepAt = 0;

  /**
   * @param maxEntries most tokens kept at once
   * @param now the verifier's clock (epoch ms), so expiry here and claim checks agree
   */
  constructor(
    maxEntries: number,
    private readonly now: () => number,
  ) {
    this.lru = new LRUCache<string, CacheEntry>({
      max: maxEntries,
      maxSize: maxEntries * BYTES_PER_ENTRY,
      sizeCalculation: (entry) => ENTRY_OVERHEAD_BYTES + entry.token.length * 3,
    });
  }

  /** The entry of `token` if it was verified and is not past its expiry at `nowMs`; undefined otherwise. */
  get(token: string, nowMs: number = this.now()): CacheEntry | undefined {
    const key = lookupKey(token);
    const entry = this.lru.get(key);
    if (entry === undefined || entry.token !== token) return undefined;
    if (nowMs >= entry.expiresAt) {
      this.lru.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Forgets `token` (its key has left the key set). */
  delete(token: string): void {
    const key = lookupKey(token);
    if (this.lru.peek(key)?.token === token) this.lru.delete(key);
  }

  /** Stores a token verified by `key` until `untilMs` (epoch ms): its expiry plus the clock tolerance. */
  set(token: string, claims: AccessTokenClaims, key: CryptoKey, untilMs: number): void {
    const nowMs = this.now();
    if (!(untilMs > nowMs) || token.length > MAX_CACHED_TOKEN_LENGTH) return;
    if (nowMs >= this.nextSweepAt) {
      this.nextSweepAt = nowMs + SWEEP_INTERVAL_MS;
      this.sweep(nowMs);
    }
    this.lru.set(lookupKey(token), { token, claims, key, expiresAt: untilMs });
  }

  private sweep(nowMs: number): void {
    const expired: string[] = [];
    for (const [key, entry] of this.lru.entries()) if (nowMs >= entry.expiresAt) expired.push(key);
    for (const key of expired) this.lru.delete(key);
  }
}
