/**
 * 503 answers: a service the decision depends on (the key set, the revocation store, the
 * ownership resolver) cannot answer right now. No challenge, a `Retry-After` instead.
 */
import { TokenGateError } from './token-gate-error';

/** Whole seconds, at least 1, for `Retry-After`. */
function retrySeconds(seconds: number): number {
  return Math.max(1, Math.ceil(seconds));
}

/** 503: no usable key is known and the key set cannot be fetched right now. */
export class KeySetUnavailableError extends TokenGateError {
  override name = 'KeySetUnavailableError';
  declare readonly reason: 'jwks_unavailable';
  readonly retryAfter: number;
  /**
   * @param cause why the last fetch failed (e.g. `fetch failed (ENOTFOUND)`), for logs: kept on
   *   `err.cause`, never sent to the client.
   */
  constructor(description: string, retryAfterSeconds: number, cause?: unknown) {
    super(503, 'temporarily_unavailable', 'jwks_unavailable', description);
    this.retryAfter = retrySeconds(retryAfterSeconds);
    if (cause !== undefined) this.cause = cause;
  }

  override get headers(): Record<string, string> {
    return { 'Retry-After': String(this.retryAfter) };
  }
}

/** 503: the revocation list cannot be consulted (or updated) right now and its policy is to deny. */
export class RevocationUnavailableError extends TokenGateError {
  override name = 'RevocationUnavailableError';
  declare readonly reason: 'revocation_unavailable';
  readonly retryAfter: number;
  constructor(description: string, retryAfterSeconds: number) {
    super(503, 'temporarily_unavailable', 'revocation_unavailable', description);
    this.retryAfter = retrySeconds(retryAfterSeconds);
  }

  override get headers(): Record<string, string> {
    return { 'Retry-After': String(this.retryAfter) };
  }
}

/** 503: `revalidate` could not learn the wallet's current holdings and its policy is `'deny'`. */
export class OwnershipUnavailableError extends TokenGateError {
  override name = 'OwnershipUnavailableError';
  declare readonly reason: 'ownership_unavailable';
  readonly retryAfter: number;
  constructor(description: string, retryAfterSeconds: number, cause?: unknown) {
    super(503, 'temporarily_unavailable', 'ownership_unavailable', description);
    this.retryAfter = retrySeconds(retryAfterSeconds);
    if (cause !== undefined) Object.defineProperty(this, 'cause', { value: cause, configurable: true, writable: true });
  }

  override get headers(): Record<string, string> {
    return { 'Retry-After': String(this.retryAfter) };
  }
}
