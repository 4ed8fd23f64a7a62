/**
 * Every rejection is a `TokenGateError` subclass carrying `status`, `code`, `reason` and `headers`;
 * a bad option is an `OptionsError`, thrown at startup.
 */
export type {
  Reason,
  InvalidRequestReason,
  MissingTokenReason,
  InvalidTokenReason,
  InsufficientScopeReason,
  ClaimCheckReason,
  UnavailableReason,
  ErrorCode,
  RequirementsDescription,
} from './reasons';
export { DEFAULT_REALM } from './challenge';
export { TokenGateError } from './token-gate-error';
export {
  InvalidRequestError,
  MissingTokenError,
  InvalidTokenError,
  InsufficientScopeError,
  ClaimCheckError,
} from './rejections';
export {
  KeySetUnavailableError,
  RevocationUnavailableError,
  OwnershipUnavailableError,
  IssuerStoreUnavailableError,
} from './unavailable';
export { OptionsError, closestName, didYouMean, rejectUnknownKeys } from './options-error';
