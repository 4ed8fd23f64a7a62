/**
 * Express/Connect glue: the gate's route checks as middleware that attaches the wallet to `req`
 * and calls `next(err)` on rejection. One adapter among the others, over the core of `lib/http`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authorizationHeaders } from '../../http/bearer';
import { createGateCore, GATE_CORE, type Guard, type RequestReader } from '../../http/gate';
import type { ResolvedOptions, TokenGateOptions } from '../../http/options';
import { walletOf, type Wallet } from '../../http/wallet';
import type { AccessTokenClaims } from '../../token/claims';
import type { KeySetControl } from '../../jwks/status';
import type { TokenRequirements } from '../../ownership/requirements';
import type { RequireTokensOptions } from '../../ownership/revalidate';
import type { ClaimCheck } from '../../ownership/claim-check';

type Next = (err?: unknown) => void;
/** Middleware usable by Express 4 and 5, Connect and plain `http` servers. */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;

export interface TokenGate {
  /** Requires a valid access token; attaches `req.wallet`. */
  requireAuth(): Middleware;
  /**
   * Requires a valid token proving a balance of `contractAddress` (minBalance unset or 0: above 0).
   * `options.revalidate` overrides the gate's: `false` (the token's balances decide) or its own.
   */
  requireTokens(contractAddress: string, minBalance?: string | number, options?: RequireTokensOptions): Middleware;
  /** Requires a valid token meeting `requirements` (Picket's requirement object). */
  requireTokens(requirements: TokenRequirements, options?: RequireTokensOptions): Middleware;
  /**
   * Requires a valid token whose claims pass `check` (`true`); otherwise 403 `insufficient_scope`,
   * reason `claim_check_failed`, with `description` (or a generic one).
   */
  requireClaims(check: ClaimCheck, description?: string): Middleware;
  /** Passes requests without credentials; verifies (and rejects bad) tokens when present. */
  optionalAuth(): Middleware;
  /** Verifies a token without HTTP (the `claims` option applies too). */
  verify(token: string): Promise<AccessTokenClaims>;
  /** The wallet this gate's middleware attached to `req` (at its `requestProperty`); throws when absent. */
  walletOf(req: object): Wallet;
  /** The key set of the (first) trusted issuer: `status()` for probes, `reload()` to refetch now. */
  readonly keySet: KeySetControl;
  /** The key set of every trusted `iss`. */
  readonly keySets: ReadonlyMap<string, KeySetControl>;
  /** The resolved options. */
  readonly options: Readonly<ResolvedOptions>;
}

/**
 * Creates a gate: options are validated now (bad ones throw), key sets are shared per jwksUri. Its
 * middleware serves Express and Connect; the same gate serves the other frameworks through
 * `express-token-gate/fastify`, `/koa`, `/hono` and `/fetch`.
 *
 * @example
 * const gate = createTokenGate({ audience: process.env.PICKET_PROJECT_ID });
 * app.get('/me', gate.requireAuth(), (req, res) => res.json(req.wallet));
 */
export function createTokenGate(options?: TokenGateOptions): TokenGate {
  const core = createGateCore(options);
  const { requestProperty, claimsProperty } = core.options;
  const reader: RequestReader<IncomingMessage> = {
    method: (req) => req.method,
    preflightMethod: (req) => req.headers['access-control-request-method'],
    authorization: authorizationHeaders,
    request: (req) => req,
    recall: (req) => (req as unknown as Record<string, unknown>)[requestProperty],
    attach(req, wallet, claims) {
      (req as unknown as Record<string, unknown>)[requestProperty] = wallet;
      if (claimsProperty !== undefined) (req as unknown as Record<string, unknown>)[claimsProperty] = claims;
    },
  };
  const guards = core.guards(reader);

  function middleware(name: string, guard: Guard<IncomingMessage>): Middleware {
    const handler: Middleware = (req, _res, next) => {
      let outcome: ReturnType<Guard<IncomingMessage>>;
      try {
        outcome = guard(req);
      } catch (err) {
        next(err);
        return;
      }
      // next() stays outside the try: an error thrown further down the chain is not ours to report.
      if (outcome instanceof Promise) outcome.then(() => next(), next);
      else next();
    };
    Object.defineProperty(handler, 'name', { value: name });
    return handler;
  }

  const gate: TokenGate = {
    requireAuth: () => middleware('requireAuth', guards.requireAuth()),
    optionalAuth: () => middleware('optionalAuth', guards.optionalAuth()),
    requireTokens: (
      first: string | TokenRequirements,
      second?: string | number | RequireTokensOptions,
      third?: RequireTokensOptions,
    ) => middleware('requireTokens', guards.requireTokens(first, second, third)),
    requireClaims: (check, description) => middleware('requireClaims', guards.requireClaims(check, description)),
    verify: core.verify,
    walletOf: (req) => walletOf(req, requestProperty),
    keySet: core.keySet,
    keySets: core.keySets,
    options: core.options,
  };
  Object.defineProperty(gate, GATE_CORE, { value: core });
  return gate;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by express-token-gate's middleware once the access token is verified. */
      wallet?: Wallet;
    }
  }
}
