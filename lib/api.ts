/**
 * Every named export of express-token-gate. `index.ts` re-exports this module, and the default
 * export is built from it, so the two cannot drift apart.
 */
export { requireAuth, optionalAuth, requireTokens, verifyAccessToken } from './adapters/express/factories';
export { createTokenGate } from './adapters/express/gate';
export type { Middleware, TokenGate } from './adapters/express/gate';
export { authErrorHandler } from './adapters/express/error-handler';
export { walletOf } from './http/wallet';
export type { Wallet, WalletRequest } from './http/wallet';
export type { TokenGateOptions, IssuerOptions, GetToken, IsRevoked } from './http/options';
export type { WalletOf, ForeignWallet } from './token/claims';
export type { KeySetOptions, KeySetEvent } from './jwks/options';
export type { Logger } from './jwks/warn';
export type { KeySetControl, KeySetStatus } from './jwks/status';
export type { JsonWebKeySet } from './jwks/static';
export { claimEquals, claimIncludes } from './ownership/claim-check';
export type { ClaimCheck, ClaimValue } from './ownership/claim-check';
export { channels } from './diagnostics';
export type {
  DecisionMessage,
  DecisionSource,
  CacheMessage,
  JwksMessage,
  OwnershipMessage,
  RevocationStoreMessage,
} from './diagnostics';
export type { TokenRequirements } from './ownership/requirements';
export { RequirementsError } from './ownership/requirements';
export type { RevalidateOptions, RequireTokensOptions, OnResolverError } from './ownership/revalidate';
export type { OwnershipResolver, OwnershipQuery, OwnershipAnswer } from './ownership/resolvers/types';
export { ResolverError, UnsupportedRequirementError } from './ownership/resolvers/types';
export { evmOwnershipResolver, type EvmOwnershipResolverOptions, type EvmRpcEndpoint } from './ownership/resolvers/evm';
export { picketOwnershipResolver, type PicketOwnershipResolverOptions } from './ownership/resolvers/picket';
export type { AccessTokenClaims, TokenBalances } from './token/claims';
export {
  TokenGateError,
  InvalidRequestError,
  MissingTokenError,
  InvalidTokenError,
  InsufficientScopeError,
  KeySetUnavailableError,
  RevocationUnavailableError,
  ClaimCheckError,
  OwnershipUnavailableError,
  OptionsError,
} from './errors';
export { createRevocationList } from './revocation/list';
export type { RevocationList, RevocationListOptions, RevocationEvent } from './revocation/list';
export { memoryRevocationStore } from './revocation/memory';
export type { MemoryRevocationStore, MemoryRevocationStoreOptions } from './revocation/memory';
export type { RevocationStore } from './revocation/store';
export type {
  Reason,
  InvalidRequestReason,
  InvalidTokenReason,
  InsufficientScopeReason,
  UnavailableReason,
  ErrorCode,
  RequirementsDescription,
} from './errors';
