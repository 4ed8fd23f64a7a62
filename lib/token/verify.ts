/**
 * Token verification: pre-checks, verified-token cache, key lookup, signature (signature.ts), claim
 * rules, revocation.
 * Knows nothing about HTTP: `context` is passed through to `isRevoked` untouched.
 */
import { InvalidTokenError } from '../errors';
import type { ResolvedOptions } from '../options';
import type { KeyResolver } from '../jwks/key-set';
import { checkTokenSize, decodePayload, precheckJws, type PrecheckedJws } from './precheck';
import { verifySignature, type JwsSegments } from './signature';
import { normaliseClaims, type AccessTokenClaims } from './claims';
import { VerifiedTokenCache } from './cache';

export type VerifierOptions = Pick<
  ResolvedOptions,
  'audience' | 'issuer' | 'algorithms' | 'clockTolerance' | 'maxTokenLifetime' | 'typ' | 'isRevoked' | 'cacheMaxEntries'
>;

export class TokenVerifier {
  private readonly cache: VerifiedTokenCache | undefined;
  /** Checks under way, by token; entries live only while their check runs. */
  private readonly inflight = new Map<string, Promise<AccessTokenClaims>>();

  constructor(
    private readonly options: VerifierOptions,
    private readonly keys: KeyResolver,
    private readonly now: () => number = Date.now,
  ) {
    this.cache = options.cacheMaxEntries > 0 ? new VerifiedTokenCache(options.cacheMaxEntries, now) : undefined;
  }

  /** Verifies `token` and returns its normalised claims; throws a `TokenGateError` otherwise. */
  async verify(token: string, context?: unknown): Promise<AccessTokenClaims> {
    if (typeof token !== 'string') throw new InvalidTokenError('token_malformed', 'The token is not a string');
    return this.verifyCached(token, context) ?? this.verifyUncached(token, context);
  }

  /**
   * The cache-hit path, synchronous whenever it can be: the claims of a cached token that is still
   * in time (and not revoked, when `isRevoked` answers synchronously); a Promise when `isRevoked`
   * answers asynchronously; undefined on a miss (then call `verifyUncached`). Throws a
   * `TokenGateError` when a cached token is now expired, not yet valid or revoked.
   */
  verifyCached(token: string, context?: unknown): AccessTokenClaims | Promise<AccessTokenClaims> | undefined {
    if (this.cache === undefined) return undefined;
    // The size cap comes before the cache too: an oversized token is refused without a lookup.
    checkTokenSize(token);
    const nowMs = this.now();
    const claims = this.cache.get(token, nowMs);
    if (claims === undefined) return undefined;
    this.checkTime(claims, nowMs / 1000);
    return this.options.isRevoked === undefined ? claims : this.revocationOf(claims, context);
  }

  /**
   * Full verification (pre-checks, key, signature, claims, revocation); caches the token on success.
   * The pre-checks run synchronously and throw: garbage and unknown kids are refused without a
   * Promise, a map entry or a key lookup. Whatever needs waiting rejects the returned Promise.
   */
  verifyUncached(token: string, context?: unknown): Promise<AccessTokenClaims> {
    // Requests that arrive together with the same new token share one signature check.
    let checked = this.inflight.get(token);
    if (checked === undefined) {
      const jws = precheckJws(token, this.options);
      // A kid the key set already knows to be absent is rejected without a key lookup.
      if (this.keys.hasKid?.(jws.header.kid) === false) {
        throw new InvalidTokenError('key_not_found', 'No key in the issuer key set matches the token');
      }
      checked = this.checkSigned(jws).finally(() => this.inflight.delete(token));
      this.inflight.set(token, checked);
    }
    return this.admit(token, checked, context);
  }

  /** Revocation for this request's `context`, then the cache: only after every check passed. */
  private async admit(token: string, checked: Promise<AccessTokenClaims>, context: unknown): Promise<AccessTokenClaims> {
    const claims = await checked;
    if (this.options.isRevoked) await this.revocationOf(claims, context);
    this.cache?.set(token, claims, (claims.exp + this.options.clockTolerance) * 1000);
    return claims;
  }

  /** Key, signature and claims of a prechecked token: all but revocation, which depends on `context`. */
  private async checkSigned(jws: PrecheckedJws): Promise<AccessTokenClaims> {
    const { header, segments } = jws;
    await this.checkSignature(segments, await this.keys.getKeys(header.alg, header.kid), header.alg);
    // The payload is read only once the signature holds: a forgery's claims are never parsed.
    // Frozen: the same claims object may serve many requests through the cache.
    const claims = deepFreeze(normaliseClaims(decodePayload(jws)));
    const nowSeconds = this.now() / 1000;
    this.checkIdentity(claims);
    this.checkTime(claims, nowSeconds);
    return claims;
  }

  private checkIdentity(claims: AccessTokenClaims): void {
    if (!this.options.issuer.includes(claims.iss)) {
      throw new InvalidTokenError('issuer_mismatch', 'The token was issued by another issuer');
    }
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.some((a) => this.options.audience.includes(a))) {
      throw new InvalidTokenError('audience_mismatch', 'The token is meant for another audience');
    }
  }

  private checkTime(claims: AccessTokenClaims, now: number): void {
    const { clockTolerance: skew, maxTokenLifetime } = this.options;
    if (claims.exp + skew <= now) throw new InvalidTokenError('token_expired', 'The token has expired');
    if (claims.nbf !== undefined && claims.nbf - skew > now) {
      throw new InvalidTokenError('token_not_yet_valid', 'The token is not valid yet');
    }
    if (claims.iat !== undefined && claims.iat - skew > now) {
      throw new InvalidTokenError('token_issued_in_future', 'The token was issued in the future');
    }
    if (claims.exp - (claims.iat ?? now) > maxTokenLifetime + (claims.iat === undefined ? skew : 0)) {
      throw new InvalidTokenError('token_lifetime_exceeded', 'The token lives longer than allowed');
    }
  }

  /** One candidate key normally; with several, the first that verifies decides (see key-set.ts). */
  private async checkSignature(segments: JwsSegments, keys: readonly CryptoKey[], alg: string): Promise<void> {
    let failure: unknown;
    for (const key of keys) {
      try {
        await verifySignature(segments, key, this.options.algorithms, alg);
        return;
      } catch (error) {
        failure = error;
      }
    }
    throw failure;
  }

  /** Asks `isRevoked` once; stays synchronous when it answers synchronously. */
  private revocationOf(claims: AccessTokenClaims, context: unknown): AccessTokenClaims | Promise<AccessTokenClaims> {
    // A synchronous throw propagates to the caller as it is (fail closed), like a rejection does.
    const answer = this.options.isRevoked!(claims, context);
    if (isThenable(answer)) {
      return Promise.resolve(answer).then((revoked) => {
        if (revoked) throw new InvalidTokenError('token_revoked', 'The token has been revoked');
        return claims;
      });
    }
    if (answer) throw new InvalidTokenError('token_revoked', 'The token has been revoked');
    return claims;
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
