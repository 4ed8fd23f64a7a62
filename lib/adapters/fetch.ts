/**
 * Web-standard adapter (`express-token-gate/fetch`), for any handler that takes a `Request` and
 * returns a `Response`: Next.js route handlers, Hono, bare `fetch`-style servers. No framework: the
 * answer to a rejection is a `Response` with the status, RFC 6750 headers and JSON body of Express's
 * `authErrorHandler`. Translation only: every rule is in the core.
 */
import { TokenGateError } from '../errors';
import { answerOf } from '../http/answer';
import { authorizationValues } from '../http/bearer';
import { coreOf, type GateCore, type Guard, type Guards, type RequestReader } from '../http/gate';
import type { Wallet } from '../http/wallet';
import type { TokenRequirements } from '../ownership/requirements';
import type { RequireTokensOptions } from '../ownership/revalidate';
import type { ClaimCheck } from '../ownership/claim-check';

/** What `authenticate` checks; without `tokens` or `claims`, a valid token is enough (`requireAuth`). */
export interface AuthenticateOptions {
  /** As `requireTokens(requirements)`: Picket's requirement object. */
  tokens?: TokenRequirements;
  /** `revalidate` of this check, as `requireTokens(requirements, { revalidate })`. */
  revalidate?: RequireTokensOptions['revalidate'];
  /** As `requireClaims(check, description)`. */
  claims?: ClaimCheck | { check: ClaimCheck; description?: string };
  /** As `optionalAuth()`: no credentials give `{ wallet: null }`. */
  optional?: boolean;
}

/**
 * The wallet; `wallet: null` for a request without credentials under `optional`, or a CORS
 * preflight (`allowPreflight`); or the `Response` to send for a rejection, with its `error`.
 */
export type AuthenticateResult =
  | { wallet: Wallet; response?: undefined; error?: undefined }
  | { wallet: null; response?: undefined; error?: undefined }
  | { wallet?: undefined; response: Response; error: TokenGateError };

const reader: RequestReader<Request> = {
  method: (request) => request.method,
  preflightMethod: (request) => request.headers.get('access-control-request-method') ?? undefined,
  // Fetch Headers join repeated lines with ", ": the core splits them back into lines.
  authorization: (request) => authorizationValues(request.headers.get('authorization')),
  request: (request) => request,
  // A Request has no slot for the wallet: the core remembers it for the request.
  attach: () => undefined,
};

const guardsOf = new WeakMap<GateCore, Guards<Request>>();
const checksOf = new WeakMap<AuthenticateOptions, WeakMap<GateCore, Guard<Request>>>();
const PLAIN: AuthenticateOptions = {};

function checkFor(core: GateCore, options: AuthenticateOptions): Guard<Request> {
  let guards = guardsOf.get(core);
  if (guards === undefined) guardsOf.set(core, (guards = core.guards(reader)));
  // Compiled once per options object: hoist it out of the handler to compile it once.
  let byCore = checksOf.get(options);
  if (byCore === undefined) checksOf.set(options, (byCore = new WeakMap()));
  let check = byCore.get(core);
  if (check === undefined) {
    const { tokens, claims, optional, revalidate } = options;
    if ([tokens, claims, optional].filter((o) => o !== undefined && o !== false).length > 1)
      throw new TypeError('express-token-gate/fetch: authenticate takes one of tokens, claims and optional');
    if (tokens !== undefined)
      check = guards.requireTokens(tokens, revalidate === undefined ? undefined : { revalidate });
    else if (claims !== undefined)
      check =
        typeof claims === 'function'
          ? guards.requireClaims(claims)
          : guards.requireClaims(claims.check, claims.description);
    else check = optional === true ? guards.optionalAuth() : guards.requireAuth();
    byCore.set(core, check);
  }
  return check;
}

function answer(err: unknown): AuthenticateResult {
  if (!(err instanceof TokenGateError)) throw err;
  const { status, headers, body } = answerOf(err);
  return { response: new Response(JSON.stringify(body), { status, headers }), error: err };
}

/**
 * Checks `request` against `gate` (from `createTokenGate`). `getToken` and `isRevoked` receive the
 * `Request`. A second call on the same `Request` reuses the verification of the first.
 *
 * @example
 * const result = await authenticate(gate, request, { tokens: { contractAddress: APES } });
 * if (result.response) return result.response;
 * return Response.json({ wallet: result.wallet.address });
 */
export async function authenticate(
  gate: object,
  request: Request,
  options: AuthenticateOptions = PLAIN,
): Promise<AuthenticateResult> {
  const check = checkFor(coreOf(gate, 'authenticate(gate, request)'), options);
  try {
    const wallet = await check(request);
    return { wallet };
  } catch (err) {
    return answer(err);
  }
}

export { TokenGateError };
export type { Wallet };
