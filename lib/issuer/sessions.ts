/**
 * Sessions: every login starts one (the `sid` claim of each token signed for it), `/authz` keeps
 * it, a logout ends it. An ended session is final, on every instance sharing the store: `/authz`
 * and `/auth/validate` refuse its tokens, so a logged-out token cannot be upgraded into a new one.
 * With a revocation list, a logout also revokes the token and its session for every gate.
 */
import { randomUUID } from 'node:crypto';
import type { AccessTokenClaims } from '../token/claims';
import type { IssuerStore } from './store/store';
import { ApiError } from './errors';

/** What the issuer needs of a revocation list (`createRevocationList()`). */
export interface SessionRevocations {
  isRevoked(claims: AccessTokenClaims): boolean | Promise<boolean>;
  revoke(claims: AccessTokenClaims): Promise<void>;
}

export class Sessions {
  constructor(
    private readonly store: IssuerStore,
    private readonly revocations: SessionRevocations | undefined,
    /** The test kit's: tokens its `sign()` makes have no session, and only a revocation refuses them. */
    private readonly sessionless = false,
  ) {}

  /** Starts a session lasting until `exp` (epoch seconds); resolves to its `sid`. */
  async start(exp: number, record: Record<string, unknown>): Promise<string> {
    const sid = randomUUID();
    if (!(await this.store.createSession(sid, record, exp * 1000))) {
      throw new ApiError(500, 'server_error', 'The session could not be started');
    }
    return sid;
  }

  /** Refuses (401) a token whose session ended or is unknown here, or that a logout revoked. */
  async ensureLive(claims: AccessTokenClaims): Promise<void> {
    const sid = (claims as { sid?: unknown }).sid;
    if (sid === undefined && this.sessionless) {
      // A kit-signed token: no session to check.
    } else if (typeof sid !== 'string' || sid === '') {
      throw new ApiError(401, 'session_invalid', 'The token belongs to no session of this issuer: log in again');
    } else {
      const session = await this.store.getSession(sid);
      if (session === undefined || session.endedAt !== undefined) {
        throw new ApiError(401, 'session_ended', 'The session has ended: log in again');
      }
    }
    if (this.revocations && (await this.revocations.isRevoked(claims))) {
      throw new ApiError(401, 'token_revoked', 'The token has been revoked: log in again');
    }
  }

  /** Ends the session of `claims` (and revokes the token and its session, with a list). */
  async end(claims: AccessTokenClaims): Promise<void> {
    const sid = (claims as { sid?: unknown }).sid;
    if (typeof sid === 'string' && sid !== '') await this.store.endSession(sid, claims.exp * 1000);
    await this.revocations?.revoke(claims);
  }
}
