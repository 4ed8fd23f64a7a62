/**
 * 503 answers: a service the decision depends on (the key set, the revocation store, the
 * ownership resolver, the issuer's store) cannot answer right now. No challenge, a `Retry-After` instead.
 */
import type { UnavailableReason } from './reasons';
import { TokenGateError } from './token-gate-error';

/** What every 503 shares: whole seconds to wait (at least 1), and why, for the logs only. */
abstract class UnavailableError extends TokenGateError {
  declare readonly reason: UnavailableReason;
  readonly retryAfter: number;

  /**
   * @param cause why the service failed (e.g. `fetch failed (ENOTFOUND)`), for logs: kept on
   *   `err.cause` as `new Error(message, { cause })` keeps it, never sent to the client.
   */
  protected constructor(reason: UnavailableReason, description: string, retryAfterSeconds: number, cause?: unknown) {
    super(503, 'temporarily_unavailable', reason, description);
    this.retryAfter = Math.max(1, Math.ceil(retryAfterSeconds));
    if (cause !== undefined) Object.defineProperty(this, 'cause', { value: cause, configurable: true, writable: true });
  }

  override get headers(): Record<string, string> {
    return { 'Retry-After': String(this.retryAfter) };
  }
}

/** 503: no usable key is known and the key set cannot be fetched right now. */
export class KeySetUnavailableError extends UnavailableError {
  override name = 'KeySetUnavailableError';
  declare readonly reason: 'jwks_unavailable';
  constructor(description: string, retryAfterSeconds: number, cause?: unknown) {
    super('jwks_unavailable', description, retryAfterSeconds, cause);
  }
}

/** 503: the revocation list cannot be consulted (or updated) right now and its policy is to deny. */
export class RevocationUnavailableError extends UnavailableError {
  override name = 'RevocationUnavailableError';
  declare readonly reason: 'revocation_unavailable';
  constructor(description: string, retryAfterSeconds: number, cause?: unknown) {
    super('revocation_unavailable', description, retryAfterSeconds, cause);
  }
}

/** 503: `revalidate` could not learn the wallet's current holdings and its policy is `'deny'`. */
export class OwnershipUnavailableError extends UnavailableError {
  override name = 'OwnershipUnavailableError';
  declare readonly reason: 'ownership_unavailable';
  constructor(description: string, retryAfterSeconds: number, cause?: unknown) {
    super('ownership_unavailable', description, retryAfterSeconds, cause);
  }
}

/**
 * 503: the issuer's store (nonces, sessions, rate counters) cannot answer right now: Redis is
 * unreachable, too slow or closed, or a memory store is full of live entries.
 */
export class IssuerStoreUnavailableError extends UnavailableError {
  override name = 'IssuerStoreUnavailableError';
  declare readonly reason: 'issuer_store_unavailable';
  constructor(description: string, retryAfterSeconds: number, cause?: unknown) {
    super('issuer_store_unavailable', description, retryAfterSeconds, cause);
  }
}
