/**
 * Fastify adapter (`express-token-gate/fastify`): a plugin that decorates the instance with
 * `tokenGate`, whose checks are preHandler hooks, and every request with `wallet`. A rejection is
 * passed to Fastify's error handling as the `TokenGateError` itself; `authErrorHandler()` renders
 * it as Express's `authErrorHandler` does. Translation only: every rule is in the core.
 */
import fp from 'fastify-plugin';
import type {
  FastifyError,
  FastifyInstance,
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  preHandlerHookHandler,
} from 'fastify';
import { TokenGateError } from '../errors';
import { answerOf } from '../http/answer';
import { authorizationHeaders } from '../http/bearer';
import { coreOf, createGateCore, type Guard, type GateCore, type RequestReader } from '../http/gate';
import type { ResolvedOptions, TokenGateOptions } from '../http/options';
import { walletOf, type Wallet } from '../http/wallet';
import type { AccessTokenClaims } from '../token/claims';
import type { KeySetControl } from '../jwks/status';
import type { TokenRequirements } from '../ownership/requirements';
import type { RequireTokensOptions } from '../ownership/revalidate';
import type { ClaimCheck } from '../ownership/claim-check';

/** `app.tokenGate`: the gate's checks as preHandler hooks. */
export interface FastifyTokenGate {
  /** Requires a valid access token; sets `request.wallet`. */
  requireAuth(): preHandlerHookHandler;
  /** Requires a valid token proving a balance of `contractAddress` (minBalance unset or 0: above 0). */
  requireTokens(
    contractAddress: string,
    minBalance?: string | number,
    options?: RequireTokensOptions,
  ): preHandlerHookHandler;
  /** Requires a valid token meeting `requirements` (Picket's requirement object). */
  requireTokens(requirements: TokenRequirements, options?: RequireTokensOptions): preHandlerHookHandler;
  /** Requires a valid token whose claims pass `check`; otherwise 403 `claim_check_failed`. */
  requireClaims(check: ClaimCheck, description?: string): preHandlerHookHandler;
  /** Passes requests without credentials; verifies (and rejects bad) tokens when present. */
  optionalAuth(): preHandlerHookHandler;
  /** Verifies a token without HTTP. */
  verify(token: string): Promise<AccessTokenClaims>;
  /** The wallet a check attached to `request`; throws when there is none. */
  walletOf(request: FastifyRequest): Wallet;
  readonly keySet: KeySetControl;
  readonly keySets: ReadonlyMap<string, KeySetControl>;
  readonly options: Readonly<ResolvedOptions>;
}

/**
 * The plugin's options: the gate's options, or `{ gate }` to share a gate made by
 * `createTokenGate` (its key sets, verified-token cache and live-ownership answers).
 */
export type FastifyTokenGateOptions = TokenGateOptions | { gate: object };

declare module 'fastify' {
  interface FastifyInstance {
    /** express-token-gate's checks, as preHandler hooks. */
    tokenGate: FastifyTokenGate;
  }
  interface FastifyRequest {
    /** Set by express-token-gate's preHandler once the access token is verified; `null` before. */
    wallet: Wallet | null;
  }
}

/** Options Fastify itself reads from `register`'s second argument; not the gate's. */
const REGISTER_OPTIONS = new Set(['prefix', 'logLevel', 'logSerializers']);

function coreFor(options: Record<string, unknown>): GateCore {
  const own = Object.fromEntries(Object.entries(options).filter(([key]) => !REGISTER_OPTIONS.has(key)));
  if ('gate' in own) {
    if (Object.keys(own).length > 1)
      throw new TypeError('express-token-gate/fastify: pass either { gate } or the gate options, not both');
    return coreOf(own.gate, 'express-token-gate/fastify { gate }');
  }
  return createGateCore(own);
}

const plugin: FastifyPluginCallback<FastifyTokenGateOptions> = (app: FastifyInstance, options, done) => {
  let core: GateCore;
  try {
    core = coreFor(options as Record<string, unknown>);
  } catch (err) {
    // Bad options fail app.ready() (and register) with the OptionsError, at startup.
    done(err as Error);
    return;
  }
  const { requestProperty, claimsProperty } = core.options;
  // Declared up front, so every request object has the same shape.
  app.decorateRequest(requestProperty, null);
  if (claimsProperty !== undefined) app.decorateRequest(claimsProperty, null);
  const reader: RequestReader<FastifyRequest> = {
    method: (request) => request.method,
    preflightMethod: (request) => request.headers['access-control-request-method'],
    authorization: (request) => authorizationHeaders(request.raw),
    request: (request) => request,
    recall: (request) => (request as unknown as Record<string, unknown>)[requestProperty],
    attach(request, wallet, claims) {
      (request as unknown as Record<string, unknown>)[requestProperty] = wallet;
      if (claimsProperty !== undefined) (request as unknown as Record<string, unknown>)[claimsProperty] = claims;
    },
  };
  const guards = core.guards(reader);
  const hook = (guard: Guard<FastifyRequest>): preHandlerHookHandler =>
    function tokenGate(request, _reply, next) {
      let outcome: ReturnType<Guard<FastifyRequest>>;
      try {
        outcome = guard(request);
      } catch (err) {
        next(err as FastifyError);
        return;
      }
      if (outcome instanceof Promise) outcome.then(() => next(), next);
      else next();
    };
  const tokenGate: FastifyTokenGate = {
    requireAuth: () => hook(guards.requireAuth()),
    optionalAuth: () => hook(guards.optionalAuth()),
    requireTokens: (
      first: string | TokenRequirements,
      second?: string | number | RequireTokensOptions,
      third?: RequireTokensOptions,
    ) => hook(guards.requireTokens(first, second, third)),
    requireClaims: (check, description) => hook(guards.requireClaims(check, description)),
    verify: core.verify,
    walletOf: (request) => walletOf(request, requestProperty),
    keySet: core.keySet,
    keySets: core.keySets,
    options: core.options,
  };
  app.decorate('tokenGate', tokenGate);
  done();
};

/**
 * The plugin: `await app.register(fastifyTokenGate, { audience })`. Wrapped by fastify-plugin, so
 * `app.tokenGate` and `request.wallet` are seen across encapsulation.
 */
export const fastifyTokenGate = fp(plugin, { fastify: '5.x', name: 'express-token-gate' });
export default fastifyTokenGate;

/**
 * An error handler answering rejections with the status, the RFC 6750 headers and the JSON body
 * of Express's `authErrorHandler`; every other error goes on to the parent handler.
 *
 * @example app.setErrorHandler(authErrorHandler());
 */
export function authErrorHandler() {
  return function tokenGateErrorHandler(err: unknown, _request: FastifyRequest, reply: FastifyReply): void {
    if (!(err instanceof TokenGateError)) throw err;
    const answer = answerOf(err);
    void reply.code(answer.status).headers(answer.headers).send(JSON.stringify(answer.body));
  };
}

export { TokenGateError };
export type { Wallet };
