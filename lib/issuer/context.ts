/**
 * What every route of the emulated API shares: the issuer's signer, verifier and balance table,
 * and the helpers that turn bodies, requirements and tokens into answers or `ApiError`s.
 */
import { decodeJwt } from 'jose';
import { compileRequirements, RequirementsError, type CompiledRequirements } from '../ownership/requirements';
import type { TokenVerifier } from '../token/verify';
import type { AccessTokenClaims } from '../token/claims';
import type { OwnershipResolver } from '../ownership/resolvers/types';
import type { Sessions } from './sessions';
import type { RateLimits } from './rate-limits';
import type { TokenSigner } from './signer';
import type { ContractWallets, LoginSettings } from './login';
import type { IssuerStore } from './store/store';
import type { DisplayNames } from './ens';
import { ApiError, badRequest, fromGateError } from './errors';

export interface EmulatorContext {
  signer: TokenSigner;
  verifier: TokenVerifier;
  /** What wallets hold now: logins and `/authz` prove requirements with it. */
  ownership: OwnershipResolver;
  /** The longest one proof waits for the resolver. */
  ownershipTimeoutMs: number;
  sessions: Sessions;
  rateLimits: RateLimits;
  /** Seconds a login's session (and every token of it) lasts. */
  sessionSeconds: number;
  login: LoginSettings;
  /** Pending nonces (and sessions, through `sessions`), shared by the issuer's instances. */
  store: IssuerStore;
  /** Contract-wallet signatures, through the RPC URLs of `chains`. */
  contractWallets: ContractWallets;
  /** `displayAddress` of a wallet: its ENS name when one answers in time, the address otherwise. */
  names: DisplayNames;
  /** The request being answered: set per request by the HTTP handler. */
  request?: RequestScope;
  /** The JWKS document; called once per fetch (the issuer counts them). */
  jwks(): unknown;
}

/** What one request's routes know of it besides its body. */
export interface RequestScope {
  /** Aborts when the request's deadline has passed and it was answered 408 or 503. */
  signal: AbortSignal;
  /** The browser's `Origin`, when it sent one. */
  origin?: string;
}

/**
 * Throws once the request has been answered for its deadline: nothing is taken, started or
 * signed for a client that was told it timed out.
 */
export function stillAnswering(context: EmulatorContext): void {
  if (context.request?.signal.aborted) throw new ApiError(503, 'timeout', 'The request took too long: try again');
}

/** An answer: status and JSON body. */
export interface Answer {
  status: number;
  body: unknown;
}

/** The fields of `AuthState.user` (picket-js, picket-node): what the token says about its wallet. */
const USER_FIELDS = [
  'chain',
  'walletAddress',
  'displayAddress',
  'contractAddress',
  'tokenIds',
  'tokenBalance',
  'tokenBalances',
  'email',
];

/** `{ accessToken, user }`, the clients' `AuthState`, read from the signed token itself. */
export function authState(accessToken: string): { accessToken: string; user: Record<string, unknown> } {
  const payload = decodeJwt(accessToken) as Record<string, unknown>;
  const user: Record<string, unknown> = {};
  for (const field of USER_FIELDS) if (payload[field] !== undefined) user[field] = payload[field];
  return { accessToken, user };
}

/** The request body as an object, or a 400. */
export function bodyObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest('request_invalid', 'The body must be a JSON object');
  return body as Record<string, unknown>;
}

/** Verifies a token the issuer signed; 401 (with the gate's reason) otherwise. */
export async function verifyToken(context: EmulatorContext, token: unknown): Promise<AccessTokenClaims> {
  try {
    return await context.verifier.verify(token as string);
  } catch (error) {
    throw fromGateError(error);
  }
}

/**
 * Whether a request's `requirements` ask for nothing: absent, `null`, or an object without a
 * single field. picket-js sends `{}` for a plain `login()`, since it spreads whatever its caller
 * passed besides the wallet fields into `requirements`.
 */
export function asksNothing(input: unknown): boolean {
  return (
    input === undefined ||
    input === null ||
    (typeof input === 'object' && !Array.isArray(input) && Object.keys(input).length === 0)
  );
}

/** `requirementsFor`, or undefined when the request asks for nothing (see `asksNothing`). */
export function optionalRequirementsFor(input: unknown, walletChain: string): CompiledRequirements | undefined {
  return asksNothing(input) ? undefined : requirementsFor(input, walletChain);
}

/**
 * Compiles requirements as the issuer reads them: without `chain`, the wallet's chain. A
 * requirement the gate could not compile is a 400.
 */
export function requirementsFor(input: unknown, walletChain: string): CompiledRequirements {
  const withChain =
    typeof input === 'object' &&
    input !== null &&
    !Array.isArray(input) &&
    (input as { chain?: unknown }).chain === undefined
      ? { ...input, chain: walletChain }
      : input;
  try {
    return compileRequirements(withChain as Parameters<typeof compileRequirements>[0]);
  } catch (error) {
    if (error instanceof RequirementsError) throw badRequest('requirements_invalid', error.message);
    throw error;
  }
}
