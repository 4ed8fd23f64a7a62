/**
 * Token verification: pre-checks, verified-token cache, issuer choice, key lookup, signature
 * (signature.ts), claim rules, revocation.
 * Knows nothing about HTTP: `context` is passed through to `isRevoked` untouched.
 */
import { InvalidTokenError } from '../errors';
import type { VerifierOptions } from './options';
import type { KeyResolver } from '../jwks/key-set';
import { checkTokenSize, decodePayload, precheckJws, rememberHeader, type PrecheckedToken } from './precheck';
import { verifySignature, type JwsSegments } from './signature';
import { normaliseClaims, type AccessTokenClaims } from './claims';
import { VerifiedTokenCache } from './cache';
import { markVerified } from './identity';
import { IssuerDirectory, singleIssuer, type IssuerTrust } from './issuers';
import { cacheChannel } from '../diagnostics';

/** A token whose signature and claims passed, and the key that verified it. */
interface Signed {
  claims: AccessTokenClaims;
  key: CryptoKey;
}

/** Characters at the end of a token that key the checks under way (see `verifyUncached`). */
const INFLIGHT_KEY_CHARS = 32;

export class TokenVerifier {
  private readonly cache: VerifiedTokenCache | undefined;
  /** Checks under way, by the token's last characters; entries live only while their check runs. */
  private readonly inflight = new Map<string, { token: string; checked: Promise<Signed> }>();
  private readonly issuers: IssuerDirectory;

  /**
   * @param keys the key set of every issuer in `options.issuer` (audiences from `options`), or a
   *   directory of issuers with their own audiences and key sets.
   */
  constructor(
    private readonly options: VerifierOptions,
    keys: KeyResolver | IssuerDirectory,
    private readonly now: () => number = Date.now,
  ) {
    this.issuers = keys instanceof IssuerDirectory ? keys : singleIssuer(options.issuer, options.audience, keys);
    this.cache = options.cacheMaxEntries > 0 ? new VerifiedTokenCache(options.cacheMaxEntries, now) : undefined;
  }

  /** Verifies `token` and returns its normalised claims; rejects with a `TokenGateError` otherwise. */
  verify(token: string, context?: unknown): Promise<AccessTokenClaims> {
    try {
      if (typeof token !== 'string') throw new InvalidTokenError('token_malformed', 'The token is not a string');
      return Promise.resolve(this.verifyCached(token, context) ?? this.verifyUncached(token, context));
    } catch (error) {
      return Promise.reject(error);
    }
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
    const entry = this.cache.get(token, nowMs);
    if (cacheChannel.hasSubscribers) cacheChannel.publish({ hit: entry !== undefined });
    if (entry === undefined) return undefined;
    // The key that admitted the token must still be the issuer's: a removed key takes its tokens along.
    if (!this.issuers.isCurrent(entry.key)) {
      this.cache.delete(token);
      return undefined;
    }
    const { claims } = entry;
    this.checkTime(claims, nowMs / 1000);
    return this.options.isRevoked === undefined ? claims : this.revocationOf(claims, context);
  }

  /**
   * Full verification (pre-checks, key, signature, claims, revocation); caches the token on success.
   * The pre-checks run synchronously and throw: garbage and unknown kids are refused without a
   * Promise, a map entry or a key lookup. Whatever needs waiting rejects the returned Promise.
   */
  verifyUncached(token: string, context?: unknown): Promise<AccessTokenClaims> {
    const jws = precheckJws(token, this.options);
    // A kid every key set already knows to be absent is rejected before the payload is even
    // read: parsing it could only pick a set that refuses the kid anyway.
    if (this.issuers.refusesKid(jws.header.kid)) throw keyNotFound();
    // Requests that arrive together with the same new token share one signature check. Looked up
    // by the token's last characters (its signature), like the cache, and confirmed on the whole
    // token: hashing a short key costs less than hashing the token.
    const inflightKey = token.slice(-INFLIGHT_KEY_CHARS);
    const running = this.inflight.get(inflightKey);
    if (running !== undefined && running.token === token) return this.admit(token, running.checked, context);
    const payload = decodePayload(jws);
    // The issuer the payload names picks the key set, before any key work: an unknown iss is
    // refused without a fetch, and a token is never checked against another issuer's keys.
    const trust = this.issuers.trustFor(payload.iss);
    if (this.issuers.several && trust.keys.hasKid?.(jws.header.kid) === false) throw keyNotFound();
    const checked = this.checkSigned(
      { ...jws, payload },
      trust,
      token,
      running === undefined ? inflightKey : undefined,
    );
    // A different token under the same key (a forged twin) runs its own check, unshared.
    if (running === undefined) this.inflight.set(inflightKey, { token, checked });
    return this.admit(token, checked, context);
  }

  /**
   * Every check but revocation, and nothing cached: how a revocation list verifies a token it is
   * asked to revoke (a revoked token must still be revocable, and a token revoked on sight must
   * not be cached as good).
   */
  async check(token: string): Promise<AccessTokenClaims> {
    if (typeof token !== 'string') throw new InvalidTokenError('token_malformed', 'The token is not a string');
    const jws = precheckJws(token, this.options);
    const payload = decodePayload(jws);
    const trust = this.issuers.trustFor(payload.iss);
    return (await this.checkSigned({ ...jws, payload }, trust, token)).claims;
  }

  /** Revocation for this request's `context`, then the cache: only after every check passed. */
  private admit(token: string, checked: Promise<Signed>, context: unknown): Promise<AccessTokenClaims> {
    return checked.then(({ claims, key }) => {
      const answer = this.options.isRevoked === undefined ? claims : this.revocationOf(claims, context);
      if (answer instanceof Promise) return answer.then(() => this.store(token, claims, key));
      return this.store(token, claims, key);
    });
  }

  private store(token: string, claims: AccessTokenClaims, key: CryptoKey): AccessTokenClaims {
    this.cache?.set(token, claims, key, (claims.exp + this.options.clockTolerance) * 1000);
    return claims;
  }

  /**
   * Key, signature and claims of a prechecked token: all but revocation, which depends on `context`.
   * One Promise chain, without async functions around it: a new token's check is a handful of
   * Promises, each a turn of the microtask queue.
   */
  private checkSigned(
    { header, segments, payload }: PrecheckedToken,
    trust: IssuerTrust,
    token: string,
    inflightKey?: string,
  ): Promise<Signed> {
    let signed: Promise<Signed>;
    try {
      // The cached keys without a Promise when they hold the token's kid.
      const keys = trust.keys.keysNow?.(header.alg, header.kid);
      const key =
        keys !== undefined
          ? this.checkSignature(segments, keys, header.alg)
          : trust.keys
              .getKeys(header.alg, header.kid)
              .then((found) => this.checkSignature(segments, found, header.alg));
      signed = key.then((verifiedBy) => this.claimsOf(header, segments, payload, trust, token, verifiedBy));
    } catch (error) {
      signed = Promise.reject(error);
    }
    // The check is shared only while it runs: a side branch forgets it, whatever the outcome,
    // without a second Promise in the caller's chain or a rethrown error.
    if (inflightKey !== undefined) {
      const forget = (): void => {
        this.inflight.delete(inflightKey);
      };
      signed.then(forget, forget);
    }
    return signed;
  }

  /** The claims of a token whose signature `key` verified, after every claim rule. */
  private claimsOf(
    header: PrecheckedToken['header'],
    segments: JwsSegments,
    payload: Record<string, unknown>,
    trust: IssuerTrust,
    token: string,
    key: CryptoKey,
  ): Signed {
    rememberHeader(segments.protected, header);
    // Frozen: the same claims object may serve many requests through the cache.
    const claims = deepFreeze(normaliseClaims(payload, this.options.wallet));
    const nowSeconds = this.now() / 1000;
    this.checkIdentity(claims, trust);
    this.checkTime(claims, nowSeconds);
    // Only now, every check passed: a revocation list takes these claims as verified.
    // The token stays known to the claims (out of sight) so a revocation list can name it without a `tid`.
    return { claims: markVerified(claims, token), key };
  }

  private checkIdentity(claims: AccessTokenClaims, trust: IssuerTrust): void {
    if (this.issuers.trustFor(claims.iss) !== trust) {
      throw new InvalidTokenError('issuer_mismatch', 'The token was issued by another issuer');
    }
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.some((a) => trust.audience.includes(a))) {
      throw new InvalidTokenError('audience_mismatch', 'The token is meant for another audience');
    }
    const { subject } = this.options;
    if (subject !== undefined) {
      if (claims.sub === undefined) throw new InvalidTokenError('claim_invalid', 'The token has no sub claim');
      if (!subject.includes(claims.sub))
        throw new InvalidTokenError('subject_mismatch', 'The token is about another subject');
    }
  }

  private checkTime(claims: AccessTokenClaims, now: number): void {
    const { clockTolerance: skew, maxTokenLifetime } = this.options;
    if (claims.exp + skew <= now) throw new InvalidTokenError('token_expired', 'The token has expired');
    if (claims.nbf !== undefined && claims.nbf - skew > now) {
      throw new InvalidTokenError('token_not_yet_valid', 'The token is not valid yet');
    }
    // Inclusive: `iat` may equal now + clockTolerance. With clockTolerance 0 an exclusive bound
    // would refuse a token stamped in the current second whenever the clock stands on a whole second.
    if (claims.iat !== undefined && claims.iat - skew > now) {
      throw new InvalidTokenError('token_issued_in_future', 'The token was issued in the future');
    }
    if (claims.exp - (claims.iat ?? now) > maxTokenLifetime + (claims.iat === undefined ? skew : 0)) {
      throw new InvalidTokenError('token_lifetime_exceeded', 'The token lives longer than allowed');
    }
    const { maxTokenAge } = this.options;
    if (maxTokenAge !== undefined) {
      if (claims.iat === undefined) throw new InvalidTokenError('claim_invalid', 'The token has no iat claim');
      if (now - claims.iat > maxTokenAge + skew)
        throw new InvalidTokenError('token_too_old', 'The token was issued too long ago');
    }
  }

  /** One candidate key normally; with several, the first that verifies decides (see key-set.ts). Returns it. */
  private checkSignature(segments: JwsSegments, keys: readonly CryptoKey[], alg: string): Promise<CryptoKey> {
    if (keys.length === 1) {
      const key = keys[0]!;
      return verifySignature(segments, key, this.options.algorithms, alg).then(() => key);
    }
    return this.firstVerifying(segments, keys, alg);
  }

  private async firstVerifying(segments: JwsSegments, keys: readonly CryptoKey[], alg: string): Promise<CryptoKey> {
    let failure: unknown;
    for (const key of keys) {
      try {
        await verifySignature(segments, key, this.options.algorithms, alg);
        return key;
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

function keyNotFound(): InvalidTokenError {
  return new InvalidTokenError('key_not_found', 'No key in the issuer key set matches the token');
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
