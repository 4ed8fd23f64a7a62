/**
 * Koa adapter (`express-token-gate/koa`): the gate's checks as Koa middleware that put the wallet
 * at `ctx.state.wallet` and throw rejections as Koa expects (`status`, `expose`, `headers`: Koa's
 * own error handling answers with the status and `WWW-Authenticate`). `authErrorHandler()`
 * renders them as Express's `authErrorHandler` does. Translation only: every rule is in the core.
 * Koa itself is never loaded here: the types below are the parts of Koa's context that are read.
 */
import type { IncomingMessage } from 'node:http';
import { TokenGateError } from '../errors';
import { answerOf } from '../http/answer';
import { authorizationHeaders } from '../http/bearer';
import { coreOf, type Guard, type RequestReader } from '../http/gate';
import { walletOf, type Wallet } from '../http/wallet';
import type { TokenRequirements } from '../ownership/requirements';
import type { RequireTokensOptions } from '../ownership/revalidate';
import type { ClaimCheck } from '../ownership/claim-check';

/** The parts of a Koa context the gate reads and writes. */
export interface KoaContextLike {
  req: IncomingMessage;
  method: string;
  state: Record<string, any>;
}

/** Koa middleware (`(ctx, next) => Promise`), usable with `app.use` and `@koa/router`. */
export type KoaMiddleware = (ctx: KoaContextLike, next: () => Promise<unknown>) => Promise<unknown>;

/** A gate's checks as Koa middleware. */
export interface KoaGate {
  /** Requires a valid access token; sets `ctx.state.wallet`. */
  requireAuth(): KoaMiddleware;
  /** Requires a valid token proving a balance of `contractAddress` (minBalance unset or 0: above 0). */
  requireTokens(contractAddress: string, minBalance?: string | number, options?: RequireTokensOptions): KoaMiddleware;
  /** Requires a valid token meeting `requirements` (Picket's requirement object). */
  requireTokens(requirements: TokenRequirements, options?: RequireTokensOptions): KoaMiddleware;
  /** Requires a valid token whose claims pass `check`; otherwise 403 `claim_check_failed`. */
  requireClaims(check: ClaimCheck, description?: string): KoaMiddleware;
  /** Passes requests without credentials; verifies (and rejects bad) tokens when present. */
  optionalAuth(): KoaMiddleware;
  /** The wallet a check put at `ctx.state`; throws when there is none. */
  walletOf(ctx: KoaContextLike): Wallet;
}

/**
 * The Koa middleware of `gate` (from `createTokenGate`): the same key sets, cache and rules as its
 * Express middleware. `getToken` and `isRevoked` receive `ctx`.
 *
 * @example router.get('/apes', koaGate(gate).requireTokens(APES, '1'), (ctx) => { ctx.body = ctx.state.wallet; });
 */
export function koaGate(gate: object): KoaGate {
  const core = coreOf(gate, 'koaGate(gate)');
  const { requestProperty, claimsProperty } = core.options;
  const reader: RequestReader<KoaContextLike> = {
    method: (ctx) => ctx.method,
    preflightMethod: (ctx) => ctx.req.headers['access-control-request-method'],
    authorization: (ctx) => authorizationHeaders(ctx.req),
    request: (ctx) => ctx,
    recall: (ctx) => ctx.state[requestProperty] as unknown,
    attach(ctx, wallet, claims) {
      ctx.state[requestProperty] = wallet;
      if (claimsProperty !== undefined) ctx.state[claimsProperty] = claims;
    },
  };
  const guards = core.guards(reader);
  const middleware = (guard: Guard<KoaContextLike>): KoaMiddleware =>
    function tokenGate(ctx, next) {
      // A throw here reaches Koa as a rejection through its compose, like any middleware's.
      const outcome = guard(ctx);
      return outcome instanceof Promise ? outcome.then(() => next()) : next();
    };
  return {
    requireAuth: () => middleware(guards.requireAuth()),
    optionalAuth: () => middleware(guards.optionalAuth()),
    requireTokens: (
      first: string | TokenRequirements,
      second?: string | number | RequireTokensOptions,
      third?: RequireTokensOptions,
    ) => middleware(guards.requireTokens(first, second, third)),
    requireClaims: (check, description) => middleware(guards.requireClaims(check, description)),
    walletOf: (ctx) => walletOf(ctx.state, requestProperty),
  };
}

/** The parts of a Koa context an error handler writes. */
export interface KoaResponseContextLike {
  status: number;
  body: unknown;
  set(fields: Record<string, string>): void;
}

/**
 * Middleware, first in the chain, answering rejections with the status, the RFC 6750 headers and
 * the JSON body of Express's `authErrorHandler`; every other error is thrown on.
 *
 * @example app.use(authErrorHandler());
 */
export function authErrorHandler() {
  return async function tokenGateErrorHandler(ctx: KoaResponseContextLike, next: () => Promise<unknown>) {
    try {
      await next();
    } catch (err) {
      if (!(err instanceof TokenGateError)) throw err;
      const answer = answerOf(err);
      ctx.status = answer.status;
      ctx.set(answer.headers);
      ctx.body = JSON.stringify(answer.body);
    }
  };
}

export { TokenGateError };
export type { Wallet };
