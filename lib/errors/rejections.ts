/**
 * Rejections the client can act on: a malformed request (400), no or a bad token (401), a token
 * that does not prove enough (403). Each class accepts only the reasons of its answer.
 */
import type {
  ClaimCheckReason,
  InsufficientScopeReason,
  InvalidRequestReason,
  InvalidTokenReason,
  RequirementsDescription,
} from './reasons';
import { TokenGateError } from './token-gate-error';

/** 400: the request carries credentials in a form RFC 6750 does not allow. */
export class InvalidRequestError extends TokenGateError {
  override name = 'InvalidRequestError';
  declare readonly reason: InvalidRequestReason;
  constructor(reason: InvalidRequestReason, description: string) {
    super(400, 'invalid_request', reason, description);
  }
}

/** 401 with a bare challenge: the request carries no credentials at all (RFC 6750 §3.1). */
export class MissingTokenError extends TokenGateError {
  override name = 'MissingTokenError';
  declare readonly reason: 'token_missing';
  constructor() {
    super(401, 'unauthorized', 'token_missing', 'No bearer token was sent');
  }
}

/** 401: the token is malformed, badly signed, expired, for someone else or revoked. */
export class InvalidTokenError extends TokenGateError {
  override name = 'InvalidTokenError';
  declare readonly reason: InvalidTokenReason;
  constructor(reason: InvalidTokenReason, description: string) {
    super(401, 'invalid_token', reason, description);
  }
}

/** 403: the token is valid but does not prove the ownership the route requires. */
export class InsufficientScopeError extends TokenGateError {
  override name = 'InsufficientScopeError';
  declare readonly reason: InsufficientScopeReason;
  readonly requirements: RequirementsDescription;
  constructor(reason: InsufficientScopeReason, description: string, requirements: RequirementsDescription) {
    super(403, 'insufficient_scope', reason, description);
    this.requirements = requirements;
  }
}

/**
 * 403: the token is valid but its claims fail a check of the application (`requireClaims`, the
 * `claims` option). It names no requirements: the issuer cannot upgrade a token to pass it.
 */
export class ClaimCheckError extends TokenGateError {
  override name = 'ClaimCheckError';
  declare readonly reason: ClaimCheckReason;
  constructor(description: string) {
    super(403, 'insufficient_scope', 'claim_check_failed', description);
  }
}
