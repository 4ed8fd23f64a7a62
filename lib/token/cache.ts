/**
 * Verified-token cache. A token string that passed signature and claim checks once is recognised
 * later without another ECDSA verification.
 *
 * Why this is safe:
 * - The key is the exact token string. Any change to header, payload or signature is a different
 *   string and misses; a miss falls through to full verification, so a forgery can never be "found".
 * - Only tokens that passed every check are stored; failures are never cached, so garbage cannot
 *   occupy entries at all, and cannot evict good ones.
 * - An entry lives no longer than the token (`ttl` ends at `exp` + tolerance), and time claims and
 *   revocation are checked again on every hit by the verifier.
 * - Entries are bounded by count and by total characters, so memory stays bounded whatever arrives.
 */
import { LRUCache } from 'lru-cache';
import type { AccessTokenClaims } from './claims';

const MAX_CACHED_CHARS_PER_ENTRY = 4096;

export class VerifiedTokenCache {
  private readonly lru: LRUCache<string, AccessTokenClaims>;

  constructor(maxEntries: number) {
    this.lru = new LRUCache<string, AccessTokenClaims>({
      max: maxEntries,
      maxSize: maxEntries * MAX_CACHED_CHARS_PER_ENTRY,
      sizeCalculation: (_claims, token) => Math.max(1, token.length),
      ttlAutopurge: false,
    });
  }

  get(token: string): AccessTokenClaims | undefined {
    return this.lru.get(token);
  }

  /** Stores a verified token until `untilMs` (epoch ms), its expiry plus tolerance. */
  set(token: string, claims: AccessTokenClaims, nowMs: number, untilMs: number): void {
    const ttl = Math.floor(untilMs - nowMs);
    if (ttl <= 0 || token.length > MAX_CACHED_CHARS_PER_ENTRY) return;
    this.lru.set(token, claims, { ttl });
  }

  get size(): number {
    return this.lru.size;
  }
}
