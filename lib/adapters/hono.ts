/**
 * Hono adapter (`express-token-gate/hono`): the gate's checks as Hono middleware that set
 * `c.var.wallet` and throw rejections as an `HTTPException` whose response is the one Express's
 * `authErrorHandler` sends (status, RFC 6750 headers, JSON body) and whose `cause` is the
 * `TokenGateError`, so `app.onError` can still see it. Translation only: every rule is in the core.
 */
import { createMiddleware } from 'hono/factory';
import { HTTPException } from 'hono/http-exception';
import type { Context, MiddlewareHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { TokenGateError } from '../errors';
import { answerOf } from '../http/answer';
import { authorizationValues } from '../http/bearer';
import { coreOf, type GateCore, type Guard, type Guards, type RequestReader } from '../http/gate';
import type { Wallet } from '../http/wallet';
import type { TokenRequirements } from '../ownership/requirements';
import type { RequireTokensOptions } from '../ownership/revalidate';
import type { ClaimCheck } from '../ownership/claim-check';

/** What the gate's middleware adds to Hono's context: `c.get('wallet')` / `c.var.wallet`. */
export type WalletEnv = { Variables: { wallet: Wallet } };
/** Under `optionalAuth`, the wallet is absent when no token was sent. */
export type OptionalWalletEnv = { Variables: { wallet: Wallet | undefined } };

const guardsOf = new WeakMap<GateCore, Guards<Context>>();

function guardsFor(gate: object, caller: string): Guards<Context> {
  const core = coreOf(gate, caller);
  let guards = guardsOf.get(core);
  if (guards === undefined) {
    const { requestProperty, claimsProperty } = core.options;
    const reader: RequestReader<Context> = {
      method: (c) => c.req.method,
      preflightMethod: (c) => c.req.header('access-control-request-method'),
      // Fetch Headers join repeated lines with ", ": the core splits them back into lines.
      authorization: (c) => authorizationValues(c.req.raw.headers.get('authorization')),
      request: (c) => c,
      url: (c) => c.req.url,
      recall: (c) => c.get(requestProperty as 'wallet') as unknown,
      attach(c, wallet, claims) {
        c.set(requestProperty as 'wallet', wallet);
        if (claimsProperty !== undefined) c.set(claimsProperty as 'wallet', claims as never);
      },
    };
    guards = core.guards(reader);
    guardsOf.set(core, guards);
  }
  return guards;
}

function rejection(err: unknown): unknown {
  if (!(err instanceof TokenGateError)) return err;
  const answer = answerOf(err);
  return new HTTPException(answer.status as ContentfulStatusCode, {
    res: new Response(JSON.stringify(answer.body), { status: answer.status, headers: answer.headers }),
    message: err.message,
    cause: err,
  });
}

function middleware<E extends WalletEnv | OptionalWalletEnv>(guard: Guard<Context>): MiddlewareHandler<E> {
  return createMiddleware<E>(async (c, next) => {
    try {
      const outcome = guard(c);
      if (outcome instanceof Promise) await outcome;
    } catch (err) {
      throw rejection(err);
    }
    await next();
  });
}

/** Requires a valid access token; sets `c.var.wallet`. `getToken` and `isRevoked` receive `c`. */
export function requireAuth(gate: object): MiddlewareHandler<WalletEnv> {
  return middleware(guardsFor(gate, 'requireAuth(gate)').requireAuth());
}

/** Passes requests without credentials; verifies (and rejects bad) tokens when present. */
export function optionalAuth(gate: object): MiddlewareHandler<OptionalWalletEnv> {
  return middleware(guardsFor(gate, 'optionalAuth(gate)').optionalAuth());
}

/** Requires a valid token proving a balance of `contractAddress`, or meeting `requirements`. */
export function requireTokens(
  gate: object,
  contractAddress: string,
  minBalance?: string | number,
  options?: RequireTokensOptions,
): MiddlewareHandler<WalletEnv>;
export function requireTokens(
  gate: object,
  requirements: TokenRequirements,
  options?: RequireTokensOptions,
): MiddlewareHandler<WalletEnv>;
export function requireTokens(
  gate: object,
  first: string | TokenRequirements,
  second?: string | number | RequireTokensOptions,
  third?: RequireTokensOptions,
): MiddlewareHandler<WalletEnv> {
  return middleware(guardsFor(gate, 'requireTokens(gate, …)').requireTokens(first, second, third));
}

/** Requires a valid token whose claims pass `check`; otherwise 403 `claim_check_failed`. */
export function requireClaims(gate: object, check: ClaimCheck, description?: string): MiddlewareHandler<WalletEnv> {
  return middleware(guardsFor(gate, 'requireClaims(gate, …)').requireClaims(check, description));
}

export { TokenGateError };
export type { Wallet };
