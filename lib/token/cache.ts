/**
 * Verified-token cache: a token string that passed every check once is recognised on later
 * requests without another key lookup or signature verification. Behaviour as users see it:
 * docs/api.md, "How it works" (item 3), and the `cache` option in docs/options.md.
 *
 * Invariants that keep it safe:
 * - A hit needs the exact token string (the entry keeps and compares it); a lookup-key collision
 *   is a miss. Only tokens that passed every check are stored, so failures never evict entries.
 * - An entry never outlives its token (`exp` plus the clock tolerance), and a hit is no free pass:
 *   the verifier re-checks time claims, revocation and that the entry's key is still current.
 * - Memory is bounded by entry count and by an estimate of each entry's bytes.
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
