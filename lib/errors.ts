/**
 * Every rejection is a `TokenGateError`: an HTTP-shaped error (RFC 6750 §3) that Express's and
 * Connect's default handlers already render correctly through `status` and `headers`.
 */

/** Stable machine codes carried in `error.reason` and in JSON bodies. */
export type Reason =
  // 400 invalid_request
  | 'header_malformed'
  | 'header_duplicated'
  | 'token_location_conflict'
  // 401 without an error code
  | 'token_missing'
  // 401 invalid_token
  | 'token_malformed'
  | 'token_too_large'
  | 'algorithm_not_allowed'
  | 'header_not_allowed'
  | 'type_not_allowed'
  | 'key_not_found'
  | 'signature_invalid'
  | 'issuer_mismatch'
  | 'audience_mismatch'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'token_issued_in_future'
  | 'token_lifetime_exceeded'
  | 'token_too_old'
  | 'subject_mismatch'
  | 'claim_invalid'
  | 'token_revoked'
  // 403 insufficient_scope
  | 'insufficient_balance'
  | 'wallet_not_allowed'
  | 'chain_mismatch'
  | 'claim_check_failed'
  // 503
  | 'jwks_unavailable'
  | 'revocation_unavailable'
  | 'ownership_unavailable';

/** The RFC 6750 error code (or, for 401 without credentials and 503, the closest OAuth name). */
export type ErrorCode =
  | 'invalid_request'
  | 'unauthorized'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'temporarily_unavailable';

/** The requirement a 403 asks the client to satisfy, in the issuer's `/authz` request shape. */
export interface RequirementsDescription {
  chain: string;
  /** Present only when not `mainnet`. */
  network?: string;
  contractAddress?: string;
  tokenIds?: string[];
  collection?: string[];
  creatorAddress?: string;
  minTokenBalance: string;
  allowedWallets?: string[];
}

const DEFAULT_REALM = 'api';

/** A bad option, thrown when a gate is created (at startup), never on a request. */
export class OptionsError extends TypeError {
  override name = 'OptionsError';
  constructor(option: string, problem: string) {
    super(`express-token-gate: option "${option}" ${problem}`);
  }
}

/** RFC 6750 §3: error_description is limited to %x20-21 / %x23-5B / %x5D-7E. */
function quoteSafe(text: string): string {
  return text.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '').slice(0, 200);
}

let savedStackTraceLimit = Error.stackTraceLimit;

/**
 * Rejections are answers to clients, not faults in the program: their stack says nothing a
 * developer needs, and capturing it is the largest single cost of refusing a garbage token. The
 * limit is lowered only while `Error` builds the rejection and restored right after.
 */
function stackless(description: string): string {
  savedStackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  return description;
}

/** Base class of every rejection. `expose` lets default handlers show `message` to the client. */
export class TokenGateError extends Error {
  override name = 'TokenGateError';
  readonly status: number;
  readonly statusCode: number;
  readonly code: ErrorCode;
  readonly reason: Reason;
  readonly expose = true;
  /** The protection space named in `WWW-Authenticate`; the HTTP layer sets it from its options. */
  realm = DEFAULT_REALM;

  constructor(status: number, code: ErrorCode, reason: Reason, description: string) {
    super(stackless(description));
    Error.stackTraceLimit = savedStackTraceLimit;
    this.status = status;
    this.statusCode = status;
    this.code = code;
    this.reason = reason;
  }

  /** Response headers: Express's and Connect's default handlers copy `err.headers` onto the answer. */
  get headers(): Record<string, string> {
    switch (this.code) {
      case 'temporarily_unavailable':
        return {};
      case 'unauthorized':
        return { 'WWW-Authenticate': `Bearer realm="${quoteSafe(this.realm)}"` };
      default:
        return {
          'WWW-Authenticate':
            `Bearer realm="${quoteSafe(this.realm)}", error="${this.code}", ` +
            `error_description="${quoteSafe(this.message)}"`,
        };
    }
  }
}

/** 400: the request carries credentials in a form RFC 6750 does not allow. */
export class InvalidRequestError extends TokenGateError {
  override name = 'InvalidRequestError';
  constructor(reason: Reason, description: string) {
    super(400, 'invalid_request', reason, description);
  }
}

/** 401 with a bare challenge: the request carries no credentials at all (RFC 6750 §3.1). */
export class MissingTokenError extends TokenGateError {
  override name = 'MissingTokenError';
  constructor() {
    super(401, 'unauthorized', 'token_missing', 'No bearer token was sent');
  }
}

/** 401: the token is malformed, badly signed, expired, for someone else or revoked. */
export class InvalidTokenError extends TokenGateError {
  override name = 'InvalidTokenError';
  constructor(reason: Reason, description: string) {
    super(401, 'invalid_token', reason, description);
  }
}

/** 403: the token is valid but does not prove the ownership the route requires. */
export class InsufficientScopeError extends TokenGateError {
  override name = 'InsufficientScopeError';
  readonly requirements: RequirementsDescription;
  constructor(reason: Reason, description: string, requirements: RequirementsDescription) {
    super(403, 'insufficient_scope', reason, description);
    this.requirements = requirements;
  }
}

/** 503: no usable key is known and the key set cannot be fetched right now. */
export class KeySetUnavailableError extends TokenGateError {
  override name = 'KeySetUnavailableError';
  readonly retryAfter: number;
  /**
   * @param cause why the last fetch failed (e.g. `fetch failed (ENOTFOUND)`), for logs: kept on
   *   `err.cause`, never sent to the client.
   */
  constructor(description: string, retryAfterSeconds: number, cause?: unknown) {
    super(503, 'temporarily_unavailable', 'jwks_unavailable', description);
    this.retryAfter = Math.max(1, Math.ceil(retryAfterSeconds));
    if (cause !== undefined) this.cause = cause;
  }

  override get headers(): Record<string, string> {
    return { 'Retry-After': String(this.retryAfter) };
  }
}

/** 503: the revocation list cannot be consulted (or updated) right now and its policy is to deny. */
export class RevocationUnavailableError extends TokenGateError {
  override name = 'RevocationUnavailableError';
  readonly retryAfter: number;
  constructor(description: string, retryAfterSeconds: number) {
    super(503, 'temporarily_unavailable', 'revocation_unavailable', description);
    this.retryAfter = Math.max(1, Math.ceil(retryAfterSeconds));
  }

  override get headers(): Record<string, string> {
    return { 'Retry-After': String(this.retryAfter) };
  }
}

/**
 * 403: the token is valid but its claims fail a check of the application (`requireClaims`, the
 * `claims` option). It names no requirements: the issuer cannot upgrade a token to pass it.
 */
export class ClaimCheckError extends TokenGateError {
  override name = 'ClaimCheckError';
  constructor(description: string) {
    super(403, 'insufficient_scope', 'claim_check_failed', description);
  }
}

/** 503: `revalidate` could not learn the wallet's current holdings and its policy is `'deny'`. */
export class OwnershipUnavailableError extends TokenGateError {
  override name = 'OwnershipUnavailableError';
  readonly retryAfter: number;
  constructor(description: string, retryAfterSeconds: number, cause?: unknown) {
    super(503, 'temporarily_unavailable', 'ownership_unavailable', description);
    this.retryAfter = Math.max(1, Math.ceil(retryAfterSeconds));
    if (cause !== undefined) Object.defineProperty(this, 'cause', { value: cause, configurable: true, writable: true });
  }

  override get headers(): Record<string, string> {
    return { 'Retry-After': String(this.retryAfter) };
  }
}
