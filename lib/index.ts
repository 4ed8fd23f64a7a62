/**
 * express-token-gate: verify wallet access tokens (ES256 JWTs) and gate Express/Connect routes
 * on token ownership, answering with RFC 6750 errors.
 */
import { createTokenGate, type Middleware, type TokenGate } from './http/gate';
import type { TokenGateOptions } from './options';
import type { TokenRequirements } from './ownership/requirements';
import type { AccessTokenClaims } from './token/claims';

export { createTokenGate } from './http/gate';
export type { Middleware, TokenGate } from './http/gate';
export { authErrorHandler } from './http/error-handler';
export type { Wallet } from './http/wallet';
export type { TokenGateOptions, GetToken, IsRevoked } from './options';
export type { KeySetOptions, KeySetEvent } from './jwks/options';
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
  OwnershipUnavailableError,
  OptionsError,
} from './errors';
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
