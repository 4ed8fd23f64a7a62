/**
 * The top-level factories: each uses the gate of its options object (or of the environment), so
 * `requireAuth(opts)` followed by `requireTokens(…, opts)` shares one gate, one verified-token
 * cache and the verified claims of the request.
 */
import type { AccessTokenClaims } from '../../token/claims';
import type { TokenRequirements } from '../../ownership/requirements';
import { createTokenGate, type Middleware, type TokenGate } from './gate';
import type { TokenGateOptions } from '../../http/options';

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
export function requireTokens(
  contractAddress: string,
  minBalance?: string | number,
  options?: TokenGateOptions,
): Middleware;
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
 * `TokenGateError`. The gate (and its verified-token cache) belongs to the options object: create
 * the object once and pass the same one on every call.
 *
 * @example
 * const verifyOptions = { audience: 'my-project' }; // once, at startup
 * const claims = await verifyAccessToken(token, verifyOptions);
 */
export function verifyAccessToken(token: string, options?: TokenGateOptions): Promise<AccessTokenClaims> {
  try {
    return gateFor(options).verify(token);
  } catch (error) {
    // A bad options object throws while the gate is built: report it the way verification failures are.
    return Promise.reject(error);
  }
}
