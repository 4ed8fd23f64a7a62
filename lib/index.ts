/**
 * express-token-gate: verify wallet access tokens (ES256 JWTs) and gate Express/Connect routes
 * on token ownership, answering with RFC 6750 errors.
 */
import { createTokenGate, type Middleware, type TokenGate } from './http/gate';
import type { TokenGateOptions } from './http/options';
import type { TokenRequirements } from './ownership/requirements';
import type { AccessTokenClaims } from './token/claims';
import { authErrorHandler } from './http/error-handler';
import { walletOf } from './http/wallet';
import { RequirementsError } from './ownership/requirements';
import {
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
import { claimEquals, claimIncludes } from './ownership/claim-check';
import { channels } from './diagnostics';
import { createRevocationList } from './revocation/list';
import { memoryRevocationStore } from './revocation/memory';
import { evmOwnershipResolver } from './ownership/resolvers/evm';
import { picketOwnershipResolver } from './ownership/resolvers/picket';
import { ResolverError, UnsupportedRequirementError } from './ownership/resolvers/types';

export { createTokenGate } from './http/gate';
export type { Middleware, TokenGate } from './http/gate';
export { authErrorHandler } from './http/error-handler';
export { walletOf } from './http/wallet';
export type { Wallet, WalletRequest } from './http/wallet';
export type { TokenGateOptions, IssuerOptions, GetToken, IsRevoked } from './http/options';
export type { KeySetOptions, KeySetEvent } from './jwks/options';
export type { Logger } from './jwks/warn';
export type { KeySetControl, KeySetStatus } from './jwks/status';
export type { JsonWebKeySet } from './jwks/static';
export { claimEquals, claimIncludes } from './ownership/claim-check';
export type { ClaimCheck, ClaimValue } from './ownership/claim-check';
export { channels } from './diagnostics';
export type { DecisionMessage, DecisionSource, CacheMessage, JwksMessage, OwnershipMessage } from './diagnostics';
export type { TokenRequirements } from './ownership/requirements';
export { RequirementsError } from './ownership/requirements';
export type { RevalidateOptions, RequireTokensOptions, OnResolverError } from './ownership/revalidate';
export type { OwnershipResolver, OwnershipQuery, OwnershipAnswer } from './ownership/resolvers/types';
export { ResolverError, UnsupportedRequirementError } from './ownership/resolvers/types';
export { evmOwnershipResolver, type EvmOwnershipResolverOptions } from './ownership/resolvers/evm';
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
export type { Reason, ErrorCode, RequirementsDescription } from './errors';

// Top-level factories share one gate per options object (and one for the environment), so
// `requireAuth(opts)` followed by `requireTokens(…, opts)` reuses the verified claims.
const gates = new WeakMap<object, TokenGate>();
let environmentGate: TokenGate | undefined;

function gateFor(options: TokenGateOptions | undefined): TokenGate {
  if (options === undefined) return (environmentGate ??= createTokenGate());
  let gate = gates.get(options);
  if (!gate) {
    gate = createTokenGate(options);
    gates.set(options, gate);
  }
  return gate;
}

/** `requireAuth()` of the gate for `options` (or the environment). */
export function requireAuth(options?: TokenGateOptions): Middleware {
  return gateFor(options).requireAuth();
}

/** `optionalAuth()` of the gate for `options` (or the environment). */
export function optionalAuth(options?: TokenGateOptions): Middleware {
  return gateFor(options).optionalAuth();
}

/** `requireTokens(contractAddress, minBalance)` or `requireTokens(requirements)`, with optional gate options last. */
export function requireTokens(contractAddress: string, minBalance?: string | number, options?: TokenGateOptions): Middleware;
export function requireTokens(requirements: TokenRequirements, options?: TokenGateOptions): Middleware;
export function requireTokens(
  first: string | TokenRequirements,
  second?: string | number | TokenGateOptions,
  third?: TokenGateOptions,
): Middleware {
  if (typeof first === 'string') return gateFor(third).requireTokens(first, second as string | number | undefined);
  return gateFor(second as TokenGateOptions | undefined).requireTokens(first);
}

/**
 * Verifies an access token outside HTTP and returns its normalised claims, or throws a
 * `TokenGateError`.
 *
 * @example const claims = await verifyAccessToken(token, { audience: 'my-project' });
 */
export function verifyAccessToken(token: string, options?: TokenGateOptions): Promise<AccessTokenClaims> {
  try {
    return gateFor(options).verify(token);
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * The whole API as one object, for `import tokenGate from 'express-token-gate'`: the same object
 * from `import` and from `require('express-token-gate').default`. Named imports are the usual way.
 */
const tokenGate = Object.freeze({
  createTokenGate,
  requireAuth,
  requireTokens,
  optionalAuth,
  verifyAccessToken,
  authErrorHandler,
  walletOf,
  claimEquals,
  claimIncludes,
  channels,
  createRevocationList,
  memoryRevocationStore,
  evmOwnershipResolver,
  picketOwnershipResolver,
  ResolverError,
  UnsupportedRequirementError,
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
  RequirementsError,
});
export default tokenGate;
