/**
 * Stable machine codes carried in `error.reason` and in JSON bodies, grouped by the answer they
 * belong to: each error class accepts only its own group.
 */

/** 400 `invalid_request`: credentials in a form RFC 6750 does not allow. */
export type InvalidRequestReason =
  'header_malformed' | 'header_duplicated' | 'query_malformed' | 'token_location_conflict';

/** 401 without an error code: no credentials at all. */
export type MissingTokenReason = 'token_missing';

/** 401 `invalid_token`: the token itself is refused. */
export type InvalidTokenReason =
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
  | 'token_revoked';

/** 403 `insufficient_scope` with requirements: ownership the issuer can prove in a new token. */
export type InsufficientScopeReason = 'insufficient_balance' | 'wallet_not_allowed' | 'chain_mismatch';

/** 403 `insufficient_scope` without requirements: an application check of the claims. */
export type ClaimCheckReason = 'claim_check_failed';

/** 503: a service the decision depends on cannot answer right now. */
export type UnavailableReason =
  'jwks_unavailable' | 'revocation_unavailable' | 'ownership_unavailable' | 'issuer_store_unavailable';

/** Every reason. */
export type Reason =
  | InvalidRequestReason
  | MissingTokenReason
  | InvalidTokenReason
  | InsufficientScopeReason
  | ClaimCheckReason
  | UnavailableReason;

/** The RFC 6750 error code (or, for 401 without credentials and 503, the closest OAuth name). */
export type ErrorCode =
  'invalid_request' | 'unauthorized' | 'invalid_token' | 'insufficient_scope' | 'temporarily_unavailable';

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
